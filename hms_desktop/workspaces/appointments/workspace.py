"""Reception's appointments: booking, the day's list, check-in, waiting room and follow-ups."""

import uuid
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QSplitter, QTabWidget, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import AppointmentView, FollowUpView
from hms_desktop.widgets.attention_dialog import AttentionDialog
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.appointments.banners import Banner, BookingTracker, refused_text
from hms_desktop.workspaces.appointments.booking_panel import BookingPanel
from hms_desktop.workspaces.appointments.day_list import DayListPanel
from hms_desktop.workspaces.appointments.directory import Directory
from hms_desktop.workspaces.appointments.patient_field import ChosenPatient
from hms_desktop.workspaces.appointments.side_lists import FollowUpsPanel, WaitingRoomPanel

WAITING_TICK_MS = 30_000  # waiting times are minutes: a tick every 30 s is plenty
RELOAD_DELAY_MS = 150  # several sync signals in a row cause one reload


class AppointmentsWorkspace(QWidget):
    """Book on the left; the day's list, the waiting room and follow-ups due on the right."""

    patient_requested = Signal(object)  # a patient id: main_window opens the record

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._stale = True
        self._sync_counts: tuple[int, int] | None = None
        self.directory = Directory()
        self.attention_dialog: AttentionDialog | None = None
        self.setObjectName("appointmentsWorkspace")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.banner = Banner()
        self.tracker = BookingTracker(self.banner)
        self.refused_banner = Banner("Review and book another time…")
        self.refused_banner.button.clicked.connect(self.show_refused)
        layout.addWidget(self.banner)
        layout.addWidget(self.refused_banner)
        layout.addWidget(self._body(), 1)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload)
        self._tick = QTimer(self, interval=WAITING_TICK_MS)
        self._tick.timeout.connect(self._refresh_waiting)
        self._tick.start()
        if ctx.sync is not None:
            ctx.sync.data_changed.connect(self._schedule_reload)
            ctx.sync.status_changed.connect(self._on_sync_status)

    def _header(self) -> QFrame:
        box = QFrame()
        box.setObjectName("pageHeader")
        column = QVBoxLayout(box)
        column.setContentsMargins(28, 16, 28, 10)
        column.setSpacing(2)
        column.addWidget(styled_label("Appointments", "pageTitle"))
        column.addWidget(
            styled_label(
                "Book at the desk, check patients in, and keep the day on time. "
                "Bookings made here wait for the server's confirmation.",
                "hint",
            )
        )
        return box

    def _body(self) -> QWidget:
        self.booking = BookingPanel(self._ctx)
        self.booking.booked.connect(self._booked)
        self.day_list = DayListPanel(self._ctx)
        self.day_list.patient_requested.connect(self.patient_requested)
        self.day_list.changed.connect(lambda _m, _v: self._after_change())
        self.waiting_room = WaitingRoomPanel(self._ctx)
        self.waiting_room.patient_requested.connect(self.patient_requested)
        self.waiting_room.loaded.connect(lambda n: self._count_tab(1, "Waiting room", n))
        self.follow_ups = FollowUpsPanel(self._ctx)
        self.follow_ups.book_requested.connect(self._book_follow_up)
        self.follow_ups.loaded.connect(lambda n: self._count_tab(2, "Follow-ups due", n))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("appointmentTabs")
        self.tabs.addTab(self.day_list, "Day list")
        self.tabs.addTab(self.waiting_room, "Waiting room")
        self.tabs.addTab(self.follow_ups, "Follow-ups due")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("appointmentsSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.booking)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 520])
        holder = QWidget()
        holder.setObjectName("appointmentsBody")
        column = QVBoxLayout(holder)
        column.setContentsMargins(20, 14, 20, 14)
        column.addWidget(splitter)
        return holder

    # --- public -----------------------------------------------------------------------------

    def book_for(self, patient_id: uuid.UUID, follow_up: FollowUpView | None = None) -> None:
        """Start a booking for this patient (prefilled from a follow-up request when given)."""
        self.booking.book_for(uuid.UUID(str(patient_id)), follow_up)

    def reload(self) -> None:
        """Read every list again from the cache (cheap: one day, one week, a few rows)."""
        self._stale = False
        scheduling = self._ctx.scheduling
        self._ctx.run(self, lambda: Directory.load(scheduling), self._reload_lists)

    def _reload_lists(self, directory: Directory) -> None:
        if directory != self.directory:  # doctors or departments arrived or changed
            self._set_directory(directory)  # reloads the day list and the free times
        else:
            self.day_list.reload()
            self.booking.picker.reload()
        self.waiting_room.reload()
        self.follow_ups.reload()
        self._check_booking()
        self._check_refused()

    def show_refused(self) -> None:
        """Open the changes the server refused, with "book this time instead"."""
        if self._ctx.sync is None:
            return
        sync = self._ctx.sync
        dialog = AttentionDialog(sync.store, self._ctx.tasks, self, after_write=sync.local_write)
        dialog.rebooked.connect(self._rebooked)
        dialog.finished.connect(lambda _r: self._schedule_reload())
        self.attention_dialog = dialog
        dialog.open()

    # --- loading ----------------------------------------------------------------------------

    def _set_directory(self, directory: Directory) -> None:
        self.directory = directory
        self.booking.set_directory(directory)
        self.day_list.set_directory(directory)
        self.waiting_room.directory = self.follow_ups.directory = directory

    def _schedule_reload(self) -> None:
        if self.isVisible():
            self._reload_timer.start()
        else:
            self._stale = True  # reloaded when shown

    def _on_sync_status(self, status: Any) -> None:
        counts = (status.pending, status.attention)
        if counts != self._sync_counts:  # something was sent, confirmed or refused
            self._sync_counts = counts
            self._schedule_reload()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._schedule_reload()

    def _check_booking(self) -> None:
        booking = self.tracker.booking
        if booking is None:
            return
        scheduling = self._ctx.scheduling
        self._ctx.run(self, lambda: scheduling.appointment(booking.id), self.tracker.show)

    def _check_refused(self) -> None:
        if self._ctx.sync is None:
            return
        store = self._ctx.sync.store
        self._ctx.run(
            self,
            store.rejections,
            lambda entries: self.refused_banner.say(refused_text(entries), "warning"),
        )

    # --- reactions --------------------------------------------------------------------------

    def _booked(self, view: AppointmentView, patient: ChosenPatient) -> None:
        doctor = self.directory.doctor(view.doctor_id)
        self.tracker.booked(view, patient, doctor.timezone if doctor else "UTC")
        self.tabs.setCurrentWidget(self.day_list)
        self.day_list.show_appointment(view)
        self.follow_ups.reload()

    def _rebooked(self, view: AppointmentView) -> None:
        patient = ChosenPatient(view.patient_id, view.patient_name, view.mrn)
        self._booked(view, patient)
        self._check_refused()

    def _book_follow_up(self, follow_up: FollowUpView) -> None:
        self.book_for(follow_up.patient_id, follow_up)

    def _after_change(self) -> None:
        self.waiting_room.reload()
        self.booking.picker.reload()
        self.follow_ups.reload()

    def _refresh_waiting(self) -> None:
        self.day_list.refresh_waiting()
        self.waiting_room.refresh_waiting()  # the list itself reloads when data changes

    def _count_tab(self, index: int, title: str, count: int) -> None:
        self.tabs.setTabText(index, f"{title} ({count})" if count else title)
