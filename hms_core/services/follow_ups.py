"""Follow-ups: a doctor asks to see a patient again in N days; reception books it."""

from datetime import timedelta

from sqlalchemy.orm import Session

from hms_core.db.base import new_id
from hms_core.db.patients import Patient
from hms_core.db.scheduling import DoctorProfile, FollowUp
from hms_core.rbac import Perm
from hms_core.schemas.scheduling import CancelFollowUp, RequestFollowUp
from hms_core.services import availability
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import InvalidData, NotFound
from hms_core.services.unit import emit


def request_follow_up(session: Session, actor: Actor, args: RequestFollowUp) -> FollowUp:
    """Ask for a follow-up visit `after_days` from `requested_on`."""
    actor.require(Perm.FOLLOWUP_REQUEST)
    patient = session.get(Patient, args.patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("This patient is not registered.")
    doctor = _doctor(session, actor, args)
    department_id = args.department_id or (doctor.department_id if doctor else None)
    if department_id is None:
        raise InvalidData(
            "Choose the department the follow-up is with.", fields={"department_id": "Required"}
        )
    follow_up = FollowUp(
        id=args.id or new_id(),
        patient_id=patient.id,
        doctor_id=doctor.id if doctor else None,
        department_id=department_id,
        due_date=args.requested_on + timedelta(days=args.after_days),
        reason=args.reason,
        requested_by=actor.username,
        source_appointment_id=args.source_appointment_id,
        status="due",
    )
    session.add(follow_up)
    session.flush()
    record_audit(
        session,
        actor,
        "follow_up.request",
        patient_id=patient.id,
        detail={"follow_up_id": str(follow_up.id), "due": str(follow_up.due_date)},
    )
    emit(session, "follow_up.requested", follow_up_id=str(follow_up.id))
    return follow_up


def _doctor(session: Session, actor: Actor, args: RequestFollowUp) -> DoctorProfile | None:
    if args.doctor_id is not None:
        return availability.get_doctor(session, args.doctor_id)
    return availability.doctor_of_user(session, actor.user_id)


def cancel_follow_up(session: Session, actor: Actor, args: CancelFollowUp) -> FollowUp:
    """Drop a follow-up nobody will book (the patient declined, care moved elsewhere)."""
    actor.require_any(Perm.APPOINTMENT_BOOK, Perm.FOLLOWUP_REQUEST)
    follow_up = session.get(FollowUp, args.follow_up_id)
    if follow_up is None:
        raise NotFound("This follow-up does not exist.")
    if follow_up.status != "due":
        raise InvalidData("Only a follow-up that is still due can be cancelled.")
    follow_up.status = "cancelled"
    follow_up.reason = f"{follow_up.reason}\nCancelled: {args.reason}".strip()
    follow_up.bump_version()
    session.flush()
    record_audit(
        session,
        actor,
        "follow_up.cancel",
        patient_id=follow_up.patient_id,
        detail={"follow_up_id": str(follow_up.id), "reason": args.reason},
    )
    return follow_up
