"""Clinical record services against real PostgreSQL: encounters, notes that are signed and then
only amended, ICD-10 problems from the catalogue, the versioned treatment plan, procedures.
Every refusal is in plain words and leaves nothing changed."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from hms_core import catalogues
from hms_core.db import AuditEvent, CarePlan, ClinicalNote, Encounter, Problem
from hms_core.db.base import new_id
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services import Conflict, InvalidData, NotFound, PermissionDenied
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import care_plans, encounters, notes, problems, procedures
from hms_core.services.patients import register_patient
from hms_core.sync.clinical_mutations import CLINICAL_MUTATIONS

DOCTOR = Actor(None, "dr-grey", "doctor")
COLLEAGUE = Actor(None, "dr-yang", "doctor")
NURSE = Actor(None, "nurse-joy", "nurse")
RUN = {name: run for name, _, run in CLINICAL_MUTATIONS}


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Chart:
    patient: uuid.UUID
    other: uuid.UUID
    encounter: uuid.UUID


@pytest.fixture
def chart(db) -> Chart:  # noqa: ANN001
    with db.unit_of_work() as session:
        people = [
            register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=name, family_name="Doe", birth_date=date(1960, 3, 1), sex="male"
                ),
            )
            for name in ("John", "Jim")
        ]
        encounter = encounters.start_encounter(
            session,
            DOCTOR,
            wire.StartEncounter(
                id=new_id(), patient_id=people[0].id, started_at=now(), reason="Chest pain"
            ),
        )
        return Chart(people[0].id, people[1].id, encounter.id)


def audits(db, action: str) -> list[AuditEvent]:  # noqa: ANN001
    with db.unit_of_work() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.execute(query).scalars())


def count(db, model) -> int:  # noqa: ANN001
    with db.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


# --- encounters ---------------------------------------------------------------------------------


def test_an_encounter_is_led_by_the_doctor_who_starts_it_and_finishes_once(db, chart) -> None:  # noqa: ANN001
    with db.unit_of_work() as session:
        encounter = session.get(Encounter, chart.encounter)
        assert (encounter.clinician, encounter.status) == ("dr-grey", "in_progress")
        assert encounter.reason_display == "Chest pain"
    [started] = audits(db, "encounter.start")
    assert started.patient_id == chart.patient

    finish = wire.FinishEncounter(encounter_id=chart.encounter, at=now())
    with db.unit_of_work() as session:
        done = RUN["finish_encounter"](session, DOCTOR, finish)
        assert done["status"] == "finished"
    with db.unit_of_work() as session:  # a replay changes nothing
        again = encounters.finish_encounter(session, DOCTOR, finish)
        assert again.row_version == done["row_version"]
    assert len(audits(db, "encounter.finish")) == 1


def test_an_encounter_cannot_end_before_it_started_nor_be_started_by_a_nurse(db, chart) -> None:  # noqa: ANN001
    early = wire.FinishEncounter(encounter_id=chart.encounter, at=now() - timedelta(days=1))
    with pytest.raises(InvalidData, match="cannot end before it started"), db.unit_of_work() as s:
        encounters.finish_encounter(s, DOCTOR, early)
    start = wire.StartEncounter(id=new_id(), patient_id=chart.patient, started_at=now())
    with pytest.raises(PermissionDenied), db.unit_of_work() as session:
        encounters.start_encounter(session, NURSE, start)
    with pytest.raises(NotFound, match="patient is not registered"), db.unit_of_work() as s:
        encounters.start_encounter(s, DOCTOR, start.model_copy(update={"patient_id": new_id()}))
    assert count(db, Encounter) == 1


# --- notes --------------------------------------------------------------------------------------


def save(db, chart: Chart, actor: Actor = DOCTOR, note_id=None, **fields) -> uuid.UUID:  # noqa: ANN001
    args = wire.SaveNote(id=note_id or new_id(), encounter_id=chart.encounter, **fields)
    with db.unit_of_work() as session:
        return notes.save_note(session, actor, args).id


def sign(db, note_id: uuid.UUID, actor: Actor = DOCTOR) -> None:  # noqa: ANN001
    with db.unit_of_work() as session:
        notes.sign_note(session, actor, wire.SignNote(note_id=note_id, at=now()))


def test_a_draft_is_changed_by_its_author_then_signed_and_never_changed_again(db, chart) -> None:  # noqa: ANN001
    note_id = save(db, chart, complaint="Chest pain for 2 hours")
    save(db, chart, note_id=note_id, complaint="Chest pain for 2 hours", plan="ECG, troponin")
    sign(db, note_id)
    with db.unit_of_work() as session:
        note = session.get(ClinicalNote, note_id)
        assert (note.status, note.plan, note.author) == ("signed", "ECG, troponin", "dr-grey")
        assert note.signed_at is not None and note.patient_id == chart.patient

    with pytest.raises(Conflict, match="A signed note is never changed: amend it with a reason"):
        save(db, chart, note_id=note_id, complaint="Chest pain", plan="Discharge")
    with db.unit_of_work() as session:
        assert session.get(ClinicalNote, note_id).plan == "ECG, troponin"
    sign(db, note_id)  # signing again (a replay) changes nothing
    assert len(audits(db, "note.sign")) == 1


def test_only_the_author_changes_or_signs_a_draft(db, chart) -> None:  # noqa: ANN001
    note_id = save(db, chart, assessment="Angina?")
    with pytest.raises(PermissionDenied, match=r"Only the note's author \(dr-grey\)"):
        save(db, chart, COLLEAGUE, note_id=note_id, assessment="Reflux")
    with pytest.raises(PermissionDenied, match="may sign it"):
        sign(db, note_id, COLLEAGUE)
    with pytest.raises(PermissionDenied):
        save(db, chart, NURSE, complaint="Pain")
    with db.unit_of_work() as session:
        note = session.get(ClinicalNote, note_id)
        assert (note.assessment, note.status) == ("Angina?", "draft")


def test_an_empty_note_cannot_be_signed(db, chart) -> None:  # noqa: ANN001
    note_id = save(db, chart, complaint="   ")
    with pytest.raises(InvalidData, match="This note is empty"):
        sign(db, note_id)
    with db.unit_of_work() as session:
        assert session.get(ClinicalNote, note_id).status == "draft"


def test_an_amendment_is_a_new_signed_note_and_the_original_stays_as_signed(db, chart) -> None:  # noqa: ANN001
    note_id = save(db, chart, examination="BP 150/90", plan="Aspirin")
    sign(db, note_id)
    amend = wire.AmendNote(
        id=new_id(),
        note_id=note_id,
        examination="BP 105/70",
        plan="Aspirin",
        reason="Wrong patient's blood pressure copied",
        at=now(),
    )
    with db.unit_of_work() as session:
        result = RUN["amend_note"](session, DOCTOR, amend)
        assert (result["status"], result["amends_id"]) == ("signed", str(note_id))
    with db.unit_of_work() as session:
        original = session.get(ClinicalNote, note_id)
        amendment = session.get(ClinicalNote, amend.id)
        assert (original.examination, original.status) == ("BP 150/90", "signed")
        assert original.row_version == 2  # saved, signed: never touched by the amendment
        assert amendment.examination == "BP 105/70"
        assert amendment.amends_id == note_id and amendment.signed_at is not None
        assert amendment.amend_reason == "Wrong patient's blood pressure copied"
        assert amendment.encounter_id == chart.encounter
    [event] = audits(db, "note.amend")
    assert event.patient_id == chart.patient and event.detail["amends"] == str(note_id)

    with pytest.raises(PermissionDenied), db.unit_of_work() as session:
        notes.amend_note(session, COLLEAGUE, amend.model_copy(update={"id": new_id()}))
    with pytest.raises(ValidationError, match="at least 3 characters"):
        wire.AmendNote(id=new_id(), note_id=note_id, plan="x", reason="no", at=now())


def test_a_draft_is_changed_not_amended(db, chart) -> None:  # noqa: ANN001
    note_id = save(db, chart, complaint="Cough")
    amend = wire.AmendNote(
        id=new_id(), note_id=note_id, complaint="Dry cough", reason="typo", at=now()
    )
    with pytest.raises(Conflict, match="still a draft"), db.unit_of_work() as session:
        notes.amend_note(session, DOCTOR, amend)
    assert count(db, ClinicalNote) == 1


# --- problems -----------------------------------------------------------------------------------


def add_problem(db, chart: Chart, code: str, **extra) -> uuid.UUID:  # noqa: ANN001
    args = wire.AddProblem(id=new_id(), patient_id=chart.patient, code=code, at=now(), **extra)
    with db.unit_of_work() as session:
        return problems.add_problem(session, DOCTOR, args).id


def test_a_diagnosis_takes_its_title_from_the_icd10_catalogue(db, chart) -> None:  # noqa: ANN001
    entry = catalogues.icd10("I10")
    assert entry is not None
    problem_id = add_problem(db, chart, "i10", encounter_id=chart.encounter, onset=date(2020, 5, 1))
    with db.unit_of_work() as session:
        problem = session.get(Problem, problem_id)
        assert (problem.code, problem.display) == ("I10", entry.title)
        assert problem.code_system == "http://hl7.org/fhir/sid/icd-10"
        assert (problem.clinical_status, problem.recorded_by) == ("active", "dr-grey")
    [event] = audits(db, "problem.add")
    assert event.patient_id == chart.patient


def test_an_unknown_icd10_code_is_refused_in_plain_words(db, chart) -> None:  # noqa: ANN001
    with pytest.raises(InvalidData, match="not a code in our ICD-10 catalogue") as refused:
        add_problem(db, chart, "Z99.99X")
    assert refused.value.fields == {"code": "Unknown ICD-10 code"}
    with pytest.raises(InvalidData, match="another patient"):
        add_problem(
            db,
            Chart(chart.other, chart.patient, chart.encounter),  # Jim, with John's encounter
            "I10",
            encounter_id=chart.encounter,
        )
    assert count(db, Problem) == 0


def update(db, problem_id: uuid.UUID, status: str, **extra) -> Problem:  # noqa: ANN001
    args = wire.UpdateProblem(problem_id=problem_id, clinical_status=status, at=now(), **extra)
    with db.unit_of_work() as session:
        return problems.update_problem(session, DOCTOR, args)


def test_a_problem_resolves_reactivates_and_is_voided_only_with_a_reason(db, chart) -> None:  # noqa: ANN001
    problem_id = add_problem(db, chart, "I10", onset=date(2020, 5, 1))
    resolved = update(db, problem_id, "resolved", resolved=date(2021, 1, 1))
    assert (resolved.clinical_status, resolved.resolved) == ("resolved", date(2021, 1, 1))
    with pytest.raises(InvalidData, match="cannot resolve before its onset"):
        update(db, problem_id, "resolved", resolved=date(2019, 1, 1))
    active = update(db, problem_id, "active")
    assert (active.clinical_status, active.resolved) == ("active", None)

    with pytest.raises(InvalidData, match="Say why"):
        update(db, problem_id, "entered_in_error")
    voided = update(db, problem_id, "entered_in_error", reason="Wrong patient")
    assert voided.voided_at is not None and voided.void_reason == "Wrong patient"
    with pytest.raises(Conflict, match="voided as entered in error"):
        update(db, problem_id, "active")
    [event] = audits(db, "problem.void")
    assert event.patient_id == chart.patient and event.detail["reason"] == "Wrong patient"
    assert len(audits(db, "problem.update")) == 2


# --- the treatment plan, procedures -------------------------------------------------------------


def test_each_plan_update_is_a_new_version_and_the_latest_is_the_plan(db, chart) -> None:  # noqa: ANN001
    ids = []
    for text, reason in (("Start metformin", ""), ("Add gliclazide", "after HbA1c result")):
        args = wire.UpdateCarePlan(
            id=new_id(), patient_id=chart.patient, text=text, reason=reason, at=now()
        )
        with db.unit_of_work() as session:
            ids.append(RUN["update_care_plan"](session, DOCTOR, args))
    assert ids[0]["previous_id"] is None and ids[1]["previous_id"] == ids[0]["id"]
    with db.unit_of_work() as session:
        plan = care_plans.current_care_plan(session, chart.patient)
        assert (plan.text, plan.reason, plan.author) == (
            "Add gliclazide",
            "after HbA1c result",
            "dr-grey",
        )
        history = care_plans.care_plan_history(session, chart.patient)
        assert [p.text for p in history] == ["Add gliclazide", "Start metformin"]
        assert session.get(CarePlan, uuid.UUID(ids[0]["id"])).text == "Start metformin"
    assert len(audits(db, "care_plan.update")) == 2
    with pytest.raises(ValidationError):
        wire.UpdateCarePlan(id=new_id(), patient_id=chart.patient, text="  ", at=now())


def test_a_procedure_is_recorded_by_the_clinician(db, chart) -> None:  # noqa: ANN001
    args = wire.RecordProcedure(
        id=new_id(),
        patient_id=chart.patient,
        encounter_id=chart.encounter,
        code="0DTJ4ZZ",
        display="Laparoscopic appendectomy",
        code_system="http://www.cms.gov/Medicare/Coding/ICD10",
        performed_at=now() - timedelta(hours=3),
    )
    with db.unit_of_work() as session:
        first = procedures.record_procedure(session, DOCTOR, args)
        assert first.performer == "dr-grey"
    with db.unit_of_work() as session:
        assert procedures.record_procedure(session, DOCTOR, args).id == args.id  # a replay
    [event] = audits(db, "procedure.record")
    assert event.patient_id == chart.patient
    future = args.model_copy(update={"id": new_id(), "performed_at": now() + timedelta(days=1)})
    with pytest.raises(InvalidData, match="in the future"), db.unit_of_work() as session:
        procedures.record_procedure(session, DOCTOR, future)
    with pytest.raises(PermissionDenied), db.unit_of_work() as session:
        procedures.record_procedure(session, NURSE, args.model_copy(update={"id": new_id()}))
