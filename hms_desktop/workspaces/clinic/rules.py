"""What the clinic shows and allows for an appointment: words, waiting times, the day's summary.

Pure functions (no Qt) so the wording and the action rules are easy to test and to keep in step
with the domain's transitions (`hms_core.services.appointments.TRANSITIONS`).
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hms_core.db.scheduling import (
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    IN_CONSULTATION,
    NO_SHOW,
    REQUESTED,
)
from hms_core.schemas.scheduling import AppointmentView
from hms_core.services.appointments import STATUS_WORDS

START_WINDOW = timedelta(hours=12)  # a consultation starts on the day, not days ahead
LONG_WAIT = timedelta(minutes=30)  # waiting this long is shown as a warning
ENDED = (COMPLETED, CANCELLED, NO_SHOW)


def status_text(status: str) -> str:
    """'Checked in', 'In consultation', 'No-show' …"""
    return STATUS_WORDS.get(status, status.replace("_", " ")).capitalize()


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 appointment', '3 appointments'."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def duration_text(span: timedelta) -> str:
    """'under 1 min', '12 min', '1 h 05 min'."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def waiting_for(appointment: AppointmentView, now: datetime) -> timedelta | None:
    """How long a checked-in patient has been waiting; None when nobody waits."""
    if appointment.status != CHECKED_IN or appointment.checked_in_at is None:
        return None
    return now - appointment.checked_in_at


def waiting_text(appointment: AppointmentView, now: datetime) -> str:
    """'12 min' for the table; '' when the patient is not waiting."""
    waited = waiting_for(appointment, now)
    return "" if waited is None else duration_text(waited)


def long_wait(appointment: AppointmentView, now: datetime) -> bool:
    """Whether the patient has waited long enough to stand out."""
    waited = waiting_for(appointment, now)
    return waited is not None and waited >= LONG_WAIT


def summary_text(appointments: Sequence[AppointmentView]) -> str:
    """'12 appointments · 3 waiting · 1 request to confirm · 5 seen' (cancelled not counted)."""
    booked = [a for a in appointments if a.status != CANCELLED]
    statuses = [a.status for a in booked]
    parts = [
        plural(len(booked), "appointment"),
        f"{statuses.count(CHECKED_IN)} waiting",
        plural(statuses.count(REQUESTED), "request") + " to confirm",
        f"{statuses.count(COMPLETED)} seen",
    ]
    if IN_CONSULTATION in statuses:
        parts.insert(2, f"{statuses.count(IN_CONSULTATION)} in consultation")
    return " · ".join(parts)


def why_not_confirm(appointment: AppointmentView) -> str:
    """Why Confirm does not apply ('' when it does)."""
    if appointment.status == REQUESTED:
        return ""
    return f"Only a request needs confirming; this appointment is {_words(appointment)}."


def why_not_start(appointment: AppointmentView, now: datetime) -> str:
    """Why Start consultation does not apply ('' when it does)."""
    status = appointment.status
    if status == REQUESTED:
        return "Confirm the request first."
    if status == IN_CONSULTATION:
        return "The consultation has already started."
    if status in ENDED:
        return f"This appointment is {_words(appointment)}."
    if appointment.starts_at - now > START_WINDOW:
        return "A consultation can be started on the day of the appointment."
    return ""


def why_not_complete(appointment: AppointmentView) -> str:
    """Why Complete does not apply ('' when it does)."""
    if appointment.status == IN_CONSULTATION:
        return ""
    if appointment.status == COMPLETED:
        return "This visit is already completed."
    if appointment.status in (CANCELLED, NO_SHOW):
        return f"This appointment is {_words(appointment)}."
    return "Start the consultation first; a visit is completed when it has taken place."


def why_not_follow_up(appointment: AppointmentView) -> str:
    """Why a follow-up cannot be asked from this appointment ('' when it can)."""
    if appointment.status == REQUESTED:
        return "Confirm the request first; follow-ups are asked from a visit."
    if appointment.status == CANCELLED:
        return "This appointment was cancelled; open the history to plan the patient's care."
    return ""


def why_not_decline(appointment: AppointmentView) -> str:
    """Why a request cannot be declined ('' when it can)."""
    return "" if appointment.status == REQUESTED else "Only a request can be declined."


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day of `moment` in `zone`."""
    return moment.astimezone(zone).date()


def day_title(day: date, today: date) -> str:
    """'Wednesday 15 May 2025 · tomorrow'."""
    text = long_date(day)
    relative = {0: "today", 1: "tomorrow", -1: "yesterday"}.get((day - today).days)
    return f"{text} · {relative}" if relative else text


def short_when(moment: datetime, zone: ZoneInfo) -> str:
    """'Wed 15 May 09:00' in `zone`."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def long_date(day: date) -> str:
    """'Wednesday 15 May 2025'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _words(appointment: AppointmentView) -> str:
    return STATUS_WORDS.get(appointment.status, appointment.status)
