"""Staff notifications in the desktop's bell: stored, and pushed live to the user's desktops."""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from hms_core.db.base import new_id, utcnow
from hms_core.db.notifications import UserNotification
from hms_server.live_events import publish
from hms_server.notify import templates


def ring(
    session: Session,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str = "",
    *,
    patient_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
    at: datetime | None = None,
) -> UserNotification:
    """Add a notification for `user_id` and tell their desktops at commit."""
    note = UserNotification(
        id=new_id(),
        user_id=user_id,
        kind=kind,
        title=templates.shorten(title, 200),
        body=body,
        patient_id=patient_id,
        appointment_id=appointment_id,
        created_at=at or utcnow(),
    )
    session.add(note)
    live = {"type": "notification", "id": str(note.id), "title": note.title}
    publish(session, live, user_ids=[user_id])
    return note
