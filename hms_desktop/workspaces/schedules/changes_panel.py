"""Leave and extra sessions: the doctor's upcoming ones, and adding or removing one."""

import uuid
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QPushButton, QVBoxLayout, QWidget

from hms_core.db import AvailabilityException
from hms_core.schemas.scheduling import DoctorOut
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.schedules.change_dialogs import ChangeDialog, ExtraSessionDialog
from hms_desktop.workspaces.schedules.covered import span, when
from hms_desktop.workspaces.schedules.leave_dialog import LeaveDialog
from hms_desktop.workspaces.schedules.week import utc, zone_of

KIND_TEXT = {"leave": "Leave", "extra": "Extra session"}


class ChangesPanel(QWidget):
    """Upcoming leave and extra sessions of one doctor; emits `loaded(changes)` after each read."""

    loaded = Signal(list)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.doctor: DoctorOut | None = None
        self.dialog: ChangeDialog | None = None
        self.model: RecordTableModel[AvailabilityException] = RecordTableModel(
            self._columns(), self
        )
        self.table = make_table_view(self.model)
        for column, width in enumerate((120, 190, 230, 100)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._enable)
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        self.warning_box = styled_label("", "warningBox")
        self.warning_box.setWordWrap(True)
        self.warning_box.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(self._tools())
        hint = styled_label(
            "Leave removes the doctor's slots in its period; booked appointments are not "
            "cancelled, reception moves them. Extra sessions add slots on one day.",
            "hint",
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.warning_box)
        layout.addWidget(self.status_label)
        self._enable()

    def _columns(self) -> list[Column[AvailabilityException]]:
        def ends(change: AvailabilityException) -> tuple[str, str]:
            return span(utc(change.starts_at), utc(change.ends_at), self.zone)

        return [
            Column("What", lambda c: KIND_TEXT.get(c.kind, c.kind)),
            Column("From", lambda c: ends(c)[0]),
            Column("Until", lambda c: ends(c)[1]),
            Column(
                "Slot length", lambda c: f"{c.slot_minutes or 15} min" if c.kind == "extra" else "—"
            ),
            Column("Reason", lambda c: c.reason or "—", tooltip=lambda c: c.reason),
        ]

    def _tools(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.leave_button = QPushButton("Add leave…")
        self.extra_button = QPushButton("Add extra session…")
        self.remove_button = QPushButton("Remove")
        self.leave_button.clicked.connect(lambda: self.open_dialog(LeaveDialog))
        self.extra_button.clicked.connect(lambda: self.open_dialog(ExtraSessionDialog))
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.leave_button, self.extra_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    @property
    def zone(self) -> ZoneInfo:
        """The doctor's time zone: every time shown is in it."""
        return zone_of(self.doctor.timezone if self.doctor else "UTC")

    def load(self, doctor: DoctorOut | None) -> None:
        """Show `doctor`'s upcoming leave and extra sessions."""
        self.doctor = doctor
        self.model.set_records([])
        self.warning_box.hide()
        set_status(self.status_label, "")
        self._enable()
        self.reload()

    def reload(self) -> None:
        """Read the doctor's upcoming changes again."""
        if self.doctor is None:
            self.loaded.emit([])
            return
        doctor_id = self.doctor.id
        self._ctx.run(
            self,
            lambda: self._ctx.scheduling.availability_changes(doctor_id),
            lambda changes: self._show(doctor_id, changes),
            self._failed,
        )

    def _show(self, doctor_id: uuid.UUID, changes: list[AvailabilityException]) -> None:
        if self.doctor is None or self.doctor.id != doctor_id:
            return
        selected = self.selected()
        self.model.set_records(changes)
        for row, change in enumerate(changes):
            if selected is not None and change.id == selected.id:
                self.table.selectRow(row)
        if not changes and not self.status_label.text():
            set_status(self.status_label, "No leave or extra sessions ahead.")
        self._enable()
        self.loaded.emit(changes)

    def selected(self) -> AvailabilityException | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def _enable(self) -> None:
        has_doctor = self.doctor is not None
        self.leave_button.setEnabled(has_doctor)
        self.extra_button.setEnabled(has_doctor)
        self.remove_button.setEnabled(self.selected() is not None)

    def open_dialog(self, kind: type[ChangeDialog]) -> ChangeDialog | None:
        """Open the dialog that adds leave or an extra session (window-modal, not blocking)."""
        if self.doctor is None:
            return None
        self.dialog = kind(self._ctx, self.doctor, self)
        self.dialog.added.connect(self._added)
        self.dialog.open()
        return self.dialog

    def _added(self, sentence: str, warning: str) -> None:
        self.warning_box.setText(warning)
        self.warning_box.setVisible(bool(warning))
        set_status(self.status_label, sentence)
        self.reload()

    def remove_selected(self) -> None:
        """Remove the selected leave or extra session."""
        change = self.selected()
        if change is None:
            return
        kind = KIND_TEXT.get(change.kind, change.kind)
        text = f"{kind} from {when(utc(change.starts_at), self.zone)}"
        self.remove_button.setEnabled(False)
        self._ctx.write(
            self,
            lambda: self._ctx.scheduling.remove_change(change.id),
            lambda _r: self._removed(text),
            self._failed,
        )

    def _removed(self, text: str) -> None:
        set_status(self.status_label, f"Removed: {text}.")
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        set_status(self.status_label, describe_error(exc), error=True)
        self._enable()
