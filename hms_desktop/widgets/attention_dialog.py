"""Changes the server refused: what, when and why, until the user dismisses them."""

from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_desktop.store.cache import LocalStore
from hms_desktop.tasks import TaskManager
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import local_time
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view


def describe_change(entry: dict[str, Any]) -> str:
    """A refused mutation in words: 'Register Kofi Boateng', 'Change of city, phone'."""
    args = entry.get("args") or {}
    if entry["name"] == "register_patient":
        patient = args.get("patient", {})
        return f"Register {patient.get('given_name', '')} {patient.get('family_name', '')}".strip()
    if entry["name"] == "update_patient":
        fields = sorted(k for k in args.get("changes", {}) if k != "expected_row_version")
        return "Change of " + ", ".join(f.replace("_", " ") for f in fields)
    return entry["name"].replace("_", " ").capitalize()


COLUMNS: list[Column[dict[str, Any]]] = [
    Column("Refused", lambda e: local_time(e["rejected_at"])),
    Column("Change", describe_change),
    Column("Why", lambda e: e["message"], tooltip=lambda e: e["message"]),
]


class AttentionDialog(QDialog):
    """Lists refused changes; "Dismiss" removes one from the list (it stays in the audit)."""

    def __init__(
        self, store: LocalStore, tasks: TaskManager, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._tasks = tasks
        self.setWindowTitle("Changes the server refused")
        self.setMinimumSize(860, 360)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(styled_label("Changes the server refused", "dialogTitle"))
        hint = styled_label(
            "These changes were made on this computer but the server did not accept them, "
            "so they are not in the record. Read why, redo what is still needed, then dismiss.",
            "hint",
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.model: RecordTableModel[dict[str, Any]] = RecordTableModel(COLUMNS, self)
        self.view = make_table_view(self.model)
        self.view.horizontalHeader().resizeSection(0, 140)
        self.view.horizontalHeader().resizeSection(1, 280)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.dismiss_button = QPushButton("Dismiss selected")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(self.dismiss_button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        self._tasks.run(self._store.rejections, self.model.set_records, owner=self)

    def dismiss_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return
        mutation_id = self.model.record(rows[0].row())["mutation_id"]
        self._tasks.run(
            lambda: self._store.dismiss(mutation_id), lambda _r: self.refresh(), owner=self
        )
