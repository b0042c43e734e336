"""Scheduling as the desktop sees it: read from the cache, written as queued mutations.

Bookings made here are *tentative* until the server confirms them (the next pull brings the
server's row); a refusal lands in the needs-attention list with the next free times.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import AvailabilityException, AvailabilityRule, Department
from hms_core.db.base import new_id, utcnow
from hms_core.schemas.scheduling import (
    AppointmentView,
    DoctorOut,
    FollowUpView,
    FreeSlot,
    MessageView,
    SlotQuery,
)
from hms_core.services import availability, schedule_views
from hms_core.services.audit import record_audit
from hms_desktop.store.cache import LocalStore


class LocalScheduling:
    """Doctors, free slots, appointment lists and every scheduling change, on the cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited: set[tuple[Any, ...]] = set()  # lists already audited in this session

    # --- reads ------------------------------------------------------------------------------

    def departments(self) -> list[tuple[uuid.UUID, str]]:
        """(id, name) of every department, by name."""
        query = select(Department.id, Department.name).order_by(Department.name)
        return self.store.read(lambda s: [(r[0], r[1]) for r in s.execute(query)])

    def doctors(self, department_id: uuid.UUID | None = None) -> list[DoctorOut]:
        return self.store.read(
            lambda s: [
                DoctorOut.model_validate(d) for d in availability.list_doctors(s, department_id)
            ]
        )

    def my_doctor(self) -> DoctorOut | None:
        """The signed-in user's doctor profile, if they are a doctor."""

        def read(session: Session) -> DoctorOut | None:
            # validated inside the read: the rollback that ends it expires the ORM row
            found = availability.doctor_of_user(session, self.store.actor.user_id)
            return DoctorOut.model_validate(found) if found else None

        return self.store.read(read)

    def free_slots(
        self,
        first_day: date,
        days: int,
        department_id: uuid.UUID | None = None,
        doctor_id: uuid.UUID | None = None,
        limit: int = 2000,
    ) -> list[FreeSlot]:
        """Free slots from now on, of a doctor or of a whole department, earliest first."""
        query = SlotQuery(
            department_id=department_id,
            doctor_id=doctor_id,
            first_day=first_day,
            days=days,
            limit=limit,
        )
        return self.store.read(lambda s: availability.free_slots(s, query))

    def day(
        self,
        day: date,
        zone: ZoneInfo,
        doctor_id: uuid.UUID | None = None,
        department_id: uuid.UUID | None = None,
    ) -> list[AppointmentView]:
        """The appointments of one local day, earliest first."""
        start = datetime.combine(day, time.min, zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)
        return self._listed(
            start,
            end,
            {"day": day.isoformat()},
            doctor_id=doctor_id,
            department_id=department_id,
            statuses=None,
        )

    def between(
        self,
        start: datetime,
        end: datetime,
        *,
        doctor_id: uuid.UUID | None = None,
        department_id: uuid.UUID | None = None,
        statuses: tuple[str, ...] | None = None,
    ) -> list[AppointmentView]:
        """The appointments starting in [start, end), earliest first, in one read."""
        scope = {"start": start.isoformat(), "end": end.isoformat()}
        return self._listed(
            start,
            end,
            scope,
            doctor_id=doctor_id,
            department_id=department_id,
            statuses=statuses,
        )

    def _listed(
        self,
        start: datetime,
        end: datetime,
        scope: dict[str, str],
        *,
        doctor_id: uuid.UUID | None,
        department_id: uuid.UUID | None,
        statuses: tuple[str, ...] | None,
    ) -> list[AppointmentView]:
        """One list read, audited the first time this session looks at it."""
        key = (tuple(scope.items()), doctor_id, department_id, statuses)

        def read(session: Session) -> list[AppointmentView]:
            found = schedule_views.appointments_between(
                session,
                start,
                end,
                doctor_id=doctor_id,
                department_id=department_id,
                statuses=statuses,
            )
            if key not in self._audited:  # the first look at a list, not every refresh
                self._audit_list(session, scope, doctor_id, department_id, statuses, len(found))
            return found

        views = self.store.read(read)
        self._audited.add(key)
        return views

    def _audit_list(
        self,
        session: Session,
        scope: dict[str, str],
        doctor_id: uuid.UUID | None,
        department_id: uuid.UUID | None,
        statuses: tuple[str, ...] | None,
        rows: int,
    ) -> None:
        """Leave an access record: this user saw these patients' appointments."""
        detail: dict[str, Any] = {**scope, "rows": rows}
        if doctor_id is not None:
            detail["doctor_id"] = str(doctor_id)
        if department_id is not None:
            detail["department_id"] = str(department_id)
        if statuses is not None:
            detail["statuses"] = list(statuses)
        record_audit(session, self.store.actor, "appointment.list", detail=detail)
        session.flush()  # hands the record to the cache's access log (see store.tracking)

    def appointment(self, appointment_id: uuid.UUID) -> AppointmentView | None:
        return self.store.read(lambda s: schedule_views.appointment_view(s, appointment_id))

    def patient_appointments(self, patient_id: uuid.UUID) -> list[AppointmentView]:
        return self.store.read(lambda s: schedule_views.patient_appointments(s, patient_id))

    def messages(self, appointment_id: uuid.UUID) -> list[MessageView]:
        """Confirmation and reminder messages of an appointment with their delivery status."""
        return self.store.read(lambda s: schedule_views.messages_for(s, appointment_id))

    def follow_ups_due(self, until: date) -> list[FollowUpView]:
        return self.store.read(lambda s: schedule_views.follow_ups_due(s, until))

    def weekly_sessions(self, doctor_id: uuid.UUID) -> list[AvailabilityRule]:
        query = (
            select(AvailabilityRule)
            .where(AvailabilityRule.doctor_id == doctor_id, AvailabilityRule.deleted_at.is_(None))
            .order_by(AvailabilityRule.weekday, AvailabilityRule.start_time)
        )
        return self.store.read(lambda s: _detached(s, s.execute(query).scalars().all()))

    def availability_changes(self, doctor_id: uuid.UUID) -> list[AvailabilityException]:
        """Leave and extra sessions of a doctor that have not ended yet."""
        query = (
            select(AvailabilityException)
            .where(
                AvailabilityException.doctor_id == doctor_id,
                AvailabilityException.deleted_at.is_(None),
                AvailabilityException.ends_at > utcnow(),
            )
            .order_by(AvailabilityException.starts_at)
        )
        return self.store.read(lambda s: _detached(s, s.execute(query).scalars().all()))

    # --- changes ----------------------------------------------------------------------------

    def book(
        self,
        patient_id: uuid.UUID,
        slot: FreeSlot,
        reason: str = "",
        *,
        request_only: bool = False,
        follow_up_id: uuid.UUID | None = None,
        department_wide: bool = False,
    ) -> AppointmentView:
        """Book `slot` for the patient (tentative until the server confirms it)."""
        args: dict[str, Any] = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "doctor_id": str(slot.doctor_id),
            "starts_at": slot.starts_at.isoformat(),
            "duration_minutes": _minutes(slot.starts_at, slot.ends_at),
            "reason": reason,
            "request_only": request_only,
            "department_wide": department_wide,
            "booked_at": utcnow().isoformat(),
        }
        if follow_up_id is not None:
            args["follow_up_id"] = str(follow_up_id)
        return self.store.mutate("book_appointment", args, then=_shown)

    def reschedule(self, appointment_id: uuid.UUID, slot: FreeSlot, reason: str = "") -> Any:
        args = {
            "appointment_id": str(appointment_id),
            "starts_at": slot.starts_at.isoformat(),
            "doctor_id": str(slot.doctor_id),
            "duration_minutes": _minutes(slot.starts_at, slot.ends_at),
            "reason": reason,
            "at": utcnow().isoformat(),
        }
        return self.store.mutate("reschedule_appointment", args, then=_shown)

    def cancel(self, appointment_id: uuid.UUID, reason: str) -> AppointmentView:
        args = {"appointment_id": str(appointment_id), "reason": reason, "at": _now()}
        return self.store.mutate("cancel_appointment", args, then=_shown)

    def set_status(self, appointment_id: uuid.UUID, status: str) -> AppointmentView:
        """Confirm, check in, start, complete or mark a no-show."""
        args = {"appointment_id": str(appointment_id), "status": status, "at": _now()}
        return self.store.mutate("set_appointment_status", args, then=_shown)

    def request_follow_up(
        self,
        patient_id: uuid.UUID,
        after_days: int,
        reason: str = "",
        source_appointment_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "after_days": after_days,
            "requested_on": date.today().isoformat(),
            "reason": reason,
        }
        if source_appointment_id is not None:
            args["source_appointment_id"] = str(source_appointment_id)
        return self.store.mutate("request_follow_up", args)

    def cancel_follow_up(self, follow_up_id: uuid.UUID, reason: str) -> dict[str, Any]:
        args = {"follow_up_id": str(follow_up_id), "reason": reason}
        return self.store.mutate("cancel_follow_up", args)

    def set_weekly(self, doctor_id: uuid.UUID, sessions: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a doctor's weekly sessions (each a WeeklySessionIn as JSON-ready dict)."""
        sessions = [{"id": str(new_id()), **s} for s in sessions]
        args = {"doctor_id": str(doctor_id), "sessions": sessions}
        return self.store.mutate("set_weekly_availability", args)

    def add_change(
        self,
        doctor_id: uuid.UUID,
        kind: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str = "",
        slot_minutes: int | None = None,
    ) -> dict[str, Any]:
        """Record leave or an extra session."""
        args: dict[str, Any] = {
            "id": str(new_id()),
            "doctor_id": str(doctor_id),
            "kind": kind,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "reason": reason,
        }
        if slot_minutes is not None:
            args["slot_minutes"] = slot_minutes
        return self.store.mutate("add_availability_change", args)

    def remove_change(self, change_id: uuid.UUID) -> dict[str, Any]:
        return self.store.mutate("remove_availability_change", {"change_id": str(change_id)})


def _shown(session: Session, result: dict[str, Any]) -> AppointmentView:
    """The appointment a mutation just wrote, read in the same transaction."""
    view = schedule_views.appointment_view(session, uuid.UUID(result["appointment_id"]))
    assert view is not None
    return view


def _detached(session: Session, rows: Any) -> list[Any]:
    """ORM rows usable after their session closes."""
    rows = list(rows)
    for row in rows:
        session.expunge(row)
    return rows


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _now() -> str:
    return utcnow().isoformat()
