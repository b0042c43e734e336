"""The dialog that adds leave, warning of the appointments booked in its period."""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QTime, QTimer
from PySide6.QtWidgets import QCheckBox, QWidget

from hms_core.schemas.scheduling import AddAvailabilityChange, AppointmentView, DoctorOut
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.schedules.change_dialogs import ChangeDialog, pair
from hms_desktop.workspaces.schedules.covered import covered_appointments, leave_warning
from hms_desktop.workspaces.schedules.session_form import date_edit, time_edit

WARNING_DELAY_MS = 250


class LeaveDialog(ChangeDialog):
    """Leave from a moment to a moment (whole days by default), warning of booked patients."""

    kind = "leave"

    def __init__(self, ctx: AppContext, doctor: DoctorOut, parent: QWidget) -> None:
        super().__init__(ctx, doctor, "Add leave", parent)
        self.covered: list[AppointmentView] = []
        self._asked = 0
        self.all_day_box = QCheckBox("Whole days (until the end of the last day)")
        self.all_day_box.setChecked(True)
        self.from_date, self.until_date = date_edit(), date_edit()
        self.from_time, self.until_time = time_edit(), time_edit()
        for edit in (self.from_date, self.until_date):
            edit.setDate(QDate(self.tomorrow))
        self.until_time.setTime(QTime(23, 59))
        self.section.add_row("", self.all_day_box)
        self.rows["starts"] = self.section.add_row("From", pair(self.from_date, self.from_time))
        self.rows["ends"] = self.section.add_row("Until", pair(self.until_date, self.until_time))
        self.warning_box = styled_label("", "warningBox")
        self.warning_box.setWordWrap(True)
        self.warning_box.hide()
        self._finish_layout(self.warning_box)
        self._timer = QTimer(self, singleShot=True, interval=WARNING_DELAY_MS)
        self._timer.timeout.connect(self.check_appointments)
        self.all_day_box.toggled.connect(self._period_changed)
        for edit in (self.from_date, self.until_date):
            edit.dateChanged.connect(self._period_changed)
        for edit in (self.from_time, self.until_time):
            edit.timeChanged.connect(self._period_changed)
        self._period_changed()

    def period(self) -> tuple[datetime, datetime]:
        first, last = self.from_date.date().toPython(), self.until_date.date().toPython()
        if self.all_day_box.isChecked():
            return self.local(first, time()), self.local(last + timedelta(days=1), time())
        return (
            self.local(first, self.from_time.time().toPython()),
            self.local(last, self.until_time.time().toPython()),
        )

    def _period_changed(self) -> None:
        if self.until_date.date() < self.from_date.date():
            self.until_date.setDate(self.from_date.date())
        whole = self.all_day_box.isChecked()
        self.from_time.setVisible(not whole)
        self.until_time.setVisible(not whole)
        self._timer.start()

    def check_appointments(self) -> None:
        """Look up (off the UI thread) the appointments the period covers."""
        starts_at, ends_at = self.period()
        if ends_at <= starts_at:
            self._show_covered([])
            return
        self._asked += 1
        asked, scheduling, doctor_id = self._asked, self._ctx.scheduling, self.doctor.id
        self._ctx.run(
            self,
            lambda: covered_appointments(scheduling, doctor_id, self.zone, starts_at, ends_at),
            lambda found: self._show_covered(found) if asked == self._asked else None,
        )

    def _show_covered(self, found: list[AppointmentView]) -> None:
        self.covered = found
        self.warning_box.setText(leave_warning(found, self.zone))
        self.warning_box.setVisible(bool(found))
        self.adjustSize()

    @staticmethod
    def record(scheduling: LocalScheduling, zone: ZoneInfo, change: AddAvailabilityChange) -> Any:
        """Store the leave; returns the appointments it covers, looked up afterwards."""
        ChangeDialog.record(scheduling, zone, change)
        return covered_appointments(
            scheduling, change.doctor_id, zone, change.starts_at, change.ends_at
        )

    def warning(self, result: Any) -> str:
        return leave_warning(result, self.zone)
