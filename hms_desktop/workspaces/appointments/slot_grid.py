"""A week of free slots as a grid: one column per day, one row per time of day."""

from collections import defaultdict
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from hms_core.schemas.scheduling import FreeSlot
from hms_desktop.workspaces.appointments.models import clock, day_text

Index = QModelIndex | QPersistentModelIndex
SLOTS_ROLE = Qt.ItemDataRole.UserRole + 20
DOCTOR_ROLE = Qt.ItemDataRole.UserRole + 21
MORE_ROLE = Qt.ItemDataRole.UserRole + 22  # '+2': other doctors free at that time too


def short_doctor(name: str) -> str:
    """'Dr. Amina Bello' -> 'Amina Bello' (the grid is narrow)."""
    for prefix in ("Dr. ", "Dr "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class SlotGridModel(QAbstractTableModel):
    """Cells hold the free slots starting then (several doctors when 'any doctor')."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.zone = ZoneInfo("UTC")
        self.days: list[date] = []
        self.times: list[time] = []
        self.any_doctor = False
        self._cells: dict[tuple[int, int], list[FreeSlot]] = {}
        self.count = 0

    def set_week(
        self, days: list[date], slots: list[FreeSlot], zone: ZoneInfo, any_doctor: bool
    ) -> None:
        """Show `slots` (earliest first) on `days`, times in `zone`."""
        self.beginResetModel()
        self.zone, self.days, self.any_doctor = zone, list(days), any_doctor
        by_time: dict[tuple[time, date], list[FreeSlot]] = defaultdict(list)
        for slot in slots:
            local = slot.starts_at.astimezone(zone)
            by_time[(local.time(), local.date())].append(slot)
        self.times = sorted({t for t, d in by_time if d in self.days})
        rows = {t: r for r, t in enumerate(self.times)}
        columns = {d: c for c, d in enumerate(self.days)}
        self._cells = {
            (rows[t], columns[d]): found for (t, d), found in by_time.items() if d in columns
        }
        self.count = len(self._cells)
        self.endResetModel()

    def slots_at(self, index: Index) -> list[FreeSlot]:
        return self._cells.get((index.row(), index.column()), []) if index.isValid() else []

    def index_of(self, slot: FreeSlot) -> QModelIndex:
        """The cell offering `slot` (same doctor and start), or an invalid index."""
        for (row, column), found in self._cells.items():
            if any(s.doctor_id == slot.doctor_id and s.starts_at == slot.starts_at for s in found):
                return self.index(row, column)
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.times)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.days)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if self.slots_at(index):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        found = self.slots_at(index)
        if not found:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return clock(found[0].starts_at, self.zone)
        if role == SLOTS_ROLE:
            return found
        if role == DOCTOR_ROLE and self.any_doctor:
            return short_doctor(found[0].doctor_name)
        if role == MORE_ROLE and self.any_doctor and len(found) > 1:
            return f"+{len(found) - 1}"
        if role == Qt.ItemDataRole.ToolTipRole:
            names = ", ".join(s.doctor_name for s in found)
            return f"{day_text(self.days[index.column()])} at {self.data(index)} — free: {names}"
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and section < len(self.days):
            day = self.days[section]
            return f"{day:%a} {day.day}"
        if orientation == Qt.Orientation.Vertical and section < len(self.times):
            return self.times[section].strftime("%H:%M")
        return None


class SlotChipDelegate(QStyledItemDelegate):
    """A free time as a chip: the time, and under it the doctor when 'any doctor'."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(84, 46 if index.data(DOCTOR_ROLE) else 32)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not text:
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        chip = QRect(option.rect).adjusted(3, 3, -3, -3)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#0f6cbd" if selected or hover else "#9cc3e6"), 1))
        painter.setBrush(QColor("#0f6cbd" if selected else "#f0f7ff" if hover else "#ffffff"))
        painter.drawRoundedRect(chip, 5, 5)
        doctor = index.data(DOCTOR_ROLE)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor("#ffffff" if selected else "#0b4f8a"))
        top = chip.adjusted(0, 2, 0, -chip.height() // 2 + 2) if doctor else chip
        more = index.data(MORE_ROLE)
        if more:  # the time on the left, '+2' (other doctors free then) on the right
            top = top.adjusted(6, 0, -5, 0)
            painter.drawText(top, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            small = QFont(option.font)
            small.setPointSizeF(max(6.5, small.pointSizeF() - 1.5))
            painter.setFont(small)
            painter.setPen(QColor("#e8f1fb" if selected else "#5b6b7d"))
            painter.drawText(top, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, more)
        else:
            painter.drawText(top, Qt.AlignmentFlag.AlignCenter, text)
        if doctor:
            small = QFont(option.font)
            small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
            painter.setFont(small)
            painter.setPen(QColor("#e8f1fb" if selected else "#475467"))
            bottom = chip.adjusted(4, chip.height() // 2, -4, -2)
            elided = QFontMetrics(small).elidedText(
                doctor, Qt.TextElideMode.ElideRight, bottom.width()
            )
            painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, elided)
        painter.restore()


def week_days(first: date, count: int = 7) -> list[date]:
    """`count` consecutive days from `first`."""
    return [date.fromordinal(first.toordinal() + n) for n in range(count)]


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
