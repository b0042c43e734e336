"""Login, logout and the signed-in user."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from hms_core.db.base import utcnow
from hms_core.rbac import permissions_for
from hms_core.schemas.auth import LoginRequest, LoginResponse, UserOut
from hms_core.schemas.errors import ErrorResponse
from hms_core.services.audit import record_audit
from hms_server.api.deps import Caller, client_actor, current_caller, get_db
from hms_server.api.errors import ApiError
from hms_server.auth import LoginRefused, login
from hms_server.db import Database

router = APIRouter(prefix="/api/auth", tags=["auth"])
_REFUSAL_STATUS = {"invalid_credentials": 401, "account_locked": 423, "account_disabled": 403}


def user_out(user) -> UserOut:  # noqa: ANN001 - hms_core.db.User
    out = UserOut.model_validate(user)
    out.permissions = sorted(permissions_for(user.role))
    return out


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"model": ErrorResponse}, 423: {"model": ErrorResponse}},
    openapi_extra={"x-permission": "public"},
)
def post_login(
    body: LoginRequest,
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    x_hms_client: Annotated[str, Header(max_length=64)] = "",
) -> LoginResponse:
    """Exchange a username and password for a bearer token."""
    settings = request.app.state.settings
    refusal: LoginRefused | None = None
    with db.unit_of_work() as session:  # committed even when refused: counts failures, audits
        try:
            result = login(
                session, settings, body.username, body.password, client_actor(request, x_hms_client)
            )
            response = LoginResponse(
                token=result.token,
                expires_at=result.session.expires_at,
                user=user_out(result.user),
            )
        except LoginRefused as exc:
            refusal = exc
    if refusal is not None:
        detail = {"locked_until": refusal.locked_until.isoformat()} if refusal.locked_until else {}
        raise ApiError(_REFUSAL_STATUS[refusal.code], refusal.code, refusal.message, detail)
    return response


@router.post("/logout", status_code=204, openapi_extra={"x-permission": "authenticated"})
def post_logout(
    caller: Annotated[Caller, Depends(current_caller)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    """Revoke the token of this request."""
    with db.unit_of_work() as session:
        auth = session.merge(caller.auth)
        auth.revoked_at = utcnow()
        record_audit(session, caller.actor, "auth.logout")
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, openapi_extra={"x-permission": "authenticated"})
def get_me(caller: Annotated[Caller, Depends(current_caller)]) -> UserOut:
    """The signed-in user and their permissions."""
    return user_out(caller.user)
