"""The doctor's Clinic workspace: the day's appointments, visits, requests and follow-ups."""

import uuid
from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from hms_core.rbac import Perm
from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.chart.review_panel import ReviewPanel
from hms_desktop.workspaces.chart.view import ChartView
from hms_desktop.workspaces.clinic import rules
from hms_desktop.workspaces.clinic.actions import VisitActions
from hms_desktop.workspaces.clinic.appointment_panel import AppointmentPanel
from hms_desktop.workspaces.clinic.day_header import DayHeader
from hms_desktop.workspaces.clinic.day_list import DayList
from hms_desktop.workspaces.clinic.loader import (
    DayData,
    Doctors,
    history_text,
    load_day,
    load_doctors,
    zone_of,
)
from hms_desktop.workspaces.clinic.notice import Notice
from hms_desktop.workspaces.clinic.requests_panel import RequestsPanel
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

TICK_MS = 30_000  # waiting times move on
NO_PROFILE = "Follow-ups are asked by the treating doctor; your account has no doctor profile."
OFFLINE_NOTE = " Saved on this computer; it reaches the server when the connection is back."
NO_DOCTORS = "No doctors are set up yet. An administrator adds them under Doctors' hours."
DAY_TAB, CHART_TAB, REVIEW_TAB = "Day", "Chart", "Results to review"


