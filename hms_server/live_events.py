"""Publishing live events to connected desktops, on every server instance.

An event is sent with `pg_notify('hms_live', …)` inside the writing transaction, so it goes out
only if that transaction commits, and reaches the listeners of every server instance (see the
WebSocket endpoint in hms_server.api.live). Payloads stay small (PostgreSQL caps them at 8 kB):
a kind, ids and a short title; clients fetch details over HTTP.
"""

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

LIVE_CHANNEL = "hms_live"
MAX_PAYLOAD_BYTES = 7900


def publish(
    session: Session,
    event: dict[str, Any],
    *,
    user_ids: list[uuid.UUID] | None = None,
    permission: str | None = None,
) -> None:
    """Send `event` at commit to the given users, or to everyone holding `permission`
    (both None: every connected desktop)."""
    envelope = {
        "users": [str(u) for u in user_ids] if user_ids is not None else None,
        "permission": permission,
        "event": event,
    }
    payload = json.dumps(envelope, separators=(",", ":"), default=str)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError("live event too large; send ids and let clients fetch the rest")
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": LIVE_CHANNEL, "payload": payload}
    )
