"""The problem list: diagnoses and problems coded in ICD-10 from the catalogue. A problem is
resolved or reactivated as the patient's state changes; one recorded in error is voided with
a reason, never deleted."""

from datetime import date

from sqlalchemy.orm import Session

from hms_core import catalogues
from hms_core.db import Problem
from hms_core.rbac import Perm
from hms_core.schemas.clinical import AddProblem, UpdateProblem
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import aware, check_not_ahead, get_row, touch
from hms_core.services.clinical.encounters import check_encounter
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.patients import active_patient

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ENTERED_IN_ERROR = "entered_in_error"


def add_problem(session: Session, actor: Actor, args: AddProblem) -> Problem:
    """Add a diagnosis or problem with its ICD-10 code from the catalogue (audited)."""
    actor.require(Perm.NOTE_WRITE)
    existing = session.get(Problem, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    check_encounter(session, args.encounter_id, patient)
    check_not_ahead(args.at, "at", "The time recorded")
    entry = catalogues.icd10(args.code)
    if entry is None:
        raise InvalidData(
            f"{args.code} is not a code in our ICD-10 catalogue. "
            "Search by code or words and pick the diagnosis from the list.",
            fields={"code": "Unknown ICD-10 code"},
        )
    if args.onset is not None and args.onset > aware(args.at).date():
        raise InvalidData("The onset date is in the future.", fields={"onset": "In the future"})
    problem = Problem(
        id=args.id,
        patient_id=patient.id,
        encounter_id=args.encounter_id,
        code_system=ICD10,
        code=entry.code,
        display=entry.title,
        kind=args.kind,
        clinical_status="active",
        onset=args.onset,
        recorded_by=actor.username,
        recorded_at=args.at,
        note=args.note,
    )
    session.add(problem)
    session.flush()
    record_audit(
        session,
        actor,
        "problem.add",
        patient_id=patient.id,
        detail={"problem_id": str(problem.id), "code": problem.code},
    )
    return problem


def update_problem(session: Session, actor: Actor, args: UpdateProblem) -> Problem:
    """Resolve, reactivate or inactivate a problem, or void one entered in error (audited)."""
    actor.require(Perm.NOTE_WRITE)
    problem = get_row(
        session, Problem, args.problem_id, "This problem does not exist.", "problem_id"
    )
    if problem.voided_at is not None:
        if args.clinical_status == ENTERED_IN_ERROR:
            return problem  # a replay
        raise Conflict(
            "This problem was voided as entered in error. Add it again if the patient has it."
        )
    if args.clinical_status == ENTERED_IN_ERROR:
        return _void(session, actor, problem, args)
    resolved = _resolved_date(problem, args) if args.clinical_status == "resolved" else None
    if (problem.clinical_status, problem.resolved) == (args.clinical_status, resolved):
        return problem  # a replay, or nothing changed
    before = problem.clinical_status
    problem.clinical_status, problem.resolved = args.clinical_status, resolved
    touch(problem)
    session.flush()
    record_audit(
        session,
        actor,
        "problem.update",
        patient_id=problem.patient_id,
        detail={
            "problem_id": str(problem.id),
            "from": before,
            "to": problem.clinical_status,
            "reason": args.reason,
        },
    )
    return problem


def _void(session: Session, actor: Actor, problem: Problem, args: UpdateProblem) -> Problem:
    if len(args.reason) < 3:
        raise InvalidData(
            "Say why this problem was recorded in error.", fields={"reason": "This is required"}
        )
    problem.voided_at, problem.voided_by, problem.void_reason = (
        args.at,
        actor.username,
        args.reason,
    )
    touch(problem)
    session.flush()
    record_audit(
        session,
        actor,
        "problem.void",
        patient_id=problem.patient_id,
        detail={"problem_id": str(problem.id), "code": problem.code, "reason": args.reason},
    )
    return problem


def _resolved_date(problem: Problem, args: UpdateProblem) -> date:
    """The day it resolved: as given, else the day of the change; never before the onset."""
    resolved = args.resolved or aware(args.at).date()
    if resolved > aware(args.at).date():
        raise InvalidData("The resolution date is in the future.", fields={"resolved": "Future"})
    if problem.onset is not None and resolved < problem.onset:
        raise InvalidData(
            "A problem cannot resolve before its onset.", fields={"resolved": "Before the onset"}
        )
    return resolved
