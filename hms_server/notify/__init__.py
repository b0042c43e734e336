"""Messages to patients about their appointments: queued in the outbox at commit, sent by a
worker over email (SMTP) and SMS (an HTTP gateway), retried with backoff.

- templates: the texts per language, filled for people to read (resources/notifications/)
- queue: which messages to add to `outbound_message`, idempotently (dedupe keys)
- hooks: turns a commit's domain events into messages and staff notifications
- email, sms: the channels; both raise DeliveryError
- dispatcher: delivers due messages, records the outcome; NotificationWorker runs it all
"""


class DeliveryError(Exception):
    """A message could not be sent; `permanent` means retrying will not help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
