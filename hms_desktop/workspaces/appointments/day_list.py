"""The day's appointments: date navigation, department/doctor filter, actions on a row."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import QDate, QItemSelection, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import fill_combo, set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.appointments.actions import AppointmentActions
from hms_desktop.workspaces.appointments.delegates import appointment_table
from hms_desktop.workspaces.appointments.directory import (
    Directory,
    department_items,
    doctor_items,
)
from hms_desktop.workspaces.appointments.messages_panel import MessagesPanel
from hms_desktop.workspaces.appointments.models import STATUS_COLUMN, appointment_model

BOOKED = ("requested", "tentative", "confirmed")  # not yet arrived
ARRIVING = ("tentative", "confirmed")  # may be checked in or marked as not attending
CHECK_IN_OPENS = timedelta(hours=12)  # before the appointment, as the domain allows


class DayListPanel(QWidget):
    """One day's appointments; emits `patient_requested(id)` and `changed()` after a write."""

    patient_requested = Signal(object)
    changed = Signal(str, object)  # what happened, the appointment as it is now

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        self._wanted: uuid.UUID | None = None
        self.directory = Directory()
        self.actions = AppointmentActions(ctx, lambda: self.directory, self)
        self.actions.done.connect(self._done)
        self.actions.failed.connect(lambda text: set_status(self.status_label, text, True))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(self._navigation())
        layout.addLayout(self._filters())
        self.model = appointment_model()
        self.model.setParent(self)
        self.view = appointment_table(self.model)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.doubleClicked.connect(lambda _i: self._open_patient())
        layout.addWidget(self.view, 1)
        layout.addLayout(self._action_row())
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.messages = MessagesPanel(ctx)
        layout.addWidget(self.messages)
        self._on_selection()

    def _navigation(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.previous_button = QPushButton("◀")
        self.previous_button.clicked.connect(lambda: self.show_day(self.day - timedelta(days=1)))
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setMinimumWidth(140)
        self.date_edit.dateChanged.connect(lambda _d: self.reload())
        self.next_button = QPushButton("▶")
        self.next_button.clicked.connect(lambda: self.show_day(self.day + timedelta(days=1)))
        self.today_button = QPushButton("Today")
        self.today_button.clicked.connect(lambda: self.show_day(self.today()))
        for button in (self.previous_button, self.next_button):
            button.setProperty("role", "iconButton")
            button.setFixedWidth(38)
        self.department_combo = QComboBox()
        self.doctor_combo = QComboBox()
        self.department_combo.currentIndexChanged.connect(self._department_changed)
        self.doctor_combo.currentIndexChanged.connect(lambda _i: self.reload())
        for widget in (self.previous_button, self.date_edit, self.next_button, self.today_button):
            row.addWidget(widget)
        row.addStretch(1)
        self.count_label = styled_label("", "hint")
        row.addWidget(self.count_label)
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(self.today()))
        self.date_edit.blockSignals(False)
        return row

    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(styled_label("Department", "fieldCaption"))
        row.addWidget(self.department_combo, 1)
        row.addSpacing(6)
        row.addWidget(styled_label("Doctor", "fieldCaption"))
        row.addWidget(self.doctor_combo, 1)
        return row

    def _action_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        make, actions = self._action_button, self.actions
        self.check_in_button = make(row, "Check in", actions.check_in)
        self.check_in_button.setProperty("role", "primary")
        self.reschedule_button = make(row, "Reschedule…", actions.reschedule)
        self.cancel_button = make(row, "Cancel…", actions.cancel)
        self.no_show_button = make(row, "No-show", actions.no_show)
        row.addStretch(1)
        self.open_button = make(row, "Open patient", None)
        return row

    def _action_button(
        self, row: QHBoxLayout, text: str, action: Callable[[AppointmentView], None] | None
    ) -> QPushButton:
        """A button that runs `action` on the selected appointment (None: open the patient)."""
        button = QPushButton(text)
        button.setProperty("density", "compact")
        button.clicked.connect(lambda: self._act(action) if action else self._open_patient())
        row.addWidget(button)
        return button

    # --- what to show -----------------------------------------------------------------------

    @property
    def day(self) -> date:
        return self.date_edit.date().toPython()

    def today(self) -> date:
        return datetime.now(self.directory.zone()).date()

    @property
    def selected(self) -> AppointmentView | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def set_directory(self, directory: Directory) -> None:
        """Offer these departments and doctors; the first time, show today in their zone."""
        first_time = not self.directory.doctors
        self.directory = directory
        if first_time:
            self.date_edit.blockSignals(True)
            self.date_edit.setDate(QDate(self.today()))
            self.date_edit.blockSignals(False)
        fill_combo(self.department_combo, department_items(directory, "All departments"))
        self._department_changed()

    def show_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day))  # reloads

    def show_appointment(self, appointment: AppointmentView) -> None:
        """Go to the appointment's day and select it once loaded."""
        self._wanted = appointment.id
        local = appointment.starts_at.astimezone(self.model.zone).date()
        if local == self.day:
            self.reload()
        else:
            self.show_day(local)

    def reload(self) -> None:
        """Read the day's appointments from the cache, off the UI thread."""
        self._generation += 1
        generation, day = self._generation, self.day
        department_id = self.department_combo.currentData()
        doctor_id = self.doctor_combo.currentData()
        zone = self.directory.zone(department_id, doctor_id)
        scheduling = self._ctx.scheduling
        self._ctx.run(
            self,
            lambda: scheduling.day(day, zone, doctor_id=doctor_id, department_id=department_id),
            lambda found: self._show(generation, found, zone),
            lambda exc: self._failed(generation, exc),
        )

    def refresh_waiting(self) -> None:
        self.model.refresh_column(STATUS_COLUMN)

    # --- answers ----------------------------------------------------------------------------

    def _show(self, generation: int, found: list[AppointmentView], zone: object) -> None:
        if generation != self._generation:
            return
        keep = self._wanted or (self.selected.id if self.selected else None)
        self._wanted = None
        self.model.zone = zone
        self.model.set_records(found)
        self._select(keep)
        live = [a for a in found if a.status not in ("cancelled", "no_show")]
        self.count_label.setText(f"{len(live)} appointment{'s' if len(live) != 1 else ''}")

    def _select(self, appointment_id: uuid.UUID | None) -> None:
        for row, record in enumerate(self.model.records()):
            if record.id == appointment_id:
                self.view.selectRow(row)
                return
        self._on_selection()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            set_status(self.status_label, describe_error(exc), error=True)

    def _department_changed(self) -> None:
        items = doctor_items(self.directory, self.department_combo.currentData(), "All doctors")
        fill_combo(self.doctor_combo, items)
        self.reload()

    def _on_selection(self, *_args: QItemSelection) -> None:
        chosen = self.selected
        status = chosen.status if chosen else None
        arriving = chosen is not None and status in ARRIVING
        now = datetime.now(UTC)
        self.check_in_button.setEnabled(arriving and chosen.starts_at - CHECK_IN_OPENS <= now)
        self.no_show_button.setEnabled(arriving and chosen.starts_at <= now)
        self.reschedule_button.setEnabled(status in (*BOOKED, "checked_in"))
        self.cancel_button.setEnabled(status in (*BOOKED, "checked_in"))
        self.open_button.setEnabled(chosen is not None)
        self.messages.show_for(chosen.id if chosen else None, self.model.zone)

    def _act(self, action: Callable[[AppointmentView], None]) -> None:
        if self.selected is not None:
            set_status(self.status_label, "")
            action(self.selected)

    def _open_patient(self) -> None:
        if self.selected is not None:
            self.patient_requested.emit(self.selected.patient_id)

    def _done(self, message: str, view: AppointmentView) -> None:
        set_status(self.status_label, message)
        self.changed.emit(message, view)
        self.reload()