class ClinicWorkspace(QWidget):
    """A doctor's day: appointments of a date, the actions on one, and requests to confirm;
    the chosen patient's chart; the results waiting for the doctor's review."""

    patient_requested = Signal(object)  # a patient's UUID: open their record

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.doctors = Doctors(None, [])
        self.doctor_id: uuid.UUID | None = None
        self.zone = zone_of(None)
        self.day: date | None = None
        self._generation = 0
        self._following_today = False
        self.actions = VisitActions(ctx, self, lambda: self.zone)
        self._build()
        self._connect()
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        self.refresh()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.header = DayHeader()
        self.notice = Notice()
        self.day_list = DayList()
        self.panel = AppointmentPanel()
        self.requests = RequestsPanel()
        self.chart_button = QPushButton("Open chart")
        self.chart_button.setObjectName("openChart")
        self.chart_button.setProperty("role", "primary")
        self.chart_button.setEnabled(False)
        self.chart_button.setVisible(self._ctx.session.can(Perm.CHART_READ))
        side = QVBoxLayout()
        side.setSpacing(16)
        side.addWidget(self.chart_button)
        side.addWidget(self.panel)
        side.addWidget(self.requests, 1)
        body = QHBoxLayout()
        body.setContentsMargins(28, 16, 28, 20)
        body.setSpacing(16)
        body.addWidget(self.day_list, 1)
        holder = QWidget()
        holder.setFixedWidth(380)
        holder.setLayout(side)
        side.setContentsMargins(0, 0, 0, 0)
        body.addWidget(holder)
        day = QWidget()
        day_layout = QVBoxLayout(day)
        day_layout.setContentsMargins(0, 0, 0, 0)
        day_layout.setSpacing(0)
        day_layout.addWidget(self.header)
        day_layout.addWidget(self.notice)
        day_layout.addLayout(body, 1)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("clinicTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(day, DAY_TAB)
        self.chart = ChartView(self._ctx, editable=self._ctx.session.can(Perm.NOTE_WRITE))
        self.tabs.addTab(self.chart, CHART_TAB)
        self.tabs.setTabVisible(1, self._ctx.session.can(Perm.CHART_READ))
        self.review = ReviewPanel(self._ctx)
        self.tabs.addTab(self.review, REVIEW_TAB)
        self.tabs.setTabVisible(2, self._ctx.session.can(Perm.RESULT_REVIEW))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs, 1)

    def _connect(self) -> None:
        self.header.day_step.connect(self.step_day)
        self.header.today_requested.connect(self.show_today)
        self.header.doctor_chosen.connect(self.choose_doctor)
        self.day_list.selection_changed.connect(self._on_selected)
        self.day_list.patient_activated.connect(self.open_patient)
        self.chart_button.clicked.connect(self._open_selected_chart)
        self.review.loaded.connect(self._show_review_count)
        self.panel.confirm_clicked.connect(self.actions.confirm)
        self.panel.start_clicked.connect(self.actions.start)
        self.panel.complete_clicked.connect(self.actions.complete)
        self.panel.follow_up_clicked.connect(self.actions.ask_follow_up)
        self.panel.history_clicked.connect(lambda a: self.patient_requested.emit(a.patient_id))
        self.requests.confirm_clicked.connect(self.actions.confirm)
        self.requests.decline_clicked.connect(self.actions.ask_decline)
        self.requests.day_requested.connect(self.show_appointment_day)
        self.actions.done.connect(self._written)
        self.actions.refused.connect(self._refused)

    # --- what is shown ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the doctors again, then the day shown (after sync brought changes)."""
        if self._ctx.scheduling is None:
            self._show_empty("Appointments are not available on this computer.")
            return
        scheduling = self._ctx.scheduling
        self._ctx.run(self, lambda: load_doctors(scheduling), self._show_doctors, self._failed)
        if self._ctx.session.can(Perm.RESULT_REVIEW) and self._ctx.clinical is not None:
            self.review.refresh()  # the tab shows how many results wait

    def _show_doctors(self, doctors: Doctors) -> None:
        changed = doctors.choices() != self.doctors.choices()
        self.doctors = doctors
        if self.doctors.find(self.doctor_id) is None:
            self.doctor_id = doctors.mine.id if doctors.mine else None
            self.doctor_id = self.doctor_id or next(iter(doctors.choices()), (None, ""))[0]
        if changed:
            self.header.set_doctors(doctors.choices(), self.doctor_id)
        self.panel.follow_up_blocked = "" if doctors.mine else NO_PROFILE
        if self.doctor_id is None:
            self._show_empty(NO_DOCTORS)
            return
        self.choose_doctor(self.doctor_id)

    def choose_doctor(self, doctor_id: uuid.UUID) -> None:
        """Show the day of another doctor (the same date, in their time zone)."""
        self.doctor_id = doctor_id
        self.zone = zone_of(self.doctors.find(doctor_id))
        self.panel.zone = self.requests.zone = self.day_list.model.zone = self.zone
        self.reload()

    def today(self) -> date:
        """Today in the shown doctor's time zone."""
        return datetime.now(self.zone).date()

    def show_day(self, day: date) -> None:
        self.day = day
        self.reload()

    def step_day(self, days: int) -> None:
        self.show_day((self.day or self.today()) + timedelta(days=days))

    def show_today(self) -> None:
        self.show_day(self.today())

    def show_appointment_day(self, appointment: AppointmentView) -> None:
        """Jump to an appointment's day and select it."""
        self.day_list.chosen_id = appointment.id
        self.show_day(rules.local_day(appointment.starts_at, self.zone))

    def reload(self) -> None:
        """Read the shown day and the requests again, off the UI thread."""
        if self.doctor_id is None or self._ctx.scheduling is None:
            return
        self.day = self.day or self.today()
        self._generation += 1
        generation, scheduling = self._generation, self._ctx.scheduling
        doctor_id, day, zone = self.doctor_id, self.day, self.zone
        self._ctx.run(
            self,
            lambda: load_day(scheduling, doctor_id, day, zone, datetime.now(UTC)),
            lambda data: self._show(generation, data),
            self._failed,
        )

    def _show(self, generation: int, data: DayData) -> None:
        if generation != self._generation:
            return  # a newer request is on its way
        doctor = self.doctors.find(data.doctor_id)
        mine = self.doctors.mine is not None and self.doctors.mine.id == data.doctor_id
        name = doctor.display_name if doctor else "Doctor"
        self._following_today = data.day == self.today()
        self.header.show_day(
            "My day" if mine else f"{name}'s day",
            rules.day_title(data.day, self.today()),
            self._following_today,
        )
        self.header.show_summary(rules.summary_text(data.appointments), self._zone_note())
        self.day_list.set_appointments(data.appointments, "No appointments on this day.")
        self.requests.set_requests(data.requests)

    def _show_empty(self, text: str) -> None:
        self.day_list.show_empty(text)

    def _zone_note(self) -> str:
        now = datetime.now(UTC)
        same = now.astimezone(self.zone).utcoffset() == now.astimezone().utcoffset()
        return "" if same else f"Times in {self.zone.key}"

    def selected(self) -> AppointmentView | None:
        """The appointment selected in the day list."""
        return self.day_list.selected()

    def _on_selected(self, chosen: AppointmentView | None) -> None:
        previous = self.panel.appointment
        self.panel.show_appointment(chosen)
        self.chart_button.setEnabled(chosen is not None)
        if chosen is not None and (previous is None or previous.id != chosen.id):
            self._load_history(chosen)

    def _load_history(self, chosen: AppointmentView) -> None:
        scheduling, zone = self._ctx.scheduling, self.zone
        assert scheduling is not None

        def show(text: str) -> None:
            if self.panel.appointment is not None and self.panel.appointment.id == chosen.id:
                self.panel.show_history(text)

        self._ctx.run(
            self,
            lambda: history_text(scheduling.patient_appointments(chosen.patient_id), chosen, zone),
            show,
            lambda _exc: None,
        )

    # --- the chart and the results to review ----------------------------------------------

    def open_patient(self, patient_id: object) -> None:
        """Open a patient's chart (from the day list, or the global patient search)."""
        if not self._ctx.session.can(Perm.CHART_READ):
            self.patient_requested.emit(patient_id)  # no chart for this role: the record
            return
        self.chart.open_patient(uuid.UUID(str(patient_id)))
        self.tabs.setCurrentWidget(self.chart)

    def _open_selected_chart(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.open_patient(chosen.patient_id)

    def _show_review_count(self, count: int) -> None:
        title = f"{REVIEW_TAB} ({count})" if count else REVIEW_TAB
        self.tabs.setTabText(self.tabs.indexOf(self.review), title)

    def _tick(self) -> None:
        if self._following_today and self.day != self.today():
            self.show_today()  # past midnight: the new day
        self.day_list.model.tick()
        self.panel.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another workspace was in front."""
        super().showEvent(event)
        self.watch.shown()

    def _written(self, text: str) -> None:
        sync = self._ctx.sync
        self.notice.show_done(text + (OFFLINE_NOTE if sync and sync.status.online is False else ""))
        self.reload()

    def _refused(self, text: str) -> None:
        self.notice.show_refused(text)
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self._show_empty(f"The appointments could not be read: {describe_error(exc)}")
