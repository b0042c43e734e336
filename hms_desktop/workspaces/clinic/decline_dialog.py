"""Decline a requested appointment: the reason is required (it is kept with the appointment)."""

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.forms import styled_label

MIN_REASON = 3  # as CancelAppointment's RequiredReason


class DeclineDialog(QDialog):
    """Collects the reason; accepted means: cancel the request with it."""

    def __init__(
        self, appointment: AppointmentView, when: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("declineDialog")
        self.setWindowTitle("Decline request")
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 18)
        column.setSpacing(10)
        column.addWidget(styled_label("Decline this request?", "dialogTitle"))
        column.addWidget(
            styled_label(f"{appointment.patient_name} · MRN {appointment.mrn} · {when}", "hint")
        )
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(300)
        self.reason_edit.setMinimumWidth(400)
        self.reason_edit.setPlaceholderText("Reason (required), e.g. please see your GP first")
        self.reason_edit.textChanged.connect(self._check)
        column.addWidget(self.reason_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(
            "Decline request", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self._check("")

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _check(self, _text: str) -> None:
        ready = len(self.reason()) >= MIN_REASON
        self.ok_button.setEnabled(ready)
        self.ok_button.setToolTip("" if ready else "Give a reason of at least three characters")
