"""The lab's worklist as a table: priority in its colour, how long the order has waited (moving
on with `tick`), the order, the patient and the test, and where the order stands."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from hms_desktop.store.lab import WorkItem

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Priority", "Waiting", "Order", "Patient", "MRN", "Age", "Test", "Status")
PRIORITY, WAITING, ORDER, PATIENT, MRN, AGE, TEST, STATUS = range(len(HEADERS))
# priority -> (ink, background)
PRIORITY_COLOURS = {
    "stat": ("#ffffff", "#b42318"),
    "urgent": ("#7a2e0e", "#fedf89"),
    "routine": ("#344054", "#f2f4f7"),
}
CRITICAL_INK = "#b42318"
STATUS_WORDS = {
    "ordered": "Ordered",
    "collected": "Specimen collected",
    "received": "In the lab",
    "resulted": "Awaiting validation",
}
IMAGING_STATUS = {"ordered": "Ordered", "received": "Patient arrived", "resulted": "Reported"}
SEX_LETTER = {"female": "F", "male": "M"}


def waiting_text(minutes: int) -> str:
    """'12 min', '3 h 05 min', '2 d 4 h'."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def status_text(item: WorkItem) -> str:
    words = IMAGING_STATUS if item.kind == "imaging" else STATUS_WORDS
    text = words.get(item.status, item.status.capitalize())
    return f"{text} · CRITICAL" if item.critical else text


class WorklistModel(QAbstractTableModel):
    """One row per open order; replace them with `set_items`, move time on with `tick`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[WorkItem] = []
        self.now = datetime.now(UTC)

    def set_items(self, items: Sequence[WorkItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.now = datetime.now(UTC)
        self.endResetModel()

    def tick(self) -> None:
        """Time moved on: the waiting column changed."""
        self.now = datetime.now(UTC)
        if self._items:
            last = len(self._items) - 1
            self.dataChanged.emit(self.index(0, WAITING), self.index(last, WAITING))

    def item(self, row: int) -> WorkItem:
        return self._items[row]

    def items(self) -> list[WorkItem]:
        return list(self._items)

    def row_of(self, order_id: Any) -> int:
        """The row of an order, or -1."""
        return next((n for n, i in enumerate(self._items) if i.order_id == order_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self._items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(item, column)
        colours = PRIORITY_COLOURS.get(item.priority, PRIORITY_COLOURS["routine"])
        if role == Qt.ItemDataRole.BackgroundRole and column == PRIORITY:
            return QBrush(QColor(colours[1]))
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == PRIORITY:
                return QBrush(QColor(colours[0]))
            if column == STATUS and item.critical:
                return QBrush(QColor(CRITICAL_INK))
        if role == Qt.ItemDataRole.FontRole and (
            column in (PRIORITY, ORDER) or (column == STATUS and item.critical)
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == PRIORITY:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == TEST and item.indication:
            return f"Indication: {item.indication}"
        return None

    def text(self, item: WorkItem, column: int) -> str:
        """The words a cell shows."""
        if column == PRIORITY:
            return item.priority.upper()
        if column == WAITING:
            return waiting_text(item.waiting_minutes(self.now))
        if column == ORDER:
            return item.number
        if column == PATIENT:
            return item.patient_name
        if column == MRN:
            return item.mrn
        if column == AGE:
            return f"{item.age_text()} {SEX_LETTER.get(item.sex, '')}".strip()
        if column == TEST:
            site = f" · {item.body_site}" if item.kind == "imaging" and item.body_site else ""
            return item.test_name + site
        return status_text(item)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None
