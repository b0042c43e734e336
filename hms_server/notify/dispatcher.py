"""Delivering the outbox: due messages are sent one per transaction, the outcome recorded on
the row (so the change log carries it to reception), failures retried with backoff.

Several server instances may run this at once: each message is taken with
`FOR UPDATE SKIP LOCKED`, so exactly one of them sends it.
"""

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.base import utcnow
from hms_core.db.notifications import CANCELLED, FAILED, PENDING, SENT, OutboundMessage
from hms_core.db.scheduling import Appointment
from hms_core.services.availability import aware
from hms_server.db import Database
from hms_server.notify import DeliveryError, email, sms
from hms_server.notify.queue import BOOKED, EMAIL, MOVED, REMINDER, queue_reminders
from hms_server.notify.receipts import receipt_attachments
from hms_server.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
# Messages about an upcoming visit, pointless once its time has passed.
BEFORE_THE_VISIT = (BOOKED, MOVED, REMINDER)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4, 8 … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), MAX_BACKOFF)


def deliver_due(
    db: Database,
    settings: Settings,
    now: datetime,
    email_sender: email.SmtpSender | None,
    sms_provider: sms.SmsProvider | None,
    batch: int = 50,
) -> dict[str, int]:
    """Send up to `batch` messages due at `now`; counts of sent, retrying, failed, cancelled."""
    counts: Counter[str] = Counter()
    for _ in range(batch):
        with db.unit_of_work() as session:
            row = _take_due(session, now)
            if row is None:
                break
            counts[_deliver(session, row, settings, now, email_sender, sms_provider)] += 1
    return {key: counts[key] for key in ("sent", "retrying", "failed", "cancelled")}


def _take_due(session: Session, now: datetime) -> OutboundMessage | None:
    """The oldest due pending message no other worker holds, locked for this transaction."""
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.status == PENDING, OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).first()


def _deliver(
    session: Session,
    row: OutboundMessage,
    settings: Settings,
    now: datetime,
    email_sender: email.SmtpSender | None,
    sms_provider: sms.SmsProvider | None,
) -> str:
    """Send one message and record what happened; returns the outcome's name."""
    row.bump_version()
    if _visit_passed(session, row, now):
        row.status, row.last_error = CANCELLED, "Not sent: the appointment time has passed"
        return "cancelled"
    try:
        reference = _send(session, row, settings, email_sender, sms_provider)
    except DeliveryError as exc:
        return _failed(row, exc, settings, now)
    except Exception as exc:  # a bug must not stop the queue: retry, and log it
        log.exception("Sending message %s failed unexpectedly", row.id)
        return _failed(
            row, DeliveryError(f"Unexpected error: {exc}", permanent=False), settings, now
        )
    row.attempts += 1
    row.status, row.sent_at, row.provider_ref, row.last_error = SENT, now, reference[:200], None
    return "sent"


def _send(
    session: Session,
    row: OutboundMessage,
    settings: Settings,
    email_sender: email.SmtpSender | None,
    sms_provider: sms.SmsProvider | None,
) -> str:
    """Send the row on its channel; a receipt email gets its PDF, made now from the rows."""
    if row.channel == EMAIL:
        if email_sender is None:
            raise DeliveryError(email.NOT_SET_UP, permanent=True)
        attachments = receipt_attachments(session, row, settings)
        if attachments:
            return email_sender.send(row.recipient, row.subject, row.body, attachments)
        return email_sender.send(row.recipient, row.subject, row.body)
    if sms_provider is None:
        raise DeliveryError(sms.NOT_SET_UP, permanent=True)
    return sms_provider.send(row.recipient, row.body)


def _failed(row: OutboundMessage, error: DeliveryError, settings: Settings, now: datetime) -> str:
    """Record a failed attempt: retry later, or give up when permanent or out of attempts."""
    row.attempts += 1
    row.last_error = error.message[:500]
    if error.permanent or row.attempts >= settings.notify_max_attempts:
        row.status = FAILED
        return "failed"
    row.next_attempt_at = now + backoff(row.attempts)
    return "retrying"


def _visit_passed(session: Session, row: OutboundMessage, now: datetime) -> bool:
    if row.kind not in BEFORE_THE_VISIT or row.appointment_id is None:
        return False
    appointment = session.get(Appointment, row.appointment_id)
    return appointment is not None and aware(appointment.starts_at) <= now


class NotificationWorker:
    """Queues due reminders and delivers the outbox, every `notify_interval_seconds`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        email_sender: email.SmtpSender | None = None,
        sms_provider: sms.SmsProvider | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.email_sender = email_sender or email.SmtpSender(settings)
        self.sms_provider = sms_provider or _sms_from(settings)

    def tick(self, now: datetime) -> dict[str, int]:
        """One round at `now`: queue reminders (own transaction), then deliver what is due."""
        with self.db.unit_of_work() as session:
            queued = queue_reminders(session, now, self.settings)
        outcome = deliver_due(self.db, self.settings, now, self.email_sender, self.sms_provider)
        return {"queued": queued, **outcome}

    def run(self, stop: threading.Event) -> None:
        """Tick on the real clock until `stop` is set; an error is logged, never fatal."""
        while not stop.is_set():
            try:
                self.tick(utcnow())
            except Exception:
                log.exception("The notification worker's round failed; trying again")
            stop.wait(self.settings.notify_interval_seconds)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event (then join) to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="hms-notify", daemon=True)
        thread.start()
        return thread, stop


def _sms_from(settings: Settings) -> sms.SmsProvider | None:
    if not settings.sms_url:
        return None
    token = settings.sms_token.get_secret_value() if settings.sms_token else None
    return sms.HttpSmsProvider(settings.sms_url, token, settings.sms_sender)
