"""Admit a patient to a bed, move them, discharge them (the minimal inpatient step).

One bed holds one patient and one patient lies in one bed. The services check first, so the
nurse reads who is in the bed; on PostgreSQL two partial unique indexes settle a race between
two transactions (two ward PCs admitting offline), and their refusal becomes the same answer.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_core.db import Admission, Bed, Patient, Ward
from hms_core.db.base import utcnow
from hms_core.rbac import Perm
from hms_core.schemas.ward import AdmitPatient, DischargePatient, TransferPatient
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing import stays
from hms_core.services.errors import Conflict, InvalidData, NotFound
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit

CLOCK_SKEW = timedelta(minutes=10)  # how far a ward PC's clock may run ahead of the server's
BED_INDEX = "uq_admission_open_bed"
PATIENT_INDEX = "uq_admission_open_patient"


class BedOccupied(Conflict):
    """The bed already holds an admitted patient."""

    code = "bed_occupied"


class AlreadyAdmitted(Conflict):
    """The patient already lies in another bed."""

    code = "already_admitted"


def admit_patient(session: Session, actor: Actor, args: AdmitPatient) -> Admission:
    """Put a patient in a free bed (audited); refused in plain words otherwise."""
    actor.require(Perm.ADMISSION_MANAGE)
    existing = session.get(Admission, args.id)
    if existing is not None:
        if existing.patient_id == args.patient_id and existing.bed_id == args.bed_id:
            return existing  # a replay: it is already done
        raise Conflict("This admission has already been recorded for another patient or bed.")
    patient = active_patient(session, args.patient_id)
    bed = _bed(session, args.bed_id)
    _check_not_ahead(args.admitted_at, "admitted_at", "The admission time")
    _check_bed_free(session, bed)
    _check_not_admitted(session, patient)
    admission = Admission(
        id=args.id,
        patient_id=patient.id,
        bed_id=bed.id,
        admitted_at=args.admitted_at,
        admitted_by=actor.username,
        reason=args.reason,
    )
    _insert(session, admission, bed, patient)
    record_audit(
        session,
        actor,
        "admission.admit",
        patient_id=patient.id,
        detail={"admission_id": str(admission.id), "bed": bed.label, "reason": args.reason},
    )
    emit(session, "admission.admitted", admission_id=str(admission.id), bed_id=str(bed.id))
    return admission


def discharge_patient(session: Session, actor: Actor, args: DischargePatient) -> Admission:
    """End an open admission; the bed is free again (audited)."""
    actor.require(Perm.ADMISSION_MANAGE)
    admission = session.get(Admission, args.admission_id)
    if admission is None or admission.deleted_at is not None:
        raise NotFound("This admission does not exist.")
    if admission.discharged_at is not None:
        return admission  # already discharged (a replay, or a colleague was quicker)
    _check_not_ahead(args.discharged_at, "discharged_at", "The discharge time")
    if args.discharged_at < _aware(admission.admitted_at):
        raise InvalidData(
            "The discharge time is before the admission time.",
            fields={"discharged_at": "Before the admission"},
        )
    admission.discharged_at = args.discharged_at
    admission.discharged_by = actor.username
    _touch(admission)
    session.flush()
    stays.capture_bed_days(session, admission)  # on the server: the stay's bed-days
    bed = session.get(Bed, admission.bed_id)
    record_audit(
        session,
        actor,
        "admission.discharge",
        patient_id=admission.patient_id,
        detail={
            "admission_id": str(admission.id),
            "bed": bed.label if bed else "",
            "note": args.note,
        },
    )
    emit(session, "admission.discharged", admission_id=str(admission.id))
    return admission


def transfer_patient(session: Session, actor: Actor, args: TransferPatient) -> Admission:
    """Move an admitted patient to another free bed (audited)."""
    actor.require(Perm.ADMISSION_MANAGE)
    admission = session.get(Admission, args.admission_id)
    if admission is None or admission.deleted_at is not None or admission.discharged_at:
        raise NotFound("This patient is not admitted any more.")
    if admission.bed_id == args.bed_id:
        return admission
    _check_not_ahead(args.at, "at", "The transfer time")
    bed = _bed(session, args.bed_id)
    _check_bed_free(session, bed)
    patient = active_patient(session, admission.patient_id)
    previous = session.get(Bed, admission.bed_id)
    try:
        with session.begin_nested():
            admission.bed_id = bed.id
            _touch(admission)
            session.flush()
    except IntegrityError as exc:
        raise _refusal(session, exc, bed, patient) from None
    record_audit(
        session,
        actor,
        "admission.transfer",
        patient_id=admission.patient_id,
        detail={
            "admission_id": str(admission.id),
            "from_bed": previous.label if previous else "",
            "bed": bed.label,
        },
    )
    emit(session, "admission.transferred", admission_id=str(admission.id), bed_id=str(bed.id))
    return admission


# --- checks ----------------------------------------------------------------------------------


def patient_label(patient: Patient) -> str:
    """'Jane Doe (MRN 10000008)', as the ward says it."""
    return f"{patient.given_name} {patient.family_name} (MRN {patient.mrn})"


def open_admission_in_bed(session: Session, bed_id: uuid.UUID) -> Admission | None:
    with session.no_autoflush:
        return (
            session.execute(
                select(Admission).where(
                    Admission.bed_id == bed_id,
                    Admission.discharged_at.is_(None),
                    Admission.deleted_at.is_(None),
                )
            )
            .scalars()
            .first()
        )


def open_admission_of(session: Session, patient_id: uuid.UUID) -> Admission | None:
    with session.no_autoflush:
        return (
            session.execute(
                select(Admission).where(
                    Admission.patient_id == patient_id,
                    Admission.discharged_at.is_(None),
                    Admission.deleted_at.is_(None),
                )
            )
            .scalars()
            .first()
        )


def _bed(session: Session, bed_id: uuid.UUID) -> Bed:
    bed = session.get(Bed, bed_id)
    if bed is None or bed.deleted_at is not None:
        raise NotFound("This bed does not exist.", fields={"bed_id": "Unknown bed"})
    return bed


def _check_bed_free(session: Session, bed: Bed) -> None:
    occupant = open_admission_in_bed(session, bed.id)
    if occupant is not None:
        raise _occupied(session, bed, occupant)


def _check_not_admitted(session: Session, patient: Patient) -> None:
    current = open_admission_of(session, patient.id)
    if current is not None:
        raise _already_admitted(session, patient, current)


def _occupied(session: Session, bed: Bed, occupant: Admission | None) -> BedOccupied:
    holder = session.get(Patient, occupant.patient_id) if occupant else None
    who = f" by {patient_label(holder)}" if holder else ""
    return BedOccupied(
        f"Bed {bed.label} is occupied{who}. Choose a free bed, or discharge that patient first.",
        fields={"bed_id": "Occupied"},
        detail={"bed": bed.label},
    )


def _already_admitted(session: Session, patient: Patient, current: Admission) -> AlreadyAdmitted:
    bed = session.get(Bed, current.bed_id)
    where = _bed_place(session, bed) if bed else "another bed"
    return AlreadyAdmitted(
        f"{patient_label(patient)} is already admitted to {where}. "
        "Transfer or discharge them from there.",
        fields={"patient_id": "Already admitted"},
        detail={"bed": bed.label if bed else ""},
    )


def _bed_place(session: Session, bed: Bed) -> str:
    ward = session.get(Ward, bed.ward_id)
    return f"bed {bed.label}" + (f" ({ward.name})" if ward else "")


def _insert(session: Session, admission: Admission, bed: Bed, patient: Patient) -> None:
    """Add inside a savepoint, so losing a race to another transaction leaves ours usable."""
    try:
        with session.begin_nested():
            session.add(admission)
            session.flush()
    except IntegrityError as exc:
        raise _refusal(session, exc, bed, patient) from None


def _refusal(
    session: Session, exc: IntegrityError, bed: Bed, patient: Patient
) -> BedOccupied | AlreadyAdmitted:
    """The unique index another transaction tripped, as the ward's plain words."""
    text = str(exc.orig)
    if BED_INDEX in text:
        return _occupied(session, bed, open_admission_in_bed(session, bed.id))
    if PATIENT_INDEX in text:
        current = open_admission_of(session, patient.id)
        if current is not None:
            return _already_admitted(session, patient, current)
        return AlreadyAdmitted(f"{patient_label(patient)} is already admitted to another bed.")
    raise exc


def _check_not_ahead(at: datetime, field: str, what: str) -> None:
    if _aware(at) > utcnow() + CLOCK_SKEW:
        raise InvalidData(
            f"{what} is in the future. Check the time (and this computer's clock).",
            fields={field: "In the future"},
        )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _touch(admission: Admission) -> None:
    admission.bump_version()
    admission.updated_at = utcnow()
