"""What the desk does to a booked appointment: check in, no-show, cancel, move.

Each action is one small function over `ctx.scheduling`, run off the UI thread through
`ctx.write` (so sync pushes it at once); the outcome comes back as `done` or `failed`.
"""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.reason_dialog import ReasonDialog
from hms_desktop.workspaces.appointments.dialogs import RescheduleDialog, cancel_dialog
from hms_desktop.workspaces.appointments.directory import Directory
from hms_desktop.workspaces.appointments.models import slot_text, when_text


class AppointmentActions(QObject):
    """Runs the desk's actions on appointments; reports `done(message, view)` or `failed`."""

    done = Signal(str, object)
    failed = Signal(str)

    def __init__(
        self, ctx: AppContext, directory: Callable[[], Directory], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._directory = directory
        self._parent = parent
        self.cancel_dialog: ReasonDialog | None = None
        self.reschedule_dialog: RescheduleDialog | None = None

    def check_in(self, appointment: AppointmentView) -> None:
        self._status(appointment, "checked_in", f"{appointment.patient_name} is checked in.")

    def no_show(self, appointment: AppointmentView) -> None:
        self._status(
            appointment, "no_show", f"{appointment.patient_name} is marked as not attending."
        )

    def cancel(self, appointment: AppointmentView) -> None:
        """Ask for the reason, then cancel."""
        zone = self._directory().zone(appointment.department_id, appointment.doctor_id)
        dialog = cancel_dialog(appointment, zone, self._parent)
        dialog.accepted.connect(lambda: self._cancel(appointment, dialog.reason))
        self.cancel_dialog = dialog
        dialog.open()

    def reschedule(self, appointment: AppointmentView) -> None:
        """Let the user pick a new free time, then move the appointment there."""
        dialog = RescheduleDialog(self._ctx, appointment, self._directory(), self._parent)
        dialog.accepted.connect(lambda: self._move(dialog))
        self.reschedule_dialog = dialog
        dialog.open()

    # --- the writes -------------------------------------------------------------------------

    def _status(self, appointment: AppointmentView, status: str, message: str) -> None:
        scheduling = self._ctx.scheduling
        self._write(lambda: scheduling.set_status(appointment.id, status), message)

    def _cancel(self, appointment: AppointmentView, reason: str) -> None:
        scheduling = self._ctx.scheduling
        zone = self._directory().zone(appointment.department_id, appointment.doctor_id)
        message = (
            f"Cancelled {appointment.patient_name}'s appointment "
            f"({when_text(appointment.starts_at, zone)}); the time is free again."
        )
        self._write(lambda: scheduling.cancel(appointment.id, reason), message)

    def _move(self, dialog: RescheduleDialog) -> None:
        slot, reason, scheduling = dialog.slot, dialog.reason, self._ctx.scheduling
        if slot is None:
            return
        appointment = dialog.appointment
        message = (
            f"Moved {appointment.patient_name} to {slot_text(slot, dialog.picker.zone)}"
            " — waiting for the server to confirm."
        )
        self._write(lambda: scheduling.reschedule(appointment.id, slot, reason), message)

    def _write(self, work: Callable[[], Any], message: str) -> None:
        self._ctx.write(
            self,
            work,
            lambda view: self.done.emit(message, view),
            lambda exc: self.failed.emit(f"Not changed. {describe_error(exc)}"),
        )
