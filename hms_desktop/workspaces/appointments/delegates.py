"""Painted cells of the appointment lists: two-line cells, and the day list's table."""

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from hms_desktop.widgets.status_chip import StatusChipDelegate
from hms_desktop.widgets.tables import make_table_view
from hms_desktop.workspaces.appointments.models import SECOND_LINE_ROLE, STATUS_COLUMN, ZonedModel

Index = QModelIndex | QPersistentModelIndex
ROW_HEIGHT = 46
LEFT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft


def _background(option: QStyleOptionViewItem, index: Index, delegate: QStyledItemDelegate) -> None:
    """Let the style paint the cell's background and selection, without its text."""
    delegate.initStyleOption(option, index)
    option.text = ""


class TwoLineDelegate(QStyledItemDelegate):
    """The display text, and under it a muted second line (MRN, reason…) when the model has one."""

    def __init__(self, parent: QTableView | None = None, bold: bool = False) -> None:
        super().__init__(parent)
        self._bold = bold

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(super().sizeHint(option, index).width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        first = index.data(Qt.ItemDataRole.DisplayRole) or ""
        second = index.data(SECOND_LINE_ROLE)
        _background(option, index, self)
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        area = option.rect.adjusted(8, 4, -8, -4)
        top = area.adjusted(0, 0, 0, -area.height() // 2) if second else area
        painter.save()
        font = QFont(option.font)
        font.setBold(self._bold)
        painter.setFont(font)
        painter.setPen(QColor("#1d2733"))
        elided = QFontMetrics(font).elidedText(first, Qt.TextElideMode.ElideRight, area.width())
        painter.drawText(top, LEFT, elided)
        if second:
            small = QFont(option.font)
            small.setPointSizeF(max(7.5, small.pointSizeF() - 1))
            painter.setFont(small)
            painter.setPen(QColor("#5b6b7d"))
            bottom = area.adjusted(0, area.height() // 2, 0, 0)
            text = QFontMetrics(small).elidedText(second, Qt.TextElideMode.ElideRight, area.width())
            painter.drawText(bottom, LEFT, text)
        painter.restore()


def two_line_table(view: QTableView, columns: dict[int, bool]) -> None:
    """Give these columns of a table view two-line cells (bold first line when True)."""
    for column, bold in columns.items():
        view.setItemDelegateForColumn(column, TwoLineDelegate(view, bold))
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)


def appointment_table(model: ZonedModel) -> QTableView:
    """The day list's table: fixed time and status columns, two-line patient and doctor."""
    view = make_table_view(model)
    view.setItemDelegateForColumn(STATUS_COLUMN, StatusChipDelegate(view))
    two_line_table(view, {1: True, 2: False})
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    for column in (1, 2):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    header.resizeSection(0, 62)
    header.resizeSection(STATUS_COLUMN, 150)
    return view
