"""Admit a patient to a free bed: find them in this computer's copy by name, MRN or phone."""

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.patients import PatientSummary
from hms_core.schemas.ward import BedView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error

SEARCH_DELAY_MS = 250
PATIENT_ROLE = Qt.ItemDataRole.UserRole


class AdmitDialog(QDialog):
    """Search a patient, pick a free bed, give a reason; `admit_requested` carries the choice."""

    admit_requested = Signal(object, object, str)  # patient id, bed id, reason

    def __init__(
        self,
        ctx: AppContext,
        free_beds: Sequence[BedView],
        bed_id: uuid.UUID | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        self.setWindowTitle("Admit a patient")
        self.setMinimumWidth(520)
        self._build(free_beds, bed_id)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)

    def _build(self, free_beds: Sequence[BedView], bed_id: uuid.UUID | None) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("Admit a patient", "dialogTitle"))
        form = QFormLayout()
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Name, MRN or phone")
        self.search_edit.textChanged.connect(lambda _t: self._timer.start())
        self.results = QListWidget()
        self.results.setMinimumHeight(160)
        self.results.currentItemChanged.connect(lambda *_: self._update_ok())
        self.bed_combo = QComboBox()
        for bed in free_beds:
            self.bed_combo.addItem(bed.label, bed.bed_id)
        if bed_id is not None and self.bed_combo.findData(bed_id) >= 0:
            self.bed_combo.setCurrentIndex(self.bed_combo.findData(bed_id))
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("Reason for admission")
        form.addRow("Patient", self.search_edit)
        form.addRow("", self.results)
        form.addRow("Bed", self.bed_combo)
        form.addRow("Reason", self.reason_edit)
        layout.addLayout(form)
        self.status_label = styled_label("", "hint")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Admit")
        self.buttons.accepted.connect(self._admit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if not free_beds:
            self.status_label.setText("This ward has no free bed.")
        self._update_ok()

    def _search(self) -> None:
        text = self.search_edit.text().strip()
        self._generation += 1
        generation = self._generation
        if len(text) < 2 or self._ctx.patients is None:
            self.results.clear()
            self._update_ok()
            return
        patients = self._ctx.patients
        self._ctx.run(
            self,
            lambda: patients.search_patients(text),
            lambda found: self._show(generation, found),
            lambda exc: self.status_label.setText(describe_error(exc)),
        )

    def _show(self, generation: int, found: list[PatientSummary]) -> None:
        if generation != self._generation:
            return
        self.results.clear()
        for patient in found:
            item = QListWidgetItem(
                f"{patient.family_name.upper()}, {patient.given_name} · MRN {patient.mrn}"
                f" · born {patient.birth_date.isoformat()}"
            )
            item.setData(PATIENT_ROLE, patient.id)
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(0)
        self.status_label.setText("" if found else "No patient found on this computer.")
        self._update_ok()

    def chosen_patient(self) -> uuid.UUID | None:
        item = self.results.currentItem()
        return None if item is None else item.data(PATIENT_ROLE)

    def _update_ok(self) -> None:
        ready = self.chosen_patient() is not None and self.bed_combo.currentData() is not None
        self.ok_button.setEnabled(ready)

    def _admit(self) -> None:
        patient_id, bed_id = self.chosen_patient(), self.bed_combo.currentData()
        if patient_id is None or bed_id is None:
            return
        self.admit_requested.emit(patient_id, bed_id, self.reason_edit.text().strip())
        self.accept()
