"""Doctors' availability: weekly sessions, leave and extra sessions, and free-slot search."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.base import new_id, utcnow
from hms_core.db.scheduling import (
    SLOT_FREEING,
    Appointment,
    AvailabilityException,
    AvailabilityRule,
    DoctorProfile,
)
from hms_core.rbac import Perm
from hms_core.rules import slots
from hms_core.schemas.scheduling import (
    MAX_MINUTES,
    AddAvailabilityChange,
    FreeSlot,
    SetWeeklyAvailability,
    SlotQuery,
    WeeklySessionIn,
)
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import InvalidData, NotFound

SEARCH_AHEAD_DAYS = 28
LONGEST_APPOINTMENT = timedelta(minutes=MAX_MINUTES)


@dataclass
class Availability:
    """What one doctor offers: weekly sessions and changes, in the doctor's zone."""

    doctor: DoctorProfile
    sessions: list[slots.WeeklySession] = field(default_factory=list)
    changes: list[slots.AvailabilityChange] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.doctor.timezone)


def get_doctor(session: Session, doctor_id: uuid.UUID) -> DoctorProfile:
    doctor = session.get(DoctorProfile, doctor_id)
    if doctor is None or doctor.deleted_at is not None:
        raise NotFound("This doctor is not in the hospital's list of doctors.")
    return doctor


def doctor_of_user(session: Session, user_id: uuid.UUID | None) -> DoctorProfile | None:
    """The doctor profile of a staff account, if it has one."""
    if user_id is None:
        return None
    query = select(DoctorProfile).where(DoctorProfile.user_id == user_id)
    return session.execute(query).scalar_one_or_none()


def list_doctors(session: Session, department_id: uuid.UUID | None = None) -> list[DoctorProfile]:
    """Active doctors, by name (of one department when given)."""
    query = select(DoctorProfile).where(
        DoctorProfile.active.is_(True), DoctorProfile.deleted_at.is_(None)
    )
    if department_id is not None:
        query = query.where(DoctorProfile.department_id == department_id)
    return list(session.execute(query.order_by(DoctorProfile.display_name)).scalars())


def load_availability(session: Session, doctors: list[DoctorProfile]) -> list[Availability]:
    """The availability of these doctors, read in two queries."""
    found = {d.id: Availability(d) for d in doctors}
    if not found:
        return []
    rules = session.execute(
        select(AvailabilityRule).where(
            AvailabilityRule.doctor_id.in_(found), AvailabilityRule.deleted_at.is_(None)
        )
    ).scalars()
    for rule in rules:
        found[rule.doctor_id].sessions.append(_session_of(rule))
    changes = session.execute(
        select(AvailabilityException).where(
            AvailabilityException.doctor_id.in_(found),
            AvailabilityException.deleted_at.is_(None),
        )
    ).scalars()
    for change in changes:
        found[change.doctor_id].changes.append(_change_of(change))
    return list(found.values())


def _session_of(rule: AvailabilityRule) -> slots.WeeklySession:
    return slots.WeeklySession(
        weekday=rule.weekday,
        start=rule.start_time,
        end=rule.end_time,
        slot_minutes=rule.slot_minutes,
        break_start=rule.break_start,
        break_end=rule.break_end,
        valid_from=rule.valid_from,
        valid_until=rule.valid_until,
    )


def _change_of(change: AvailabilityException) -> slots.AvailabilityChange:
    return slots.AvailabilityChange(
        kind=change.kind,
        starts_at=aware(change.starts_at),
        ends_at=aware(change.ends_at),
        slot_minutes=change.slot_minutes,
    )


