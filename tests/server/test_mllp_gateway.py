"""The bedside monitor gateway over real sockets and a real PostgreSQL: what a monitor gets
back (AA/AE/AR), what is stored for which patient, and what central stations hear live."""

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from hms_core.db.hospital import Bed, Ward
from hms_core.db.inpatients import Admission
from hms_core.db.monitoring import MonitorDevice, VitalSign
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_server.app import create_app
from hms_server.db import Database
from hms_server.monitoring.ingest import Ingest
from hms_server.monitoring.mllp import FrameReader, Gateway, frame
from hms_server.monitoring.oru_builder import (
    Ack,
    Sender,
    numerics_message,
    parse_ack,
    waveform_message,
)
from hms_server.monitoring.resolve import Resolver
from tests.conftest import free_port

VALUES = {"hr": 82, "spo2": 97, "rr": 16, "nibp_sys": 118, "nibp_dia": 76, "temp": 36.8}
TIMEOUT = 20.0


@dataclass
class Icu:
    ward_id: uuid.UUID
    beds: dict[str, uuid.UUID]
    admitted: uuid.UUID  # patient in ICU-01
    admitted_mrn: str
    outpatient_mrn: str  # registered, not admitted


def _patient(session, given: str, family: str) -> tuple[uuid.UUID, str]:  # noqa: ANN001
    data = PatientCreate(
        given_name=given, family_name=family, birth_date=date(1961, 1, 1), sex="female"
    )
    patient = register_patient(session, SYSTEM, data)
    return patient.id, patient.mrn


@pytest.fixture
def icu(db: Database) -> Icu:
    """Ward ICU, beds ICU-01..03 each with a monitor; a patient admitted to ICU-01."""
    with db.unit_of_work() as session:
        ward = Ward(code="ICU", name="Intensive care", ward_class="icu")
        session.add(ward)
        session.flush()
        beds = {}
        for n in (1, 2, 3):
            bed = Bed(ward_id=ward.id, label=f"ICU-0{n}")
            session.add(bed)
            session.flush()
            session.add(MonitorDevice(device_id=f"MON-ICU-0{n}", label="", bed_id=bed.id))
            beds[bed.label] = bed.id
        admitted, mrn = _patient(session, "Ada", "Admitted")
        session.add(
            Admission(
                patient_id=admitted,
                bed_id=beds["ICU-01"],
                admitted_at=datetime.now(UTC),
                admitted_by="test-nurse",
            )
        )
        _other, other_mrn = _patient(session, "Otto", "Outpatient")
    return Icu(ward.id, beds, admitted, mrn, other_mrn)


@pytest.fixture
def gateway(db: Database, icu: Icu) -> Iterator[Gateway]:
    running = Gateway(db, "127.0.0.1", 0).start()
    yield running
    running.stop()


