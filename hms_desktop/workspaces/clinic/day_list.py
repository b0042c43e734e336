"""The day's list: the appointments table, or a sentence when there is nothing to show."""

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from hms_core.db.scheduling import CHECKED_IN, IN_CONSULTATION
from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.clinic.day_table import DayModel, make_day_view

SEE_FIRST = (IN_CONSULTATION, CHECKED_IN)  # what to select when nothing is yet


class DayList(QStackedWidget):
    """Keeps the chosen appointment selected across reloads; emits what is selected."""

    selection_changed = Signal(object)  # AppointmentView | None
    patient_activated = Signal(object)  # a patient's UUID (double-click or Enter on a row)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = DayModel(self)
        self.view = make_day_view(self.model)
        self.empty_label = styled_label("Loading…", "clinicEmpty")
        self.empty_label.setWordWrap(True)
        self.addWidget(self.view)
        self.addWidget(self.empty_label)
        self.chosen_id: uuid.UUID | None = None
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._on_selected())
        self.view.activated.connect(self._activate)

    def set_appointments(self, appointments: Sequence[AppointmentView], empty_text: str) -> None:
        """Show `appointments`; the chosen one stays selected, else the patient to see next."""
        if self.model.records() != list(appointments):
            self.model.set_records(appointments)
        row = self.model.row_of(self.chosen_id) if self.chosen_id else -1
        if row < 0:
            statuses = [a.status for a in appointments]
            row = next((statuses.index(s) for s in SEE_FIRST if s in statuses), -1)
        if row >= 0:
            self.view.selectRow(row)
        else:
            self.view.clearSelection()
        if appointments:
            self.setCurrentWidget(self.view)
        else:
            self.show_empty(empty_text)
        self._on_selected()

    def show_empty(self, text: str) -> None:
        """A sentence instead of the table (no appointments, nothing set up, an error)."""
        self.empty_label.setText(text)
        self.setCurrentWidget(self.empty_label)

    def selected(self) -> AppointmentView | None:
        """The appointment selected in the list."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def select(self, appointment_id: uuid.UUID) -> bool:
        """Select the row of `appointment_id`; False when it is not shown."""
        row = self.model.row_of(appointment_id)
        if row >= 0:
            self.view.selectRow(row)
        return row >= 0

    def _on_selected(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.chosen_id = chosen.id
        self.selection_changed.emit(chosen)

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            self.patient_activated.emit(self.model.record(index.row()).patient_id)