def aware(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def busy_intervals(
    session: Session,
    doctor_ids: list[uuid.UUID],
    start: datetime,
    end: datetime,
    exclude: uuid.UUID | None = None,
) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
    """The live appointments of these doctors overlapping [start, end), per doctor."""
    query = select(Appointment.doctor_id, Appointment.starts_at, Appointment.ends_at).where(
        Appointment.doctor_id.in_(doctor_ids),
        Appointment.status.not_in(SLOT_FREEING),
        Appointment.deleted_at.is_(None),
        Appointment.starts_at < end,
        Appointment.starts_at > start - LONGEST_APPOINTMENT,  # lets the index bound the scan
        Appointment.ends_at > start,
    )
    if exclude is not None:
        query = query.where(Appointment.id != exclude)
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    # Plain rows through the connection: no ORM bookkeeping for thousands of tuples.
    session.flush()  # (the connection does not flush pending changes by itself)
    for doctor_id, starts_at, ends_at in session.connection().execute(query):
        busy[doctor_id].append((aware(starts_at), aware(ends_at)))
    return busy


def free_slots(
    session: Session,
    query: SlotQuery,
    not_before: datetime | None = None,
    exclude: uuid.UUID | None = None,
) -> list[FreeSlot]:
    """Free slots of a doctor or of every doctor of a department, earliest first."""
    doctors = _doctors_for(session, query)
    offers = load_availability(session, doctors)
    last_day = query.first_day + timedelta(days=query.days - 1)
    window_start = datetime.combine(query.first_day, time.min, UTC) - timedelta(days=1)
    window_end = datetime.combine(last_day, time.max, UTC) + timedelta(days=1)
    busy = busy_intervals(session, [d.id for d in doctors], window_start, window_end, exclude)
    not_before = not_before or utcnow()
    found: list[tuple[datetime, str, int, datetime]] = []
    for index, offer in enumerate(offers):
        doctor, name = offer.doctor, offer.doctor.display_name
        free = slots.free_intervals(
            offer.sessions, offer.changes, busy.get(doctor.id, []), offer.tz,
            query.first_day, last_day, not_before, query.limit,
        )  # fmt: skip
        found.extend((start, name, index, end) for start, end in free)
    found.sort()  # plain tuples: objects are made only for the slots returned
    who = [(o.doctor.id, o.doctor.display_name, o.doctor.department_id) for o in offers]
    return [_free_slot(*who[i], start, end) for start, _, i, end in found[: query.limit]]


def _free_slot(
    doctor_id: uuid.UUID,
    name: str,
    department_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
) -> FreeSlot:
    """A FreeSlot from values already checked (no validation: thousands per search)."""
    return FreeSlot.model_construct(
        doctor_id=doctor_id,
        doctor_name=name,
        department_id=department_id,
        starts_at=starts_at,
        ends_at=ends_at,
    )


def _doctors_for(session: Session, query: SlotQuery) -> list[DoctorProfile]:
    if query.doctor_id is not None:
        doctor = get_doctor(session, query.doctor_id)
        return [doctor] if doctor.active else []
    return list_doctors(session, query.department_id)


def next_free(
    session: Session,
    doctor: DoctorProfile,
    after: datetime,
    department_wide: bool = False,
    count: int = 5,
    exclude: uuid.UUID | None = None,
) -> list[FreeSlot]:
    """The next `count` free slots after `after`: the doctor's, or the department's."""
    first_day = after.astimezone(ZoneInfo(doctor.timezone)).date()
    query = SlotQuery(
        doctor_id=None if department_wide else doctor.id,
        department_id=doctor.department_id if department_wide else None,
        first_day=first_day,
        days=SEARCH_AHEAD_DAYS,
        limit=count,
    )
    return free_slots(session, query, not_before=after, exclude=exclude)


# --- editing (admin) -------------------------------------------------------------------------


def set_weekly_availability(
    session: Session, actor: Actor, args: SetWeeklyAvailability
) -> list[AvailabilityRule]:
    """Replace the doctor's weekly sessions (the old ones are kept, marked deleted)."""
    actor.require(Perm.SCHEDULE_MANAGE)
    doctor = get_doctor(session, args.doctor_id)
    _refuse_overlapping_sessions(args)
    now = utcnow()
    for rule in _rules_of(session, doctor.id):
        rule.deleted_at = now
        rule.bump_version()
    made = []
    for given in args.sessions:
        rule = AvailabilityRule(
            id=given.id or new_id(),
            doctor_id=doctor.id,
            **given.model_dump(exclude={"id"}),
        )
        session.add(rule)
        made.append(rule)
    session.flush()
    record_audit(
        session,
        actor,
        "schedule.weekly",
        detail={"doctor_id": str(doctor.id), "sessions": len(made)},
    )
    return made


def _rules_of(session: Session, doctor_id: uuid.UUID) -> list[AvailabilityRule]:
    return list(
        session.execute(
            select(AvailabilityRule).where(
                AvailabilityRule.doctor_id == doctor_id, AvailabilityRule.deleted_at.is_(None)
            )
        ).scalars()
    )


def _refuse_overlapping_sessions(args: SetWeeklyAvailability) -> None:
    by_day: dict[int, list[WeeklySessionIn]] = defaultdict(list)
    for given in args.sessions:
        by_day[given.weekday].append(given)
    for day, sessions in by_day.items():
        sessions.sort(key=lambda s: s.start_time)
        for first, second in zip(sessions, sessions[1:], strict=False):
            if second.start_time < first.end_time and _dates_meet(first, second):
                raise InvalidData(
                    f"Two sessions overlap on {_DAY_NAMES[day]} "
                    f"({first.start_time:%H:%M}–{first.end_time:%H:%M} and "
                    f"{second.start_time:%H:%M}–{second.end_time:%H:%M}).",
                    fields={"sessions": "Sessions of one day may not overlap"},
                )


def _dates_meet(a: WeeklySessionIn, b: WeeklySessionIn) -> bool:
    """Whether two sessions' validity periods share a day."""
    a_from, a_until = a.valid_from or date.min, a.valid_until or date.max
    b_from, b_until = b.valid_from or date.min, b.valid_until or date.max
    return a_from <= b_until and b_from <= a_until


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def add_availability_change(
    session: Session, actor: Actor, args: AddAvailabilityChange
) -> AvailabilityException:
    """Record leave or an extra session. Leave does not cancel booked appointments by itself:
    the appointments it covers are listed to reception by the desktop to move."""
    actor.require(Perm.SCHEDULE_MANAGE)
    doctor = get_doctor(session, args.doctor_id)
    change = AvailabilityException(
        id=args.id or new_id(),
        doctor_id=doctor.id,
        kind=args.kind.value,
        starts_at=aware(args.starts_at),
        ends_at=aware(args.ends_at),
        slot_minutes=args.slot_minutes,
        reason=args.reason,
    )
    session.add(change)
    session.flush()
    record_audit(
        session,
        actor,
        f"schedule.{args.kind.value}",
        detail={"doctor_id": str(doctor.id), "change_id": str(change.id)},
    )
    return change


def remove_availability_change(session: Session, actor: Actor, change_id: uuid.UUID) -> None:
    actor.require(Perm.SCHEDULE_MANAGE)
    change = session.get(AvailabilityException, change_id)
    if change is None or change.deleted_at is not None:
        raise NotFound("This leave or extra session no longer exists.")
    change.deleted_at = utcnow()
    change.bump_version()
    session.flush()
    record_audit(session, actor, "schedule.remove_change", detail={"change_id": str(change_id)})


def fits(offer: Availability, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a booking lies inside what the doctor offers."""
    return slots.fits_availability(offer.sessions, offer.changes, offer.tz, starts_at, ends_at)


def slot_minutes_at(offer: Availability, starts_at: datetime) -> int:
    """The slot length of the session a booking starts in (the default when none matches)."""
    local = starts_at.astimezone(offer.tz)
    for change in offer.changes:
        if change.kind == slots.EXTRA and change.starts_at <= starts_at < change.ends_at:
            return int(change.slot_length.total_seconds() // 60)
    for session in offer.sessions:
        if session.weekday == local.weekday() and session.start <= local.time() < session.end:
            return session.slot_minutes
    return slots.DEFAULT_EXTRA_SLOT_MINUTES
