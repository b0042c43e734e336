"""The live channel (WebSocket /live over LISTEN/NOTIFY) and the notifications REST API."""

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from hms_core.db import AuditEvent, AuthSession, User, UserNotification
from hms_core.db.base import utcnow
from hms_server.api import live
from hms_server.app import create_app
from hms_server.auth import token_digest
from hms_server.db import Database, make_engine
from hms_server.live_events import publish
from tests.conftest import start_server

RECV_TIMEOUT = 10.0


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/live"


@contextmanager
def socket_for(url: str, token: str | None) -> Iterator[ClientConnection]:
    """A WebSocket to `url`'s live channel, signed in with `token` when given."""
    headers = {"X-HMS-Client": "pytest"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with connect(ws_url(url), additional_headers=headers, proxy=None, open_timeout=10) as ws:
        yield ws


def receive(ws: ClientConnection) -> dict:
    """The next event that is not a heartbeat."""
    while True:
        event = json.loads(ws.recv(timeout=RECV_TIMEOUT))
        if event["type"] != "ping":
            return event


def close_code(ws: ClientConnection) -> int:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=RECV_TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def user_id(db: Database, role: str) -> uuid.UUID:
    with db.unit_of_work() as session:
        return session.execute(select(User.id).where(User.username == f"test-{role}")).scalar_one()


def notify(
    db: Database,
    role: str,
    title: str,
    *,
    body: str | None = None,
    age: timedelta = timedelta(0),
    commit: bool = True,
) -> uuid.UUID:
    """Create a notification for the test user of `role` and publish it, as a service would."""
    recipient = user_id(db, role)
    with contextlib.suppress(_RolledBack), db.unit_of_work() as session:
        note = UserNotification(
            user_id=recipient,
            kind="test",
            title=title,
            body=f"{title}!" if body is None else body,
            created_at=utcnow() - age,
        )
        session.add(note)
        session.flush()
        event = {"type": "notification", "id": str(note.id), "title": title}
        publish(session, event, user_ids=[recipient])
        if not commit:
            raise _RolledBack
    return note.id


class _RolledBack(Exception):
    """Raised inside a unit of work to roll it back."""


# --- the live channel ---------------------------------------------------------------------


def test_refuses_without_a_valid_token_or_permission(live_server):
    with socket_for(live_server.url, None) as ws:
        assert close_code(ws) == 4401
    with socket_for(live_server.url, "not-a-token") as ws:
        assert close_code(ws) == 4401
    with socket_for(live_server.url, live_server.token("patient")) as ws:
        assert close_code(ws) == 4403
    with live_server.db.unit_of_work() as session:
        denied = session.execute(
            select(AuditEvent).where(AuditEvent.action == "access.denied")
        ).scalar_one()
    assert denied.actor_username == "test-patient"
    assert denied.detail == {"permission": "notification.read", "path": "/live"}


def test_a_committed_notification_reaches_only_its_recipient(live_server):
    notify(live_server.db, "doctor", "Earlier")
    with (
        socket_for(live_server.url, live_server.token("doctor")) as doctor,
        socket_for(live_server.url, live_server.token("nurse")) as nurse,
    ):
        assert receive(doctor) == {"type": "hello", "unread": 1}
        assert receive(nurse) == {"type": "hello", "unread": 0}
        note_id = notify(live_server.db, "doctor", "Lab result ready")
        assert receive(doctor) == {
            "type": "notification",
            "id": str(note_id),
            "title": "Lab result ready",
        }
        # Events arrive in commit order, so the nurse's first event proves she got nothing else.
        marker = notify(live_server.db, "nurse", "For the nurse")
        assert receive(nurse)["id"] == str(marker)
    with live_server.db.unit_of_work() as session:
        connects = session.execute(
            select(AuditEvent.actor_username).where(AuditEvent.action == "live.connect")
        ).scalars()
        assert sorted(connects) == ["test-doctor", "test-nurse"]


def test_a_rolled_back_notification_never_arrives(live_server):
    with socket_for(live_server.url, live_server.token("doctor")) as doctor:
        assert receive(doctor)["type"] == "hello"
        notify(live_server.db, "doctor", "Never sent", commit=False)
        marker = notify(live_server.db, "doctor", "Sent")
        assert receive(doctor)["id"] == str(marker)


def test_an_expired_session_closes_the_socket(live_server):
    token = live_server.token("nurse")
    with live_server.db.unit_of_work() as session:
        session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_digest(token))
            .values(expires_at=utcnow() + timedelta(seconds=1.5))
        )
    with socket_for(live_server.url, token) as ws:
        assert receive(ws)["type"] == "hello"
        assert close_code(ws) == 4401


