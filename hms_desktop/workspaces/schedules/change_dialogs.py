"""Dialogs that add leave or an extra session for a doctor, in the doctor's time zone."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.errors import field_errors
from hms_core.schemas.scheduling import AddAvailabilityChange, DoctorOut
from hms_core.services.errors import DomainError
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import FieldRow, FormSection, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.schedules.covered import span
from hms_desktop.workspaces.schedules.session_form import date_edit, minutes_spin, time_edit
from hms_desktop.workspaces.schedules.week import zone_of


def pair(*widgets: QWidget) -> QWidget:
    """Widgets side by side in one form field."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget)
    row.addStretch(1)
    return box


class ChangeDialog(QDialog):
    """What leave and extra sessions share: reason, errors, buttons.

    Emits `added(sentence, warning)` once the change is recorded on this PC.
    """

    added = Signal(str, str)
    kind = "leave"

    def __init__(self, ctx: AppContext, doctor: DoctorOut, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self._ctx, self.doctor, self.zone = ctx, doctor, zone_of(doctor.timezone)
        self.setWindowTitle(title)
        self.tomorrow = datetime.now(self.zone).date() + timedelta(days=1)
        self.section = FormSection(f"{title} — {doctor.display_name}")
        self.rows: dict[str, FieldRow] = {}
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Optional, e.g. annual leave, conference")
        self.reason_edit.setMinimumWidth(320)
        self.error_box = styled_label("", "errorBox")
        self.error_box.setWordWrap(True)
        self.error_box.hide()
        self.cancel_button = QPushButton("Cancel")
        self.save_button = QPushButton(title)
        self.save_button.setProperty("role", "primary")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button.clicked.connect(self.submit)

    def _finish_layout(self, *extra: QWidget) -> None:
        self.rows["reason"] = self.section.add_row("Reason", self.reason_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(12)
        zone = styled_label(f"Times are in {self.zone.key}, the doctor's time zone.", "hint")
        for widget in (self.section, zone, *extra, self.error_box):
            layout.addWidget(widget)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

    def local(self, day: date, clock: time) -> datetime:
        """A wall-clock moment in the doctor's zone, as UTC."""
        return datetime.combine(day, clock, self.zone).astimezone(UTC)

    def period(self) -> tuple[datetime, datetime]:
        raise NotImplementedError

    def slot_minutes(self) -> int | None:
        return None

    def change(self) -> AddAvailabilityChange:
        """The change as entered; raises ValidationError with plain-words messages."""
        starts_at, ends_at = self.period()
        args: dict[str, Any] = {"doctor_id": self.doctor.id, "kind": self.kind}
        args |= {"starts_at": starts_at, "ends_at": ends_at, "reason": self.reason_edit.text()}
        return AddAvailabilityChange.model_validate(args | {"slot_minutes": self.slot_minutes()})

    def submit(self) -> None:
        """Validate, then record the change on this PC (sync sends it to the server)."""
        self._clear_errors()
        try:
            change = self.change()
        except ValidationError as exc:
            self._show_validation(exc)
            return
        self.save_button.setEnabled(False)
        record, scheduling, zone = self.record, self._ctx.scheduling, self.zone
        self._ctx.write(
            self,
            lambda: record(scheduling, zone, change),
            lambda result: self._done(change, result),
            self._failed,
        )

    @staticmethod
    def record(scheduling: LocalScheduling, zone: ZoneInfo, change: AddAvailabilityChange) -> Any:
        """Store the change (off the UI thread); returns what `warning` needs."""
        scheduling.add_change(
            change.doctor_id,
            change.kind.value,
            change.starts_at,
            change.ends_at,
            change.reason,
            change.slot_minutes,
        )
        return None

    def _done(self, change: AddAvailabilityChange, result: Any) -> None:
        self.added.emit(self.done_sentence(change), self.warning(result))
        self.accept()

    def done_sentence(self, change: AddAvailabilityChange) -> str:
        first, last = span(change.starts_at, change.ends_at, self.zone)
        what = "leave" if self.kind == "leave" else "an extra session"
        return f"Added {what}: {first} to {last}. It is being sent to the server."

    def warning(self, result: Any) -> str:
        """What the administrator must know about the change just recorded."""
        return ""

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show_validation(exc)
        elif isinstance(exc, DomainError) and exc.fields:
            for name, message in exc.fields.items():
                self._show_field("ends" if name not in self.rows else name, message)
            self._show_general(exc.message)
        else:
            self._show_general(describe_error(exc))

    def _show_validation(self, exc: ValidationError) -> None:
        for friendly in field_errors(exc):
            name = friendly.field if friendly.field in self.rows else "ends"
            self._show_field(name, friendly.message)

    def _show_field(self, name: str, message: str) -> None:
        row = self.rows[name]
        if not row.has_error:
            row.show_error(message[:1].upper() + message[1:])

    def _show_general(self, text: str) -> None:
        self.error_box.setText(text)
        self.error_box.setVisible(bool(text))

    def _clear_errors(self) -> None:
        for row in self.rows.values():
            row.clear_error()
        self._show_general("")


class ExtraSessionDialog(ChangeDialog):
    """A one-off session on one day: hours and slot length."""

    kind = "extra"

    def __init__(self, ctx: AppContext, doctor: DoctorOut, parent: QWidget) -> None:
        super().__init__(ctx, doctor, "Add extra session", parent)
        self.day_edit: QDateEdit = date_edit()
        self.day_edit.setDate(QDate(self.tomorrow))
        self.from_time, self.until_time = time_edit(), time_edit()
        self.from_time.setTime(QTime(9, 0))
        self.until_time.setTime(QTime(13, 0))
        self.slot_spin = minutes_spin()
        self.slot_spin.setValue(15)
        self.rows["starts"] = self.section.add_row("Date", self.day_edit)
        hours = pair(self.from_time, styled_label("to", "fieldCaption"), self.until_time)
        self.rows["ends"] = self.section.add_row("Hours", hours)
        self.rows["slot_minutes"] = self.section.add_row("Slot length", pair(self.slot_spin))
        self._finish_layout()

    def period(self) -> tuple[datetime, datetime]:
        day = self.day_edit.date().toPython()
        return (
            self.local(day, self.from_time.time().toPython()),
            self.local(day, self.until_time.time().toPython()),
        )

    def slot_minutes(self) -> int | None:
        return self.slot_spin.value()
