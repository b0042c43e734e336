"""The central station's live feed: `WebSocket /live/monitor?ward_id=<uuid>`.

Monitor events (hms_core.schemas.monitoring) are published with
`hms_server.monitoring.publish.publish_monitor` as NOTIFY `hms_monitor` payloads (a JSON list of
events each); one listener per server instance (`MonitorHub`) relays them to the sockets
watching the event's ward, so a value the gateway of instance A received reaches a station
connected to instance B.

Protocol: as on /live (Bearer token on the upgrade request, never in the URL), and the role
needs `monitor.view`. Without `ward_id` the socket receives every ward. The server sends
`{"type": "hello", "ward_id": ..., "server_time": ...}`, then frames that are either one event
object or a JSON list of events (in order; batched to cut per-frame overhead), `{"type": "ping"}`
while quiet, and `{"type": "resync"}` when events were missed (fetch the station again). A slow
socket loses its oldest `wave` events first; only when that is not enough is its backlog
replaced by a resync. Close codes: 4401 not signed in, 4403 role without monitor.view, 4404 no
such ward, 4400 a ward_id that is not an identifier (all final); 1013 and 1012 as on /live.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError

from hms_core.db import Ward
from hms_core.db.base import utcnow
from hms_core.rbac import Perm
from hms_core.schemas.monitoring import WAVE
from hms_core.schemas.notifications import HELLO, PING, RESYNC
from hms_server.api import live
from hms_server.db import Database
from hms_server.monitoring.publish import MONITOR_CHANNEL

log = logging.getLogger(__name__)

QUEUE_LIMIT = 2000  # events waiting for one slow socket (about 2 s of a full 32-bed ICU)
BATCH_LIMIT = 100  # events per frame at most (a waveform chunk is about 2 kB)
CLOSE_BAD_REQUEST = 4400
CLOSE_NO_WARD = 4404
MONITOR_GATE = live.Gate(
    Perm.MONITOR_VIEW, "monitor.live.connect", "/live/monitor", "may not watch the monitors"
)
Event = dict[str, Any]


@dataclass(eq=False)
class MonitorSubscriber:
    """One station socket: the ward it watches (None: all) and its pending events."""

    ward_id: str | None
    loop: asyncio.AbstractEventLoop
    limit: int = QUEUE_LIMIT
    pending: deque[Event] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    synced: bool | None = None

    def wants(self, event: Event) -> bool:
        """Whether `event` belongs to the ward this socket watches."""
        return self.ward_id is None or event.get("ward_id") == self.ward_id

    def deliver(self, event: Event) -> None:
        """Hand one event to the socket's loop (from any thread)."""
        self.deliver_many([event])

    def deliver_many(self, events: list[Event]) -> None:
        """Hand events to the socket's loop (from any thread)."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: the socket is gone
            self.loop.call_soon_threadsafe(self._offer, events)

    def _offer(self, events: list[Event]) -> None:
        self.pending.extend(events)
        if len(self.pending) > self.limit:
            self._shed(len(self.pending) - self.limit)
        self.ready.set()

    def _shed(self, excess: int) -> None:
        """Drop the oldest waveform chunks; when that is not enough, ask for a resync."""
        kept: deque[Event] = deque()
        for event in self.pending:
            if excess and event.get("type") == WAVE:
                excess -= 1
                continue
            kept.append(event)
        if excess:
            closing = [e for e in kept if e.get("type") == live.CLOSING]
            kept = deque([{"type": RESYNC}, *closing])
        self.pending = kept

    async def take(self, timeout: float) -> list[Event]:
        """The pending events (up to BATCH_LIMIT), waiting up to `timeout`; [] when none came."""
        if not self.pending:
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), timeout)
        count = min(len(self.pending), BATCH_LIMIT)
        return [self.pending.popleft() for _ in range(count)]


class MonitorHub(live.LiveHub):
    """One `LISTEN hms_monitor` connection per process, shared by every station socket."""

    def __init__(self, sqlalchemy_url: str, idle_seconds: float = live.IDLE_SECONDS) -> None:
        super().__init__(sqlalchemy_url, idle_seconds, channel=MONITOR_CHANNEL)

    def _dispatch(self, payload: str) -> None:
        try:
            events = json.loads(payload)
        except ValueError:
            events = None
        if not isinstance(events, list):
            log.warning("ignored a malformed monitor event: %.200s", payload)
            return
        events = [e for e in events if isinstance(e, dict)]
        with self._lock:
            targets = list(self._subscribers)
        for sub in targets:
            mine = [e for e in events if sub.wants(e)]
            if mine:
                sub.deliver_many(mine)


def monitor_hub(app: FastAPI) -> MonitorHub:
    """The app's monitor hub, created on first use (on the event loop's thread)."""
    hub = getattr(app.state, "monitor_hub", None)
    if hub is None:
        db: Database = app.state.db
        hub = MonitorHub(db.engine.url.render_as_string(hide_password=False), live.IDLE_SECONDS)
        app.state.monitor_hub = hub
    return hub


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown: tell station sockets to reconnect elsewhere, stop the listener."""
    yield
    if (hub := getattr(app.state, "monitor_hub", None)) is not None:
        hub.close_sockets()
        hub.close()


