"""Doctors' hours: weekly availability, leave and extra sessions (administrators)."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import DoctorOut
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.schedules.changes_panel import ChangesPanel
from hms_desktop.workspaces.schedules.doctor_picker import DoctorPicker
from hms_desktop.workspaces.schedules.week import zone_of
from hms_desktop.workspaces.schedules.weekly_panel import WeeklyHoursPanel

NOBODY = "Choose a doctor on the left to see and change their hours."


class ScheduleEditor(QWidget):
    """Doctors on the left; the chosen doctor's weekly hours and leave in tabs on the right."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.doctor: DoctorOut | None = None
        self.discard_box: QMessageBox | None = None
        self._loaded_once = False
        self.picker = DoctorPicker(ctx)
        self.weekly = WeeklyHoursPanel(ctx)
        self.changes = ChangesPanel(ctx)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 16)
        layout.setSpacing(10)
        layout.addWidget(styled_label("Doctors' hours", "pageTitle"))
        layout.addWidget(
            styled_label(
                "When each doctor sees patients: weekly hours, leave and extra sessions. "
                "Reception books appointments in the slots these make.",
                "hint",
            )
        )
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.picker)
        splitter.addWidget(self._detail())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([280, 860])
        layout.addWidget(splitter, 1)
        self.changes.loaded.connect(self.weekly.set_changes)
        self.weekly.saved.connect(self.changes.reload)
        self.picker.doctor_chosen.connect(self._doctor_chosen)
        if ctx.sync is not None:
            ctx.sync.data_changed.connect(self.refresh)
        self._show_doctor(None)

    def _detail(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(12, 0, 0, 0)
        column.setSpacing(2)
        self.doctor_label = styled_label("", "doctorName")
        self.zone_label = styled_label("", "hint")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("scheduleTabs")
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.weekly, "Weekly hours")
        self.tabs.addTab(self.changes, "Leave and extra sessions")
        column.addWidget(self.doctor_label)
        column.addWidget(self.zone_label)
        column.addSpacing(8)
        column.addWidget(self.tabs, 1)
        return box

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Read the doctors the first time the workspace is shown."""
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self.refresh()

    def refresh(self) -> None:
        """Read everything again from the cache (sync brought changes); unsaved edits stay."""
        if not self._loaded_once:
            return
        self.picker.refresh()
        if self.doctor is not None:
            self.weekly.reload()
            self.changes.reload()

    def _doctor_chosen(self, doctor: DoctorOut | None) -> None:
        if doctor is not None and self.doctor is not None and doctor.id == self.doctor.id:
            self.doctor = doctor  # the same doctor, read again
            self._show_header(doctor)
        elif self.weekly.dirty and self.doctor is not None:
            self._ask_discard(doctor)
        else:
            self._show_doctor(doctor)

    def _show_doctor(self, doctor: DoctorOut | None) -> None:
        self.doctor = doctor
        self._show_header(doctor)
        self.tabs.setEnabled(doctor is not None)
        self.weekly.load(doctor)
        self.changes.load(doctor)

    def _show_header(self, doctor: DoctorOut | None) -> None:
        if doctor is None:
            self.doctor_label.setText("No doctor chosen")
            self.zone_label.setText(NOBODY)
            return
        department = self.picker.department_name(doctor.department_id)
        self.doctor_label.setText(doctor.display_name)
        zone = zone_of(doctor.timezone).key
        self.zone_label.setText(
            f"{department} · {doctor.grade} · all times are in {zone}, the doctor's time zone"
        )

    def _ask_discard(self, wanted: DoctorOut | None) -> None:
        """Keep the current doctor selected until the administrator says to drop the edits."""
        assert self.doctor is not None
        self.picker.select(self.doctor.id, silent=True)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved weekly hours",
            f"The weekly hours of {self.doctor.display_name} have changes that are not saved. "
            "Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: self._discard_answered(result, wanted))
        self.discard_box = box
        box.open()

    def _discard_answered(self, result: int, wanted: DoctorOut | None) -> None:
        self.discard_box = None
        if result == QMessageBox.StandardButton.Discard:
            self.picker.select(wanted.id if wanted else None, silent=True)
            self._show_doctor(wanted)
