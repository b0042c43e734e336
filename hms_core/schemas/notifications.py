"""Wire models of staff in-app notifications (the bell) and of the live channel's events."""

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

# Live channel event types (WebSocket /live). Every event is a JSON object with a "type".
HELLO = "hello"  # first message after connecting: {"type": "hello", "unread": N}
PING = "ping"  # heartbeat from the server; a client may answer {"type": "pong"}
RESYNC = "resync"  # events may have been missed: fetch the current state over HTTP
NOTIFICATION = "notification"  # {"type": "notification", "id": "<uuid>", "title": "..."}
NOTIFICATIONS_READ = "notifications_read"  # {"type": ..., "unread": N} from another PC

# Close codes of the live channel (4000–4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401  # no, unknown or expired token: sign in again
CLOSE_FORBIDDEN = 4403  # the role may not receive live events


class NotificationOut(BaseModel):
    """One notification of the signed-in user."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    patient_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    """The caller's notifications, newest first, and how many of all of them are unread."""

    unread: int
    items: list[NotificationOut]


class MarkAllRead(BaseModel):
    """Mark read everything created up to `until` (default: now), so that a notification that
    arrived after the user looked at the list stays unread."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime | None = None


class MarkAllReadResult(BaseModel):
    marked: int
    unread: int
