"""What the clinic reads from the cache, as plain functions run off the UI thread."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hms_core.db.scheduling import COMPLETED, REQUESTED
from hms_core.schemas.scheduling import AppointmentView, DoctorOut
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.workspaces.clinic.rules import long_date, plural

REQUEST_DAYS = 60  # how far ahead the requests to confirm are looked for


@dataclass(frozen=True)
class Doctors:
    """The doctors one may look at, and the signed-in user's own profile if they have one."""

    mine: DoctorOut | None
    others: list[DoctorOut]
    departments: dict[uuid.UUID, str] = field(default_factory=dict)

    def choices(self) -> list[tuple[uuid.UUID, str]]:
        """(profile id, label) for the chooser: one's own first, marked '(you)'."""
        found = [] if self.mine is None else [(self.mine.id, f"{self.mine.display_name} (you)")]
        for doctor in self.others:
            department = self.departments.get(doctor.department_id)
            label = f"{doctor.display_name} — {department}" if department else doctor.display_name
            found.append((doctor.id, label))
        return found

    def find(self, doctor_id: uuid.UUID | None) -> DoctorOut | None:
        everyone = ([self.mine] if self.mine else []) + self.others
        return next((d for d in everyone if d.id == doctor_id), None)


@dataclass(frozen=True)
class DayData:
    """One doctor's appointments of one day, and their requests still to confirm."""

    doctor_id: uuid.UUID
    day: date
    appointments: list[AppointmentView]
    requests: list[AppointmentView]


def zone_of(doctor: DoctorOut | None) -> ZoneInfo:
    """The doctor's time zone (UTC when unknown or misspelt)."""
    try:
        return ZoneInfo(doctor.timezone) if doctor is not None else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def load_doctors(scheduling: LocalScheduling) -> Doctors:
    """Every active doctor, with one's own profile apart."""
    mine = scheduling.my_doctor()
    others = [d for d in scheduling.doctors() if mine is None or d.id != mine.id]
    return Doctors(mine, others, dict(scheduling.departments()))


def load_day(
    scheduling: LocalScheduling, doctor_id: uuid.UUID, day: date, zone: ZoneInfo, now: datetime
) -> DayData:
    """The doctor's appointments of `day`, and the requests from now on."""
    appointments = scheduling.day(day, zone, doctor_id=doctor_id)
    today = now.astimezone(zone).date()
    # from the start of today, not `now`: the same list (and one audit record) all day long
    start = datetime.combine(today, time.min, zone).astimezone(UTC)
    horizon = today + timedelta(days=REQUEST_DAYS + 1)
    end = datetime.combine(horizon, time.min, zone).astimezone(UTC)
    rows = scheduling.between(start, end, doctor_id=doctor_id, statuses=(REQUESTED,))
    requests = [a for a in rows if a.starts_at >= now]
    return DayData(doctor_id, day, appointments, requests)


def history_text(
    visits: Sequence[AppointmentView], current: AppointmentView, zone: ZoneInfo
) -> str:
    """'2 earlier visits; the last on Monday 3 March 2025 with Dr. X', or 'First visit'."""
    earlier = [
        v
        for v in visits
        if v.id != current.id and v.status == COMPLETED and v.starts_at < current.starts_at
    ]
    if not earlier:
        return "No earlier completed visits."
    last = max(earlier, key=lambda v: v.starts_at)
    day = long_date(last.starts_at.astimezone(zone).date())
    return f"{plural(len(earlier), 'earlier visit')}; the last on {day} with {last.doctor_name}."
