"""Booking at the desk: patient, department, doctor (or any), a free time, a reason, Book."""

import uuid
from datetime import timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.scheduling import AppointmentView, FollowUpView, FreeSlot
from hms_core.services.errors import DomainError
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import (
    fill_combo,
    select_data,
    set_status,
    set_style_property,
    styled_label,
)
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.appointments.directory import (
    Directory,
    department_items,
    doctor_items,
)
from hms_desktop.workspaces.appointments.models import day_text, slot_text
from hms_desktop.workspaces.appointments.patient_field import ChosenPatient, PatientField
from hms_desktop.workspaces.appointments.slot_picker import SlotPicker

FOLLOW_UP_LEAD = timedelta(days=3)  # show free times from a few days before a follow-up is due


class BookingPanel(QFrame):
    """Emits `booked(AppointmentView, ChosenPatient)` once the booking is in the cache."""

    booked = Signal(object, object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.directory = Directory()
        self.follow_up: FollowUpView | None = None
        self.setProperty("role", "card")
        self.setObjectName("bookingPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(styled_label("Book an appointment", "sectionTitle"))
        layout.addLayout(self._who())
        self.follow_up_label = styled_label("", "infoBox")
        self.follow_up_label.setWordWrap(True)
        self.follow_up_label.hide()
        layout.addWidget(self.follow_up_label)
        self.picker = SlotPicker(ctx)
        self.picker.slot_chosen.connect(self._show_chosen)
        layout.addWidget(self.picker, 1)
        layout.addLayout(self._what())
        layout.addLayout(self._footer())
        self._show_chosen(None)

    def _who(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        self.patient_field = PatientField(self._ctx)
        self.department_combo = QComboBox()
        self.department_combo.setToolTip("Department")
        self.doctor_combo = QComboBox()
        self.doctor_combo.setToolTip("A doctor, or any doctor of the department")
        self.department_combo.currentIndexChanged.connect(self._department_changed)
        self.doctor_combo.currentIndexChanged.connect(self._scope_changed)
        grid.addWidget(styled_label("Patient", "fieldCaption"), 0, 0)
        grid.addWidget(self.patient_field, 0, 1, 1, 3)
        grid.addWidget(styled_label("Doctor", "fieldCaption"), 1, 0)
        grid.addWidget(self.department_combo, 1, 1)
        grid.addWidget(self.doctor_combo, 1, 2, 1, 2)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 3)
        return grid

    def _what(self) -> QGridLayout:
        self.chosen_label = styled_label("", "chosenSlot")
        self.chosen_label.setWordWrap(True)
        self.picker.footer.insertWidget(0, self.chosen_label, 1)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Reason for the visit (optional)")
        self.reason_edit.setMaxLength(300)
        self.request_box = QCheckBox("Request only (doctor confirms)")
        self.book_button = QPushButton("Book")
        self.book_button.setProperty("role", "primary")
        self.book_button.setMinimumWidth(130)
        self.book_button.clicked.connect(self.submit)
        grid.addWidget(styled_label("Reason", "fieldCaption"), 0, 0)
        grid.addWidget(self.reason_edit, 0, 1, 1, 2)
        grid.addWidget(self.request_box, 1, 1)
        grid.addWidget(self.book_button, 1, 2)
        grid.setColumnStretch(1, 1)
        return grid

    def _footer(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        row.addWidget(self.status_label, 1)
        return row

    def _say(self, text: str, error: bool = False) -> None:
        set_status(self.status_label, text, error)
        self.status_label.setVisible(bool(text))

    # --- choices ----------------------------------------------------------------------------

    def set_directory(self, directory: Directory) -> None:
        """Offer these departments and doctors (keeping the current choices)."""
        first_time = self.department_combo.count() == 0
        self.directory = directory
        fill_combo(self.department_combo, department_items(directory))
        if first_time:  # start with a department where doctors see patients
            staffed = next((d.department_id for d in directory.doctors), None)
            fill_combo(self.department_combo, department_items(directory), select=staffed)
        self._department_changed()

    def choose(self, department_id: uuid.UUID | None, doctor_id: uuid.UUID | None) -> None:
        """Choose a department and a doctor (None: any doctor of the department)."""
        select_data(self.department_combo, department_id)
        self._department_changed()
        select_data(self.doctor_combo, doctor_id)
        self._scope_changed()

    def book_for(self, patient_id: uuid.UUID, follow_up: FollowUpView | None = None) -> None:
        """Start a booking for this patient, prefilled from a follow-up request if given."""
        self.follow_up = follow_up
        self.patient_field.load(patient_id, lambda m: self._say(m, True))
        self._say("")
        if follow_up is None:
            self.follow_up_label.hide()
            return
        self.choose(follow_up.department_id, follow_up.doctor_id)
        self.reason_edit.setText(follow_up.reason)
        self.follow_up_label.setText(
            f"Follow-up due {day_text(follow_up.due_date)}"
            f"{': ' + follow_up.reason if follow_up.reason else ''} "
            f"(asked by {follow_up.requested_by or 'the doctor'})"
        )
        self.follow_up_label.show()
        self.picker.show_from(follow_up.due_date - FOLLOW_UP_LEAD)

    def _department_changed(self) -> None:
        department_id = self.department_combo.currentData()
        fill_combo(self.doctor_combo, doctor_items(self.directory, department_id))
        self._scope_changed()

    def _scope_changed(self) -> None:
        department_id = self.department_combo.currentData()
        doctor_id = self.doctor_combo.currentData()
        zone = self.directory.zone(department_id, doctor_id)
        self.picker.set_scope(department_id, doctor_id, zone)

    def _show_chosen(self, slot: FreeSlot | None) -> None:
        if slot is None:
            self.chosen_label.setText("Pick a free time, or press “First available”.")
        else:
            self.chosen_label.setText("Chosen: " + slot_text(slot, self.picker.zone))
        set_style_property(self.chosen_label, "state", "" if slot is None else "chosen")

    # --- booking ----------------------------------------------------------------------------

    def submit(self) -> None:
        """Book the chosen time for the chosen patient (written to the cache off the UI thread)."""
        patient, slot = self.patient_field.patient, self.picker.selected_slot
        if patient is None or slot is None:
            missing = "the patient" if patient is None else "a free time"
            self._say(f"Nothing was booked: choose {missing} first.", True)
            return
        scheduling, reason = self._ctx.scheduling, self.reason_edit.text().strip()
        request_only = self.request_box.isChecked()
        any_doctor = self.doctor_combo.currentData() is None
        follow_up_id = self.follow_up.id if self.follow_up else None
        self.book_button.setEnabled(False)
        self._say("Booking…")
        self._ctx.write(
            self,
            lambda: scheduling.book(
                patient.id,
                slot,
                reason,
                request_only=request_only,
                follow_up_id=follow_up_id,
                department_wide=any_doctor,
            ),
            lambda view: self._booked(view, patient),
            self._failed,
        )

    def _booked(self, view: AppointmentView, patient: ChosenPatient) -> None:
        self.book_button.setEnabled(True)
        self._say("")
        self.reason_edit.clear()
        self.request_box.setChecked(False)
        self.follow_up = None
        self.follow_up_label.hide()
        self.patient_field.clear()
        self.picker.reload()
        self.booked.emit(view, patient)

    def _failed(self, exc: BaseException) -> None:
        self.book_button.setEnabled(True)
        text = describe_error(exc)
        if isinstance(exc, DomainError) and exc.detail.get("alternatives"):
            alternatives = [FreeSlot.model_validate(a) for a in exc.detail["alternatives"][:3]]
            text += " Next free: " + "; ".join(slot_text(a, self.picker.zone) for a in alternatives)
        self._say(f"Nothing was booked. {text}", error=True)
        self.picker.reload()
