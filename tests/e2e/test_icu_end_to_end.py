"""The ICU chain end to end, with real parts only: simulated bedside monitors replaying MIMIC-II
over HL7/MLLP to the gateway of a running server (started by its own lifespan, as
`hms-server serve --mllp-port` does), PostgreSQL, LISTEN/NOTIFY, the monitor WebSocket, and the
desktop's ICU station signed in as a nurse, offscreen. What the nurse sees is compared with
what the server stored; then an SpO₂ alarm travels from a monitor message to a red tile, and
the nurse's acknowledgement travels back to the alarm's row."""

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import uvicorn
from sqlalchemy import func, select

from hms_core.db import AlarmEvent, Bed, EarlyWarningScore, MonitorDevice, VitalSign, Ward
from hms_core.db.base import new_id
from hms_core.rules import news2
from hms_core.rules.alarms import AlarmLimits
from hms_core.schemas.patients import PatientCreate
from hms_core.schemas.ward import AdmitPatient
from hms_core.services.actor import SYSTEM
from hms_core.services.inpatients import admit_patient
from hms_core.services.patients import register_patient
from hms_desktop.monitoring.alarm_style import RED
from hms_desktop.workspaces.icu.workspace import IcuWorkspace
from hms_server.app import create_app
from hms_server.db import Database
from hms_server.monitoring.oru_builder import (
    MLLP_END,
    Ack,
    Sender,
    frame,
    numerics_message,
    parse_ack,
    unframe,
)
from hms_server.monitoring.simulator import SimulatorStats, run_simulator
from hms_server.settings import Settings
from tests.conftest import LiveServer, close_live_sockets, free_port
from tests.desktop.conftest import (  # noqa: F401 - the desktop fixtures, for this module too
    OFFSCREEN_NOISE,
    controller,
    desktop_dirs,
    main_thread_gc,
    styled_app,
)
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

WAIT = SIGN_IN_TIMEOUT_MS
SIMULATED_SECONDS = 4.0
# Recording minutes where bed 1 is calm (HR ~60, SpO2 ~97, RR ~16) with a cuff reading at
# minute 703, which the monitor shows on connecting; bed 2 elsewhere.
START_MINUTES = {1: 703.2, 2: 943.2}


@dataclass
class Icu:
    ward_id: uuid.UUID
    beds: dict[str, uuid.UUID]
    patient_id: uuid.UUID


@pytest.fixture
def icu(db: Database) -> Icu:
    """Ward ICU with beds ICU-01 and ICU-02, each with its monitor; Chidi Okafor is admitted
    to ICU-01, ICU-02 is empty."""
    with db.unit_of_work() as session:
        ward = Ward(code="ICU", name="Intensive Care", ward_class="icu")
        session.add(ward)
        session.flush()
        beds: dict[str, uuid.UUID] = {}
        for label in ("ICU-01", "ICU-02"):
            bed = Bed(ward_id=ward.id, label=label)
            session.add(bed)
            session.flush()
            session.add(MonitorDevice(device_id=f"MON-{label}", label="", bed_id=bed.id))
            beds[label] = bed.id
        data = PatientCreate(
            given_name="Chidi", family_name="Okafor", birth_date=date(1958, 4, 9), sex="male"
        )
        patient = register_patient(session, SYSTEM, data)
        admitted_at = datetime.now(UTC) - timedelta(hours=2)
        admit_patient(
            session,
            SYSTEM,
            AdmitPatient(
                id=new_id(), patient_id=patient.id, bed_id=beds["ICU-01"], admitted_at=admitted_at
            ),
        )
        return Icu(ward.id, beds, patient.id)


@pytest.fixture
def icu_server(icu: Icu, db: Database, server_settings: Settings) -> Iterator[LiveServer]:
    """A live server whose lifespan runs the HL7/MLLP gateway on `settings.mllp_port`."""
    settings = server_settings.model_copy(update={"mllp_port": free_port()})
    app = create_app(settings, db)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started:  # the lifespan (and so the gateway) has started before this
        if not thread.is_alive():
            raise RuntimeError("the test server failed to start")
        started.wait(0.01)
    yield LiveServer(url=f"http://127.0.0.1:{port}", db=db, settings=settings)
    close_live_sockets(app)
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


