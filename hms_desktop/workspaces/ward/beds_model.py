"""The ward's beds as a table: patient, MRN, latest NEWS2 in its band colour, when charted,
and when the next set is due."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from hms_core.schemas.ward import BedView
from hms_desktop.widgets.messages import local_time
from hms_desktop.workspaces.ward import rules

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Bed", "Patient", "MRN", "NEWS2", "Last charted", "Next set due")
BED, PATIENT, MRN, NEWS2, CHARTED, DUE = range(len(HEADERS))
OVERDUE_INK = "#b42318"
FREE_INK = "#667085"


class BedsModel(QAbstractTableModel):
    """One row per bed; replace them all with `set_beds`, move time on with `tick`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._beds: list[BedView] = []
        self.now = datetime.now(UTC)

    def set_beds(self, beds: Sequence[BedView]) -> None:
        self.beginResetModel()
        self._beds = list(beds)
        self.now = datetime.now(UTC)
        self.endResetModel()

    def tick(self) -> None:
        """Time moved on: the due column may have changed."""
        self.now = datetime.now(UTC)
        if self._beds:
            self.dataChanged.emit(self.index(0, DUE), self.index(len(self._beds) - 1, DUE))

    def bed(self, row: int) -> BedView:
        return self._beds[row]

    def beds(self) -> list[BedView]:
        return list(self._beds)

    def row_of(self, bed_id: Any) -> int:
        """The row of a bed, or -1."""
        return next((n for n, b in enumerate(self._beds) if b.bed_id == bed_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._beds)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        bed, column = self._beds[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(bed, column)
        if role == Qt.ItemDataRole.BackgroundRole and column == NEWS2 and bed.has_vitals:
            return QBrush(QColor(rules.band_colours(bed.news2_total, bed.news2_band)[1]))
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._ink(bed, column)
        if role == Qt.ItemDataRole.FontRole and column in (BED, NEWS2):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == NEWS2:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == NEWS2 and bed.has_vitals:
            return "Incomplete set: no total" if bed.news2_total is None else bed.news2_band
        return None

    def _ink(self, bed: BedView, column: int) -> QBrush | None:
        if bed.patient_id is None and column == PATIENT:
            return QBrush(QColor(FREE_INK))
        if column == NEWS2 and bed.has_vitals:
            return QBrush(QColor(rules.band_colours(bed.news2_total, bed.news2_band)[0]))
        if column == DUE and rules.is_overdue(bed, self.now):
            return QBrush(QColor(OVERDUE_INK))
        return None

    def text(self, bed: BedView, column: int) -> str:
        """The words a cell shows."""
        if column == BED:
            return bed.label
        if column == PATIENT:
            return bed.patient_name or "Free"
        if column == MRN:
            return bed.mrn
        if column == NEWS2:
            if not bed.has_vitals:
                return ""
            return rules.score_text(bed.news2_total, bed.news2_band) or "incomplete"
        if column == CHARTED:
            return local_time(bed.last_taken_at) if bed.last_taken_at else ""
        return rules.due_text(bed, self.now)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None
