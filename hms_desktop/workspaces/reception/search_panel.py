"""The patient search list: a search field over a table of matching patients."""

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.patients import PatientSummary
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import birth_text, describe_error
from hms_desktop.widgets.patient_search import DEBOUNCE_MS, MIN_QUERY_LENGTH, mrn_hint
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

SEARCH_LIMIT = 100

COLUMNS: list[Column[PatientSummary]] = [
    Column("MRN", lambda p: p.mrn),
    Column("Family name", lambda p: p.family_name.upper()),
    Column("Given name", lambda p: p.given_name),
    Column("Date of birth", lambda p: birth_text(p.birth_date, p.birth_date_estimated)),
    Column("Sex", lambda p: p.sex.value.capitalize()),
    Column("Phone", lambda p: p.phone or "—"),
]


class PatientSearchPanel(QWidget):
    """Find patients by MRN, name fragments or phone; activate a row to open the record."""

    patient_activated = Signal(object)
    register_requested = Signal()
    results_shown = Signal(int)

    def __init__(
        self, ctx: AppContext, title: str, can_register: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.setSpacing(12)
        layout.addLayout(self._header(title, can_register))
        self.query_edit = QLineEdit()
        self.query_edit.setObjectName("bigSearch")
        self.query_edit.setPlaceholderText("MRN, name (any order, e.g. “smi jo”) or phone number")
        self.query_edit.setClearButtonEnabled(True)
        self.query_edit.textEdited.connect(self._on_edited)
        self.query_edit.returnPressed.connect(self.search_now)
        layout.addWidget(self.query_edit)
        self.status_label = styled_label("Type at least two characters to search.", "statusText")
        layout.addWidget(self.status_label)
        self.model: RecordTableModel[PatientSummary] = RecordTableModel(COLUMNS, self)
        self.view = make_table_view(self.model)
        self.view.activated.connect(self._activate)
        self.view.doubleClicked.connect(self._activate)
        header = self.view.horizontalHeader()
        for column, width in enumerate((110, 170, 170, 170, 90)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.view, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)

    def _header(self, title: str, can_register: bool) -> QHBoxLayout:
        row = QHBoxLayout()
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(styled_label(title, "pageTitle"))
        column.addWidget(styled_label("Find a patient by MRN, name or phone number.", "hint"))
        row.addLayout(column, 1)
        self.register_button = QPushButton("Register new patient")
        self.register_button.setProperty("role", "primary")
        self.register_button.setVisible(can_register)
        self.register_button.clicked.connect(self.register_requested)
        row.addWidget(self.register_button)
        return row

    def search(self, query: str) -> None:
        """Put `query` in the field and search at once."""
        self.query_edit.setText(query)
        self.search_now()

    def search_now(self) -> None:
        """Run the search for the current text off the UI thread."""
        self._timer.stop()
        self._generation += 1
        query = self.query_edit.text().strip()
        hint = mrn_hint(query)
        if len(query) < MIN_QUERY_LENGTH:
            set_status(self.status_label, "Type at least two characters to search.")
            return
        generation = self._generation
        set_status(self.status_label, "Searching…")
        self._ctx.run(
            self,
            lambda: self._ctx.patients.search_patients(query, limit=SEARCH_LIMIT),
            lambda found: self._show(generation, found, hint),
            lambda exc: self._failed(generation, exc),
        )

    def _on_edited(self, text: str) -> None:
        hint = mrn_hint(text)
        if hint:
            set_status(self.status_label, hint, error=True)
        self._timer.start()

    def _show(self, generation: int, found: list[PatientSummary], hint: str | None) -> None:
        if generation != self._generation:
            return
        self.model.set_records(found)
        if hint:
            set_status(self.status_label, hint, error=True)
        elif found:
            more = (
                " (showing the first ones; refine the search)" if len(found) >= SEARCH_LIMIT else ""
            )
            noun = "patient" if len(found) == 1 else "patients"
            set_status(self.status_label, f"{len(found)} {noun} found{more}.")
        else:
            set_status(self.status_label, "No patient matches this search.")
        self.results_shown.emit(len(found))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            set_status(self.status_label, describe_error(exc), error=True)

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            self.patient_activated.emit(self.model.record(index.row()))
