"""The patient of a booking: type-ahead search over the cache, then the chosen patient's card."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QStackedWidget, QWidget

from hms_core.schemas.patients import PatientOut, PatientSummary
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.patient_search import PatientSearchBox


@dataclass(frozen=True)
class ChosenPatient:
    """Who is being booked: enough to book and to say so."""

    id: uuid.UUID
    name: str
    mrn: str

    @classmethod
    def of(cls, patient: PatientSummary | PatientOut) -> "ChosenPatient":
        return cls(patient.id, f"{patient.given_name} {patient.family_name}", patient.mrn)


class PatientField(QStackedWidget):
    """A search box until a patient is chosen; then their name and MRN with "Change"."""

    changed = Signal(object)  # ChosenPatient | None

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.patient: ChosenPatient | None = None
        self.search_box = PatientSearchBox(ctx)
        self.search_box.setObjectName("bookingPatientSearch")
        self.search_box.setPlaceholderText("Find the patient: MRN, name or phone…")
        self.search_box.patient_chosen.connect(lambda p: self.set_patient(ChosenPatient.of(p)))
        self.addWidget(self.search_box)
        self.addWidget(self._card())
        self.setFixedHeight(self.search_box.sizeHint().height() + 6)

    def _card(self) -> QFrame:
        card = QFrame()
        card.setObjectName("chosenPatient")
        row = QHBoxLayout(card)
        row.setContentsMargins(10, 4, 4, 4)
        self.name_label = styled_label("", "chosenName")
        self.mrn_label = styled_label("", "chosenMrn")
        self.change_button = QPushButton("Change")
        self.change_button.setProperty("role", "link")
        self.change_button.clicked.connect(self.clear)
        row.addWidget(self.name_label)
        row.addWidget(self.mrn_label, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addStretch(1)
        row.addWidget(self.change_button)
        return card

    def set_patient(self, patient: ChosenPatient | None) -> None:
        """Show `patient` as chosen (None: back to searching)."""
        self.patient = patient
        if patient is None:
            self.setCurrentWidget(self.search_box)
            self.search_box.setFocus()
        else:
            self.name_label.setText(patient.name)
            self.mrn_label.setText(f"MRN {patient.mrn}")
            self.setCurrentIndex(1)
        self.changed.emit(patient)

    def clear(self) -> None:
        self.set_patient(None)

    def load(self, patient_id: uuid.UUID, on_error: Callable[[str], None]) -> None:
        """Choose the patient with this id (read from the cache off the UI thread)."""
        patients = self._ctx.patients
        self._ctx.run(
            self,
            lambda: patients.get_patient(patient_id),
            lambda found: self.set_patient(ChosenPatient.of(found)),
            lambda exc: on_error(describe_error(exc)),
        )
