"""The hospital's structure and staff directory."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from hms_core.db import Department, User
from hms_core.rbac import Perm
from hms_core.schemas.auth import UserOut
from hms_core.schemas.billing import HospitalProfile
from hms_server.api.auth import user_out
from hms_server.api.deps import Caller, UnitOfWork, require
from hms_server.billing import hospital_profile

router = APIRouter(prefix="/api", tags=["hospital"])


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    specialty: str


@router.get("/departments", response_model=list[DepartmentOut])
def departments(
    caller: Annotated[Caller, Depends(require(Perm.HOSPITAL_READ))], session: UnitOfWork
) -> list[DepartmentOut]:
    """Departments and their specialties."""
    rows = session.execute(select(Department).order_by(Department.name)).scalars()
    return [DepartmentOut.model_validate(d) for d in rows]


@router.get("/users", response_model=list[UserOut])
def users(
    caller: Annotated[Caller, Depends(require(Perm.USER_READ))], session: UnitOfWork
) -> list[UserOut]:
    """Staff accounts (no password material)."""
    return [user_out(u) for u in session.execute(select(User).order_by(User.username)).scalars()]


@router.get("/hospital/profile", response_model=HospitalProfile)
def profile(
    caller: Annotated[Caller, Depends(require(Perm.HOSPITAL_READ))], request: Request
) -> HospitalProfile:
    """The issuer on printed bills (name, address, phone, tax id) and the hospital's currency
    and time zone; desktops keep a copy for printing offline."""
    return hospital_profile(request.app.state.settings)
