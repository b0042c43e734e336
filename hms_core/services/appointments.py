"""Appointments: book, move, cancel, and the visit's way from confirmed to completed.

A doctor is never double-booked. The services check for an overlapping appointment first (so
the person at the desk gets the next free times at once); on PostgreSQL an exclusion
constraint settles the race between two servers' transactions, and its refusal becomes the
same answer. On a desktop's copy a booking is *tentative* until the server confirms it.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_core.db.base import new_id, utcnow
from hms_core.db.scheduling import (
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    IN_CONSULTATION,
    NO_SHOW,
    REQUESTED,
    SLOT_FREEING,
    TENTATIVE,
    Appointment,
    DoctorProfile,
    FollowUp,
)
from hms_core.rbac import Perm
from hms_core.schemas.scheduling import (
    BookAppointment,
    CancelAppointment,
    RescheduleAppointment,
    SetAppointmentStatus,
)
from hms_core.services import availability
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing import charges
from hms_core.services.errors import Conflict, DomainError, InvalidData, NotFound
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit, is_provisional

CLOCK_SKEW = timedelta(minutes=10)  # how far a desk's clock may run ahead of the server's
MAX_AHEAD = timedelta(days=400)

# status -> the statuses it may move to, and the permission each move needs
TRANSITIONS: dict[str, dict[str, Perm]] = {
    REQUESTED: {CONFIRMED: Perm.APPOINTMENT_ATTEND},
    TENTATIVE: {
        CHECKED_IN: Perm.APPOINTMENT_BOOK,
        NO_SHOW: Perm.APPOINTMENT_BOOK,
        IN_CONSULTATION: Perm.APPOINTMENT_ATTEND,
    },
    CONFIRMED: {
        CHECKED_IN: Perm.APPOINTMENT_BOOK,
        NO_SHOW: Perm.APPOINTMENT_BOOK,
        IN_CONSULTATION: Perm.APPOINTMENT_ATTEND,
    },
    CHECKED_IN: {IN_CONSULTATION: Perm.APPOINTMENT_ATTEND},
    IN_CONSULTATION: {COMPLETED: Perm.APPOINTMENT_ATTEND},
}
LIVE = (REQUESTED, TENTATIVE, CONFIRMED, CHECKED_IN)  # may still be moved or cancelled
STATUS_WORDS = {
    REQUESTED: "requested",
    TENTATIVE: "tentative",
    CONFIRMED: "confirmed",
    CHECKED_IN: "checked in",
    IN_CONSULTATION: "in consultation",
    COMPLETED: "completed",
    CANCELLED: "cancelled",
    NO_SHOW: "no-show",
}


class SlotTaken(DomainError):
    """The doctor already has an appointment then; `detail["alternatives"]` are free times."""

    code = "slot_taken"
    http_status = 409


def book(session: Session, actor: Actor, args: BookAppointment) -> Appointment:
    """Book a patient with a doctor; refused in the past, outside availability or overlapping."""
    actor.require(Perm.APPOINTMENT_BOOK)
    patient = active_patient(
        session, args.patient_id, instead="Book the appointment on that record."
    )
    doctor = _bookable_doctor(session, args.doctor_id)
    if args.id is not None and session.get(Appointment, args.id) is not None:
        raise Conflict("This appointment has already been booked.")
    booked_at = _moment(args.booked_at)
    _check_time(availability.aware(args.starts_at), booked_at)
    starts_at, ends_at = _period(session, doctor, args.starts_at, args.duration_minutes)
    follow_up = _open_follow_up(session, args.follow_up_id, patient.id)
    appointment = Appointment(
        id=args.id or new_id(),
        patient_id=patient.id,
        doctor_id=doctor.id,
        doctor_number=doctor.number,
        department_id=doctor.department_id,
        starts_at=starts_at,
        ends_at=ends_at,
        status=_initial_status(session, args.request_only),
        reason=args.reason,
        source="follow_up" if follow_up else "desk",
        follow_up_id=follow_up.id if follow_up else None,
        booked_by=actor.username,
        created_at=booked_at,
    )
    if appointment.status == CONFIRMED:
        appointment.confirmed_at = booked_at
    _place(session, appointment, args.department_wide)
    if follow_up is not None:
        follow_up.status, follow_up.appointment_id = "booked", appointment.id
        follow_up.bump_version()
    _audit(session, actor, "appointment.book", appointment)
    emit(session, "appointment.booked", appointment_id=str(appointment.id))
    return appointment


def _initial_status(session: Session, request_only: bool) -> str:
    if request_only:
        return REQUESTED
    return TENTATIVE if is_provisional(session) else CONFIRMED


def reschedule(session: Session, actor: Actor, args: RescheduleAppointment) -> Appointment:
    """Move an appointment to another time (and doctor); the old time is freed."""
    actor.require(Perm.APPOINTMENT_BOOK)
    appointment = _get(session, args.appointment_id)
    if appointment.status not in LIVE:
        raise InvalidData(
            f"This appointment is {STATUS_WORDS[appointment.status]} and can no longer be moved."
        )
    doctor = _bookable_doctor(session, args.doctor_id or appointment.doctor_id)
    now = _moment(args.at)
    minutes = args.duration_minutes
    if minutes is None and doctor.id == appointment.doctor_id:
        minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    _check_time(availability.aware(args.starts_at), now)
    starts_at, ends_at = _period(session, doctor, args.starts_at, minutes, appointment.id)
    previous = availability.aware(appointment.starts_at)
    changes: dict[str, object] = {
        "doctor_id": doctor.id,
        "doctor_number": doctor.number,
        "department_id": doctor.department_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    if appointment.status in (CONFIRMED, CHECKED_IN, TENTATIVE):
        # A move on a desk's copy waits for the server's word like a new booking does.
        changes.update(status=TENTATIVE if is_provisional(session) else CONFIRMED)
    if appointment.status == CHECKED_IN:
        changes.update(checked_in_at=None)
    _place(session, appointment, department_wide=False, changes=changes)
    _audit(
        session,
        actor,
        "appointment.reschedule",
        appointment,
        previous_starts_at=previous.isoformat(),
        reason=args.reason,
    )
    emit(
        session,
        "appointment.moved",
        appointment_id=str(appointment.id),
        previous_starts_at=previous.isoformat(),
    )
    return appointment


def cancel(session: Session, actor: Actor, args: CancelAppointment) -> Appointment:
    """Cancel with a reason; the slot is free again at once."""
    actor.require_any(Perm.APPOINTMENT_BOOK, Perm.APPOINTMENT_ATTEND)
    appointment = _get(session, args.appointment_id)
    if appointment.status not in LIVE:
        raise InvalidData(
            f"This appointment is {STATUS_WORDS[appointment.status]}; it cannot be cancelled."
        )
    appointment.status = CANCELLED
    appointment.cancel_reason = args.reason
    appointment.cancelled_at = _moment(args.at)
    _touch(appointment)
    _reopen_follow_up(session, appointment)
    session.flush()
    _audit(session, actor, "appointment.cancel", appointment, reason=args.reason)
    emit(session, "appointment.cancelled", appointment_id=str(appointment.id))
    return appointment


def set_status(session: Session, actor: Actor, args: SetAppointmentStatus) -> Appointment:
    """Confirm a request, check in, start or finish the visit, or mark a no-show."""
    appointment = _get(session, args.appointment_id)
    target = args.status.value
    previous = appointment.status
    if previous == target:
        return appointment  # a repeated click or a replay: nothing more to do
    allowed = TRANSITIONS.get(previous, {})
    if target not in allowed:
        raise InvalidData(
            f"An appointment that is {STATUS_WORDS[previous]} cannot be marked "
            f"{STATUS_WORDS[target]}."
        )
    actor.require(allowed[target])
    at = _moment(args.at)
    _check_timing(appointment, target, at)
    appointment.status = target
    _stamp(appointment, target, at)
    _touch(appointment)
    if target == NO_SHOW:
        _reopen_follow_up(session, appointment)
    session.flush()
    if target == COMPLETED:
        charges.capture_consultation(session, appointment)  # on the server: the visit's charge
    _audit(session, actor, f"appointment.{target}", appointment, previous=previous)
    emit(
        session,
        "appointment.status",
        appointment_id=str(appointment.id),
        status=target,
        previous=previous,
    )
    return appointment


# status -> (how long before the appointment it may be set, the refusal otherwise)
TIMING: dict[str, tuple[timedelta, str]] = {
    CHECKED_IN: (timedelta(hours=12), "Check-in opens 12 hours before the appointment."),
    NO_SHOW: (
        timedelta(0),
        "A patient can be marked as not attending only after the appointment time.",
    ),
}


def _check_timing(appointment: Appointment, target: str, at: datetime) -> None:
    """Refuse a step taken too early, or stamped by a clock running ahead of the server's."""
    _check_clock(at)
    opens_before, refusal = TIMING.get(target, (None, ""))
    if opens_before is not None and at < availability.aware(appointment.starts_at) - opens_before:
        raise InvalidData(refusal)


