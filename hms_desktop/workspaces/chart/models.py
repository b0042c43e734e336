"""The chart's tables: columns of the record lists, and the cumulative lab table (analytes by
day, abnormal values coloured and marked H/L, critical ones marked and filled red)."""

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from hms_desktop.store.chart import (
    DocumentLine,
    EncounterLine,
    ImmunizationLine,
    LabAnalyte,
    LabPoint,
    LabTable,
    MedicationLine,
    ProblemLine,
    ProcedureLine,
)
from hms_desktop.widgets.tables import Column

Index = QModelIndex | QPersistentModelIndex
CRITICAL = {"LL", "HH"}
MARKS = {"H": "H", "L": "L", "HH": "HH!", "LL": "LL!", "A": "A"}
HIGH_TEXT, LOW_TEXT, CRITICAL_FILL = QColor("#b42318"), QColor("#175cd3"), QColor("#b42318")


def when(value: datetime | None) -> str:
    """A date (and time when it has one) as the chart shows it."""
    if value is None:
        return ""
    local = value.astimezone()
    return local.strftime("%d %b %Y %H:%M") if (local.hour, local.minute) != (0, 0) else day(value)


def day(value: Any) -> str:  # noqa: ANN401 - a date or datetime
    return "" if value is None else value.strftime("%d %b %Y")


def _status(problem: ProblemLine) -> str:
    resolved = f" ({day(problem.resolved)})" if problem.resolved else ""
    return problem.clinical_status + resolved


PROBLEM_COLUMNS: list[Column[ProblemLine]] = [
    Column("Problem or diagnosis", lambda p: p.display or p.code),
    Column("Code", lambda p: p.code),
    Column("Status", _status),
    Column("Since", lambda p: day(p.onset)),
]
MEDICATION_COLUMNS: list[Column[MedicationLine]] = [
    Column("Medicine", lambda m: " ".join(x for x in (m.drug_name, m.strength, m.form) if x)),
    Column("Dosage", lambda m: m.dosage, lambda m: m.instructions),
    Column("Status", lambda m: m.status),
    Column("Prescribed", lambda m: day(m.prescribed_at)),
    Column("By", lambda m: m.prescriber),
]
ENCOUNTER_COLUMNS: list[Column[EncounterLine]] = [
    Column("Date", lambda e: when(e.started_at)),
    Column("Class", lambda e: e.encounter_class),
    Column("Reason", lambda e: e.reason or e.type_display),
    Column("Clinician", lambda e: e.clinician),
    Column("What happened", lambda e: e.happened),
]
PROCEDURE_COLUMNS: list[Column[ProcedureLine]] = [
    Column("Date", lambda p: day(p.performed_at)),
    Column("Procedure", lambda p: p.display or p.code),
    Column("Code", lambda p: p.code),
    Column("By", lambda p: p.performer),
]
IMMUNIZATION_COLUMNS: list[Column[ImmunizationLine]] = [
    Column("Date", lambda i: day(i.given_at)),
    Column("Vaccine", lambda i: i.display or i.code),
    Column("Status", lambda i: i.status),
]
DOCUMENT_COLUMNS: list[Column[DocumentLine]] = [
    Column("Date", lambda d: day(d.written_at)),
    Column("Title", lambda d: d.title),
    Column("Author", lambda d: d.author),
]


def cell_text(point: LabPoint) -> str:
    """ "7.9 H", "2.1 LL!" or "5.0"."""
    mark = MARKS.get(point.flag, "")
    return f"{point.text} {mark}".strip()


def range_text(analyte: LabAnalyte) -> str:
    low, high = analyte.ref_low, analyte.ref_high
    if low is None and high is None:
        return ""
    if low is None:
        return f"< {high:g}"
    if high is None:
        return f"> {low:g}"
    return f"{low:g}–{high:g}"


class LabTableModel(QAbstractTableModel):
    """Rows are analytes (named in the row header), columns are days, newest first."""

    def __init__(self, parent: Any = None) -> None:  # noqa: ANN401
        super().__init__(parent)
        self._table = LabTable()

    def set_table(self, table: LabTable) -> None:
        self.beginResetModel()
        self._table = table
        self.endResetModel()

    def analyte(self, row: int) -> LabAnalyte:
        return self._table.analytes[row]

    def row_of(self, code: str) -> int:
        return next((n for n, a in enumerate(self._table.analytes) if a.code == code), -1)

    def point(self, row: int, column: int) -> LabPoint | None:
        return self._table.analytes[row].by_day.get(self._table.days[column])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._table.analytes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._table.days)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: ANN401
        if not index.isValid():
            return None
        point = self.point(index.row(), index.column())
        if point is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(point)
        if role == Qt.ItemDataRole.ForegroundRole:
            return _foreground(point.flag)
        if role == Qt.ItemDataRole.BackgroundRole and point.flag in CRITICAL:
            return QBrush(CRITICAL_FILL)
        if role == Qt.ItemDataRole.FontRole and point.flag not in ("", "N"):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{when(point.at)}: {cell_text(point)}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: ANN401
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return day(self._table.days[section])
            analyte = self._table.analytes[section]
            unit = f" ({analyte.unit})" if analyte.unit else ""
            reference = range_text(analyte)
            return f"{analyte.name}{unit}" + (f"  [{reference}]" if reference else "")
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Vertical:
            analyte = self._table.analytes[section]
            return f"LOINC {analyte.code} · {len(analyte.points)} results"
        return None


def _foreground(flag: str) -> QBrush | None:
    if flag in CRITICAL:
        return QBrush(QColor("#ffffff"))
    if flag == "H":
        return QBrush(HIGH_TEXT)
    if flag == "L":
        return QBrush(LOW_TEXT)
    return None
