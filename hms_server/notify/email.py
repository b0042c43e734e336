"""Email over SMTP: STARTTLS with a verified certificate, login when configured, UTF-8 text,
with files attached when given (a receipt's PDF).

Failures become a DeliveryError whose message a receptionist can read; a refused address
(5xx) is permanent, everything else (no connection, 4xx, a login or TLS problem) is retried.
"""

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from hms_server.notify import DeliveryError
from hms_server.settings import Settings

TIMEOUT_SECONDS = 20.0
NOT_SET_UP = "Email is not set up on the server"


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"


class SmtpSender:
    """Sends one email per call through the configured SMTP server."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        """Whether an SMTP server is set up at all."""
        return bool(self.settings.smtp_host)

    def send(self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()) -> str:
        """Send a plain-text email with `attachments`; returns its Message-ID."""
        if not self.configured:
            raise DeliveryError(NOT_SET_UP, permanent=True)
        message = build_message(self.settings.smtp_from, to, subject, body, attachments)
        try:
            self._deliver(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._explain(exc) from exc
        return message["Message-ID"]

    def _deliver(self, message: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self.timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=self._tls_context())
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)

    def _tls_context(self) -> ssl.SSLContext:
        """The system's trusted CAs, plus `smtp_ca_file` when set; hostnames are checked."""
        context = ssl.create_default_context()
        if self.settings.smtp_ca_file is not None:
            context.load_verify_locations(cafile=str(self.settings.smtp_ca_file))
        return context

    def _explain(self, exc: Exception) -> DeliveryError:
        where = f"{self.settings.smtp_host}:{self.settings.smtp_port}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return _refused(exc)
        if isinstance(exc, smtplib.SMTPResponseException):
            return _response(exc)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return DeliveryError(
                f"The mail server {where} offers no secure connection (STARTTLS)", permanent=False
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            reason = exc.verify_message or str(exc)
            return DeliveryError(
                f"The mail server's certificate is not trusted: {reason}", permanent=False
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return DeliveryError(f"The mail server {where} closed the connection", permanent=False)
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return DeliveryError(f"Could not reach the mail server {where}: {reason}", permanent=False)


# Python's header folder (at 78 columns) moves a long subject to a continuation line, and
# readers then show it with a leading space; RFC 5322 allows lines up to 998 characters.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def build_message(
    sender: str, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
) -> EmailMessage:
    """A plain-text UTF-8 email with the headers mail servers and clients expect, and files."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body, charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _refused(exc: smtplib.SMTPRecipientsRefused) -> DeliveryError:
    code, reply = next(iter(exc.recipients.values()), (0, b""))
    text = f"{code} {_text(reply)}".strip()
    if 500 <= code < 600:
        return DeliveryError(f"The mail server refused the address: {text}", permanent=True)
    return DeliveryError(
        f"The mail server did not accept the address for now: {text}", permanent=False
    )


def _response(exc: smtplib.SMTPResponseException) -> DeliveryError:
    text = f"{exc.smtp_code} {_text(exc.smtp_error)}".strip()
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"The mail server did not accept the server's login: {text}", permanent=False
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return DeliveryError(f"The mail server refused the sender address: {text}", permanent=False)
    if isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600:
        return DeliveryError(f"The mail server rejected the message: {text}", permanent=True)
    return DeliveryError(
        f"The mail server could not take the message for now: {text}", permanent=False
    )


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
