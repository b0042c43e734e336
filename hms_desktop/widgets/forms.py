"""Form building blocks: titled sections of labelled fields with a red error label beside each."""

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

LABEL_WIDTH = 170
ERROR_WIDTH = 300
REQUIRED_MARK = ' <span style="color:#b42318">*</span>'


def set_invalid(widget: QWidget, invalid: bool) -> None:
    """Mark a field red (or not) through the `invalid` style property."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def styled_label(text: str, role: str, parent: QWidget | None = None) -> QLabel:
    """A QLabel styled by the stylesheet through its `role` property."""
    label = QLabel(text, parent)
    label.setProperty("role", role)
    label.setIndent(0)  # a styled box would otherwise indent the text by half an 'x'
    return label


@dataclass
class FieldRow:
    """One field of a form and the error label beside it."""

    widget: QWidget
    error: QLabel

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        set_invalid(self.widget, True)

    def clear_error(self) -> None:
        self.error.clear()
        set_invalid(self.widget, False)

    @property
    def has_error(self) -> bool:
        return bool(self.error.text())


class FormSection(QFrame):
    """A card with a title and rows of label | field | error."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        outer.setSpacing(10)
        outer.addWidget(styled_label(title, "sectionTitle"))
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(14)
        self._grid.setVerticalSpacing(8)
        self._grid.setColumnMinimumWidth(0, LABEL_WIDTH)
        self._grid.setColumnMinimumWidth(2, ERROR_WIDTH)
        self._grid.setColumnStretch(1, 3)
        self._grid.setColumnStretch(2, 2)
        outer.addLayout(self._grid)

    def add_row(
        self, label: str, widget: QWidget, *, required: bool = False, focus: QWidget | None = None
    ) -> FieldRow:
        """Append a labelled field; returns the row that shows its errors."""
        row = self._grid.rowCount()
        caption = QLabel(label + (REQUIRED_MARK if required else ""))
        caption.setTextFormat(Qt.TextFormat.RichText)
        caption.setBuddy(focus or widget)
        caption.setProperty("role", "fieldLabel")
        caption.setIndent(0)
        error = styled_label("", "fieldError")
        error.setWordWrap(True)
        error.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        error.setMinimumWidth(ERROR_WIDTH)
        top = Qt.AlignmentFlag.AlignTop
        self._grid.addWidget(caption, row, 0, top)
        self._grid.addWidget(widget, row, 1, top)
        self._grid.addWidget(error, row, 2, top)
        return FieldRow(widget=focus or widget, error=error)


def set_style_property(widget: QWidget, name: str, value: str) -> None:
    """Set a property the stylesheet selects on, and re-apply the style to it and its children."""
    widget.setProperty(name, value)
    for target in (widget, *widget.findChildren(QWidget)):
        target.style().unpolish(target)
        target.style().polish(target)


def set_status(label: QLabel, text: str, error: bool = False) -> None:
    """Show a status message, red when it reports an error."""
    label.setText(text)
    set_style_property(label, "state", "error" if error else "")


class FormFooter(QFrame):
    """The bar under a form: a status message, Cancel, and the primary save button."""

    def __init__(self, save_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("footerBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(28, 12, 28, 12)
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.save_button = QPushButton(save_text)
        self.save_button.setProperty("role", "primary")
        row.addWidget(self.status_label, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.save_button)


def scrolled_form(form: QWidget) -> QScrollArea:
    """`form` on the page background, padded, in a frameless vertical scroll area."""
    scroll = QScrollArea()
    scroll.setObjectName("formScroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    holder = QWidget()
    holder.setObjectName("formHolder")
    inner = QVBoxLayout(holder)
    inner.setContentsMargins(28, 16, 28, 24)
    inner.addWidget(form)
    scroll.setWidget(holder)
    return scroll


def fill_combo(
    combo: QComboBox, items: list[tuple[Any, str]], keep: bool = True, select: Any = None
) -> None:
    """Replace a combo's (data, text) items, keeping the current choice when still offered."""
    current = select if select is not None else combo.currentData() if keep else None
    combo.blockSignals(True)
    combo.clear()
    for data, text in items:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(find_data(combo, current), 0))
    combo.blockSignals(False)


def find_data(combo: QComboBox, data: Any) -> int:
    """The index of the item holding `data` (compared in Python: UUIDs), or -1."""
    if data is None:
        return -1
    return next((i for i in range(combo.count()) if combo.itemData(i) == data), -1)


def select_data(combo: QComboBox, data: Any) -> None:
    """Choose the item holding `data` (the first when none does), signalling the change."""
    combo.setCurrentIndex(max(find_data(combo, data), 0))
