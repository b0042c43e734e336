"""The left column of Doctors' hours: a department, then one of its doctors."""

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHeaderView, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import DoctorOut
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import fill_combo, set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

Departments = list[tuple[uuid.UUID, str]]


class DoctorPicker(QWidget):
    """Department filter over the list of doctors; emits `doctor_chosen(DoctorOut | None)`."""

    doctor_chosen = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._names: dict[uuid.UUID, str] = {}
        self._silent = False  # selection changes made by code, not by the user
        self.department_combo = QComboBox()
        self.department_combo.addItem("All departments", None)
        self.department_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.model: RecordTableModel[DoctorOut] = RecordTableModel(
            [
                Column("Doctor", lambda d: d.display_name, tooltip=lambda d: d.grade),
                Column("Department", lambda d: self._names.get(d.department_id, "")),
            ],
            self,
        )
        self.table = make_table_view(self.model)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        self.setMinimumWidth(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        caption = styled_label("Department", "fieldCaption")
        caption.setBuddy(self.department_combo)
        layout.addWidget(caption)
        layout.addWidget(self.department_combo)
        layout.addSpacing(6)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)

    def department_name(self, department_id: uuid.UUID) -> str:
        return self._names.get(department_id, "")

    def current(self) -> DoctorOut | None:
        """The selected doctor."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def refresh(self) -> None:
        """Read departments and the chosen department's doctors from the cache."""
        scheduling = self._ctx.scheduling
        department = self.department_combo.currentData()
        self._ctx.run(
            self,
            lambda: (scheduling.departments(), scheduling.doctors(department)),
            self._show,
            lambda exc: set_status(self.status_label, describe_error(exc), error=True),
        )

    def _show(self, found: tuple[Departments, list[DoctorOut]]) -> None:
        departments, doctors = found
        self._names = dict(departments)
        self._fill_departments(departments)
        previous = self.current()
        self._silent = True
        self.model.set_records(doctors)
        self._silent = False
        wanted = previous.id if previous else None
        ids = [d.id for d in doctors]
        self.select(wanted if wanted in ids else (ids[0] if ids else None))
        set_status(self.status_label, "" if doctors else "No doctors in this department yet.")

    def _fill_departments(self, departments: Departments) -> None:
        combo = self.department_combo
        chosen = combo.currentData()
        listed = [combo.itemData(i) for i in range(1, combo.count())]
        if listed == [d for d, _ in departments]:
            return
        fill_combo(combo, [(None, "All departments"), *departments], select=chosen)

    def select(self, doctor_id: uuid.UUID | None, silent: bool = False) -> None:
        """Select a doctor by id (None: nobody); `silent` does not announce it."""
        self._silent = True
        try:
            for row, doctor in enumerate(self.model.records()):
                if doctor.id == doctor_id:
                    self.table.selectRow(row)
                    break
            else:
                self.table.clearSelection()
        finally:
            self._silent = False
        if not silent:
            self._selected()

    def _selected(self) -> None:
        if not self._silent:
            self.doctor_chosen.emit(self.current())
