"""The live channel: `WebSocket /live`, fed by PostgreSQL LISTEN/NOTIFY on every server instance.

Events are published with `hms_server.live_events.publish` inside a writing transaction and
reach this process at commit. One listener thread per process (`LiveHub`) runs while sockets are
connected and fans each event out to the sockets it is meant for.

Protocol: authenticate with `Authorization: Bearer <token>` on the upgrade request (no token in
the URL: URLs end up in access logs). The server answers `{"type": "hello", "unread": N}` and then
sends events; `{"type": "ping"}` every HEARTBEAT_SECONDS while quiet (a client that hears
nothing for several heartbeats should reconnect); `{"type": "resync"}` when events may have been
missed. Close codes: 4401 not signed in or session ended, 4403 role not allowed (both final),
1013 database briefly unavailable and 1012 server restarting (reconnect with back-off).
Half-open client connections are dropped by the server's WebSocket keepalive (uvicorn's
protocol-level pings); a session that expires or is revoked closes the socket with 4401.
"""

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import psycopg
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers

from hms_core.db.base import utcnow
from hms_core.rbac import Perm, role_allows
from hms_core.schemas.notifications import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    HELLO,
    PING,
    RESYNC,
)
from hms_core.services import Actor
from hms_core.services.audit import record_audit
from hms_server.api.notifications import unread_count
from hms_server.auth import authenticate
from hms_server.db import Database
from hms_server.live import libpq_uri
from hms_server.live_events import LIVE_CHANNEL

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

HEARTBEAT_SECONDS = 20.0
IDLE_SECONDS = 10.0  # the listener keeps its connection this long after the last socket left
READY_SECONDS = 5.0  # how long a new socket waits for LISTEN before saying hello anyway
QUEUE_LIMIT = 500  # events waiting for one slow socket; beyond that it is told to resync
CLOSE_TRY_AGAIN = 1013  # the standard "try again later": the desktop reconnects with back-off
CLOSE_RESTARTING = 1012  # the standard "service restart": the desktop reconnects with back-off
CLOSING = "_closing"  # internal: a socket's sender closes it on this (never sent)
Event = dict[str, Any]


class Listener(Protocol):
    """What a hub needs of a connected socket (see Subscriber)."""

    synced: bool | None

    def deliver(self, event: Event) -> None: ...


