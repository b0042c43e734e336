"""The appointments a leave period covers, and the warning the administrator reads about them."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hms_core.db.scheduling import SLOT_FREEING
from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.workspaces.schedules.week import utc

MAX_DAYS = 400  # a leave is at most a year long (AddAvailabilityChange)
LISTED = 5  # appointments named in the warning; the rest are counted


def covered_appointments(
    scheduling: LocalScheduling,
    doctor_id: uuid.UUID,
    zone: ZoneInfo,
    starts_at: datetime,
    ends_at: datetime,
) -> list[AppointmentView]:
    """Live appointments of the doctor overlapping [starts_at, ends_at) (blocking: a worker)."""
    first = starts_at.astimezone(zone).date() - timedelta(days=1)  # one may run past midnight
    last: date = min(ends_at.astimezone(zone).date(), first + timedelta(days=MAX_DAYS))
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    rows = scheduling.between(start, end, doctor_id=doctor_id)
    return [a for a in rows if _inside(a, starts_at, ends_at)]


def _inside(appointment: AppointmentView, starts_at: datetime, ends_at: datetime) -> bool:
    return (
        appointment.status not in SLOT_FREEING
        and utc(appointment.starts_at) < ends_at
        and starts_at < utc(appointment.ends_at)
    )


def when(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue 13 May 09:00' in the doctor's zone."""
    return f"{moment.astimezone(zone):%a %d %b %H:%M}"


def span(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """A period's two ends as people say them: whole days by date, otherwise date and time.

    ('Tue 13 May 2025', 'Wed 14 May 2025, end of day') or ('Tue 13 May 2025 09:00', '… 13:00').
    """
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.time() == end.time() == time.min:
        last = end - timedelta(days=1)
        return f"{start:%a %d %b %Y}", f"{last:%a %d %b %Y}, end of day"
    return f"{start:%a %d %b %Y %H:%M}", f"{end:%a %d %b %Y %H:%M}"


def leave_warning(appointments: list[AppointmentView], zone: ZoneInfo) -> str:
    """'2 appointments are booked in this leave: … Reception must move them.' (or '')."""
    if not appointments:
        return ""
    count = len(appointments)
    listed = "; ".join(
        f"{when(a.starts_at, zone)} {a.patient_name} (MRN {a.mrn})" for a in appointments[:LISTED]
    )
    more = f"; and {count - LISTED} more" if count > LISTED else ""
    if count == 1:
        return (
            f"1 appointment is booked in this leave: {listed}. It is not cancelled: "
            "reception must move it to another time or doctor."
        )
    return (
        f"{count} appointments are booked in this leave: {listed}{more}. They are not "
        "cancelled: reception must move them to other times or doctors."
    )
