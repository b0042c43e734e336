"""The table of a doctor's weekly sessions being edited, with each row's problem tinted red."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from hms_desktop.widgets.tables import Column, Index, RecordTableModel
from hms_desktop.workspaces.schedules.week import DAY_NAMES, Problem, SessionRow

PROBLEM_TINT = QColor("#fde8e6")


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _break(row: SessionRow) -> str:
    if row.break_start is None or row.break_end is None:
        return "—"
    return f"{row.break_start:%H:%M}–{row.break_end:%H:%M}"


COLUMNS: list[Column[SessionRow]] = [
    Column("Day", lambda r: DAY_NAMES[r.weekday]),
    Column("From", lambda r: f"{r.start:%H:%M}"),
    Column("To", lambda r: f"{r.end:%H:%M}"),
    Column("Slot length", lambda r: f"{r.slot_minutes} min"),
    Column("Break", _break),
    Column("Valid from", lambda r: _day(r.valid_from)),
    Column("Valid until", lambda r: _day(r.valid_until)),
]
COLUMN_WIDTHS = (120, 70, 70, 100, 120, 110)


class SessionTableModel(RecordTableModel[SessionRow]):
    """Weekly sessions; `changed` is emitted whenever the rows themselves change."""

    changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COLUMNS, parent)
        self._problems: dict[int, Problem] = {}

    def set_records(self, records: Sequence[SessionRow]) -> None:
        """Show `records` instead of the current rows."""
        super().set_records(records)
        self.changed.emit()

    def replace_row(self, row: int, record: SessionRow) -> None:
        """Put `record` in place of row `row`."""
        if self._records[row] == record:
            return
        self._records[row] = record
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        self.changed.emit()

    def append(self, record: SessionRow) -> int:
        """Add a row at the end; returns its number."""
        row = len(self._records)
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.append(record)
        self.endInsertRows()
        self.changed.emit()
        return row

    def remove(self, row: int) -> None:
        """Take row `row` out."""
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._records[row]
        self.endRemoveRows()
        self.changed.emit()

    def set_problems(self, problems: dict[int, Problem]) -> None:
        """Tint the rows that have a problem and explain it in their tooltip."""
        if problems == self._problems:
            return
        self._problems = dict(problems)
        if self._records:
            last = self.index(len(self._records) - 1, self.columnCount() - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def problem(self, row: int) -> Problem | None:
        return self._problems.get(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.row() in self._problems:
            if role == Qt.ItemDataRole.BackgroundRole:
                return PROBLEM_TINT
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._problems[index.row()].message
        return super().data(index, role)
