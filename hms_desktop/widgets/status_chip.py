"""Appointment statuses painted as coloured, rounded chips in table cells (one look everywhere)."""

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

Index = QModelIndex | QPersistentModelIndex
STATUS_ROLE = Qt.ItemDataRole.UserRole + 10  # the raw status of the row's appointment

# status -> (text colour, chip colour)
CHIP_COLOURS: dict[str, tuple[str, str]] = {
    "requested": ("#93370d", "#fef0c7"),
    "tentative": ("#93370d", "#fffaeb"),
    "confirmed": ("#05603a", "#dcfae6"),
    "checked_in": ("#0b4f8a", "#d7e8fa"),
    "in_consultation": ("#4a1fb8", "#ebe9fe"),
    "completed": ("#344054", "#eaecf0"),
    "cancelled": ("#912018", "#fee4e2"),
    "no_show": ("#912018", "#fee4e2"),
}
DEFAULT_COLOURS = ("#344054", "#eaecf0")

# status -> the words the tables show on its chip
CHIP_WORDS: dict[str, str] = {
    "requested": "Requested · doctor confirms",
    "tentative": "Awaiting server",
    "confirmed": "Confirmed",
    "checked_in": "Checked in",
    "in_consultation": "With the doctor",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}
INSET = 8  # from the cell's left edge to the chip
PADDING = 9  # either side of the text inside the chip


def status_words(status: str) -> str:
    """The desk's words for a status: 'Awaiting server', 'With the doctor' …"""
    return CHIP_WORDS.get(status, status.replace("_", " ").capitalize())


def chip_font(base: QFont) -> QFont:
    """The chip's font: the cell's, bold and half a point smaller."""
    font = QFont(base)
    font.setBold(True)
    font.setPointSizeF(max(7.5, font.pointSizeF() - 0.5))
    return font


def paint_chip(painter: QPainter, cell: QRect, base: QFont, text: str, status: str) -> None:
    """`text` on a rounded chip in `status`'s colours, at the left of `cell`, elided to fit."""
    font = chip_font(base)
    metrics = QFontMetrics(font)
    room = cell.width() - 2 * INSET
    words = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room - 2 * PADDING + 2)
    width = min(room, metrics.horizontalAdvance(words) + 2 * PADDING)
    height = metrics.height() + 6
    chip = QRect(cell.left() + INSET, cell.top() + (cell.height() - height) // 2, width, height)
    ink, fill = CHIP_COLOURS.get(status, DEFAULT_COLOURS)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(fill))
    painter.drawRoundedRect(chip, height / 2, height / 2)
    painter.setFont(font)
    painter.setPen(QColor(ink))
    painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, words)
    painter.restore()


class StatusChipDelegate(QStyledItemDelegate):
    """The cell's text on a chip coloured by the row's status (`STATUS_ROLE`)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """The row's background and selection as usual, then the chip."""
        cell = QStyleOptionViewItem(option)
        self.initStyleOption(cell, index)
        text, cell.text = cell.text, ""
        style = cell.widget.style() if cell.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, cell, painter, cell.widget)
        if text:
            paint_chip(painter, cell.rect, cell.font, text, str(index.data(STATUS_ROLE) or ""))

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        """Room for the chip's padding and inset."""
        size = super().sizeHint(option, index)
        return QSize(size.width() + 2 * (PADDING + INSET), size.height())
