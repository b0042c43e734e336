"""One block of the account page: a title, a table, a line for when it is empty, buttons."""

from typing import Any

from PySide6.QtWidgets import QFrame, QHBoxLayout, QHeaderView, QPushButton, QVBoxLayout, QWidget

from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.tables import RecordTableModel, make_table_view


class Section(QFrame):
    """A titled card holding a table of the account and the actions on its rows."""

    def __init__(
        self,
        title: str,
        model: RecordTableModel[Any],
        empty: str,
        stretch: int,
        parent: QWidget | None = None,
    ) -> None:
        """`stretch`: the column that takes the spare width (and gives it up, elided, when
        the card is narrow), so amounts never scroll out of sight."""
        super().__init__(parent)
        self.setProperty("role", "card")
        self._empty_text = empty
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        heading = QHBoxLayout()
        self.title_label = styled_label(title, "sectionTitle")
        self.total_label = styled_label("", "hint")
        heading.addWidget(self.title_label)
        heading.addStretch(1)
        heading.addWidget(self.total_label)
        layout.addLayout(heading)
        self.model = model
        self.view = make_table_view(model)
        self.view.setMinimumHeight(110)
        self.view.verticalHeader().setDefaultSectionSize(28)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        layout.addWidget(self.view, 1)
        self.empty_label = styled_label(empty, "hint")
        layout.addWidget(self.empty_label)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(6)
        self.buttons.addStretch(1)
        layout.addLayout(self.buttons)
        model.modelReset.connect(self._show_empty)

    def add_button(self, text: str, visible: bool = True, primary: bool = False) -> QPushButton:
        """A button in the row under the table (hidden when the user may not use it)."""
        button = QPushButton(text)
        button.setProperty("density", "compact")
        if primary:
            button.setProperty("role", "primary")
        button.setVisible(visible)
        self.buttons.insertWidget(self.buttons.count() - 1, button)
        return button

    def selected_row(self) -> int:
        """The selected row, or -1."""
        rows = self.view.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _show_empty(self) -> None:
        self.empty_label.setVisible(self.view.model().rowCount() == 0)