def _stamp(appointment: Appointment, status: str, at: datetime) -> None:
    column = {
        CONFIRMED: "confirmed_at",
        CHECKED_IN: "checked_in_at",
        IN_CONSULTATION: "started_at",
        COMPLETED: "completed_at",
    }.get(status)
    if column is not None:
        setattr(appointment, column, at)


# --- checks ----------------------------------------------------------------------------------


def _bookable_doctor(session: Session, doctor_id: uuid.UUID) -> DoctorProfile:
    doctor = availability.get_doctor(session, doctor_id)
    if not doctor.active:
        raise InvalidData(f"{doctor.display_name} is not taking appointments.")
    return doctor


def _period(
    session: Session,
    doctor: DoctorProfile,
    starts_at: datetime,
    minutes: int | None,
    moving: uuid.UUID | None = None,
) -> tuple[datetime, datetime]:
    """The booked period, checked against the doctor's availability."""
    starts_at = availability.aware(starts_at).replace(microsecond=0)
    offer = availability.load_availability(session, [doctor])[0]
    minutes = minutes or availability.slot_minutes_at(offer, starts_at)
    ends_at = starts_at + timedelta(minutes=minutes)
    if not availability.fits(offer, starts_at, ends_at):
        local = starts_at.astimezone(offer.tz)
        raise InvalidData(
            f"{doctor.display_name} does not see patients on {local:%A %d %B %Y at %H:%M} "
            f"for {minutes} minutes (outside their hours, in a break or on leave).",
            fields={"starts_at": "Outside the doctor's availability"},
            detail={"alternatives": _alternatives(session, doctor, starts_at, False, moving)},
        )
    return starts_at, ends_at


