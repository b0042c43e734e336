"""Admitting to a bed and charting vital signs, against real PostgreSQL: each refusal in plain
words with nothing saved, and NEWS2 stored exactly as the rule scores it."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hms_core.db import Admission, AuditEvent, Bed, VitalsEntry, Ward
from hms_core.db.base import new_id
from hms_core.rules import news2
from hms_core.schemas.patients import PatientCreate
from hms_core.schemas.ward import AdmitPatient, DischargePatient, RecordVitals, TransferPatient
from hms_core.services import InvalidData, NotFound, PermissionDenied, inpatients
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.inpatients import (
    AlreadyAdmitted,
    BedOccupied,
    admit_patient,
    discharge_patient,
    transfer_patient,
)
from hms_core.services.patients import register_patient
from hms_core.services.vitals import due_words, record_vitals
from hms_core.sync.registry import MUTATIONS

NURSE = Actor(None, "test-nurse", "nurse")
RECEPTION = Actor(None, "test-reception", "reception")


@dataclass
class Unit:
    beds: dict[str, uuid.UUID]
    patients: list[uuid.UUID]
    mrns: list[str]


@pytest.fixture
def unit(db) -> Unit:  # noqa: ANN001
    """An ICU with three beds and three registered patients."""
    with db.unit_of_work() as session:
        ward = Ward(code="ICU", name="Intensive Care Unit", ward_class="icu")
        session.add(ward)
        session.flush()
        beds = [Bed(ward_id=ward.id, label=f"ICU-{n:02d}") for n in (1, 2, 3)]
        session.add_all(beds)
        session.flush()
        patients = [
            register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=given,
                    family_name="Doe",
                    birth_date=date(1960, 1, n + 1),
                    sex="female",
                ),
            )
            for n, given in enumerate(("Jane", "Mary", "Anna"))
        ]
        return Unit(
            {b.label: b.id for b in beds}, [p.id for p in patients], [p.mrn for p in patients]
        )


def now() -> datetime:
    return datetime.now(UTC)


def admit(db, unit: Unit, patient: int, bed: str, actor: Actor = NURSE) -> uuid.UUID:  # noqa: ANN001
    with db.unit_of_work() as session:
        args = AdmitPatient(
            id=new_id(),
            patient_id=unit.patients[patient],
            bed_id=unit.beds[bed],
            admitted_at=now(),
            reason="Sepsis",
        )
        return admit_patient(session, actor, args).id


def chart(db, patient_id: uuid.UUID, **values) -> VitalsEntry:  # noqa: ANN001
    values.setdefault("taken_at", now())
    with db.unit_of_work() as session:
        args = RecordVitals(id=new_id(), patient_id=patient_id, **values)
        entry = record_vitals(session, NURSE, args)
        session.expunge(entry)
        return entry


def count(db, table) -> int:  # noqa: ANN001
    with db.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


# --- admission ---------------------------------------------------------------------------------


def test_admitting_puts_the_patient_in_the_bed_and_is_audited(db, unit):
    admission_id = admit(db, unit, 0, "ICU-01")
    with db.unit_of_work() as session:
        admission = session.get(Admission, admission_id)
        assert admission.bed_id == unit.beds["ICU-01"]
        assert admission.admitted_by == "test-nurse"
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "admission.admit")
        ).scalar_one()
        assert audit.patient_id == unit.patients[0]
        assert audit.detail["bed"] == "ICU-01"


def test_an_occupied_bed_is_refused_naming_who_lies_in_it(db, unit):
    admit(db, unit, 0, "ICU-03")
    with pytest.raises(BedOccupied) as refused:
        admit(db, unit, 1, "ICU-03")
    assert refused.value.message.startswith(
        f"Bed ICU-03 is occupied by Jane Doe (MRN {unit.mrns[0]})"
    )
    assert count(db, Admission) == 1


def test_a_patient_already_in_a_bed_is_refused(db, unit):
    admit(db, unit, 0, "ICU-01")
    with pytest.raises(AlreadyAdmitted) as refused:
        admit(db, unit, 0, "ICU-02")
    assert "already admitted to bed ICU-01 (Intensive Care Unit)" in refused.value.message
    assert count(db, Admission) == 1


def test_unknown_bed_or_patient_and_a_role_without_the_right_are_refused(db, unit):
    with db.unit_of_work() as session:
        args = AdmitPatient(
            id=new_id(), patient_id=unit.patients[0], bed_id=new_id(), admitted_at=now()
        )
        with pytest.raises(NotFound, match="This bed does not exist"):
            admit_patient(session, NURSE, args)
        unknown = args.model_copy(update={"patient_id": new_id(), "bed_id": unit.beds["ICU-01"]})
        with pytest.raises(NotFound, match="not registered"):
            admit_patient(session, NURSE, unknown)
    with pytest.raises(PermissionDenied):
        admit(db, unit, 0, "ICU-01", actor=RECEPTION)
    assert count(db, Admission) == 0


def test_the_database_settles_a_race_for_a_bed_as_the_same_plain_refusal(db, unit, monkeypatch):
    """Two transactions both saw the bed free; the unique index refuses the second."""
    admit(db, unit, 0, "ICU-02")
    monkeypatch.setattr(inpatients, "_check_bed_free", lambda *_: None)  # checked before commit
    with db.unit_of_work() as session:
        args = AdmitPatient(
            id=new_id(), patient_id=unit.patients[1], bed_id=unit.beds["ICU-02"], admitted_at=now()
        )
        with pytest.raises(BedOccupied, match="Bed ICU-02 is occupied by Jane Doe"):
            admit_patient(session, NURSE, args)
        assert session.execute(select(func.count(Admission.id))).scalar_one() == 1


def test_discharge_frees_the_bed_and_transfer_moves_the_patient(db, unit):
    first = admit(db, unit, 0, "ICU-01")
    with db.unit_of_work() as session:
        transfer_patient(
            session,
            NURSE,
            TransferPatient(admission_id=first, bed_id=unit.beds["ICU-02"], at=now()),
        )
    admit(db, unit, 1, "ICU-01")  # the old bed is free
    with db.unit_of_work() as session:
        discharge_patient(session, NURSE, DischargePatient(admission_id=first, discharged_at=now()))
        assert session.get(Admission, first).discharged_by == "test-nurse"
    admit(db, unit, 2, "ICU-02")  # free again after the discharge
    assert count(db, Admission) == 3


# --- vital signs -------------------------------------------------------------------------------


def test_a_charted_set_stores_the_news2_the_rule_gives(db, unit):
    values = dict(
        respiration_rate=24,
        spo2=93,
        spo2_scale=1,
        on_oxygen=False,
        systolic_bp=105,
        diastolic_bp=70,
        pulse=115,
        consciousness="V",
        temperature_c=38.5,
    )
    entry = chart(db, unit.patients[0], **values)
    expected = news2.score(
        news2.Observations(
            respiration_rate=24,
            spo2=93,
            on_oxygen=False,
            systolic_bp=105,
            pulse=115,
            consciousness=news2.Consciousness.VOICE,
            temperature_c=38.5,
        )
    )
    # RR 24 -> 2, SpO2 93 -> 2, air -> 0, sys 105 -> 1, pulse 115 -> 2, V -> 3, 38.5 -> 1
    assert expected.total == 11
    assert (entry.news2_total, entry.news2_band) == (11, "high")
    assert due_words(entry.news2_total, entry.news2_band) == "continuous"
    with db.unit_of_work() as session:
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "vitals.record")
        ).scalar_one()
        assert audit.patient_id == unit.patients[0]
        assert audit.detail["news2_total"] == 11


def test_a_partial_set_is_charted_without_a_total(db, unit):
    entry = chart(db, unit.patients[0], pulse=80, systolic_bp=120)
    assert entry.news2_total is None and entry.news2_band is None
    assert due_words(None, None) == "hourly"


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({}, "values", "Enter at least one observation"),
        ({"respiration_rate": 0}, "respiration_rate", "between 1 and 80"),
        ({"pulse": 0}, "pulse", "Pulse must be between 20 and 300"),
        ({"spo2": 30}, "spo2", "SpO2 must be between 50 and 100"),
        ({"spo2": 101}, "spo2", "SpO2 must be between 50 and 100"),
        ({"temperature_c": 375}, "temperature_c", "between 25 and 45"),
        ({"systolic_bp": 90, "diastolic_bp": 120}, "diastolic_bp", "lower than systolic"),
        ({"pulse": 80, "taken_at_in": timedelta(hours=2)}, "taken_at", "in the future"),
        ({"pulse": 80, "taken_at_in": -timedelta(hours=25)}, "taken_at", "older than 24 hours"),
    ],
)
def test_impossible_or_missing_values_are_refused_with_nothing_saved(
    db, unit, values, field, words
):
    values = dict(values)
    values["taken_at"] = now() + values.pop("taken_at_in", timedelta(0))
    with pytest.raises(InvalidData) as refused:
        chart(db, unit.patients[0], **values)
    assert words in refused.value.fields[field]
    assert words in refused.value.message
    assert count(db, VitalsEntry) == 0


def test_a_few_minutes_of_clock_skew_are_allowed(db, unit):
    entry = chart(db, unit.patients[0], pulse=72, taken_at=now() + timedelta(minutes=3))
    assert entry.pulse == 72


def test_a_set_saved_offline_yesterday_is_still_judged_from_when_it_was_saved(db, unit):
    saved = now() - timedelta(hours=30)
    entry = chart(
        db, unit.patients[0], pulse=72, taken_at=saved - timedelta(minutes=5), recorded_at=saved
    )
    assert entry.pulse == 72


def test_the_mutations_are_registered_with_their_argument_models():
    assert MUTATIONS["admit_patient"].args_model is AdmitPatient
    assert MUTATIONS["discharge_patient"].args_model is DischargePatient
    assert MUTATIONS["transfer_patient"].args_model is TransferPatient
    assert MUTATIONS["record_vitals"].args_model is RecordVitals


def test_the_demo_hospital_has_patients_in_icu_and_medical_beds(db):
    from hms_server.seed import seed_demo

    summary = seed_demo(db, patients=30)
    assert "12 admitted patients;" in summary
    with db.unit_of_work() as session:
        labels = set(
            session.execute(select(Bed.label).join(Admission, Admission.bed_id == Bed.id)).scalars()
        )
    assert {f"ICU-{n:02d}" for n in range(1, 10)} <= labels
    assert {"MED-A-01", "MED-A-02", "MED-A-03"} <= labels
