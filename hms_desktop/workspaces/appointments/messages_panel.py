"""The messages sent to the patient about one appointment, with their delivery status."""

import uuid
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import MessageView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.appointments.models import clock, day_text

CHANNELS = {"email": "Email", "sms": "SMS"}


def message_line(message: MessageView, zone: ZoneInfo) -> str:
    """'Confirmation · Email to x@y: sent 10:02', 'Reminder · SMS to +1…: failed — reason'."""
    channel = CHANNELS.get(message.channel, message.channel.upper())
    kind = message.kind.replace("_", " ").capitalize()
    head = f"{kind} · {channel} to {message.recipient}"
    if message.status == "sent" and message.sent_at is not None:
        sent = message.sent_at.astimezone(zone)
        return f"{head}: sent {day_text(sent.date())} {clock(message.sent_at, zone)}"
    if message.status == "failed":
        return f"{head}: failed — {message.last_error or 'no reason given'}"
    if message.status == "cancelled":
        return f"{head}: not sent (no longer needed)"
    tries = f" (tried {message.attempts}×)" if message.attempts else ""
    return f"{head}: waiting to be sent{tries}"


class MessagesPanel(QFrame):
    """'Messages to the patient' and one line per message, loaded off the UI thread."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        self.setObjectName("messagesPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(styled_label("Messages to the patient", "fieldCaption"))
        self.lines_label = styled_label("", "messageLines")
        self.lines_label.setWordWrap(True)
        layout.addWidget(self.lines_label)
        self.show_for(None, ZoneInfo("UTC"))

    def show_for(self, appointment_id: uuid.UUID | None, zone: ZoneInfo) -> None:
        """Show the messages of this appointment (none selected: a hint)."""
        self._generation += 1
        if appointment_id is None:
            self.lines_label.setText("Select an appointment to see what the patient was sent.")
            return
        generation, scheduling = self._generation, self._ctx.scheduling
        self._ctx.run(
            self,
            lambda: scheduling.messages(appointment_id),
            lambda found: self._show(generation, found, zone),
            lambda exc: self._show_text(generation, describe_error(exc)),
        )

    def _show(self, generation: int, found: list[MessageView], zone: ZoneInfo) -> None:
        lines = [message_line(m, zone) for m in found]
        self._show_text(generation, "\n".join(lines) or "No message sent yet.")

    def _show_text(self, generation: int, text: str) -> None:
        if generation == self._generation:
            self.lines_label.setText(text)
