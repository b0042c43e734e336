"""Request dependencies: the unit of work, the authenticated actor, and permission checks."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from hms_core.db import AuthSession, User
from hms_core.rbac import Perm, role_allows
from hms_core.services import Actor
from hms_core.services.audit import record_audit
from hms_server.api.errors import ApiError
from hms_server.auth import authenticate
from hms_server.db import Database
from hms_server.live import ChangeFeed

CLIENT_HEADER = "X-HMS-Client"


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_feed(request: Request) -> ChangeFeed:
    return request.app.state.feed


def unit_of_work(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with db.unit_of_work() as session:
        yield session


@dataclass
class Caller:
    """The authenticated user behind a request."""

    actor: Actor
    user: User
    auth: AuthSession


def client_actor(request: Request, client_id: str = "") -> Actor:
    """An anonymous actor carrying where the request came from."""
    address = request.client.host if request.client else ""
    return Actor(None, "", "", client_id[:64], address[:64])


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_caller(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    x_hms_client: Annotated[str, Header(max_length=64)] = "",
) -> Caller:
    token = _bearer(request)
    if token is None:
        raise ApiError(401, "not_authenticated", "Please sign in.")
    with db.unit_of_work() as session:
        found = authenticate(session, token)
    if found is None:
        raise ApiError(401, "session_expired", "Your session has expired. Please sign in again.")
    auth, user = found
    base = client_actor(request, x_hms_client or auth.client_id)
    actor = Actor(user.id, user.username, user.role, base.client_id, base.address)
    return Caller(actor=actor, user=user, auth=auth)


def require(permission: Perm) -> Callable[..., Caller]:
    """A dependency that admits only callers whose role grants `permission` (denials audited)."""

    def check(
        caller: Annotated[Caller, Depends(current_caller)],
        db: Annotated[Database, Depends(get_db)],
        request: Request,
    ) -> Caller:
        if not role_allows(caller.actor.role, permission):
            with db.unit_of_work() as session:
                record_audit(
                    session,
                    caller.actor,
                    "access.denied",
                    outcome="failure",
                    detail={"permission": str(permission), "path": request.url.path[:200]},
                )
            raise ApiError(
                403,
                "forbidden",
                f"Your role ({caller.actor.role}) does not allow this. "
                "Ask an administrator if you need access.",
                detail={"permission": str(permission)},
            )
        return caller

    check.permission = permission  # type: ignore[attr-defined]  # read by the route matrix test
    return check


def require_any(primary: Perm, *others: Perm) -> Callable[..., Caller]:
    """Like `require(primary)`, but any of `others` admits the caller too."""
    strict = require(primary)

    def check(
        caller: Annotated[Caller, Depends(current_caller)],
        db: Annotated[Database, Depends(get_db)],
        request: Request,
    ) -> Caller:
        if any(role_allows(caller.actor.role, p) for p in others):
            return caller
        return strict(caller, db, request)

    check.permission = primary  # type: ignore[attr-defined]  # read by the route matrix test
    return check


# scope="function": the transaction commits before the response is sent, so a failed commit
# becomes an error response instead of a success the database never kept.
UnitOfWork = Annotated[Session, Depends(unit_of_work, scope="function")]
