"""Monitor readings no patient could be matched to: a nurse sees each monitor's group (what the
message said, how many readings, when) and gives them to the right patient.

The patient is picked from the ward's admitted patients, or found in this computer's copy of the
patient list by name, MRN or phone. The server does the assignment (audited) and tells every
station; the dialog reports the result in plain words.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.monitoring import StationBed, UnmatchedGroup
from hms_core.schemas.patients import PatientSummary
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error, local_time
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

SEARCH_DELAY_MS = 250
CHOICE_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class PatientChoice:
    """A patient the readings can be given to, as the nurse sees them in the list."""

    patient_id: uuid.UUID
    name: str  # "FAMILY, Given"
    mrn: str
    where: str = ""  # "bed ICU-02" for the ward's patients

    @property
    def text(self) -> str:
        extra = f" · {self.where}" if self.where else ""
        return f"{self.name} · MRN {self.mrn}{extra}"


def ward_choices(beds: Sequence[StationBed]) -> list[PatientChoice]:
    """The ward's admitted patients, in bed order."""
    return [
        PatientChoice(b.patient.id, _upper_family(b.patient.name), b.patient.mrn, f"bed {b.label}")
        for b in beds
        if b.patient is not None
    ]


def _upper_family(name: str) -> str:
    family, _, given = name.partition(", ")
    return f"{family.upper()}, {given}" if given else name


def monitor_name(group: UnmatchedGroup) -> str:
    return group.device_id or "unknown monitor"


def _when(group: UnmatchedGroup, first: bool) -> str:
    return local_time(group.first_at if first else group.last_at)


GROUP_COLUMNS: list[Column[UnmatchedGroup]] = [
    Column("Monitor", monitor_name),
    Column("What the message said", lambda g: g.hint or "—", tooltip=lambda g: g.hint),
    Column("Readings", lambda g: str(g.readings)),
    Column("First", lambda g: _when(g, True)),
    Column("Last", lambda g: _when(g, False)),
]