def test_heartbeat_when_quiet(live_server, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    with socket_for(live_server.url, live_server.token("lab")) as ws:
        assert json.loads(ws.recv(timeout=RECV_TIMEOUT))["type"] == "hello"
        assert json.loads(ws.recv(timeout=RECV_TIMEOUT)) == {"type": "ping"}
        ws.send(json.dumps({"type": "pong"}))
        assert json.loads(ws.recv(timeout=RECV_TIMEOUT)) == {"type": "ping"}


@pytest.fixture
def second_server(database_url, server_settings) -> Iterator[tuple[str, object, object]]:
    """Another server instance over the same database: (url, app, (server, thread))."""
    db = Database(make_engine(database_url))
    app = create_app(server_settings, db)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server, thread = start_server(app, sock)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", app, (server, thread)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    db.engine.dispose()


def test_two_instances_behave_as_one(live_server, second_server, monkeypatch):
    monkeypatch.setattr(live, "IDLE_SECONDS", 0.2)
    url_b, app_b, (server_b, thread_b) = second_server
    with socket_for(url_b, live_server.token("doctor")) as doctor:
        assert receive(doctor) == {"type": "hello", "unread": 0}
        note_id = notify(live_server.db, "doctor", "Committed through A")
        assert receive(doctor)["id"] == str(note_id)
        with live_server.client("doctor") as http_a:  # read on A: B's socket is told
            http_a.post(f"/api/notifications/{note_id}/read").raise_for_status()
        assert receive(doctor) == {"type": "notifications_read", "unread": 0}
        hub = app_b.state.live_hub
        assert hub.listening
        # Stopping B with the socket still open: the client is told, nothing hangs.
        started = time.monotonic()
        server_b.should_exit = True
        thread_b.join(timeout=10)
        assert not thread_b.is_alive()
        assert time.monotonic() - started < 5
        assert close_code(doctor) == 1012
    deadline = time.monotonic() + 10
    while hub._thread is not None and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.05)
    assert hub._thread is None and not hub.listening  # noqa: SLF001


# --- REST ---------------------------------------------------------------------------------


def test_list_newest_first_only_ones_own(live_server):
    first = notify(live_server.db, "doctor", "First")
    second = notify(live_server.db, "doctor", "Second")
    notify(live_server.db, "nurse", "Not for the doctor")
    with live_server.client("doctor") as doctor:
        listing = doctor.get("/api/notifications").json()
        assert listing["unread"] == 2
        assert [n["id"] for n in listing["items"]] == [str(second), str(first)]
        assert listing["items"][0]["body"] == "Second!" and listing["items"][0]["read_at"] is None
        doctor.post(f"/api/notifications/{first}/read").raise_for_status()
        unread = doctor.get("/api/notifications", params={"unread_only": True}).json()
        assert unread["unread"] == 1 and [n["id"] for n in unread["items"]] == [str(second)]
        limited = doctor.get("/api/notifications", params={"limit": 1}).json()
        assert [n["id"] for n in limited["items"]] == [str(second)]


def test_mark_read_is_idempotent_and_private(live_server):
    mine = notify(live_server.db, "doctor", "Mine")
    theirs = notify(live_server.db, "nurse", "Theirs")
    with live_server.client("doctor") as doctor:
        read = doctor.post(f"/api/notifications/{mine}/read")
        assert read.status_code == 200 and read.json()["read_at"] is not None
        again = doctor.post(f"/api/notifications/{mine}/read").json()
        assert again["read_at"] == read.json()["read_at"]
        for other in (theirs, uuid.uuid4()):
            refused = doctor.post(f"/api/notifications/{other}/read")
            assert refused.status_code == 404
            assert refused.json()["error"]["code"] == "not_found"
    with live_server.client("nurse") as nurse:
        assert nurse.get("/api/notifications").json()["unread"] == 1


def test_read_all_leaves_later_and_other_peoples_notifications(live_server):
    notify(live_server.db, "doctor", "One")
    notify(live_server.db, "doctor", "Two")
    notify(live_server.db, "nurse", "Nurse's")
    with live_server.client("doctor") as doctor:
        seen = doctor.get("/api/notifications").json()["items"]
        later = notify(live_server.db, "doctor", "Arrived after looking")
        result = doctor.post("/api/notifications/read-all", json={"until": seen[0]["created_at"]})
        assert result.json() == {"marked": 2, "unread": 1}
        items = doctor.get("/api/notifications", params={"unread_only": True}).json()["items"]
        assert [n["id"] for n in items] == [str(later)]
        assert doctor.post("/api/notifications/read-all").json() == {"marked": 1, "unread": 0}
    with live_server.client("nurse") as nurse:
        assert nurse.get("/api/notifications").json()["unread"] == 1