class SimulatorRun:
    """The real monitor simulator on a thread of its own, with its own asyncio loop."""

    def __init__(self, port: int, beds: int, seconds: float) -> None:
        self.stats: SimulatorStats | None = None
        self.error: BaseException | None = None
        self._args = (port, beds, seconds)
        self.thread = threading.Thread(target=self._run, name="simulator", daemon=True)

    def _run(self) -> None:
        port, beds, seconds = self._args
        try:
            self.stats = asyncio.run(
                run_simulator(
                    "127.0.0.1",
                    port,
                    beds,
                    seconds,
                    seed=7,
                    artefact_every=None,
                    start_minutes=START_MINUTES,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def start(self) -> "SimulatorRun":
        self.thread.start()
        return self

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()


def send_oru(port: int, message: str) -> Ack:
    """One ORU^R01 to the gateway over MLLP, as a monitor sends it; the gateway's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(frame(message))
        reply = b""
        while not reply.endswith(MLLP_END):
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    return parse_ack(unframe(reply))


def latest(db: Database, patient_id: uuid.UUID) -> dict[str, float]:
    """The newest stored monitor value of each parameter of the patient."""
    with db.sessions() as session:
        rows = session.scalars(
            select(VitalSign)
            .where(VitalSign.patient_id == patient_id)
            .order_by(VitalSign.observed_at, VitalSign.received_at)
        )
        return {r.parameter: r.value for r in rows if not r.artefact and r.value is not None}


def expected_news2(values: dict[str, float]) -> int | None:
    """NEWS2 of the monitor's values with the patient assumed Alert and on air."""
    observations = news2.Observations(
        respiration_rate=values.get("rr"),
        spo2=values.get("spo2"),
        on_oxygen=False,
        systolic_bp=values.get("nibp_sys"),
        pulse=values.get("hr"),
        consciousness=news2.Consciousness("A"),
        temperature_c=values.get("temp"),
    )
    return news2.score(observations).total


def last_score(db: Database, patient_id: uuid.UUID) -> EarlyWarningScore | None:
    with db.sessions() as session:
        return session.scalars(
            select(EarlyWarningScore)
            .where(EarlyWarningScore.patient_id == patient_id)
            .order_by(EarlyWarningScore.computed_at.desc())
            .limit(1)
        ).one_or_none()


def open_alarm(db: Database, patient_id: uuid.UUID, parameter: str) -> AlarmEvent | None:
    with db.sessions() as session:
        return session.scalars(
            select(AlarmEvent).where(
                AlarmEvent.patient_id == patient_id,
                AlarmEvent.parameter == parameter,
                AlarmEvent.ended_at.is_(None),
            )
        ).one_or_none()


def unmatched_count(db: Database) -> int:
    with db.sessions() as session:
        stmt = select(func.count(VitalSign.id)).where(VitalSign.patient_id.is_(None))
        return session.scalar(stmt) or 0


def test_monitors_to_the_nurses_station_and_an_alarm_back(
    qtbot,
    controller,  # noqa: F811 - the desktop fixture imported above
    icu_server,
    icu,
    tmp_path,
):
    db, mllp_port = icu_server.db, icu_server.settings.mllp_port
    assert mllp_port is not None
    window = sign_in(qtbot, controller, icu_server.url, icu_server.users["nurse"])
    window.resize(1500, 900)
    window.show_workspace("icu")
    workspace = window.workspaces["icu"]
    assert isinstance(workspace, IcuWorkspace)
    view = workspace.station
    qtbot.waitUntil(lambda: len(view.tiles) == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: workspace.feed is not None and workspace.feed.connected, timeout=WAIT)
    tile, empty_tile = view.tile_for("ICU-01"), view.tile_for("ICU-02")
    assert tile.patient_label.text() == "Okafor, Chidi"
    assert tile.numerics["hr"].value.text() == "---"  # nothing measured yet

    # two bedside monitors send numerics every second and ECG every 0.25 s
    simulator = SimulatorRun(mllp_port, beds=2, seconds=SIMULATED_SECONDS).start()
    qtbot.waitUntil(lambda: tile.sweep.total >= 250, timeout=WAIT)  # a second of ECG drawn
    qtbot.waitUntil(lambda: tile.numerics["hr"].value.text() != "---", timeout=WAIT)
    qtbot.waitUntil(lambda: simulator.done, timeout=WAIT)
    assert simulator.error is None, simulator.error
    stats = simulator.stats
    assert stats is not None and stats.sent >= 2 * SIMULATED_SECONDS * 4 * 0.75
    assert set(stats.ack_counts()) == {"AA"}, stats.summary()

    # the tile shows what the server stored as the latest values of this patient
    values = latest(db, icu.patient_id)
    assert {"hr", "spo2", "rr", "nibp_sys", "temp"} <= set(values)
    qtbot.waitUntil(lambda: tile.numerics["hr"].value.text() == f"{values['hr']:.0f}", timeout=WAIT)
    assert tile.numerics["spo2"].value.text() == f"{values['spo2']:.0f}"
    assert tile.numerics["rr"].value.text() == f"{values['rr']:.0f}"
    y = tile.ecg.samples()
    assert (y == y).sum() >= 250  # samples on the sweep, not NaN gaps

    # NEWS2 from the monitor's values, consciousness and air assumed (no chart yet)
    score = expected_news2(values)
    assert score is not None
    qtbot.waitUntil(lambda: tile.news2_label.text() == f"NEWS2 {score}", timeout=WAIT)
    stored = last_score(db, icu.patient_id)
    assert stored is not None and stored.total == score
    assert set(stored.assumed) == {news2.CONSCIOUSNESS, news2.ON_OXYGEN}

    # the empty bed's monitor is kept apart, waiting for a nurse
    assert empty_tile.patient_label.text() == "Unassigned monitor"
    assert empty_tile.numerics["hr"].value.text() != "---"
    waiting = unmatched_count(db)
    assert waiting > 0
    workspace.reload()
    qtbot.waitUntil(
        lambda: workspace.unmatched_button.text() == f"{waiting} unassigned readings",
        timeout=WAIT,
    )
    assert workspace.unmatched_button.isVisible()
    window.grab().save(str(shots_dir(tmp_path) / "icu_end_to_end_live.png"))

    # an SpO₂ alarm with no delay: from one monitor message to a red tile
    limits = AlarmLimits(delays={**AlarmLimits().delays, "spo2": 0})
    with icu_server.client("nurse") as http:
        path = f"/api/monitoring/patients/{icu.patient_id}/limits"
        answer = http.put(path, json=limits.model_dump(mode="json"))
    assert answer.status_code == 200, answer.text
    message = numerics_message(Sender("MON-ICU-01", "ICU", "ICU-01"), {"spo2": 80}, now())
    assert send_oru(mllp_port, message).code == "AA"
    qtbot.waitUntil(lambda: open_alarm(db, icu.patient_id, "spo2") is not None, timeout=WAIT)
    row = open_alarm(db, icu.patient_id, "spo2")
    assert row.priority == "high" and row.kind == "clinical" and row.value == 80
    assert row.acknowledged_by is None

    def red() -> bool:
        alarm = tile.active_alarm()
        return alarm is not None and alarm.id == row.id

    qtbot.waitUntil(red, timeout=WAIT)
    assert tile.look is not None and tile.look.background == RED
    assert tile.alarm_row.isVisible()
    assert tile.alarm_label.text().startswith("SpO₂ low 80")
    qtbot.waitUntil(lambda: tile.numerics["spo2"].value.text() == "80", timeout=WAIT)
    window.grab().save(str(shots_dir(tmp_path) / "icu_end_to_end_alarm.png"))

    # the nurse acknowledges on the tile; the server's row says who
    tile.ack_button.click()
    qtbot.waitUntil(
        lambda: (open_alarm(db, icu.patient_id, "spo2") or row).acknowledged_by is not None,
        timeout=WAIT,
    )
    acknowledged = open_alarm(db, icu.patient_id, "spo2")
    assert acknowledged is not None and acknowledged.id == row.id
    assert acknowledged.acknowledged_by == icu_server.users["nurse"][0]
    qtbot.waitUntil(lambda: red() and tile.active_alarm().acknowledged_at is not None, timeout=WAIT)
    assert tile.look.period == 0  # acknowledged: steady red, no more flashing
    assert tile.alarm_label.text().endswith("· acknowledged")


def now() -> datetime:
    return datetime.now(UTC)
