"""NEWS2 on the server against a real PostgreSQL: scores stored when they change, escalation to
the staff who watch monitors, and nurses' charted sets turned into observations."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hms_core.db import EarlyWarningScore, User, UserNotification, VitalsEntry, VitalSign
from hms_core.db.base import new_id
from hms_core.rules.alarms import AlarmLimits
from hms_core.schemas.ward import RecordVitals
from hms_core.services.alarms import set_limits
from hms_core.services.vitals import record_vitals
from hms_server.db import Database
from hms_server.monitoring.scoring import Scorer, rescore_from_db
from tests.server.icu_helpers import Icu, actor, make_icu, reading, readings

NORMAL = {"rr": 16, "spo2": 97, "nibp_sys": 120, "hr": 75, "temp": 37.0}


@pytest.fixture
def icu(db: Database) -> Icu:
    return make_icu(db, {"ICU-03": ("Jane", "Doe"), "ICU-04": ("John", "Roe")})


def now_plus(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _observe(db: Database, scorer: Scorer, icu: Icu, now: datetime, **values: float) -> list:
    with db.unit_of_work() as session:
        return scorer.observe(session, readings(icu.place("ICU-03"), now, **values), now)


def _scores(db: Database, patient_id: uuid.UUID) -> list[EarlyWarningScore]:
    with db.unit_of_work() as session:
        stmt = (
            select(EarlyWarningScore)
            .where(EarlyWarningScore.patient_id == patient_id)
            .order_by(EarlyWarningScore.computed_at)
        )
        return list(session.execute(stmt).scalars())


def _notes(db: Database, username: str) -> list[UserNotification]:
    with db.unit_of_work() as session:
        stmt = (
            select(UserNotification)
            .join(User, User.id == UserNotification.user_id)
            .where(User.username == username)
            .order_by(UserNotification.created_at)
        )
        return list(session.execute(stmt).scalars())


def _chart(db: Database, patient_id: uuid.UUID, taken_at: datetime, **values: object) -> uuid.UUID:
    fields = {
        "respiration_rate": 16,
        "spo2": 97,
        "on_oxygen": False,
        "systolic_bp": 120,
        "diastolic_bp": 75,
        "pulse": 75,
        "consciousness": "A",
        "temperature_c": 37.0,
        **values,
    }
    with db.unit_of_work() as session:
        entry = VitalsEntry(
            patient_id=patient_id, taken_at=taken_at, recorded_by="test-nurse", **fields
        )
        session.add(entry)
        session.flush()
        return entry.id


def test_a_deteriorating_patient_raises_the_band_and_the_ward_is_told(
    db: Database, icu: Icu
) -> None:
    scorer = Scorer()
    patient = icu.patients["ICU-03"]
    first = _observe(db, scorer, icu, now_plus(0), **NORMAL)
    [event] = first
    assert event["type"] == "news2" and event["ward_id"] == str(icu.ward_id)
    assert event["bed_id"] == str(icu.beds["ICU-03"]) and event["patient_id"] == str(patient)
    assert (event["score"]["total"], event["score"]["band"]) == (0, "low")
    assert event["score"]["assumed"] == ["consciousness", "on_oxygen"]

    assert _observe(db, scorer, icu, now_plus(1), **NORMAL) == []  # unchanged: nothing stored
    # RR 25 scores 3 on its own: low-medium
    [event] = _observe(db, scorer, icu, now_plus(2), rr=25)
    assert (event["score"]["total"], event["score"]["band"]) == (3, "low-medium")
    assert event["score"]["red_score"] is True
    # SpO2 93 (2) and HR 115 (2) on top: 7, high
    [event] = _observe(db, scorer, icu, now_plus(3), spo2=93, hr=115)
    assert (event["score"]["total"], event["score"]["band"]) == (7, "high")

    scores = _scores(db, patient)
    assert [(s.total, s.band) for s in scores] == [(0, "low"), (3, "low-medium"), (7, "high")]
    assert scores[-1].points["respiration_rate"] == 3
    assert scores[-1].assumed == ["consciousness", "on_oxygen"]

    notes = _notes(db, "test-nurse")
    assert [n.title for n in notes] == [
        "NEWS2 3 (low-medium) — Jane Doe, bed ICU-03",
        "NEWS2 7 (high) — Jane Doe, bed ICU-03",
    ]
    assert notes[-1].kind == "news2.escalation" and notes[-1].patient_id == patient
    assert "Emergency response" in notes[-1].body and "continuous monitoring" in notes[-1].body
    assert len(_notes(db, "test-doctor")) == 2  # doctors watch monitors too
    assert _notes(db, "test-reception") == []  # the front desk does not


def test_a_score_flickering_across_a_boundary_rings_the_bell_once(db: Database, icu: Icu) -> None:
    scorer = Scorer()
    _observe(db, scorer, icu, now_plus(0), **{**NORMAL, "rr": 25, "spo2": 93, "hr": 115})
    _observe(db, scorer, icu, now_plus(1), hr=105)  # 6: medium
    _observe(db, scorer, icu, now_plus(2), hr=115)  # 7: high again
    assert [s.band for s in _scores(db, icu.patients["ICU-03"])] == ["high", "medium", "high"]
    assert [n.title.split(" —")[0] for n in _notes(db, "test-nurse")] == ["NEWS2 7 (high)"]


def test_a_missing_parameter_gives_no_total(db: Database, icu: Icu) -> None:
    scorer = Scorer()
    [event] = _observe(db, scorer, icu, now_plus(0), rr=16, spo2=97, hr=75, nibp_sys=120)
    assert event["score"]["total"] is None and event["score"]["band"] is None
    assert event["score"]["missing"] == ["temperature_c"]
    assert _notes(db, "test-nurse") == []


def test_artefacts_and_old_monitor_values_do_not_count(db: Database, icu: Icu) -> None:
    scorer = Scorer()
    start = now_plus(0)
    _observe(db, scorer, icu, start, **NORMAL)
    with db.unit_of_work() as session:
        off = [reading(icu.place("ICU-03"), "spo2", 0, start)]
        assert scorer.observe(session, off, start) == []  # sensor off: the last real value holds
    eleven_minutes = start + timedelta(minutes=11)
    [event] = _observe(db, scorer, icu, eleven_minutes, hr=76)
    assert event["score"]["total"] is None
    assert set(event["score"]["missing"]) == {
        "respiration_rate",
        "spo2",
        "systolic_bp",
        "temperature_c",
    }


def test_arterial_pressure_and_pulse_stand_in_for_missing_ones(db: Database, icu: Icu) -> None:
    scorer = Scorer()
    values = {"rr": 16, "spo2": 97, "abp_sys": 85, "pulse": 45, "temp": 37.0}
    [event] = _observe(db, scorer, icu, now_plus(0), **values)
    assert event["score"]["points"]["systolic_bp"] == 3 and event["score"]["points"]["pulse"] == 1
    # once the ECG heart rate arrives it is preferred over the pulse rate
    [event] = _observe(db, scorer, icu, now_plus(1), hr=75)
    assert event["score"]["points"]["pulse"] == 0


def test_a_charted_entry_becomes_observations_and_a_score(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    taken = now_plus(-300)
    entry_id = _chart(db, patient, taken, consciousness="V", on_oxygen=False)
    with db.unit_of_work() as session:
        stmt = select(VitalSign).where(VitalSign.entry_id == entry_id)
        rows = {r.parameter: r for r in session.execute(stmt).scalars()}
    assert set(rows) == {"rr", "spo2", "nibp_sys", "nibp_dia", "pulse", "temp", "acvpu", "o2"}
    assert rows["acvpu"].value_code == "V" and rows["o2"].value_code == "air"
    assert rows["nibp_sys"].value == 120 and rows["temp"].value == 37.0
    assert all(r.source == "manual" and r.patient_id == patient for r in rows.values())
    assert all(r.bed_id == icu.beds["ICU-03"] and r.observed_at == taken for r in rows.values())

    [score] = _scores(db, patient)
    assert score.points["consciousness"] == 3
    assert (score.total, score.band, score.red_score) == (3, "low-medium", True)
    assert score.assumed == []
    assert [n.title for n in _notes(db, "test-nurse")] == [
        "NEWS2 3 (low-medium) — Jane Doe, bed ICU-03"
    ]


def test_charting_oxygen_adds_two_points(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-04"]
    _chart(db, patient, now_plus(-60), on_oxygen=True)
    [score] = _scores(db, patient)
    assert score.points["on_oxygen"] == 2 and score.total == 2


def test_the_scorer_takes_consciousness_from_the_chart(db: Database, icu: Icu) -> None:
    scorer = Scorer()
    patient = icu.patients["ICU-03"]
    _observe(db, scorer, icu, now_plus(0), **NORMAL)
    _chart(db, patient, now_plus(0), consciousness="V")
    [event] = _observe(db, scorer, icu, now_plus(2), hr=95)  # pulse 95 adds 1
    assert event["score"]["points"]["consciousness"] == 3
    assert event["score"]["assumed"] == []
    assert event["score"]["total"] == 4


def test_an_old_chart_is_no_longer_believed(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    _chart(db, patient, now_plus(-13 * 3600), consciousness="V")
    scores = _scores(db, patient)
    assert [s.total for s in scores] == [None]  # 13 h old: nothing counts
    scorer = Scorer()
    [event] = _observe(db, scorer, icu, now_plus(0), **NORMAL)
    assert event["score"]["assumed"] == ["consciousness", "on_oxygen"]
    assert event["score"]["total"] == 0


def test_a_new_scorer_warms_up_from_the_database(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    _chart(db, patient, now_plus(-60), respiration_rate=22)  # 2 points
    scorer = Scorer()
    assert _observe(db, scorer, icu, now_plus(0), hr=76) == []  # still 2: already stored
    [event] = _observe(db, scorer, icu, now_plus(1), hr=95)
    assert event["score"]["total"] == 3


def test_scale_2_follows_the_patients_limits(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    with db.unit_of_work() as session:
        set_limits(session, actor(db, "nurse"), patient, AlarmLimits(spo2_scale=2))
    scorer = Scorer()
    [event] = _observe(db, scorer, icu, now_plus(0), **{**NORMAL, "spo2": 88})
    assert event["score"]["points"]["spo2"] == 0  # 88 % is on target on scale 2
    assert event["score"]["total"] == 0


def test_rescoring_an_unchanged_patient_stores_nothing(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-04"]
    _chart(db, patient, now_plus(-60))
    with db.unit_of_work() as session:
        assert rescore_from_db(session, patient, now_plus(0)) == []
    assert len(_scores(db, patient)) == 1


def test_units_without_charting_are_left_alone(db: Database, icu: Icu) -> None:
    with db.unit_of_work() as session:
        session.add(User(username="plain", role="nurse", password_hash="x"))
    with db.unit_of_work() as session:
        assert session.execute(select(VitalSign)).first() is None
        assert session.execute(select(EarlyWarningScore)).first() is None


def test_an_entry_rolled_back_with_its_savepoint_is_not_charted(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    with db.unit_of_work() as session:
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(VitalsEntry(patient_id=patient, taken_at=now_plus(0), recorded_by="x"))
            session.flush()
            raise RuntimeError("the mutation was refused")
        kept = VitalsEntry(patient_id=patient, taken_at=now_plus(0), recorded_by="y", pulse=80)
        session.add(kept)  # added, never flushed by hand: charted at commit all the same
    with db.unit_of_work() as session:
        rows = session.execute(select(VitalSign)).scalars().all()
    assert [(r.parameter, r.value, r.entry_id) for r in rows] == [("pulse", 80, kept.id)]


def test_the_record_vitals_mutation_is_charted_and_scored(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-04"]
    args = RecordVitals(
        id=new_id(),
        patient_id=patient,
        taken_at=now_plus(-120),
        respiration_rate=26,
        spo2=91,
        on_oxygen=True,
        systolic_bp=95,
        pulse=125,
        consciousness="C",
        temperature_c=38.5,
    )
    with db.unit_of_work() as session:
        record_vitals(session, actor(db, "nurse"), args)
    with db.unit_of_work() as session:
        stmt = select(VitalSign.parameter).where(VitalSign.entry_id == args.id)
        assert set(session.execute(stmt).scalars()) == {
            "rr",
            "spo2",
            "nibp_sys",
            "pulse",
            "temp",
            "acvpu",
            "o2",
        }
    [score] = _scores(db, patient)
    # RR 3 + SpO2 3 + oxygen 2 + BP 2 + pulse 2 + new confusion 3 + temperature 1
    assert (score.total, score.band) == (16, "high")
    assert [n.title for n in _notes(db, "test-nurse")] == ["NEWS2 16 (high) — John Roe, bed ICU-04"]
