"""The allergies editor: rows of substance, reaction and severity in an editable table."""

import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.patients import AllergyOut, Severity

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Substance", "Reaction", "Severity")
SUBSTANCE, REACTION, SEVERITY = range(3)


@dataclass
class AllergyRow:
    """One allergy as edited; `id` is set for allergies already on the record."""

    substance: str = ""
    reaction: str = ""
    severity: Severity = Severity.MODERATE
    id: uuid.UUID | None = None

    def is_blank(self) -> bool:
        return not self.substance.strip() and not self.reaction.strip()

    def as_dict(self) -> dict[str, Any]:
        """The AllergyIn fields (blank reaction -> None)."""
        data: dict[str, Any] = {
            "substance": self.substance,
            "reaction": self.reaction.strip() or None,
            "severity": self.severity.value,
        }
        if self.id is not None:
            data["id"] = self.id
        return data


class AllergyTableModel(QAbstractTableModel):
    """Editable allergy rows."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[AllergyRow] = []

    def rows(self) -> list[AllergyRow]:
        return list(self._rows)

    def set_rows(self, rows: list[AllergyRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def add_row(self, row: AllergyRow | None = None) -> int:
        position = len(self._rows)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.append(row or AllergyRow())
        self.endInsertRows()
        return position

    def remove_row(self, position: int) -> None:
        if 0 <= position < len(self._rows):
            self.beginRemoveRows(QModelIndex(), position, position)
            del self._rows[position]
            self.endRemoveRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
        ):
            return None
        row = self._rows[index.row()]
        if index.column() == SEVERITY:
            return row.severity.value if role == Qt.ItemDataRole.EditRole else row.severity.title()
        return row.substance if index.column() == SUBSTANCE else row.reaction

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        row = self._rows[index.row()]
        if index.column() == SUBSTANCE:
            row.substance = str(value)
        elif index.column() == REACTION:
            row.reaction = str(value)
        else:
            row.severity = Severity(value)
        self.dataChanged.emit(index, index)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None


class SeverityDelegate(QStyledItemDelegate):
    """A drop-down of the severities for the Severity column."""

    def createEditor(  # noqa: N802
        self, parent: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> QWidget:
        combo = QComboBox(parent)
        for severity in Severity:
            combo.addItem(severity.title(), severity.value)
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        editor.setCurrentIndex(max(0, editor.findData(index.data(Qt.ItemDataRole.EditRole))))

    def setModelData(  # noqa: N802
        self, editor: QWidget, model: QAbstractItemModel, index: Index
    ) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class AllergiesEditor(QWidget):
    """The table of allergies with Add and Remove buttons."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = AllergyTableModel(self)
        self.view = QTableView()
        self.view.setObjectName("allergyTable")
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(SEVERITY, SeverityDelegate(self.view))
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(32)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.AllEditTriggers
            & ~QAbstractItemView.EditTrigger.CurrentChanged
        )
        header = self.view.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        header.setSectionResizeMode(SUBSTANCE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(REACTION, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SEVERITY, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(SEVERITY, 130)
        self.view.setMinimumHeight(120)
        self.view.setMaximumHeight(180)
        self.add_button = QPushButton("Add allergy")
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.clicked.connect(self._remove)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.model.dataChanged.connect(self.changed)
        self.model.rowsInserted.connect(self.changed)
        self.model.rowsRemoved.connect(self.changed)

    def values(self) -> list[dict[str, Any]]:
        """Non-blank rows as AllergyIn dicts."""
        return [row.as_dict() for row in self.model.rows() if not row.is_blank()]

    def set_allergies(self, allergies: list[AllergyOut] | list[AllergyRow]) -> None:
        """Replace the rows with `allergies`."""
        rows = [
            a
            if isinstance(a, AllergyRow)
            else AllergyRow(a.substance, a.reaction or "", a.severity, a.id)
            for a in allergies
        ]
        self.model.set_rows(rows)

    def _add(self) -> None:
        row = self.model.add_row()
        index = self.model.index(row, SUBSTANCE)
        self.view.setCurrentIndex(index)
        self.view.edit(index)

    def _remove(self) -> None:
        self.model.remove_row(self.view.currentIndex().row())