def _check_clock(at: datetime) -> None:
    """Refuse a moment stamped by a desk whose clock runs ahead of the server's."""
    if at > utcnow() + CLOCK_SKEW:
        raise InvalidData("This computer's clock is ahead of the server's; check the clock.")


def _check_time(starts_at: datetime, booked_at: datetime) -> None:
    now = utcnow()
    _check_clock(booked_at)
    if starts_at < booked_at - timedelta(minutes=5):
        raise InvalidData(
            "This time has already passed. Choose a time from now on.",
            fields={"starts_at": "In the past"},
        )
    if starts_at > now + MAX_AHEAD:
        raise InvalidData(
            "Appointments can be booked at most 400 days ahead.",
            fields={"starts_at": "Too far ahead"},
        )


def _place(
    session: Session,
    appointment: Appointment,
    department_wide: bool,
    changes: dict[str, object] | None = None,
) -> None:
    """Add the appointment (or apply `changes` to it) unless the doctor is busy then.

    The write happens inside a savepoint so that losing a race to another transaction (the
    exclusion constraint) leaves this transaction usable for the answer with alternatives.
    """
    target = {
        "doctor_id": appointment.doctor_id,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        **(changes or {}),
    }
    with session.no_autoflush:
        clash = session.execute(
            select(Appointment.id)
            .where(
                Appointment.doctor_id == target["doctor_id"],
                Appointment.id != appointment.id,
                Appointment.status.not_in(SLOT_FREEING),
                Appointment.deleted_at.is_(None),
                Appointment.starts_at < target["ends_at"],
                Appointment.ends_at > target["starts_at"],
            )
            .limit(1)
        ).first()
    if clash is not None:
        raise _slot_taken(session, target, appointment.id, department_wide)
    try:
        with session.begin_nested():
            if changes is None:
                session.add(appointment)
            else:
                for name, value in changes.items():
                    setattr(appointment, name, value)
                _touch(appointment)
            session.flush()
    except IntegrityError as exc:  # another transaction took it first (the exclusion constraint)
        if "no_overlap" not in str(exc.orig):
            raise
        raise _slot_taken(session, target, appointment.id, department_wide) from None