@dataclass(eq=False)
class Subscriber:
    """One connected socket: whose it is, and the queue its sender task reads."""

    user_id: uuid.UUID
    role: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    # None while waiting for LISTEN (the hello comes after); False when events may have been
    # missed (said hello before LISTEN was up, or the listener reconnected); True otherwise.
    synced: bool | None = None

    def wants(self, envelope: dict[str, Any]) -> bool:
        """Whether an event envelope `{"users", "permission", "event"}` is for this socket."""
        users, permission = envelope.get("users"), envelope.get("permission")
        if users is not None and str(self.user_id) not in users:
            return False
        return permission is None or _allows(self.role, permission)

    def deliver(self, event: Event) -> None:
        """Hand `event` to the socket's loop (from any thread)."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: the socket is gone
            self.loop.call_soon_threadsafe(self._offer, event)

    def _offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # too slow to keep up: drop the backlog, ask for a resync
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait({"type": RESYNC})


def _allows(role: str, permission: str) -> bool:
    try:
        return role_allows(role, permission)
    except ValueError:  # a permission this server does not know
        return False


L = TypeVar("L", bound=Listener)


class LiveHub:
    """One `LISTEN <channel>` connection per process (`hms_live` by default), shared by every
    connected socket. A hub for another channel subclasses it and overrides `_dispatch`."""

    def __init__(
        self, sqlalchemy_url: str, idle_seconds: float = IDLE_SECONDS, channel: str = LIVE_CHANNEL
    ) -> None:
        self._uri = libpq_uri(sqlalchemy_url)
        self._idle_seconds = idle_seconds
        self._channel = channel
        self._lock = threading.Lock()
        self._subscribers: set[Any] = set()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._last_left = 0.0

    @property
    def listening(self) -> bool:
        """Whether the LISTEN connection is up."""
        return self._ready.is_set()

    @asynccontextmanager
    async def subscription(self, user_id: uuid.UUID, role: str) -> AsyncIterator[Subscriber]:
        """Receive the events for `user_id` while inside; LISTEN is up on entry when it can be."""
        async with self.subscribe(Subscriber(user_id, role, asyncio.get_running_loop())) as sub:
            yield sub

    @asynccontextmanager
    async def subscribe(self, sub: L) -> AsyncIterator[L]:
        """Deliver events to `sub` while inside; LISTEN is up on entry when it can be."""
        with self._lock:
            self._subscribers.add(sub)
            self._ensure_listener()
        try:
            deadline = time.monotonic() + READY_SECONDS
            while not self._ready.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            with self._lock:
                sub.synced = self._ready.is_set()
            yield sub
        finally:
            with self._lock:
                self._subscribers.discard(sub)
                self._last_left = time.monotonic()

    def close_sockets(self) -> None:
        """Tell every connected socket to close now (1012: reconnect later), without waiting
        for clients to answer: a server about to stop calls this first."""
        with self._lock:
            targets = list(self._subscribers)
        for sub in targets:
            sub.deliver({"type": CLOSING})

    def close(self, timeout: float = 3.0) -> None:
        """Stop the listener thread (at server shutdown)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _ensure_listener(self) -> None:
        """Start the listener thread unless it runs (call with the lock held)."""
        if self._thread is None and not self._stop.is_set():
            name = f"hms-live-hub-{self._channel}"
            self._thread = threading.Thread(target=self._listen, name=name, daemon=True)
            self._thread.start()

    def _ending(self, grace: bool = True) -> bool:
        """True when the listener should stop (no sockets for the idle time, or none at all
        when `grace` is off); it then no longer counts as running."""
        with self._lock:
            idle = not grace or time.monotonic() - self._last_left > self._idle_seconds
            if self._stop.is_set() or (not self._subscribers and idle):
                if self._thread is threading.current_thread():
                    self._thread = None
                    self._ready.clear()
                return True
            return False

    def _listen(self) -> None:
        """The listener thread: LISTEN, dispatch, reconnect after a lost connection."""
        failures = 0
        while True:
            try:
                with psycopg.connect(self._uri, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    failures = 0
                    self._established()
                    while not self._ending():
                        for note in conn.notifies(timeout=1.0):
                            self._dispatch(note.payload)
                    return
            except psycopg.Error as exc:
                self._lost()
                if self._ending(grace=False):
                    return  # nobody is waiting; the next socket starts a listener again
                failures += 1
                level = logging.WARNING if failures % 60 == 1 else logging.DEBUG
                log.log(level, "live channel lost its database connection (%s); retrying", exc)
                self._stop.wait(1.0)

    def _established(self) -> None:
        """LISTEN is up: sockets that may have missed events are told to resync."""
        with self._lock:
            self._ready.set()
            stale = [s for s in self._subscribers if s.synced is False]
            for sub in stale:
                sub.synced = True
        for sub in stale:
            sub.deliver({"type": RESYNC})

    def _lost(self) -> None:
        with self._lock:
            if self._thread is threading.current_thread():
                self._ready.clear()
                for sub in self._subscribers:
                    if sub.synced:
                        sub.synced = False

    def _dispatch(self, payload: str) -> None:
        try:
            envelope = json.loads(payload)
            event = envelope["event"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live event: %.200s", payload)
            return
        with self._lock:
            targets = [s for s in self._subscribers if s.wants(envelope)]
        for sub in targets:
            sub.deliver(event)


def live_hub(app: FastAPI) -> LiveHub:
    """The app's hub, created on first use (on the event loop's thread, so without a race)."""
    hub = getattr(app.state, "live_hub", None)
    if hub is None:
        db: Database = app.state.db
        hub = LiveHub(db.engine.url.render_as_string(hide_password=False), IDLE_SECONDS)
        app.state.live_hub = hub
    return hub


# --- the endpoint -------------------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    user_id: uuid.UUID
    role: str
    expires_at: datetime


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    """Live events for the signed-in user (see the module docstring for the protocol)."""
    await websocket.accept()
    try:
        await _session(websocket, websocket.app.state.db, _bearer(websocket.headers))
    except OperationalError as exc:
        log.warning("live channel: the database is unavailable (%s)", exc)
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await websocket.close(CLOSE_TRY_AGAIN, "The hospital database is briefly unavailable.")
    except (WebSocketDisconnect, OSError):
        pass  # the client went away


async def _session(websocket: WebSocket, db: Database, token: str | None) -> None:
    """Admit the caller, say hello, then serve events until one side ends the connection."""
    admitted = await run_in_threadpool(_admit, db, token, _client_actor(websocket))
    if isinstance(admitted, Refusal):
        await websocket.close(admitted.code, admitted.reason)
        return
    assert token is not None
    async with live_hub(websocket.app).subscription(admitted.user_id, admitted.role) as sub:
        unread = await run_in_threadpool(_unread, db, admitted.user_id)
        await websocket.send_json({"type": HELLO, "unread": unread})
        await _serve(websocket, sub, db, token, admitted.expires_at)


async def _serve(
    websocket: WebSocket, sub: Subscriber, db: Database, token: str, expires_at: datetime
) -> None:
    """Forward events until the client leaves, the server stops, or the session ends."""
    await serve_until_done(websocket, _forward(websocket, sub, db, token, expires_at))


async def serve_until_done(websocket: WebSocket, sending: Coroutine[Any, Any, None]) -> None:
    """Run `sending` while reading (and ignoring) what the client sends; stop when either
    ends. An unexpected failure is raised (and logged by the server)."""
    receiver = asyncio.create_task(_drain(websocket))
    sender = asyncio.create_task(sending)
    try:
        done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receiver, sender):
            task.cancel()
        await asyncio.gather(receiver, sender, return_exceptions=True)
    for task in done:
        task.result()


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, such as pongs; return when it disconnects."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _forward(
    websocket: WebSocket, sub: Subscriber, db: Database, token: str, expires_at: datetime
) -> None:
    """Send queued events; a heartbeat when quiet; close with 4401 when the session ends."""
    while True:
        wait = min(HEARTBEAT_SECONDS, max(0.05, (expires_at - utcnow()).total_seconds()))
        try:
            event = await asyncio.wait_for(sub.queue.get(), wait)
        except TimeoutError:
            still = await run_in_threadpool(_admit, db, token, None)
            if isinstance(still, Refusal):
                await websocket.close(still.code, "Your session has ended. Please sign in again.")
                return
            expires_at, event = still.expires_at, {"type": PING}
        if event.get("type") == CLOSING:
            await websocket.close(CLOSE_RESTARTING, "The server is restarting.")
            return
        await websocket.send_json(event)


