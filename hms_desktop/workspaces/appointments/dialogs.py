"""Dialogs on one appointment: cancel it (with a reason) or move it to another free time."""

from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from hms_core.schemas.scheduling import AppointmentView, FreeSlot
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import fill_combo, select_data, set_style_property, styled_label
from hms_desktop.widgets.reason_dialog import ConfirmDialog, ReasonDialog
from hms_desktop.workspaces.appointments.directory import (
    Directory,
    doctor_items,
)
from hms_desktop.workspaces.appointments.models import slot_text, when_text
from hms_desktop.workspaces.appointments.slot_picker import SlotPicker


def summary(appointment: AppointmentView, zone: ZoneInfo) -> str:
    """'Amara Diallo (MRN 10000017) with Dr. X, Tue 8 Dec at 09:30'."""
    return (
        f"{appointment.patient_name} (MRN {appointment.mrn}) with {appointment.doctor_name}, "
        f"{when_text(appointment.starts_at, zone)}"
    )


def cancel_dialog(appointment: AppointmentView, zone: ZoneInfo, parent: QWidget) -> ReasonDialog:
    """Asks why the appointment is cancelled; the reason is required."""
    return ReasonDialog(
        "Cancel the appointment",
        summary(appointment, zone),
        confirm="Cancel appointment",
        keep="Keep the appointment",
        placeholder="Why? e.g. “patient called: feels better”",
        missing="Give the reason for cancelling (a few words).",
        caption="Reason (required)",
        parent=parent,
    )


class RescheduleDialog(ConfirmDialog):
    """A slot picker over the appointment's department; the chosen free time is `slot`."""

    def __init__(
        self,
        ctx: AppContext,
        appointment: AppointmentView,
        directory: Directory,
        parent: QWidget,
    ) -> None:
        zone = directory.zone(appointment.department_id, appointment.doctor_id)
        super().__init__(
            "Move the appointment", "Now: " + summary(appointment, zone), "Move appointment", parent
        )
        self.appointment, self._directory = appointment, directory
        self.doctor_combo = QComboBox()
        fill_combo(
            self.doctor_combo,
            doctor_items(directory, appointment.department_id, "Any doctor of the department"),
            keep=False,
        )
        select_data(self.doctor_combo, appointment.doctor_id)
        self.doctor_combo.currentIndexChanged.connect(self._scope_changed)
        self.picker = SlotPicker(ctx)
        self.picker.slot_chosen.connect(self._chosen)
        self.chosen_label = styled_label("Pick the new time.", "chosenSlot")
        self.chosen_label.setWordWrap(True)
        self.picker.footer.insertWidget(0, self.chosen_label, 1)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Optional, e.g. “patient asked for the afternoon”")
        self.reason_edit.setMaxLength(300)
        self.body.addWidget(styled_label("Doctor", "fieldCaption"))
        self.body.addWidget(self.doctor_combo)
        self.body.addWidget(self.picker, 1)
        self.body.addWidget(styled_label("Why it moves", "fieldCaption"))
        self.body.addWidget(self.reason_edit)
        self.finish_layout()
        self.resize(760, 620)
        self._scope_changed()

    @property
    def slot(self) -> FreeSlot | None:
        return self.picker.selected_slot

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def problem(self) -> str:
        return "" if self.slot is not None else "Choose the new time first."

    def _scope_changed(self) -> None:
        doctor_id = self.doctor_combo.currentData()
        zone = self._directory.zone(self.appointment.department_id, doctor_id)
        self.picker.set_scope(self.appointment.department_id, doctor_id, zone)

    def _chosen(self, slot: FreeSlot | None) -> None:
        if slot is not None:
            self.error_label.clear()
        text = "Pick the new time." if slot is None else "New: " + slot_text(slot, self.picker.zone)
        self.chosen_label.setText(text)
        set_style_property(self.chosen_label, "state", "" if slot is None else "chosen")
