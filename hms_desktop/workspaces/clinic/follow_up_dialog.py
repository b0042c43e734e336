"""Ask for a follow-up visit in N days: a days spin box with quick choices and a reason."""

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.clinic.rules import long_date

QUICK_DAYS = (7, 14, 30, 90)
MIN_DAYS, MAX_DAYS = 1, 730


class FollowUpDialog(QDialog):
    """Collects `days` and `reason`; accepted means: ask reception to book the visit."""

    def __init__(self, appointment: AppointmentView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUpDialog")
        self.setWindowTitle("Ask for a follow-up")
        self.appointment = appointment
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 18)
        column.setSpacing(12)
        column.addWidget(styled_label("Ask for a follow-up visit", "dialogTitle"))
        column.addWidget(
            styled_label(f"{appointment.patient_name} · MRN {appointment.mrn}", "hint")
        )
        column.addLayout(self._form())
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(
            "Ask for follow-up", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setProperty("role", "primary")
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self.set_days(14)
        self.days_spin.setFocus()

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.days_spin = QSpinBox()
        self.days_spin.setRange(MIN_DAYS, MAX_DAYS)
        self.days_spin.setSuffix(" days")
        self.days_spin.setMinimumWidth(110)
        self.days_spin.setObjectName("followUpDays")
        self.days_spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.days_spin.lineEdit().setTextMargins(7, 0, 0, 0)  # the style sheet zeroes its padding
        self.days_spin.setToolTip("1 to 730 days; the arrow keys change it by one")
        self.days_spin.valueChanged.connect(self._show_due)
        form.addRow(styled_label("See again in", "fieldCaption"), self._days_row())
        self.due_label = styled_label("", "clinicDue")
        form.addRow(styled_label("Due around", "fieldCaption"), self.due_label)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(300)
        self.reason_edit.setMinimumWidth(360)
        self.reason_edit.setPlaceholderText("e.g. review blood results, check blood pressure")
        form.addRow(styled_label("Reason", "fieldCaption"), self.reason_edit)
        return form

    def _days_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.days_spin)
        self.quick_buttons: dict[int, QPushButton] = {}
        for days in QUICK_DAYS:
            button = QPushButton(f"{days} d")
            button.setToolTip(f"In {days} days ({long_date(self.due_date(days))})")
            button.setProperty("role", "quickChoice")
            button.setCheckable(True)
            button.clicked.connect(lambda _c=False, d=days: self.set_days(d))
            row.addWidget(button)
            self.quick_buttons[days] = button
        row.addStretch(1)
        return row

    @staticmethod
    def due_date(days: int, today: date | None = None) -> date:
        """The day the visit is due if asked today (as the store computes it)."""
        return (today or date.today()) + timedelta(days=days)

    def set_days(self, days: int) -> None:
        """Put `days` in the spin box (the quick buttons do this)."""
        self.days_spin.setValue(days)
        self._show_due(days)

    def days(self) -> int:
        return self.days_spin.value()

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _show_due(self, days: int) -> None:
        self.days_spin.setSuffix(" day" if days == 1 else " days")
        self.due_label.setText(long_date(self.due_date(days)))
        for value, button in self.quick_buttons.items():
            button.setChecked(value == days)
