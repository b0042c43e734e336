"""Both versions of a patient side by side, with the fields that differ marked."""

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from hms_core.schemas.patients import PatientOut
from hms_desktop.store.patients import ConflictView
from hms_desktop.widgets.messages import birth_text

Index = QModelIndex | QPersistentModelIndex
DIFFERS = QColor("#fef0c7")

FIELDS: list[tuple[str, str]] = [
    ("MRN", "mrn"),
    ("Family name", "family_name"),
    ("Given name", "given_name"),
    ("Date of birth", "birth_date"),
    ("Sex", "sex"),
    ("Phone", "phone"),
    ("Email", "email"),
    ("Address", "address_line"),
    ("City", "city"),
    ("Next of kin", "next_of_kin_name"),
    ("Next of kin phone", "next_of_kin_phone"),
    ("Insurer", "insurance_payer"),
    ("Policy number", "insurance_policy_number"),
    ("Allergies", "allergies"),
]
LABELS = dict((key, label) for label, key in FIELDS)


def patient_value(patient: PatientOut, key: str) -> str:
    """A field of a patient as shown in the comparison."""
    if key == "allergies":
        return ", ".join(a.substance for a in patient.allergies) or "None recorded"
    if key == "birth_date":
        return birth_text(patient.birth_date, patient.birth_date_estimated)
    value = getattr(patient, key)
    if value is None or value == "":
        return "—"
    return str(getattr(value, "value", value)).capitalize() if key == "sex" else str(value)


def wire_text(key: str, value: Any) -> str:
    """A raw field value (as stored in a conflict) for display."""
    if value is None or value == "":
        return "—"
    return str(value).capitalize() if key == "sex" else str(value)


def comparison_rows(conflict: ConflictView) -> list[tuple[str, str, str]]:
    """(field label, left, right) rows: for a duplicate the two records, for an identity
    conflict the server's version against the offline edit."""
    if conflict.kind == "duplicate" and conflict.other is not None:
        return [
            (label, patient_value(conflict.other, key), patient_value(conflict.patient, key))
            for label, key in FIELDS
        ]
    return [
        (LABELS.get(key, key), wire_text(key, v.get("theirs")), wire_text(key, v.get("ours")))
        for key, v in conflict.fields.items()
    ]


class ComparisonModel(QAbstractTableModel):
    """Field | left version | right version; rows whose versions differ are highlighted."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, str, str]] = []
        self._headers = ("Field", "", "")

    def show(self, rows: list[tuple[str, str, str]], left: str, right: str) -> None:
        self.beginResetModel()
        self._rows = rows
        self._headers = ("Field", left, right)
        self.endResetModel()

    def differs(self, row: int) -> bool:
        _, left, right = self._rows[row]
        return left != right

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else 3

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and self.differs(index.row()):
            return QBrush(DIFFERS)
        if role == Qt.ItemDataRole.FontRole and index.column() == 0:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None