class Monitor:
    """A bedside monitor's end of one MLLP connection."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.frames = FrameReader()
        self.waiting: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ack(self) -> Ack:
        while not self.waiting:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the gateway closed the connection")
            self.waiting.extend(self.frames.feed(data))
        return parse_ack(self.waiting.pop(0).decode())

    def exchange(self, message: str) -> Ack:
        self.send(frame(message))
        return self.ack()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def monitor(gateway: Gateway) -> Iterator[Monitor]:
    connection = Monitor(gateway.port)
    yield connection
    connection.close()


def sender(bed: str = "ICU-01", mrn: str = "", device: str | None = None) -> Sender:
    return Sender(device or f"MON-{bed}", "ICU", bed, mrn=mrn)


def rows(db: Database, control_id: str) -> list[VitalSign]:
    with db.sessions() as session:
        query = select(VitalSign).where(VitalSign.message_id == control_id)
        return list(session.scalars(query.order_by(VitalSign.parameter)))


def test_a_good_message_is_acked_and_stored_for_the_admitted_patient(db, icu, monitor):
    at = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)
    values = {**VALUES, "pulse": 0}  # pulse 0: the oximeter probe is off
    answer = monitor.exchange(numerics_message(sender(), values, at, control_id="GOOD-1"))
    assert (answer.code, answer.control_id) == ("AA", "GOOD-1")
    stored = {row.parameter: row for row in rows(db, "GOOD-1")}
    assert {p: row.value for p, row in stored.items()} == values
    hr = stored["hr"]
    assert (hr.patient_id, hr.bed_id, hr.device_id) == (
        icu.admitted,
        icu.beds["ICU-01"],
        "MON-ICU-01",
    )
    assert (hr.code_system, hr.code, hr.unit, hr.source) == (
        "MDC",
        "147842",
        "MDC_DIM_BEAT_PER_MIN",
        "monitor",
    )
    assert hr.observed_at == at and hr.unmatched_hint is None
    assert stored["pulse"].artefact and not hr.artefact


def test_an_unmatched_monitor_is_stored_without_a_patient_and_with_a_hint(db, icu, monitor):
    at = datetime.now(UTC)
    empty_bed = monitor.exchange(numerics_message(sender("ICU-02"), VALUES, at, control_id="U-1"))
    assert empty_bed.code == "AA"
    [hint] = {(row.patient_id, row.unmatched_hint) for row in rows(db, "U-1")}
    assert hint == (None, "device MON-ICU-02, bed ICU-02, no patient admitted")

    # The bed's patient and the MRN the monitor sends disagree: kept apart, not guessed.
    clash = sender("ICU-01", mrn=icu.outpatient_mrn)
    assert monitor.exchange(numerics_message(clash, VALUES, at, control_id="U-2")).code == "AA"
    [row, *_] = rows(db, "U-2")
    assert row.patient_id is None and row.bed_id == icu.beds["ICU-01"]
    assert icu.outpatient_mrn in row.unmatched_hint and icu.admitted_mrn in row.unmatched_hint

    # A monitor nobody registered, but PV1 names the bed: the bed's patient.
    stray = sender("ICU-01", device="MON-SPARE-9")
    assert monitor.exchange(numerics_message(stray, VALUES, at, control_id="U-3")).code == "AA"
    assert {row.patient_id for row in rows(db, "U-3")} == {icu.admitted}

    # No bed at all, the MRN of a registered patient: that patient.
    lost = Sender("MON-SPARE-9", "", "", mrn=icu.outpatient_mrn)
    assert monitor.exchange(numerics_message(lost, VALUES, at, control_id="U-4")).code == "AA"
    assert None not in {row.patient_id for row in rows(db, "U-4")}


def test_bad_content_gets_an_error_with_a_reason_and_nothing_is_stored(db, icu, monitor):
    good = numerics_message(sender(), {"hr": 70, "spo2": 99}, datetime.now(UTC), control_id="B-1")
    words = good.replace("|70|", "|seventy|")
    answer = monitor.exchange(words)
    assert (answer.code, answer.control_id) == ("AE", "B-1")
    assert "Heart rate" in answer.reason and "not a number" in answer.reason
    assert rows(db, "B-1") == []

    no_obx = "\r".join(s for s in good.split("\r") if not s.startswith("OBX")).replace("B-1", "B-2")
    answer = monitor.exchange(no_obx)
    assert (answer.code, answer.control_id) == ("AE", "B-2") and "no observations" in answer.reason

    impossible = good.replace("|99|", "|180|").replace("B-1", "B-3")
    answer = monitor.exchange(impossible)
    assert answer.code == "AE" and "not a possible value" in answer.reason
    assert rows(db, "B-3") == []


def test_garbage_and_wrong_types_are_rejected_and_the_connection_keeps_serving(db, icu, monitor):
    monitor.send(b"noise before any frame\r\n")  # outside frames: ignored
    assert monitor.exchange("this is not HL7 at all").code == "AR"
    monitor.send(b"\x0b\xff\xfe\x00garbage\x1c\x0d")
    assert monitor.ack().code == "AR"
    adt = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="W-1")
    answer = monitor.exchange(adt.replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01"))
    assert (answer.code, answer.control_id) == ("AR", "W-1") and "ORU R01" in answer.reason
    no_id = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="W-2")
    assert monitor.exchange(no_id.replace("|W-2|P|2.6", "||P|2.6")).code == "AR"

    after = monitor.exchange(
        numerics_message(sender(), VALUES, datetime.now(UTC), control_id="W-3")
    )
    assert (after.code, after.control_id) == ("AA", "W-3")
    assert len(rows(db, "W-3")) == len(VALUES)
    assert rows(db, "W-1") == [] and rows(db, "W-2") == []


def test_two_frames_in_one_write_and_one_frame_split_across_writes(db, icu, monitor):
    now = datetime.now(UTC)
    first, second = (
        frame(numerics_message(sender(), VALUES, now, control_id=ctl)) for ctl in ("F-1", "F-2")
    )
    monitor.send(first + second)
    assert [monitor.ack().control_id, monitor.ack().control_id] == ["F-1", "F-2"]

    split = frame(numerics_message(sender(), VALUES, now, control_id="F-3"))
    for piece in (split[:1], split[1:40], split[40:-1], split[-1:]):
        monitor.send(piece)
        time.sleep(0.02)
    answer = monitor.ack()
    assert (answer.code, answer.control_id, monitor.waiting) == ("AA", "F-3", [])
    assert all(len(rows(db, ctl)) == len(VALUES) for ctl in ("F-1", "F-2", "F-3"))


def test_an_oversized_message_is_rejected_and_the_connection_closed(db, icu):
    small = Gateway(db, "127.0.0.1", 0, max_message_bytes=10_000).start()
    try:
        monitor = Monitor(small.port)
        monitor.send(b"\x0bMSH|" + b"x" * 20_000)
        answer = monitor.ack()
        assert answer.code == "AR" and "larger than 10 kB" in answer.reason
        with pytest.raises(ConnectionError):
            monitor.ack()
        monitor.close()
        fresh = Monitor(small.port)  # others are still served
        good = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="O-1")
        assert fresh.exchange(good).code == "AA"
        fresh.close()
    finally:
        small.stop()


def test_a_thousand_messages_over_eight_connections_are_all_stored_once(db, icu, gateway):
    per_connection, burst = 125, 25
    answers: dict[str, str] = {}
    failures: list[BaseException] = []

    def monitor_run(n: int) -> None:
        try:
            connection = Monitor(gateway.port)
            bed = f"ICU-0{n % 3 + 1}"
            for start in range(0, per_connection, burst):
                ids = [f"L{n}-{i}" for i in range(start, start + burst)]
                now = datetime.now(UTC)
                connection.send(
                    b"".join(
                        frame(numerics_message(sender(bed), VALUES, now, control_id=ctl))
                        for ctl in ids
                    )
                )
                for ctl in ids:
                    answer = connection.ack()
                    assert answer.control_id == ctl
                    answers[ctl] = answer.code
            connection.close()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=monitor_run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert len(answers) == 1000 and set(answers.values()) == {"AA"}
    with db.sessions() as session:
        per_message = session.execute(
            select(VitalSign.message_id, func.count())
            .where(VitalSign.message_id.like("L%"))
            .group_by(VitalSign.message_id)
        ).all()
    assert len(per_message) == 1000
    assert {count for _id, count in per_message} == {len(VALUES)}


def test_vitals_and_waves_reach_a_listening_station_through_notify(db, database_url, icu):
    seen: list[list] = []

    def processor(session, values, now):  # noqa: ANN001, ANN202
        seen.append([(v.reading.parameter, v.placement.patient_id) for v in values])
        return [{"type": "probe", "ward_id": None, "count": len(values)}]

    gateway = Gateway(db, "127.0.0.1", 0, processors=[processor]).start()
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, autocommit=True) as listener:
            listener.execute("LISTEN hms_monitor")
            monitor = Monitor(gateway.port)
            before = time.time()
            message = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="N-1")
            assert monitor.exchange(message).code == "AA"
            wave = waveform_message(sender(), [0.1, 0.25, -0.1234], 250, datetime.now(UTC))
            assert monitor.exchange(wave).code == "AA"
            monitor.close()
            events = []
            for note in listener.notifies(timeout=TIMEOUT, stop_after=2):
                events.extend(json.loads(note.payload))
    finally:
        gateway.stop()
    vitals = next(e for e in events if e["type"] == "vitals")
    assert vitals["values"] == VALUES and vitals["artefacts"] == []
    assert vitals["patient_id"] == str(icu.admitted)
    assert vitals["ward_id"] == str(icu.ward_id) and vitals["bed_id"] == str(icu.beds["ICU-01"])
    assert vitals["device_id"] == "MON-ICU-01" and before <= vitals["received"] <= time.time()
    wave_event = next(e for e in events if e["type"] == "wave")
    assert wave_event["samples"] == [0.1, 0.25, -0.123] and wave_event["hz"] == 250
    assert wave_event["lead"] == "II" and wave_event["patient_id"] == str(icu.admitted)
    assert {"type": "probe", "ward_id": None, "count": len(VALUES)} in events
    assert seen[0] and {patient for _p, patient in seen[0]} == {icu.admitted}
    with db.sessions() as session:  # waveform samples are relayed, never stored
        assert session.scalar(select(func.count()).select_from(VitalSign)) == len(VALUES)


class BrokenResolver(Resolver):
    def resolve(self, session, message):  # noqa: ANN001, ANN201
        raise RuntimeError("database went away")


def test_a_failed_transaction_answers_resend_and_the_ticker_runs(db, icu):
    ticks: list[datetime] = []
    ingest = Ingest(db, tickers=[lambda session, now: ticks.append(now) or []])
    ingest.resolver = BrokenResolver()
    broken = Gateway(db, "127.0.0.1", 0, ingest=ingest).start()
    try:
        monitor = Monitor(broken.port)
        message = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="T-1")
        answer = monitor.exchange(message)
        assert (answer.code, answer.control_id) == ("AE", "T-1") and "resend" in answer.reason
        deadline = time.monotonic() + TIMEOUT
        while not ticks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ticks
        ingest.resolver = Resolver()
        assert monitor.exchange(message).code == "AA"  # the resend is stored
        monitor.close()
    finally:
        broken.stop()
    assert len(rows(db, "T-1")) == len(VALUES)


def test_the_server_lifespan_runs_the_gateway_when_a_port_is_set(db, icu, server_settings):
    port = free_port()
    app = create_app(server_settings.model_copy(update={"mllp_port": port}), db)

    def exchange() -> Ack:
        monitor = Monitor(port)
        message = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="S-1")
        try:
            return monitor.exchange(message)
        finally:
            monitor.close()

    async def serve() -> Ack:
        async with app.router.lifespan_context(app):
            return await asyncio.to_thread(exchange)

    assert asyncio.run(serve()).code == "AA"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert len(rows(db, "S-1")) == len(VALUES)


def test_a_failing_processor_loses_no_values_and_a_resend_is_stored_once(db, icu):
    def broken(session, values, now):  # noqa: ANN001, ANN202
        raise ValueError("alarm engine bug")

    gateway = Gateway(db, "127.0.0.1", 0, processors=[broken]).start()
    try:
        monitor = Monitor(gateway.port)
        message = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="R-1")
        assert monitor.exchange(message).code == "AA"
        assert monitor.exchange(message).code == "AA"  # its ACK was lost: the monitor resends
        monitor.close()
    finally:
        gateway.stop()
    assert len(rows(db, "R-1")) == len(VALUES)


def test_a_lost_database_connection_costs_at_most_one_resend(db, database_url, icu, monitor):
    """The writer keeps its own connection; when the database drops it, the monitor is told
    to resend, the writer connects again, and the resent message is stored once."""
    first = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="D-1")
    assert monitor.exchange(first).code == "AA"
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
    second = numerics_message(sender(), VALUES, datetime.now(UTC), control_id="D-2")
    answers = [monitor.exchange(second)]
    if answers[0].code != "AA":
        assert answers[0].code == "AE" and "resend" in answers[0].reason
        answers.append(monitor.exchange(second))
    assert answers[-1].code == "AA"
    assert len(rows(db, "D-1")) == len(VALUES) and len(rows(db, "D-2")) == len(VALUES)


def test_a_burst_from_many_beds_is_stored_with_every_column(db, icu, monitor):
    """One group of messages (one COPY): every value keeps its code, unit, times, message id,
    and the unmatched ones their hint."""
    now = datetime.now(UTC)
    burst = [
        numerics_message(sender(f"ICU-0{n % 3 + 1}"), VALUES, now, control_id=f"B-{n}")
        for n in range(30)
    ]
    monitor.send(b"".join(frame(message) for message in burst))
    assert [monitor.ack().code for _ in burst] == ["AA"] * len(burst)
    stored = rows(db, "B-0")
    assert {r.parameter: r.value for r in stored} == VALUES
    heart = next(r for r in stored if r.parameter == "hr")
    assert (heart.code_system, heart.code, heart.source) == ("MDC", "147842", "monitor")
    assert heart.patient_id == icu.admitted and heart.bed_id == icu.beds["ICU-01"]
    assert heart.unmatched_hint is None and not heart.artefact
    assert abs((heart.observed_at - now).total_seconds()) < 0.002
    assert heart.received_at >= heart.observed_at - timedelta(seconds=1)
    empty_bed = rows(db, "B-1")  # ICU-02: a monitor but nobody admitted
    assert empty_bed[0].patient_id is None and "no patient admitted" in empty_bed[0].unmatched_hint
    with db.sessions() as session:
        ids = session.scalars(select(VitalSign.id).where(VitalSign.message_id.like("B-%"))).all()
    assert len(ids) == len(set(ids)) == 30 * len(VALUES)
    assert all(i.version == 7 for i in ids)
