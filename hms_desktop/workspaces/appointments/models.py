"""What appointment lists show: status chips, times in the hospital's zone, table models."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from hms_core.schemas.scheduling import AppointmentView, FollowUpView, FreeSlot
from hms_desktop.widgets.status_chip import STATUS_ROLE, status_words
from hms_desktop.widgets.tables import Column, RecordTableModel

Index = QModelIndex | QPersistentModelIndex
SECOND_LINE_ROLE = Qt.ItemDataRole.UserRole + 11
STATUS_COLUMN = 3

# status -> the desk's words on the chip (its colours are the shared `CHIP_COLOURS`)


def zone_of(name: str | None) -> ZoneInfo:
    """The named time zone, UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_text(day: date) -> str:
    """'Tue 8 Dec'."""
    return f"{day:%a} {day.day} {day:%b}"


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """'09:30' in `zone`."""
    return moment.astimezone(zone).strftime("%H:%M")


def when_text(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue 8 Dec at 09:30' in `zone`."""
    local = moment.astimezone(zone)
    return f"{day_text(local.date())} at {local:%H:%M}"


def slot_text(slot: FreeSlot, zone: ZoneInfo) -> str:
    """'Tue 8 Dec at 09:30 with Dr. X'."""
    return f"{when_text(slot.starts_at, zone)} with {slot.doctor_name}"


def waited_minutes(appointment: AppointmentView, now: datetime | None = None) -> int | None:
    """Whole minutes since a checked-in patient arrived (None when not waiting)."""
    if appointment.status != "checked_in" or appointment.checked_in_at is None:
        return None
    seconds = ((now or datetime.now(UTC)) - appointment.checked_in_at).total_seconds()
    return max(0, int(seconds // 60))


def waited_text(appointment: AppointmentView, now: datetime | None = None) -> str:
    """'8 min', '1 h 05 min', or '' when the patient is not waiting."""
    minutes = waited_minutes(appointment, now)
    if minutes is None:
        return ""
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class ZonedModel(RecordTableModel[Any]):
    """A record table whose times are shown in a zone set later; cells may have a second line."""

    def __init__(
        self,
        make_columns: Callable[["ZonedModel"], list[Column[Any]]],
        second_lines: Callable[["ZonedModel"], dict[int, Callable[[Any], str]]] | None = None,
    ) -> None:
        self.zone = ZoneInfo("UTC")
        super().__init__(make_columns(self))
        self._second_lines = second_lines(self) if second_lines else {}

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == STATUS_ROLE:
            return getattr(self.record(index.row()), "status", None)
        if role == SECOND_LINE_ROLE:
            line = self._second_lines.get(index.column())
            return line(self.record(index.row())) if line else None
        return super().data(index, role)

    def refresh_column(self, column: int) -> None:
        """Repaint one column (the waiting times) without reloading."""
        if self.rowCount():
            last = self.rowCount() - 1
            self.dataChanged.emit(self.index(0, column), self.index(last, column))


def _status_tip(a: AppointmentView) -> str:
    if a.status == "tentative":
        return "Booked on this computer; the server has not confirmed it yet."
    if a.status == "cancelled" and a.cancel_reason:
        return f"Cancelled: {a.cancel_reason}"
    if a.status == "checked_in" and a.checked_in_at is not None:
        return f"Checked in at {a.checked_in_at.astimezone():%H:%M}"
    return status_words(a.status)


def chip_words(a: AppointmentView) -> str:
    """The status chip: 'Confirmed', 'Awaiting server', or 'Waiting 12 min' once checked in."""
    waited = waited_text(a)
    return f"Waiting {waited}" if waited else status_words(a.status)


def _patient_line(record: Any) -> str:
    return f"MRN {record.mrn}"


def appointment_model() -> ZonedModel:
    """Time | patient (MRN) | doctor (reason) | status chip, the wait included."""
    return ZonedModel(
        lambda m: [
            Column("Time", lambda a: clock(a.starts_at, m.zone)),
            Column("Patient", lambda a: a.patient_name, tooltip=lambda a: a.patient_phone or ""),
            Column("Doctor · reason", lambda a: a.doctor_name, tooltip=lambda a: a.reason),
            Column("Status", chip_words, tooltip=_status_tip),
        ],
        lambda _m: {1: _patient_line, 2: lambda a: a.reason or "—"},
    )


def waiting_model() -> ZonedModel:
    """Checked-in patients: waiting time | patient (MRN) | doctor (booked time) | arrived."""
    return ZonedModel(
        lambda m: [
            Column("Waiting", waited_text),
            Column("Patient", lambda a: a.patient_name),
            Column("Doctor", lambda a: a.doctor_name),
            Column("Arrived", lambda a: clock(a.checked_in_at or a.starts_at, m.zone)),
        ],
        lambda m: {1: _patient_line, 2: lambda a: f"Booked for {clock(a.starts_at, m.zone)}"},
    )


def follow_up_model(department_name: Callable[[Any], str]) -> ZonedModel:
    """Follow-ups due: date | patient (MRN) | doctor or department (reason) | who asked."""
    columns: list[Column[FollowUpView]] = [
        Column("Due", lambda f: day_text(f.due_date)),
        Column("Patient", lambda f: f.patient_name),
        Column(
            "Doctor · reason",
            lambda f: f.doctor_name or f"Any doctor · {department_name(f.department_id)}",
            tooltip=lambda f: f.reason,
        ),
        Column("Asked by", lambda f: f.requested_by),
    ]
    return ZonedModel(
        lambda _m: columns, lambda _m: {1: _patient_line, 2: lambda f: f.reason or "—"}
    )