def _slot_taken(
    session: Session, target: dict[str, object], moving: uuid.UUID, department_wide: bool
) -> SlotTaken:
    doctor = availability.get_doctor(session, target["doctor_id"])  # type: ignore[arg-type]
    starts_at = availability.aware(target["starts_at"])  # type: ignore[arg-type]
    alternatives = _alternatives(session, doctor, starts_at, department_wide, moving)
    return SlotTaken(
        f"{doctor.display_name} already has an appointment at this time. "
        "Choose one of the next free times.",
        fields={"starts_at": "Already booked"},
        detail={"alternatives": alternatives},
    )


def _alternatives(
    session: Session,
    doctor: DoctorProfile,
    after: datetime,
    department_wide: bool,
    exclude: uuid.UUID | None,
) -> list[dict[str, str]]:
    free = availability.next_free(
        session, doctor, max(after, utcnow()), department_wide, exclude=exclude
    )
    return [s.model_dump(mode="json") for s in free]


def _open_follow_up(
    session: Session, follow_up_id: uuid.UUID | None, patient_id: uuid.UUID
) -> FollowUp | None:
    if follow_up_id is None:
        return None
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.patient_id != patient_id:
        raise NotFound("This follow-up request is not for this patient.")
    if follow_up.status != "due":
        raise InvalidData("This follow-up has already been booked or cancelled.")
    return follow_up


def _reopen_follow_up(session: Session, appointment: Appointment) -> None:
    if appointment.follow_up_id is None:
        return
    follow_up = session.get(FollowUp, appointment.follow_up_id)
    if follow_up is not None and follow_up.appointment_id == appointment.id:
        follow_up.status, follow_up.appointment_id = "due", None
        follow_up.bump_version()


def _get(session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.deleted_at is not None:
        raise NotFound("This appointment does not exist.")
    return appointment


def _moment(value: datetime | None) -> datetime:
    return availability.aware(value) if value is not None else utcnow()


def _touch(appointment: Appointment) -> None:
    appointment.bump_version()
    appointment.updated_at = utcnow()


def _audit(
    session: Session, actor: Actor, action: str, appointment: Appointment, **detail: str
) -> None:
    record_audit(
        session,
        actor,
        action,
        patient_id=appointment.patient_id,
        detail={
            "appointment_id": str(appointment.id),
            "doctor_id": str(appointment.doctor_id),
            "starts_at": availability.aware(appointment.starts_at).isoformat(),
            "status": appointment.status,
            **detail,
        },
    )
