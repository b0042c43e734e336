"""Appointment statuses drawn as coloured pills in table cells."""

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

STATUS_ROLE = Qt.ItemDataRole.UserRole + 1  # the raw status of the row's appointment

# status -> (text colour, fill colour)
PILL_COLOURS: dict[str, tuple[str, str]] = {
    "requested": ("#93370d", "#fef0c7"),
    "tentative": ("#475467", "#eaecf0"),
    "confirmed": ("#0b4f8a", "#dbeafe"),
    "checked_in": ("#05603a", "#d1fadf"),
    "in_consultation": ("#4a1fb8", "#ebe9fe"),
    "completed": ("#344054", "#f2f4f7"),
    "cancelled": ("#912018", "#fee4e2"),
    "no_show": ("#912018", "#fee4e2"),
}
DEFAULT_COLOURS = ("#344054", "#f2f4f7")
PADDING = 10


class StatusPillDelegate(QStyledItemDelegate):
    """Paints the cell's text as a rounded pill in its status colours."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """The row background as usual, then the pill."""
        cell = QStyleOptionViewItem(option)
        self.initStyleOption(cell, index)
        text, cell.text = cell.text, ""
        style = cell.widget.style() if cell.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, cell, painter, cell.widget)
        if text:
            self._pill(painter, cell, text, str(index.data(STATUS_ROLE) or ""))

    def _pill(self, painter: QPainter, cell: QStyleOptionViewItem, text: str, status: str) -> None:
        font = cell.font
        font.setBold(True)
        metrics = QFontMetrics(font)
        height = metrics.height() + 6
        width = metrics.horizontalAdvance(text) + 2 * PADDING + 4
        top = cell.rect.center().y() - height // 2 + 1
        rect = QRect(cell.rect.left() + 8, top, width, height)
        fg, bg = PILL_COLOURS.get(status, DEFAULT_COLOURS)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setFont(font)
        painter.setPen(QColor(fg))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Room for the pill's padding."""
        size = super().sizeHint(option, index)
        return QSize(size.width() + 2 * PADDING + 12, size.height())
