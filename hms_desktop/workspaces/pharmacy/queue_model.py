"""The pharmacy's tables: the queue (waiting longest first, allergies and overrides flagged in
red) and the prescriptions stopped in the last day."""

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from hms_desktop.store.pharmacy import QueueItem
from hms_desktop.widgets.messages import local_time
from hms_desktop.widgets.tables import Column, Index, RecordTableModel

ALERT_INK = "#b42318"
STOPPED_INK = "#912018"


def flags_text(item: QueueItem) -> str:
    """'Allergy · 1 override' — what the pharmacist must look at before dispensing."""
    parts = []
    if item.allergies:
        parts.append("Allergy")
    elif not item.allergies_asked:
        parts.append("Allergies not recorded")
    if item.overrides:
        count = len(item.overrides)
        parts.append(f"{count} override{'s' if count != 1 else ''}")
    return " · ".join(parts)


QUEUE_COLUMNS: list[Column[QueueItem]] = [
    Column("Prescribed", lambda i: local_time(i.prescribed_at)),
    Column("Patient", lambda i: i.patient_name),
    Column("MRN", lambda i: i.mrn),
    Column("Age", lambda i: i.age),
    Column("Check", flags_text, lambda i: "; ".join(i.allergies)),
    Column("Medicine", lambda i: i.product),
    Column("Directions", lambda i: i.directions),
    Column("Quantity", lambda i: i.quantity),
    Column("Prescriber", lambda i: i.prescriber),
]
PRESCRIBED, PATIENT, MRN, AGE, FLAGS, MEDICINE, DIRECTIONS, QUANTITY, PRESCRIBER = range(
    len(QUEUE_COLUMNS)
)

STOPPED_COLUMNS: list[Column[QueueItem]] = [
    Column("Stopped", lambda i: local_time(i.prescribed_at)),
    Column("Patient", lambda i: i.patient_name),
    Column("MRN", lambda i: i.mrn),
    Column("Medicine", lambda i: i.product),
    Column("Stopped by", lambda i: i.prescriber),
    Column("Reason", lambda i: i.change_reason, lambda i: i.change_reason),
]


class QueueModel(RecordTableModel[QueueItem]):
    """The queue: the patient in bold, the check column in red when there is something."""

    def __init__(self, parent: Any = None) -> None:  # noqa: ANN401
        super().__init__(QUEUE_COLUMNS, parent)

    def row_of(self, prescription_id: Any) -> int:  # noqa: ANN401
        """The row of a prescription, or -1."""
        return next((n for n, i in enumerate(self.records()) if i.id == prescription_id), -1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: ANN401
        if index.isValid() and index.column() == FLAGS and flags_text(self.record(index.row())):
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(ALERT_INK))
            if role == Qt.ItemDataRole.FontRole:
                return _bold()
        if index.isValid() and index.column() == PATIENT and role == Qt.ItemDataRole.FontRole:
            return _bold()
        return super().data(index, role)


class StoppedModel(RecordTableModel[QueueItem]):
    """Stopped prescriptions, in a dark red ink: not to be dispensed."""

    def __init__(self, parent: Any = None) -> None:  # noqa: ANN401
        super().__init__(STOPPED_COLUMNS, parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: ANN401
        if index.isValid() and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(STOPPED_INK))
        return super().data(index, role)


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font
