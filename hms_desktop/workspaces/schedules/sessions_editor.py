"""The sessions table with its tools and the form that edits the selected session."""

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_desktop.widgets.tables import make_table_view
from hms_desktop.workspaces.schedules import week
from hms_desktop.workspaces.schedules.session_form import SessionForm
from hms_desktop.workspaces.schedules.sessions_model import COLUMN_WIDTHS, SessionTableModel
from hms_desktop.workspaces.schedules.week import Problem, SessionRow


class SessionsEditor(QWidget):
    """Add, remove, copy and edit weekly sessions; emits `message(text, is_error)` to report."""

    message = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SessionTableModel(self)
        self.table = make_table_view(self.model)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.horizontalHeader().resizeSection(column, width)
        self.form = SessionForm()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(self._tools())
        layout.addWidget(self.table, 1)
        layout.addWidget(self.form)
        self.table.selectionModel().selectionChanged.connect(self._show_selected)
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.table, self.remove_session)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.form.edited.connect(self._form_edited)
        self._show_selected()

    def _tools(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton("Add session")
        self.remove_button = QPushButton("Remove session")
        self.copy_button = QPushButton("Copy Monday to all weekdays")
        self.copy_button.setToolTip(
            "Tuesday to Friday get Monday's sessions; Saturday and Sunday stay as they are."
        )
        self.add_button.clicked.connect(self.add_session)
        self.remove_button.clicked.connect(self.remove_session)
        self.copy_button.clicked.connect(self.copy_monday)
        for button in (self.add_button, self.remove_button, self.copy_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    def rows(self) -> list[SessionRow]:
        return self.model.records()

    def set_rows(self, rows: Sequence[SessionRow]) -> None:
        """Show `rows` and select the first."""
        self.model.set_records(rows)
        self.select(0)

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select(self, row: int) -> None:
        """Select row `row` (out of range: nothing) and show it in the form."""
        if 0 <= row < self.model.rowCount():
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            flags |= QItemSelectionModel.SelectionFlag.Rows
            self.table.selectionModel().select(self.model.index(row, 0), flags)
            self.table.scrollTo(self.model.index(row, 0))
        else:
            self.table.clearSelection()
            self._show_selected()

    def reveal_selected(self) -> None:
        """Scroll the selected row into view once the layout has settled."""
        row = self.selected_row()
        if row is not None:
            QTimer.singleShot(0, self.table, lambda: self.table.scrollTo(self.model.index(row, 0)))

    def show_problems(self, problems: dict[int, Problem]) -> None:
        """Tint the rows with a problem; the form explains the selected row's."""
        self.model.set_problems(problems)
        row = self.selected_row()
        self.form.show_problem(None if row is None else problems.get(row))

    def enable(self, editable: bool) -> None:
        self.add_button.setEnabled(editable)
        self.copy_button.setEnabled(editable)
        self.remove_button.setEnabled(editable and self.selected_row() is not None)

    def _show_selected(self) -> None:
        row = self.selected_row()
        self.form.load(None if row is None else self.model.record(row))
        self.form.show_problem(None if row is None else self.model.problem(row))
        self.remove_button.setEnabled(row is not None)

    def _form_edited(self, record: SessionRow) -> None:
        row = self.selected_row()
        if row is not None:
            self.model.replace_row(row, record)

    def add_session(self) -> None:
        """A new session on the first free day, with the selected session's hours."""
        rows = self.rows()
        current = self.selected_row()
        model_row = rows[current] if current is not None else (rows[-1] if rows else None)
        self.select(self.model.append(week.next_row(rows, model_row)))
        self.form.day_combo.setFocus()

    def remove_session(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.model.remove(row)
            self.select(min(row, self.model.rowCount() - 1))

    def copy_monday(self) -> None:
        """Give Tuesday to Friday Monday's sessions (not saved yet)."""
        rows = self.rows()
        if not any(r.weekday == 0 for r in rows):
            self.message.emit("Monday has no sessions to copy.", True)
            return
        self.set_rows(week.copy_monday(rows))
        self.message.emit("Tuesday to Friday now have Monday's hours (not saved yet).", False)
