"""The duplicate check dialog: is the person at the desk one of these registered patients?"""

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_core.schemas.patients import DuplicateCandidate
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import birth_text, patient_name
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

COLUMNS: list[Column[DuplicateCandidate]] = [
    Column("MRN", lambda c: c.patient.mrn),
    Column("Name", lambda c: patient_name(c.patient)),
    Column(
        "Date of birth", lambda c: birth_text(c.patient.birth_date, c.patient.birth_date_estimated)
    ),
    Column("Sex", lambda c: c.patient.sex.value.capitalize()),
    Column("Phone", lambda c: c.patient.phone or "—"),
    Column(
        "Why it matched", lambda c: "; ".join(c.reasons), tooltip=lambda c: "\n".join(c.reasons)
    ),
]


class DuplicateDialog(QDialog):
    """Lists the candidates; the user picks one (same patient) or registers a new patient."""

    same_patient = Signal(object)
    new_patient = Signal(list)

    def __init__(self, candidates: list[DuplicateCandidate], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Possible duplicate patient")
        self.setObjectName("duplicateDialog")
        self.setMinimumWidth(900)
        self.candidates = candidates
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(styled_label("This patient may already be registered", "dialogTitle"))
        intro = styled_label(
            "These registered patients look like the person you are registering. Ask the "
            "patient to confirm their details. If one of them is this patient, select it and "
            "open their record instead of registering them twice.",
            "hint",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = RecordTableModel(COLUMNS, self)
        self.model.set_records(candidates)
        self.view = make_table_view(self.model)
        self.view.setFixedHeight(min(44 + 34 * len(candidates), 280))
        self.view.resizeColumnsToContents()
        self.view.selectRow(0)
        self.view.doubleClicked.connect(lambda _index: self._choose_same())
        layout.addWidget(self.view)
        layout.addLayout(self._buttons())

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.cancel_button = QPushButton("Back to the form")
        self.cancel_button.clicked.connect(self.reject)
        self.new_button = QPushButton("New patient — register anyway")
        self.new_button.clicked.connect(self._choose_new)
        self.same_button = QPushButton("Same patient — open record")
        self.same_button.setProperty("role", "primary")
        self.same_button.setDefault(True)
        self.same_button.clicked.connect(self._choose_same)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.new_button)
        row.addWidget(self.same_button)
        return row

    def selected_candidate(self) -> DuplicateCandidate | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def _choose_same(self) -> None:
        chosen = self.selected_candidate()
        if chosen is not None:
            self.accept()
            self.same_patient.emit(chosen.patient.id)

    def _choose_new(self) -> None:
        ids: list[uuid.UUID] = [c.patient.id for c in self.candidates]
        self.accept()
        self.new_patient.emit(ids)