router = APIRouter(tags=["live"], lifespan=_lifespan)


@router.websocket("/live/monitor")
async def live_monitor(websocket: WebSocket) -> None:
    """Live monitor events of one ward (see the module docstring for the protocol)."""
    await websocket.accept()
    try:
        await _session(websocket, websocket.app.state.db, live._bearer(websocket.headers))  # noqa: SLF001
    except OperationalError as exc:
        log.warning("monitor channel: the database is unavailable (%s)", exc)
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await websocket.close(
                live.CLOSE_TRY_AGAIN, "The hospital database is briefly unavailable."
            )
    except (WebSocketDisconnect, OSError):
        pass  # the client went away


async def _session(websocket: WebSocket, db: Database, token: str | None) -> None:
    """Admit the caller, check the ward, say hello, then relay events until either side ends."""
    actor = live._client_actor(websocket)  # noqa: SLF001
    admitted = await run_in_threadpool(live._admit, db, token, actor, MONITOR_GATE)  # noqa: SLF001
    if isinstance(admitted, live.Refusal):
        await websocket.close(admitted.code, admitted.reason)
        return
    ward = await run_in_threadpool(_ward, db, websocket.query_params.get("ward_id"))
    if isinstance(ward, live.Refusal):
        await websocket.close(ward.code, ward.reason)
        return
    assert token is not None
    sub = MonitorSubscriber(ward, asyncio.get_running_loop())
    async with monitor_hub(websocket.app).subscribe(sub):
        await websocket.send_json(
            {"type": HELLO, "ward_id": ward, "server_time": utcnow().isoformat()}
        )
        await _serve(websocket, sub, db, token, admitted.expires_at)


def _ward(db: Database, raw: str | None) -> str | None | live.Refusal:
    """The watched ward id as text (None: every ward), or why it cannot be watched."""
    if not raw:
        return None
    try:
        ward_id = uuid.UUID(raw)
    except ValueError:
        return live.Refusal(CLOSE_BAD_REQUEST, "ward_id is not a valid identifier.")
    with db.unit_of_work() as session:
        if session.get(Ward, ward_id) is None:
            return live.Refusal(CLOSE_NO_WARD, "This ward does not exist.")
    return str(ward_id)


async def _serve(
    websocket: WebSocket, sub: MonitorSubscriber, db: Database, token: str, expires_at: datetime
) -> None:
    """Forward events until the client leaves, the server stops, or the session ends."""
    await live.serve_until_done(websocket, _forward(websocket, sub, db, token, expires_at))


async def _forward(
    websocket: WebSocket, sub: MonitorSubscriber, db: Database, token: str, expires_at: datetime
) -> None:
    """Send pending events as one frame; a heartbeat when quiet; 4401 when the session ends."""
    while True:
        wait = min(live.HEARTBEAT_SECONDS, max(0.05, (expires_at - utcnow()).total_seconds()))
        batch = await sub.take(wait)
        if not batch or utcnow() >= expires_at:
            still = await run_in_threadpool(live._admit, db, token, None, MONITOR_GATE)  # noqa: SLF001
            if isinstance(still, live.Refusal):
                await websocket.close(still.code, "Your session has ended. Please sign in again.")
                return
            expires_at = still.expires_at
            batch = batch or [{"type": PING}]
        closing = any(e.get("type") == live.CLOSING for e in batch)
        batch = [e for e in batch if e.get("type") != live.CLOSING]
        if batch:
            frame = batch[0] if len(batch) == 1 else batch
            await websocket.send_text(json.dumps(frame, separators=(",", ":"), default=str))
        if closing:
            await websocket.close(live.CLOSE_RESTARTING, "The server is restarting.")
            return
