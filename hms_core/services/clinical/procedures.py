"""Procedures and surgeries performed on a patient, as the clinician records them."""

from sqlalchemy.orm import Session

from hms_core.db import ProcedureRecord
from hms_core.rbac import Perm
from hms_core.schemas.clinical import RecordProcedure
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import check_not_ahead
from hms_core.services.clinical.encounters import check_encounter
from hms_core.services.patients import active_patient


def record_procedure(session: Session, actor: Actor, args: RecordProcedure) -> ProcedureRecord:
    """Record a procedure that was performed, by the acting clinician (audited)."""
    actor.require(Perm.NOTE_WRITE)
    existing = session.get(ProcedureRecord, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    check_encounter(session, args.encounter_id, patient)
    check_not_ahead(args.performed_at, "performed_at", "The time of the procedure")
    procedure = ProcedureRecord(
        id=args.id,
        patient_id=patient.id,
        encounter_id=args.encounter_id,
        code_system=args.code_system,
        code=args.code,
        display=args.display,
        performed_at=args.performed_at,
        performer=actor.username,
        note=args.note,
    )
    session.add(procedure)
    session.flush()
    record_audit(
        session,
        actor,
        "procedure.record",
        patient_id=patient.id,
        detail={"procedure_id": str(procedure.id), "code": procedure.code},
    )
    return procedure
