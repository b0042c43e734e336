"""The selected appointment: who, when, why, how far it has got, and what the doctor can do."""

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.forms import set_style_property, styled_label
from hms_desktop.workspaces.clinic import rules

NOTHING_SELECTED = "Select an appointment in the list first."
HELP = {
    "confirm": "Confirm the patient's request for this time",
    "start": "Call the patient in and start the consultation",
    "complete": "Mark the visit as completed",
    "follow_up": "Ask reception to book this patient again in a number of days",
    "history": "Open the patient's record and earlier visits",
}


class AppointmentPanel(QFrame):
    """Details and action buttons of one appointment; each action emits the appointment."""

    confirm_clicked = Signal(object)
    start_clicked = Signal(object)
    complete_clicked = Signal(object)
    follow_up_clicked = Signal(object)
    history_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setObjectName("clinicAppointment")
        self.appointment: AppointmentView | None = None
        self.follow_up_blocked = ""  # why this user cannot ask for follow-ups at all, if so
        self.zone = ZoneInfo("UTC")
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 16, 20, 16)
        column.setSpacing(6)
        column.addWidget(styled_label("Selected appointment", "sectionTitle"))
        column.addLayout(self._patient_row())
        self.when_label = styled_label("", "hint")
        self.reason_label = styled_label("", "clinicReason")
        self.reason_label.setWordWrap(True)
        self.state_label = styled_label("", "clinicState")
        self.history_label = styled_label("", "hint")
        self.history_label.setWordWrap(True)
        for label in (self.when_label, self.reason_label, self.state_label, self.history_label):
            column.addWidget(label)
        column.addSpacing(8)
        column.addLayout(self._buttons())
        column.addStretch(1)
        self.show_appointment(None)

    def _patient_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(10)
        self.name_label = styled_label("", "clinicPatient")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mrn_label = styled_label("", "clinicMrn")
        self.mrn_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mrn_label.setToolTip("Medical record number")
        row.addWidget(self.name_label)
        row.addWidget(self.mrn_label)
        row.addStretch(1)
        return row

    def _buttons(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(8)
        self.confirm_button = QPushButton("Confirm request")
        self.start_button = QPushButton("Start consultation")
        self.complete_button = QPushButton("Complete visit")
        self.history_button = QPushButton("Open history")
        self.follow_up_button = QPushButton("Ask for a follow-up in N days…")
        self._actions: dict[QPushButton, tuple[str, Signal, Callable[[AppointmentView], str]]] = {
            self.confirm_button: ("confirm", self.confirm_clicked, rules.why_not_confirm),
            self.start_button: ("start", self.start_clicked, self._why_not_start),
            self.complete_button: ("complete", self.complete_clicked, rules.why_not_complete),
            self.history_button: ("history", self.history_clicked, lambda _a: ""),
            self.follow_up_button: ("follow_up", self.follow_up_clicked, self._why_not_follow_up),
        }
        for position, (button, (_key, signal, _why)) in enumerate(self._actions.items()):
            button.clicked.connect(lambda _c=False, s=signal: self._emit(s))
            grid.addWidget(button, position // 2, position % 2, 1, 2 if position == 4 else 1)
        return grid

    def _emit(self, signal: Signal) -> None:
        if self.appointment is not None:
            signal.emit(self.appointment)  # type: ignore[attr-defined]

    def _why_not_start(self, appointment: AppointmentView) -> str:
        return rules.why_not_start(appointment, datetime.now(UTC))

    def _why_not_follow_up(self, appointment: AppointmentView) -> str:
        return self.follow_up_blocked or rules.why_not_follow_up(appointment)

    def show_appointment(self, appointment: AppointmentView | None) -> None:
        """Show `appointment` (None: nothing selected) and which actions apply to it."""
        previous = self.appointment
        self.appointment = appointment
        if appointment is None or previous is None or previous.id != appointment.id:
            self.history_label.clear()
        if appointment is None:
            self.name_label.setText("No appointment selected")
            for label in (self.mrn_label, self.when_label, self.reason_label, self.state_label):
                label.clear()
            self.mrn_label.hide()
        else:
            self._fill(appointment)
        self.refresh()

    def _fill(self, appointment: AppointmentView) -> None:
        start = appointment.starts_at.astimezone(self.zone)
        end = appointment.ends_at.astimezone(self.zone)
        self.name_label.setText(appointment.patient_name)
        self.mrn_label.setText(appointment.mrn)
        self.mrn_label.show()
        self.when_label.setText(f"{rules.long_date(start.date())}, {start:%H:%M}–{end:%H:%M}")
        self.reason_label.setText(f"Reason: {appointment.reason}" if appointment.reason else "")
        self.reason_label.setVisible(bool(appointment.reason))

    def refresh(self) -> None:
        """Re-evaluate the state line and the buttons (the clock moved, or the row changed)."""
        appointment = self.appointment
        self.state_label.setText(self._state_text(appointment) if appointment else "")
        primary_given = False
        for button, (key, _signal, why_not) in self._actions.items():
            reason = NOTHING_SELECTED if appointment is None else why_not(appointment)
            button.setEnabled(not reason)
            button.setToolTip(reason or HELP[key])
            primary = not reason and not primary_given and key in ("confirm", "start", "complete")
            primary_given = primary_given or primary
            if (button.property("role") == "primary") != primary:
                set_style_property(button, "role", "primary" if primary else "")

    def _state_text(self, appointment: AppointmentView) -> str:
        text = rules.status_text(appointment.status)
        waited = rules.waiting_for(appointment, datetime.now(UTC))
        if waited is not None:
            text += f" — waiting {rules.duration_text(waited)}"
        if appointment.cancel_reason:
            text += f" — {appointment.cancel_reason}"
        return text

    def show_history(self, text: str) -> None:
        """The line about the patient's earlier visits."""
        self.history_label.setText(text)
