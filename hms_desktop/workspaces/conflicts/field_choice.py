"""For a record changed on two computers: pick, field by field, which version to keep."""

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.conflicts.comparison import LABELS, wire_text


class FieldChoiceDialog(QDialog):
    """One choice per field in conflict; emits {field: chosen value}."""

    chosen = Signal(dict)

    def __init__(self, fields: dict[str, dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose field by field")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(styled_label("Which value is right?", "dialogTitle"))
        form = QFormLayout()
        self.combos: dict[str, QComboBox] = {}
        for field, versions in fields.items():
            combo = QComboBox()
            combo.addItem(
                f"Server: {wire_text(field, versions.get('theirs'))}", versions.get("theirs")
            )
            combo.addItem(
                f"Offline edit: {wire_text(field, versions.get('ours'))}", versions.get("ours")
            )
            self.combos[field] = combo
            form.addRow(LABELS.get(field, field), combo)
        layout.addLayout(form)
        row = QHBoxLayout()
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        self.apply_button = QPushButton("Keep these values")
        self.apply_button.setProperty("role", "primary")
        self.apply_button.clicked.connect(self._apply)
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(self.apply_button)
        layout.addLayout(row)

    def values(self) -> dict[str, Any]:
        return {field: combo.currentData() for field, combo in self.combos.items()}

    def _apply(self) -> None:
        self.accept()
        self.chosen.emit(self.values())
