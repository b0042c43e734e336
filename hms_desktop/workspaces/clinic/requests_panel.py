"""Requests to confirm: the appointments patients asked for in the coming days, in one place."""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.clinic.rules import short_when

DAYS_AHEAD = 60
NONE_TEXT = "No requests are waiting to be confirmed."
PICK_TEXT = "Select a request first."


class RequestsPanel(QFrame):
    """A short list of requested appointments with Confirm and Decline."""

    confirm_clicked = Signal(object)
    decline_clicked = Signal(object)
    day_requested = Signal(object)  # an appointment whose day to show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setObjectName("clinicRequests")
        self.zone = ZoneInfo("UTC")
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 16, 20, 16)
        column.setSpacing(8)
        self.title_label = styled_label("Requests to confirm", "sectionTitle")
        column.addWidget(self.title_label)
        hint = styled_label(
            f"Times patients asked for in the next {DAYS_AHEAD} days. "
            "Double-click one to see its day.",
            "hint",
        )
        hint.setWordWrap(True)
        column.addWidget(hint)
        self.model: RecordTableModel[AppointmentView] = RecordTableModel(self._columns(), self)
        self.view = make_table_view(self.model)
        self.view.setObjectName("clinicRequestTable")
        self.view.horizontalHeader().resizeSection(0, 130)
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.view.doubleClicked.connect(self._show_day)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.empty_label = styled_label(NONE_TEXT, "clinicEmpty")
        self.empty_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty_label)
        column.addWidget(self.stack, 1)
        column.addLayout(self._buttons())
        self.set_requests([])

    def _columns(self) -> list[Column[AppointmentView]]:
        return [
            Column("When", lambda a: short_when(a.starts_at, self.zone)),
            Column("Patient", lambda a: f"{a.patient_name} · {a.mrn}", self._tooltip),
        ]

    def _tooltip(self, appointment: AppointmentView) -> str:
        reason = appointment.reason or "no reason given"
        return f"{appointment.patient_name} (MRN {appointment.mrn}): {reason}"

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setProperty("role", "primary")
        self.decline_button = QPushButton("Decline…")
        self.confirm_button.clicked.connect(lambda: self._emit(self.confirm_clicked))
        self.decline_button.clicked.connect(lambda: self._emit(self.decline_clicked))
        row.addStretch(1)
        row.addWidget(self.decline_button)
        row.addWidget(self.confirm_button)
        return row

    def set_requests(self, requests: Sequence[AppointmentView]) -> None:
        """Show `requests`, keeping the selected one selected when it is still there."""
        chosen = self.selected()
        self.model.set_records(requests)
        count = len(requests)
        self.title_label.setText(
            f"Requests to confirm ({count})" if count else "Requests to confirm"
        )
        self.stack.setCurrentWidget(self.view if count else self.empty_label)
        ids = [r.id for r in requests]
        if chosen is not None and chosen.id in ids:
            self.view.selectRow(ids.index(chosen.id))
        elif count:
            self.view.selectRow(0)
        self._update_buttons()

    def selected(self) -> AppointmentView | None:
        """The request selected in the list, if any."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        for button, tip in (
            (self.confirm_button, "Confirm the selected request"),
            (self.decline_button, "Decline the selected request (you give the reason)"),
        ):
            button.setEnabled(chosen)
            button.setToolTip(tip if chosen else PICK_TEXT)

    def _emit(self, signal: Signal) -> None:
        chosen = self.selected()
        if chosen is not None:
            signal.emit(chosen)  # type: ignore[attr-defined]

    def _show_day(self, index: QModelIndex) -> None:
        if index.isValid():
            self.day_requested.emit(self.model.record(index.row()))
