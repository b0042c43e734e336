"""Notifications: messages to patients (email, SMS) in a delivery outbox, and in-app
notifications to staff (the bell)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, IdMixin, ReplicatedMixin, utcnow

# Delivery statuses of an outbound message.
PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # gave up after the last retry; `last_error` says why
CANCELLED = "cancelled"  # no longer wanted (the appointment moved or was cancelled)


class OutboundMessage(ReplicatedMixin, Base):
    """One message to a patient over one channel, rendered when queued, sent by the server.

    `dedupe_key` makes queuing idempotent: the 24 h reminder of one appointment at one time
    is queued once, however often the reminder job runs.
    """

    __tablename__ = "outbound_message"

    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    recipient: Mapped[str] = mapped_column(String(254))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"), index=True)
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointment.id"), index=True
    )
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment.id"), default=None
    )  # a receipt: its PDF goes with the email
    language: Mapped[str] = mapped_column(String(8), default="en")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)

    __table_args__ = (Index("ix_outbound_message_due", "status", "next_attempt_at"),)


class UserNotification(IdMixin, Base):
    """An in-app notification for one staff member (the bell); never replicated."""

    __tablename__ = "user_notification"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointment.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_user_notification_user_created", "user_id", "created_at"),)
