"""The day's appointments as a table: time, patient, MRN, status, waiting time, reason."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.status_chip import STATUS_ROLE, StatusChipDelegate
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.clinic.rules import (
    ENDED,
    duration_text,
    long_wait,
    status_text,
    waiting_text,
)

Index = QModelIndex | QPersistentModelIndex
TIME, PATIENT, MRN, STATUS, WAITING, REASON = range(6)
MUTED = QColor("#8a97a6")
ALERT = QColor("#b42318")


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


class DayModel(RecordTableModel[AppointmentView]):
    """Appointments of one day in the doctor's zone; the waiting column follows the clock."""

    def __init__(self, parent: Any = None, now: Callable[[], datetime] | None = None) -> None:
        self.zone = ZoneInfo("UTC")
        self.now = now or (lambda: datetime.now(UTC))
        super().__init__(self._columns(), parent)

    def _columns(self) -> list[Column[AppointmentView]]:
        return [
            Column("Time", self._time, self._period),
            Column("Patient", lambda a: a.patient_name, lambda a: a.patient_phone or ""),
            Column("MRN", lambda a: a.mrn),
            Column("Status", lambda a: status_text(a.status), self._status_tip),
            Column("Waiting", lambda a: waiting_text(a, self.now())),
            Column("Reason", lambda a: a.reason or "—", lambda a: a.reason),
        ]

    def _time(self, appointment: AppointmentView) -> str:
        return appointment.starts_at.astimezone(self.zone).strftime("%H:%M")

    def _period(self, appointment: AppointmentView) -> str:
        start = appointment.starts_at.astimezone(self.zone)
        end = appointment.ends_at.astimezone(self.zone)
        minutes = duration_text(appointment.ends_at - appointment.starts_at)
        return f"{start:%H:%M}–{end:%H:%M} ({minutes})"

    def _status_tip(self, appointment: AppointmentView) -> str:
        if appointment.cancel_reason:
            return f"Cancelled: {appointment.cancel_reason}"
        if appointment.checked_in_at is not None:
            return f"Checked in at {appointment.checked_in_at.astimezone(self.zone):%H:%M}"
        return ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Adds the status role, greyed ended visits and a red long wait."""
        if not index.isValid():
            return None
        appointment = self.record(index.row())
        if role == STATUS_ROLE:
            return appointment.status
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(appointment, index.column())
        if role == Qt.ItemDataRole.FontRole and index.column() in (TIME, WAITING):
            return _bold()
        return super().data(index, role)

    def _colour(self, appointment: AppointmentView, column: int) -> QColor | None:
        if column == WAITING and long_wait(appointment, self.now()):
            return ALERT
        return MUTED if appointment.status in ENDED and column != STATUS else None

    def row_of(self, appointment_id: uuid.UUID) -> int:
        """The row showing `appointment_id`, or -1."""
        ids = [a.id for a in self.records()]
        return ids.index(appointment_id) if appointment_id in ids else -1

    def tick(self) -> None:
        """The clock moved on: repaint the waiting times."""
        if self.rowCount():
            first, last = self.index(0, WAITING), self.index(self.rowCount() - 1, WAITING)
            self.dataChanged.emit(first, last, [Qt.ItemDataRole.DisplayRole])


def make_day_view(model: DayModel, parent: QWidget | None = None) -> QTableView:
    """The table of the day with the status chips and sensible column widths."""
    view = make_table_view(model, parent)
    view.setObjectName("clinicDayTable")
    view.setItemDelegateForColumn(STATUS, StatusChipDelegate(view))
    view.verticalHeader().setDefaultSectionSize(40)
    header = view.horizontalHeader()
    for column, width in ((TIME, 64), (PATIENT, 180), (MRN, 100), (STATUS, 150), (WAITING, 84)):
        header.resizeSection(column, width)
    header.setSectionResizeMode(REASON, QHeaderView.ResizeMode.Stretch)
    return view