@dataclass(frozen=True)
class Gate:
    """What a live endpoint requires, and how its connections are audited."""

    permission: Perm
    action: str  # the audit action of an admitted connection
    path: str
    refusal: str  # "Your role (nurse) {refusal}."


LIVE_GATE = Gate(Perm.NOTIFICATION_READ, "live.connect", "/live", "does not get live updates")


def _admit(
    db: Database, token: str | None, actor: Actor | None, gate: Gate = LIVE_GATE
) -> Admission | Refusal:
    """Check the token and the role; audit the connection when `actor` (the client) is given."""
    if token is None:
        return Refusal(CLOSE_UNAUTHENTICATED, "Please sign in.")
    with db.unit_of_work() as session:
        found = authenticate(session, token)
        if found is None:
            return Refusal(CLOSE_UNAUTHENTICATED, "Your session has expired. Please sign in again.")
        auth, user = found
        allowed = role_allows(user.role, gate.permission)
        if actor is not None:
            who = Actor(
                user.id, user.username, user.role, actor.client_id or auth.client_id, actor.address
            )
            _audit_connect(session, who, allowed, gate)
        if not allowed:
            return Refusal(CLOSE_FORBIDDEN, f"Your role ({user.role}) {gate.refusal}.")
        return Admission(user.id, user.role, auth.expires_at)


def _audit_connect(session: Session, actor: Actor, allowed: bool, gate: Gate = LIVE_GATE) -> None:
    if allowed:
        record_audit(session, actor, gate.action)
    else:
        detail = {"permission": str(gate.permission), "path": gate.path}
        record_audit(session, actor, "access.denied", outcome="failure", detail=detail)


def _unread(db: Database, user_id: uuid.UUID) -> int:
    with db.unit_of_work() as session:
        return unread_count(session, user_id)


def _bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _client_actor(websocket: WebSocket) -> Actor:
    """An anonymous actor carrying where the connection came from."""
    address = websocket.client.host if websocket.client else ""
    client_id = websocket.headers.get("X-HMS-Client", "")
    return Actor(None, "", "", client_id[:64], address[:64])
