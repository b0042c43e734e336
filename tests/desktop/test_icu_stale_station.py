"""A station snapshot that left the server before an alarm changed must not undo the change on
the nurse's screen (live server; the snapshot is held back on its way to the desktop)."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hms_core.db import AlarmEvent, EarlyWarningScore
from hms_core.schemas.monitoring import NEWS2, AlarmOut, News2Out
from hms_core.schemas.monitoring import event as monitor_event
from hms_desktop.workspaces.icu.workspace import IcuWorkspace, newest
from hms_server.monitoring.publish import publish_monitor
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, sign_in
from tests.server.icu_helpers import make_icu

WAIT = SIGN_IN_TIMEOUT_MS


def add_alarm(db, patient_id, bed_id) -> AlarmEvent:  # noqa: ANN001
    """An active high-priority alarm as the server's alarm service stores it."""
    with db.unit_of_work() as session:
        row = AlarmEvent(
            patient_id=patient_id,
            bed_id=bed_id,
            kind="clinical",
            priority="high",
            parameter="spo2",
            condition="low",
            message="SpO₂ low 80 (limit 90)",
            value=80,
            limit=90,
            started_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


@dataclass
class Station:
    workspace: IcuWorkspace
    icu: Any
    api: Any


def open_station(qtbot, controller, live_server) -> Station:  # noqa: ANN001
    """The nurse's ICU workspace on a small ICU with Chidi Okafor in ICU-02, live."""
    icu = make_icu(live_server.db, {"ICU-02": ("Chidi", "Okafor")})
    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    workspace = IcuWorkspace(window.ctx)
    qtbot.addWidget(workspace)
    workspace.show()
    qtbot.waitUntil(lambda: len(workspace.station.tiles) == 4, timeout=WAIT)
    qtbot.waitUntil(lambda: workspace.feed.connected, timeout=WAIT)
    return Station(workspace, icu, window.ctx.api)


@contextmanager
def snapshot_held_back(qtbot, station: Station) -> Iterator[None]:  # noqa: ANN001
    """A reload whose snapshot is read on the server on entry and reaches the desktop on exit."""
    api = station.api
    fetch, gate, taken = api.monitoring_station, threading.Event(), threading.Event()

    def held(ward_id):  # noqa: ANN001, ANN202
        snapshot = fetch(ward_id)
        taken.set()
        gate.wait(timeout=30)
        return snapshot

    api.monitoring_station = held
    station.workspace.reload()
    qtbot.waitUntil(taken.is_set, timeout=WAIT)
    try:
        yield
    finally:
        api.monitoring_station = fetch
        gate.set()  # the older snapshot arrives
    qtbot.waitUntil(lambda: not station.workspace._loading, timeout=WAIT)


def test_an_acknowledgement_survives_an_older_snapshot(qtbot, controller, live_server):
    station = open_station(qtbot, controller, live_server)
    icu, workspace = station.icu, station.workspace
    alarm = add_alarm(live_server.db, icu.patients["ICU-02"], icu.beds["ICU-02"])
    workspace.reload()
    tile = workspace.station.tile_for("ICU-02")
    qtbot.waitUntil(lambda: tile.active_alarm() is not None, timeout=WAIT)

    def acknowledged() -> bool:
        shown = tile.active_alarm()
        return shown is not None and shown.acknowledged_at is not None

    with snapshot_held_back(qtbot, station):  # read on the server: not acknowledged yet
        tile.ack_button.click()
        qtbot.waitUntil(acknowledged, timeout=WAIT)
    assert acknowledged()
    assert tile.active_alarm().id == alarm.id
    assert tile.alarm_label.text().endswith("· acknowledged")
    assert tile.look is not None and tile.look.period == 0  # steady, no flashing
    workspace.shutdown()


def test_reports_of_one_alarm_combine_to_the_newest():
    started = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
    base = AlarmOut(
        id=uuid.uuid4(),
        patient_id=None,
        bed_id=None,
        kind="clinical",
        priority="high",
        parameter="spo2",
        condition="low",
        message="SpO₂ low 80 (limit 90)",
        value=80,
        limit=90,
        started_at=started,
        ended_at=None,
        acknowledged_at=None,
        acknowledged_by=None,
        silenced_until=None,
        silenced_by=None,
    )
    acked = base.model_copy(update={"acknowledged_at": started, "acknowledged_by": "nurse"})
    ended = base.model_copy(update={"ended_at": started})
    assert newest(acked, base).acknowledged_by == "nurse"  # an older report does not undo it
    assert newest(base, acked).acknowledged_by == "nurse"
    assert newest(ended, acked).ended_at == started
    assert newest(None, base) is base


def test_a_score_heard_while_loading_survives_the_older_snapshot(qtbot, controller, live_server):
    """A NEWS2 change published while a station snapshot is on its way stays on the tile (the
    score may not change again for hours, so nothing else would correct it)."""
    station = open_station(qtbot, controller, live_server)
    icu, workspace = station.icu, station.workspace
    tile = workspace.station.tile_for("ICU-02")
    score = News2Out(total=7, band="high", red_score=False, computed_at=datetime.now(UTC))
    event = monitor_event(
        NEWS2,
        icu.ward_id,
        bed_id=str(icu.beds["ICU-02"]),
        patient_id=str(icu.patients["ICU-02"]),
        score=score.model_dump(mode="json"),
    )
    with snapshot_held_back(qtbot, station):  # read on the server: no score yet
        with live_server.db.unit_of_work() as session:  # as the scorer does: row and event
            row = EarlyWarningScore(
                patient_id=icu.patients["ICU-02"],
                total=7,
                band="high",
                computed_at=score.computed_at,
            )
            session.add(row)
            publish_monitor(session, [event])
        qtbot.waitUntil(lambda: tile.news2_label.text() == "NEWS2 7", timeout=WAIT)
    assert tile.news2_label.text() == "NEWS2 7"
    workspace.shutdown()
