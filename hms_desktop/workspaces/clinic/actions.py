"""The doctor's changes to appointments: one small method per action, run off the UI thread.

Each change is a named mutation on the cache (queued for the server by `ctx.write`); the
outcome is reported in plain words through `done` or `refused` (a DomainError's message).
"""

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.reason_dialog import ReasonDialog
from hms_desktop.workspaces.clinic import rules
from hms_desktop.workspaces.clinic.follow_up_dialog import FollowUpDialog


def _decline_dialog(appointment: AppointmentView, when: str, parent: QWidget) -> ReasonDialog:
    """Asks why a request is declined; the reason is required (it is kept with the appointment)."""
    return ReasonDialog(
        "Decline request",
        f"{appointment.patient_name} · MRN {appointment.mrn} · {when}",
        heading="Decline this request?",
        confirm="Decline request",
        keep="Cancel",
        placeholder="Reason (required), e.g. please see your GP first",
        missing="Give a reason of at least three characters",
        hold=True,
        parent=parent,
    )


class VisitActions(QObject):
    """Confirm, start, complete, decline, ask for a follow-up; dialogs open on `parent`."""

    done = Signal(str)
    refused = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget, zone: Callable[[], ZoneInfo]) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._parent = parent
        self._zone = zone
        self.follow_up_dialog: FollowUpDialog | None = None
        self.decline_dialog: ReasonDialog | None = None

    def confirm(self, appointment: AppointmentView) -> None:
        """Confirm a requested appointment."""
        when = rules.short_when(appointment.starts_at, self._zone())
        self._write(
            lambda s: s.set_status(appointment.id, "confirmed"),
            lambda _v: f"Confirmed {appointment.patient_name}'s appointment on {when}.",
        )

    def start(self, appointment: AppointmentView) -> None:
        """Start the consultation."""
        text = f"Consultation with {appointment.patient_name} started."
        self._write(lambda s: s.set_status(appointment.id, "in_consultation"), lambda _v: text)

    def complete(self, appointment: AppointmentView) -> None:
        """Finish the visit."""
        text = f"Visit with {appointment.patient_name} completed."
        self._write(lambda s: s.set_status(appointment.id, "completed"), lambda _v: text)

    def ask_follow_up(self, appointment: AppointmentView) -> None:
        """Open the follow-up dialog for the appointment's patient."""
        dialog = FollowUpDialog(appointment, self._parent)
        dialog.accepted.connect(
            lambda: self._follow_up(appointment, dialog.days(), dialog.reason())
        )
        dialog.finished.connect(dialog.deleteLater)
        self.follow_up_dialog = dialog
        dialog.open()

    def _follow_up(self, appointment: AppointmentView, days: int, reason: str) -> None:
        self.follow_up_dialog = None
        self._write(
            lambda s: s.request_follow_up(appointment.patient_id, days, reason, appointment.id),
            lambda result: (
                f"Follow-up for {appointment.patient_name} requested for "
                f"{rules.long_date(date.fromisoformat(result['due_date']))}; "
                "reception will book it."
            ),
        )

    def ask_decline(self, appointment: AppointmentView) -> None:
        """Ask for the reason, then decline the request."""
        when = rules.short_when(appointment.starts_at, self._zone())
        dialog = _decline_dialog(appointment, when, self._parent)
        dialog.accepted.connect(lambda: self._decline(appointment, when, dialog.reason))
        dialog.finished.connect(dialog.deleteLater)
        self.decline_dialog = dialog
        dialog.open()

    def _decline(self, appointment: AppointmentView, when: str, reason: str) -> None:
        self.decline_dialog = None
        self._write(
            lambda s: s.cancel(appointment.id, reason),
            lambda _v: f"Declined {appointment.patient_name}'s request for {when}.",
        )

    def _write(self, change: Callable[[LocalScheduling], Any], done: Callable[[Any], str]) -> None:
        scheduling = self._ctx.scheduling
        if scheduling is None:
            self.refused.emit("Appointments are not available on this computer.")
            return
        self._ctx.write(
            self,
            lambda: change(scheduling),
            lambda result: self.done.emit(done(result)),
            lambda exc: self.refused.emit(f"Not done: {describe_error(exc)}"),
        )
