"""The central station's live feed: WebSocket /live/monitor over LISTEN/NOTIFY hms_monitor."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from hms_core.db import AuditEvent
from hms_core.schemas.monitoring import STATION, VITALS, WAVE, event
from hms_server.api import live, live_monitor
from hms_server.db import Database
from hms_server.monitoring.publish import publish_monitor
from tests.server.test_monitoring_api import add_alarm, make_icu

RECV_TIMEOUT = 10.0


def monitor_url(http_url: str, ward_id: uuid.UUID | str | None = None) -> str:
    url = http_url.replace("http://", "ws://", 1) + "/live/monitor"
    return f"{url}?ward_id={ward_id}" if ward_id else url


@contextmanager
def station_socket(
    url: str, token: str | None, ward_id: uuid.UUID | str | None = None
) -> Iterator[ClientConnection]:
    """A station's WebSocket to `url`, watching `ward_id` (None: every ward)."""
    headers = {"X-HMS-Client": "pytest"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with connect(
        monitor_url(url, ward_id), additional_headers=headers, proxy=None, open_timeout=10
    ) as ws:
        yield ws


class Events:
    """Reads a station socket event by event, whether a frame holds one event or a list."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self.buffered, self.frames = ws, [], 0

    def next(self, *, pings: bool = False) -> dict:
        while True:
            if not self.buffered:
                frame = json.loads(self.ws.recv(timeout=RECV_TIMEOUT))
                self.frames += 1
                self.buffered = frame if isinstance(frame, list) else [frame]
            found = self.buffered.pop(0)
            if pings or found["type"] != "ping":
                return found


def close_code(ws: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=RECV_TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def publish(db: Database, events: list[dict]) -> None:
    """Publish events at commit, as the gateway does."""
    with db.unit_of_work() as session:
        publish_monitor(session, events)


def vitals(ward_id: uuid.UUID, hr: float, bed: str = "ICU-02") -> dict:
    return event(VITALS, ward_id, bed_id=bed, values={"hr": hr}, artefacts=[])


def test_refuses_without_sign_in_or_monitor_permission(live_server):
    with station_socket(live_server.url, None) as ws:
        assert close_code(ws) == 4401
    with station_socket(live_server.url, "not-a-token") as ws:
        assert close_code(ws) == 4401
    for role in ("billing", "reception"):
        with station_socket(live_server.url, live_server.token(role)) as ws:
            assert close_code(ws) == 4403
    with live_server.db.unit_of_work() as session:
        denied = session.execute(
            select(AuditEvent).where(AuditEvent.action == "access.denied")
        ).scalars()
        assert sorted((d.actor_username, d.detail["path"]) for d in denied) == [
            ("test-billing", "/live/monitor"),
            ("test-reception", "/live/monitor"),
        ]


def test_refuses_an_unknown_or_malformed_ward(live_server):
    token = live_server.token("nurse")
    with station_socket(live_server.url, token, uuid.uuid4()) as ws:
        assert close_code(ws) == 4404
    with station_socket(live_server.url, token, "ICU") as ws:
        assert close_code(ws) == 4400


def test_each_station_receives_only_its_wards_events(live_server):
    db = live_server.db
    icu = make_icu(db)
    with (
        station_socket(live_server.url, live_server.token("nurse"), icu.ward_id) as icu_ws,
        station_socket(live_server.url, live_server.token("doctor"), icu.other_ward_id) as gen_ws,
        station_socket(live_server.url, live_server.token("admin")) as all_ws,
    ):
        icu_events, gen_events, all_events = Events(icu_ws), Events(gen_ws), Events(all_ws)
        hello = icu_events.next()
        assert hello["type"] == "hello" and hello["ward_id"] == str(icu.ward_id)
        assert gen_events.next()["ward_id"] == str(icu.other_ward_id)
        everything = all_events.next()
        assert everything["type"] == "hello" and everything["ward_id"] is None
        publish(db, [vitals(icu.other_ward_id, 71, "GEN-01"), vitals(icu.ward_id, 88)])
        publish(db, [event(STATION, icu.other_ward_id)])
        got = icu_events.next()
        assert got["type"] == VITALS and got["values"] == {"hr": 88}
        assert got["ward_id"] == str(icu.ward_id)
        gen = gen_events.next()
        assert gen["values"] == {"hr": 71} and gen_events.next()["type"] == STATION
        assert [all_events.next()["type"] for _ in range(3)] == [VITALS, VITALS, STATION]
        # Events arrive in commit order: the ICU's next event proves it got nothing of GEN.
        publish(db, [vitals(icu.ward_id, 90)])
        assert icu_events.next()["values"] == {"hr": 90}
    with db.unit_of_work() as session:
        connects = session.execute(
            select(AuditEvent.actor_username).where(AuditEvent.action == "monitor.live.connect")
        ).scalars()
        assert sorted(connects) == ["test-admin", "test-doctor", "test-nurse"]


def test_many_events_travel_in_few_frames_in_order(live_server):
    db = live_server.db
    icu = make_icu(db)
    with station_socket(live_server.url, live_server.token("nurse"), icu.ward_id) as ws:
        events = Events(ws)
        assert events.next()["type"] == "hello"
        publish(db, [vitals(icu.ward_id, 60 + i) for i in range(300)])
        assert [events.next()["values"]["hr"] for _ in range(300)] == [60 + i for i in range(300)]
        assert events.frames < 100


def test_acknowledging_an_alarm_reaches_the_station(live_server):
    db = live_server.db
    icu = make_icu(db)
    alarm_id = add_alarm(db, icu)
    with (
        station_socket(live_server.url, live_server.token("doctor"), icu.ward_id) as ws,
        live_server.client("nurse") as nurse,
    ):
        events = Events(ws)
        assert events.next()["type"] == "hello"
        nurse.post(f"/api/monitoring/alarms/{alarm_id}/acknowledge").raise_for_status()
        got = events.next()
        assert got["type"] == "alarm" and got["ward_id"] == str(icu.ward_id)
        assert got["alarm"]["id"] == str(alarm_id)
        assert got["alarm"]["acknowledged_by"] == "test-nurse"
        url = f"/api/monitoring/patients/{icu.patient_id}/limits"
        nurse.put(url, json={"hr_high": 130}).raise_for_status()
        assert events.next() == {"type": STATION, "ward_id": str(icu.ward_id)}


def test_heartbeat_when_quiet(live_server, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    with station_socket(live_server.url, live_server.token("nurse")) as ws:
        events = Events(ws)
        assert events.next()["type"] == "hello"
        assert events.next(pings=True) == {"type": "ping"}
        ws.send(json.dumps({"type": "pong"}))
        assert events.next(pings=True) == {"type": "ping"}


def test_a_slow_station_loses_waves_first_then_is_told_to_resync():
    async def scenario() -> tuple[list[dict], list[dict]]:
        sub = live_monitor.MonitorSubscriber(None, asyncio.get_running_loop(), limit=10)
        wave = {"type": WAVE, "ward_id": None}
        sub._offer([{**wave, "n": i} for i in range(6)])  # noqa: SLF001
        sub._offer([vitals(uuid.UUID(int=1), 60 + i) for i in range(6)])  # noqa: SLF001
        first = await sub.take(1.0)  # 12 offered, 10 kept: the two oldest waves went
        sub._offer([vitals(uuid.UUID(int=1), 70 + i) for i in range(11)])  # noqa: SLF001
        second = await sub.take(1.0)  # no wave left to drop: the backlog becomes a resync
        return first, second

    first, second = asyncio.run(scenario())
    assert [e.get("n") for e in first if e["type"] == WAVE] == [2, 3, 4, 5]
    assert [e["values"]["hr"] for e in first if e["type"] == VITALS] == list(range(60, 66))
    assert second == [{"type": "resync"}]
