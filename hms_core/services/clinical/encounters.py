"""Encounters: one per visit or admission, the frame every note, problem and prescription of
that visit hangs on. The clinician is whoever starts it."""

import uuid

from sqlalchemy.orm import Session

from hms_core.db import Admission, Appointment, Encounter, Patient
from hms_core.db.clinical import FINISHED
from hms_core.rbac import Perm
from hms_core.schemas.clinical import FinishEncounter, StartEncounter
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import aware, check_not_ahead, get_row, touch
from hms_core.services.errors import InvalidData, NotFound
from hms_core.services.patients import active_patient
from hms_core.services.unit import is_provisional


def start_encounter(session: Session, actor: Actor, args: StartEncounter) -> Encounter:
    """Open an encounter for a registered patient, led by the acting clinician (audited)."""
    actor.require(Perm.NOTE_WRITE)
    existing = session.get(Encounter, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    check_not_ahead(args.started_at, "started_at", "The start of the encounter")
    _check_link(session, Appointment, args.appointment_id, patient, "appointment")
    _check_link(session, Admission, args.admission_id, patient, "admission")
    encounter = Encounter(
        id=args.id,
        patient_id=patient.id,
        encounter_class=args.encounter_class,
        started_at=args.started_at,
        reason_display=args.reason,
        clinician=actor.username,
        appointment_id=args.appointment_id,
        admission_id=args.admission_id,
    )
    session.add(encounter)
    session.flush()
    record_audit(
        session,
        actor,
        "encounter.start",
        patient_id=patient.id,
        detail={"encounter_id": str(encounter.id), "class": encounter.encounter_class},
    )
    return encounter


def finish_encounter(session: Session, actor: Actor, args: FinishEncounter) -> Encounter:
    """Close an encounter at the given moment (audited); closing it twice changes nothing."""
    actor.require(Perm.NOTE_WRITE)
    encounter = get_encounter(session, args.encounter_id)
    if encounter.status == FINISHED:
        return encounter
    check_not_ahead(args.at, "at", "The end of the encounter")
    if aware(args.at) < aware(encounter.started_at):
        raise InvalidData(
            "The encounter cannot end before it started.", fields={"at": "Before the start"}
        )
    encounter.status, encounter.ended_at = FINISHED, args.at
    touch(encounter)
    session.flush()
    record_audit(
        session,
        actor,
        "encounter.finish",
        patient_id=encounter.patient_id,
        detail={"encounter_id": str(encounter.id)},
    )
    return encounter


def get_encounter(session: Session, encounter_id: uuid.UUID) -> Encounter:
    """The encounter, or a plain refusal when it does not exist."""
    return get_row(
        session, Encounter, encounter_id, "This encounter does not exist.", "encounter_id"
    )


def check_encounter(session: Session, encounter_id: uuid.UUID | None, patient: Patient) -> None:
    """An optional encounter given with a record must be one of this patient's."""
    if encounter_id is None:
        return
    encounter = get_encounter(session, encounter_id)
    if encounter.patient_id != patient.id:
        raise InvalidData(
            "This encounter belongs to another patient.",
            fields={"encounter_id": "Another patient's encounter"},
        )


def _check_link(
    session: Session,
    model: type[Appointment] | type[Admission],
    row_id: uuid.UUID | None,
    patient: Patient,
    what: str,
) -> None:
    """A linked appointment or admission must be the patient's; a desk that does not hold
    it leaves the check to the server."""
    if row_id is None:
        return
    row = session.get(model, row_id)
    if row is None or row.deleted_at is not None:
        if is_provisional(session):
            return
        raise NotFound(f"This {what} does not exist.", fields={f"{what}_id": "Unknown"})
    if row.patient_id != patient.id:
        raise InvalidData(
            f"This {what} belongs to another patient.",
            fields={f"{what}_id": f"Another patient's {what}"},
        )
