"""Liveness and schema version."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from hms_server.api.deps import get_db
from hms_server.db import Database, current_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    status: str
    database: str
    schema_: str | None = Field(default=None, alias="schema")
    hospital: str = ""


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health}},
    openapi_extra={"x-permission": "public"},
)
def health(request: Request, db: Annotated[Database, Depends(get_db)]) -> Health | JSONResponse:
    """Whether the server and its database answer, the schema revision, the hospital name."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(db.engine)
    except Exception:  # noqa: BLE001 - any database failure means "unavailable"
        down = Health(status="unavailable", database="unreachable")
        return JSONResponse(down.model_dump(by_alias=True), status_code=503)
    hospital = request.app.state.settings.hospital_name
    return Health(status="ok", database="ok", schema=revision, hospital=hospital)
