"""The navigation rail: one button per workspace the signed-in role may open."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QFrame, QPushButton, QVBoxLayout, QWidget

from hms_desktop.widgets.forms import styled_label


class NavRail(QFrame):
    """A vertical list of exclusive, checkable workspace buttons."""

    selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navRail")
        self.setFixedWidth(196)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 16, 10, 16)
        self._layout.setSpacing(4)
        self._layout.addWidget(styled_label("WORKSPACES", "railHeading"))
        self._layout.addStretch(1)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[str, QPushButton] = {}

    def add_item(self, key: str, text: str) -> QPushButton:
        """Add a workspace button; the first one added is selected."""
        button = QPushButton(text)
        button.setObjectName("railButton")
        button.setCheckable(True)
        button.clicked.connect(lambda: self.selected.emit(key))
        self._group.addButton(button)
        self._layout.insertWidget(self._layout.count() - 1, button)
        self._buttons[key] = button
        if len(self._buttons) == 1:
            button.setChecked(True)
        return button

    def keys(self) -> list[str]:
        """Workspace keys in rail order."""
        return list(self._buttons)

    def titles(self) -> list[str]:
        """Button texts in rail order."""
        return [b.text() for b in self._buttons.values()]

    def set_current(self, key: str) -> None:
        """Check the button of `key` without emitting `selected`."""
        self._buttons[key].setChecked(True)

    def button(self, key: str) -> QPushButton:
        return self._buttons[key]