class UnmatchedDialog(QDialog):
    """Pick a monitor's group, pick a patient, assign; `assigned` carries how many moved."""

    assigned = Signal(int)

    def __init__(
        self, ctx: AppContext, beds: Sequence[StationBed] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._ward = ward_choices(beds)
        self._generation = 0
        self._busy = False
        self.setWindowTitle("Monitor readings without a patient")
        self.setMinimumSize(900, 600)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)
        self._build()
        self._show_choices(self._ward)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("Monitor readings without a patient", "dialogTitle"))
        intro = QLabel(
            "These readings came from monitors the system could not match to an admitted "
            "patient. Choose the monitor, then the patient the readings belong to.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.group_model: RecordTableModel[UnmatchedGroup] = RecordTableModel(GROUP_COLUMNS, self)
        self.group_table = make_table_view(self.group_model, self)
        header = self.group_table.horizontalHeader()
        header.setStretchLastSection(False)
        for column in range(len(GROUP_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.group_table.selectionModel().selectionChanged.connect(lambda *_: self._update())
        layout.addWidget(self.group_table, 3)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Find another patient: name, MRN or phone")
        self.search_edit.textChanged.connect(lambda _t: self._timer.start())
        self.patient_list = QListWidget(self)
        self.patient_list.setMinimumHeight(140)
        self.patient_list.currentItemChanged.connect(lambda *_: self._update())
        self.list_caption = QLabel("Patients on this ward", self)
        layout.addWidget(self.list_caption)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.patient_list, 2)

        self.summary_label = QLabel("", self)
        self.summary_label.setWordWrap(True)
        self.summary_label.setMinimumHeight(2 * self.summary_label.fontMetrics().lineSpacing() + 4)
        self.status_label = styled_label("", "statusText", self)
        self.status_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.status_label)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.load)
        self.assign_button = QPushButton("Assign to patient", self)
        self.assign_button.setProperty("role", "primary")
        self.assign_button.clicked.connect(self.assign)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.accept)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        row.addWidget(self.assign_button)
        layout.addLayout(row)
        self._update()

    # --- the groups ---------------------------------------------------------------------------

    def load(self) -> None:
        """Fetch the groups of unassigned readings from the server."""
        api = self._ctx.api
        self._ctx.run(self, api.unmatched_readings, self._groups_loaded, self._load_failed)

    def _groups_loaded(self, groups: list[UnmatchedGroup]) -> None:
        self.group_model.set_records(groups)
        if groups:
            self.group_table.selectRow(0)
        elif not self.status_label.text():
            set_status(self.status_label, "No monitor readings are waiting for a patient.")
        self._update()

    def _load_failed(self, exc: BaseException) -> None:
        set_status(self.status_label, describe_error(exc), error=True)

    def chosen_group(self) -> UnmatchedGroup | None:
        rows = self.group_table.selectionModel().selectedRows()
        return self.group_model.record(rows[0].row()) if rows else None

    # --- the patient --------------------------------------------------------------------------

    def _search(self) -> None:
        text = self.search_edit.text().strip()
        self._generation += 1
        generation = self._generation
        if len(text) < 2:
            self._show_choices(self._ward)
            return
        patients, api = self._ctx.patients, self._ctx.api
        find = patients.search_patients if patients is not None else api.search_patients
        self._ctx.run(
            self,
            lambda: find(text),
            lambda found: self._found(generation, found),
            lambda exc: set_status(self.status_label, describe_error(exc), error=True),
        )

    def _found(self, generation: int, found: list[PatientSummary]) -> None:
        if generation != self._generation:
            return
        choices = [
            PatientChoice(p.id, f"{p.family_name.upper()}, {p.given_name}", p.mrn) for p in found
        ]
        self._show_choices(choices, searched=True)
        if not found:
            set_status(self.status_label, "No patient found on this computer.")

    def _show_choices(self, choices: Sequence[PatientChoice], *, searched: bool = False) -> None:
        self.patient_list.clear()
        for choice in choices:
            item = QListWidgetItem(choice.text)
            item.setData(CHOICE_ROLE, choice)
            self.patient_list.addItem(item)
        if searched:
            self.list_caption.setText("Patients found on this computer")
        else:
            empty = "" if choices else " (none admitted; search below)"
            self.list_caption.setText(f"Patients on this ward{empty}")
        self._update()

    def chosen_patient(self) -> PatientChoice | None:
        item = self.patient_list.currentItem()
        return None if item is None else item.data(CHOICE_ROLE)

    # --- assigning ----------------------------------------------------------------------------

    def _update(self) -> None:
        group, patient = self.chosen_group(), self.chosen_patient()
        ready = group is not None and patient is not None and not self._busy
        self.assign_button.setEnabled(ready)
        if group is None or patient is None:
            self.summary_label.setText(
                "Choose a monitor above and a patient below." if self.group_model.rowCount() else ""
            )
            return
        self.summary_label.setText(
            f"{_readings(group.readings)} from {monitor_name(group)} will be given to "
            f"{patient.name} (MRN {patient.mrn}). Check the monitor is at this patient's bed."
        )

    def assign(self) -> None:
        """Give the chosen monitor's readings to the chosen patient."""
        group, patient = self.chosen_group(), self.chosen_patient()
        if group is None or patient is None or self._busy:
            return
        self._busy = True
        set_status(self.status_label, "Assigning…")
        self._update()
        api = self._ctx.api
        self._ctx.run(
            self,
            lambda: api.assign_unmatched(patient.patient_id, group.device_id, group.hint),
            lambda count: self._assigned(count, group, patient),
            self._assign_failed,
        )

    def _assigned(self, count: int, group: UnmatchedGroup, patient: PatientChoice) -> None:
        self._busy = False
        set_status(
            self.status_label,
            f"Done: {_readings(count)} from {monitor_name(group)} now belong to "
            f"{patient.name} (MRN {patient.mrn}).",
        )
        self.assigned.emit(count)
        self.load()

    def _assign_failed(self, exc: BaseException) -> None:
        self._busy = False
        set_status(
            self.status_label, f"The readings were not assigned. {describe_error(exc)}", error=True
        )
        self._update()
        self.load()  # another nurse may have assigned them meanwhile


def _readings(count: int) -> str:
    return f"{count} reading{'' if count == 1 else 's'}"
