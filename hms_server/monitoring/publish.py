"""Publishing monitor events (numerics, waveform chunks, alarms, scores) to central stations on
every server instance, through PostgreSQL NOTIFY on the `hms_monitor` channel.

Events are packed into as few notifications as fit PostgreSQL's 8 kB payload limit; each
notification is a JSON list of events. Sent inside the writing transaction, they go out only if
it commits. The /live/monitor WebSocket (hms_server.api.live_monitor) relays them, filtered by
the ward each socket watches (every event carries `ward_id`).
"""

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

MONITOR_CHANNEL = "hms_monitor"
MAX_PAYLOAD_BYTES = 7900


def pack(events: list[dict[str, Any]]) -> list[str]:
    """The events as JSON-list payloads, each under the size limit."""
    payloads: list[str] = []
    current: list[str] = []
    size = 2
    for event in events:
        item = json.dumps(event, separators=(",", ":"), default=str)
        if len(item) + 2 > MAX_PAYLOAD_BYTES:
            raise ValueError(f"a monitor event of {len(item)} bytes is too large to publish")
        if current and size + len(item) + 1 > MAX_PAYLOAD_BYTES:
            payloads.append("[" + ",".join(current) + "]")
            current, size = [], 2
        current.append(item)
        size += len(item) + 1
    if current:
        payloads.append("[" + ",".join(current) + "]")
    return payloads


@lru_cache(maxsize=64)
def _notify_all(count: int) -> TextClause:
    """One statement sending `count` payloads, in their order (no array literal to escape)."""
    calls = ", ".join(f"pg_notify(:channel, :p{i})" for i in range(count))
    return text(f"SELECT {calls}")


def publish_monitor(session: Session, events: list[dict[str, Any]]) -> None:
    """Send `events` to every listening server instance when `session` commits."""
    payloads = pack(events)
    for start in range(0, len(payloads), 64):
        part = payloads[start : start + 64]
        params = {f"p{i}": payload for i, payload in enumerate(part)}
        session.execute(_notify_all(len(part)), {"channel": MONITOR_CHANNEL, **params})
