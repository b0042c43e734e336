"""The signed-in user's in-app notifications (the bell): list, mark one read, mark all read.

Only one's own notifications are visible; another user's id answers 404, as an unknown one.
Marking read tells the user's other desktops through the live channel.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hms_core.db import UserNotification
from hms_core.db.base import utcnow
from hms_core.rbac import Perm
from hms_core.schemas.errors import ErrorResponse
from hms_core.schemas.notifications import (
    NOTIFICATIONS_READ,
    MarkAllRead,
    MarkAllReadResult,
    NotificationList,
    NotificationOut,
)
from hms_server.api.deps import Caller, UnitOfWork, require
from hms_server.api.errors import ApiError
from hms_server.live_events import publish

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
Reader = Annotated[Caller, Depends(require(Perm.NOTIFICATION_READ))]


def unread_count(session: Session, user_id: uuid.UUID) -> int:
    """How many notifications of `user_id` are unread."""
    stmt = select(func.count()).where(
        UserNotification.user_id == user_id, UserNotification.read_at.is_(None)
    )
    return int(session.execute(stmt).scalar_one())


@router.get("", response_model=NotificationList)
def list_notifications(
    caller: Reader,
    session: UnitOfWork,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationList:
    """The caller's notifications, newest first, with the total unread count."""
    stmt = (
        select(UserNotification)
        .where(UserNotification.user_id == caller.user.id)
        .order_by(UserNotification.created_at.desc(), UserNotification.id.desc())
        .limit(limit)
    )
    if unread_only:
        stmt = stmt.where(UserNotification.read_at.is_(None))
    items = [NotificationOut.model_validate(n) for n in session.execute(stmt).scalars()]
    return NotificationList(unread=unread_count(session, caller.user.id), items=items)


@router.post(
    "/{notification_id}/read",
    response_model=NotificationOut,
    responses={404: {"model": ErrorResponse, "description": "No such notification of yours."}},
)
def mark_read(caller: Reader, session: UnitOfWork, notification_id: uuid.UUID) -> NotificationOut:
    """Mark one of the caller's notifications read (already read: unchanged)."""
    found = session.get(UserNotification, notification_id, with_for_update=True)
    if found is None or found.user_id != caller.user.id:
        raise ApiError(404, "not_found", "This notification does not exist or is not yours.")
    if found.read_at is None:
        found.read_at = utcnow()
        session.flush()
        _tell_other_desktops(session, caller.user.id, unread_count(session, caller.user.id))
    return NotificationOut.model_validate(found)


@router.post("/read-all", response_model=MarkAllReadResult)
def mark_all_read(
    caller: Reader,
    session: UnitOfWork,
    body: Annotated[MarkAllRead, Body()] = MarkAllRead(),  # noqa: B008 - an immutable default
) -> MarkAllReadResult:
    """Mark read every unread notification of the caller created up to `until`."""
    marked = _mark_until(session, caller.user.id, body.until or utcnow())
    unread = unread_count(session, caller.user.id)
    if marked:
        _tell_other_desktops(session, caller.user.id, unread)
    return MarkAllReadResult(marked=marked, unread=unread)


def _mark_until(session: Session, user_id: uuid.UUID, until: datetime) -> int:
    stmt = (
        update(UserNotification)
        .where(
            UserNotification.user_id == user_id,
            UserNotification.read_at.is_(None),
            UserNotification.created_at <= until,
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount or 0


def _tell_other_desktops(session: Session, user_id: uuid.UUID, unread: int) -> None:
    """The user's other signed-in desktops update their bells at commit."""
    event = {"type": NOTIFICATIONS_READ, "unread": unread}
    publish(session, event, user_ids=[user_id])
