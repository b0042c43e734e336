"""Delivering the outbox to real servers on 127.0.0.1: an SMTP server (aiosmtpd) that demands
STARTTLS and AUTH LOGIN, and an HTTP SMS gateway; retries, giving up, and the worker loop."""

import json
import logging
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import select

from hms_core.db.base import utcnow
from hms_core.db.notifications import FAILED, PENDING, SENT, OutboundMessage
from hms_core.db.sync import ChangeLog
from hms_server.db import Database
from hms_server.notify.dispatcher import NotificationWorker, deliver_due
from hms_server.notify.email import SmtpSender
from hms_server.notify.queue import queue_reminders
from hms_server.notify.sms import HttpSmsProvider
from hms_server.settings import Settings
from tests.conftest import free_port
from tests.server.test_notify_queue import (
    DOCTOR,
    HOSPITAL_ZONE,
    Clinic,
    add_patient,
    book,
    english_when,
    hooked,
    local_start,
    make_clinic,
    messages,
    notify_settings,
)

MAIL_USER, MAIL_PASSWORD = "hms-mailer", "correct horse battery"
SMS_TOKEN = "gateway-token-123"
SPANISH_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
SPANISH_MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()


# --- a real SMTP server ----------------------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler: keeps what it accepts; can refuse addresses or defer messages."""

    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str], bool]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    defer: int = 0  # answer this many messages with 451 "try again later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.defer > 0:
            self.defer -= 1
            return "451 4.3.0 Mail system busy, try again later"
        self.envelopes.append((envelope.mail_from, envelope.rcpt_tos, session.authenticated))
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Accepted"


def mailer_login(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    """Accept only the hospital's mail account, and only over AUTH LOGIN."""
    ok = (
        mechanism == "LOGIN"
        and isinstance(auth_data, LoginPassword)
        and (auth_data.login, auth_data.password) == (MAIL_USER.encode(), MAIL_PASSWORD.encode())
    )
    return AuthResult(success=ok)


@dataclass
class MailServer:
    port: int
    ca_file: Path
    inbox: Inbox


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[MailServer]:
    """An SMTP server on 127.0.0.1 with a certificate from a test CA, requiring STARTTLS and
    AUTH LOGIN (PLAIN is not offered)."""
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    ca_file = tmp_path / "mail-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
        authenticator=mailer_login,
    )
    controller.start()
    yield MailServer(controller.port, ca_file, inbox)
    controller.stop()


def mail_settings(server_settings: Settings, mail: MailServer, **changes: Any) -> Settings:
    smtp = {
        "smtp_host": "127.0.0.1",
        "smtp_port": mail.port,
        "smtp_starttls": True,
        "smtp_username": MAIL_USER,
        "smtp_password": SecretStr(MAIL_PASSWORD),
        "smtp_from": "Riverside Hospital <appointments@riverside.example>",
        "smtp_ca_file": mail.ca_file,
    }
    return notify_settings(server_settings, **{**smtp, **changes})


# --- a real HTTP SMS gateway -------------------------------------------------------------------


class GatewayHandler(BaseHTTPRequestHandler):
    """Records each POST; answers with the next scripted (status, body) or 200 and an id."""

    server: "SmsGateway"

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.server.requests.append({"json": body, "auth": self.headers.get("Authorization")})
        status, answer = (
            self.server.answers.pop(0)
            if self.server.answers
            else (202, {"id": f"msg-{len(self.server.requests)}"})
        )
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the test asserts on what arrived."""


class SmsGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GatewayHandler)
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/messages"


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    server = SmsGateway()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def sms_provider(gateway: SmsGateway) -> HttpSmsProvider:
    return HttpSmsProvider(gateway.url, SMS_TOKEN, "RIVERSIDE")


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def clinic(db: Database) -> Clinic:
    return make_clinic(db)


def deliver(db: Database, settings: Settings, now: datetime, gateway: SmsGateway | None = None):
    """One delivery round at `now` with the real senders."""
    provider = sms_provider(gateway) if gateway is not None else None
    return deliver_due(db, settings, now, SmtpSender(settings), provider)


def book_for_email(db: Database, settings: Settings, clinic: Clinic, **patient: Any) -> datetime:
    """Book a patient who wants email; returns the appointment's start."""
    hooked(db, settings)
    starts = local_start(days=12)
    patient.setdefault("notify_by", "email")
    book(db, clinic, add_patient(db, **patient), starts)
    return starts


def only(db: Database) -> OutboundMessage:
    [row] = messages(db)
    return row


# --- email -------------------------------------------------------------------------------------


def test_the_mail_server_receives_the_booking_in_spanish(db, clinic, server_settings, mail_server):
    settings = mail_settings(server_settings, mail_server)
    starts = book_for_email(
        db, settings, clinic, given="Lucía", family="Pérez", language="Español",
        email="lucia.perez@example.org",
    )  # fmt: skip
    assert deliver(db, settings, utcnow()) == {
        "sent": 1,
        "retrying": 0,
        "failed": 0,
        "cancelled": 0,
    }

    [received] = mail_server.inbox.received
    [(sender, recipients, authenticated)] = mail_server.inbox.envelopes
    assert sender == "appointments@riverside.example" and authenticated
    assert recipients == ["lucia.perez@example.org"] and received["To"] == "lucia.perez@example.org"
    local = starts.astimezone(ZoneInfo(HOSPITAL_ZONE))
    spanish_when = (
        f"{SPANISH_DAYS[local.weekday()]} {local.day} de {SPANISH_MONTHS[local.month - 1]}"
        f" de {local.year} a las 09:30"
    )
    assert received["Subject"] == f"Su cita en Riverside Hospital: {spanish_when}"
    body = received.get_content()
    assert body.startswith("Estimado/a Lucía:")
    assert f"Su cita con {DOCTOR} (Cardiology) está reservada para el {spanish_when}." in body
    assert parsedate_to_datetime(received["Date"]).tzinfo is not None

    row = only(db)
    assert (row.status, row.attempts, row.provider_ref) == (SENT, 1, received["Message-ID"])
    with db.unit_of_work() as session:  # reception's desktops learn it went out
        logged = session.scalars(
            select(ChangeLog.data).where(ChangeLog.row_id == row.id).order_by(ChangeLog.seq)
        ).all()
    assert [change["status"] for change in logged] == [PENDING, SENT]


def test_a_busy_mail_server_is_tried_again_after_a_minute(db, clinic, server_settings, mail_server):
    settings = mail_settings(server_settings, mail_server)
    book_for_email(db, settings, clinic)
    mail_server.inbox.defer = 1
    now = utcnow()

    assert deliver(db, settings, now)["retrying"] == 1
    row = only(db)
    assert (row.status, row.attempts) == (PENDING, 1)
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert row.last_error == (
        "The mail server could not take the message for now: "
        "451 4.3.0 Mail system busy, try again later"
    )

    assert deliver(db, settings, now + timedelta(seconds=59))["sent"] == 0
    assert mail_server.inbox.received == []
    assert deliver(db, settings, now + timedelta(minutes=1))["sent"] == 1
    assert len(mail_server.inbox.received) == 1
    row = only(db)
    assert (row.status, row.attempts, row.last_error) == (SENT, 2, None)


def test_a_refused_address_fails_at_once_with_a_readable_reason(
    db, clinic, server_settings, mail_server
):
    settings = mail_settings(server_settings, mail_server)
    book_for_email(db, settings, clinic, email="nobody@riverside.example")
    mail_server.inbox.refuse.add("nobody@riverside.example")

    assert deliver(db, settings, utcnow())["failed"] == 1
    row = only(db)
    assert (row.status, row.attempts) == (FAILED, 1)
    assert row.last_error == "The mail server refused the address: 550 5.1.1 Mailbox unavailable"


def test_an_untrusted_mail_server_certificate_is_not_used(db, clinic, server_settings, mail_server):
    settings = mail_settings(server_settings, mail_server, smtp_ca_file=None)
    book_for_email(db, settings, clinic)

    assert deliver(db, settings, utcnow())["retrying"] == 1
    assert only(db).last_error.startswith("The mail server's certificate is not trusted")
    assert mail_server.inbox.received == []


def test_an_unreachable_mail_server_is_retried_with_growing_waits_then_given_up(
    db, clinic, server_settings
):
    settings = notify_settings(
        server_settings, smtp_host="127.0.0.1", smtp_port=free_port(), notify_max_attempts=4
    )
    book_for_email(db, settings, clinic)
    now, waits = utcnow(), []
    for _ in range(3):
        deliver(db, settings, now)
        waits.append(only(db).next_attempt_at - now)
        now = only(db).next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert deliver(db, settings, now)["failed"] == 1
    row = only(db)
    assert (row.status, row.attempts) == (FAILED, 4)
    assert row.last_error.startswith(
        f"Could not reach the mail server 127.0.0.1:{settings.smtp_port}"
    )


def test_without_a_mail_server_email_fails_once_and_says_why(db, clinic, settings_no_mail):
    book_for_email(db, settings_no_mail, clinic)
    assert deliver(db, settings_no_mail, utcnow())["failed"] == 1
    row = only(db)
    assert (row.status, row.attempts, row.last_error) == (
        FAILED,
        1,
        "Email is not set up on the server",
    )


@pytest.fixture
def settings_no_mail(server_settings: Settings) -> Settings:
    return notify_settings(server_settings, smtp_host=None)


# --- SMS ---------------------------------------------------------------------------------------


def test_an_sms_goes_to_the_gateway_with_the_token(db, clinic, server_settings, gateway):
    settings = notify_settings(server_settings)
    hooked(db, settings)
    starts = local_start(days=6)
    book(db, clinic, add_patient(db, phone="+254 712 345 678", notify_by="sms"), starts)

    assert deliver(db, settings, utcnow(), gateway)["sent"] == 1
    [request] = gateway.requests
    assert request["auth"] == f"Bearer {SMS_TOKEN}"
    assert set(request["json"]) == {"to", "from", "text"}
    assert request["json"]["to"] == "+254712345678" and request["json"]["from"] == "RIVERSIDE"
    text = request["json"]["text"]
    assert text.startswith("Riverside Hospital: Hello Grace") and english_when(starts) in text
    assert len(text) <= 300
    row = only(db)
    assert (row.status, row.provider_ref) == (SENT, "msg-1")


def test_the_gateway_refusing_a_number_is_final_and_an_outage_is_retried(
    db, clinic, server_settings, gateway
):
    settings = notify_settings(server_settings)
    hooked(db, settings)
    book(db, clinic, add_patient(db, "Grace", phone="+254 700 000 001"), local_start(days=6))
    book(db, clinic, add_patient(db, "Baraka", phone="12"), local_start(days=7))
    gateway.answers = [
        (503, {"error": "Upstream carrier unavailable"}),
        (400, {"error": "Invalid destination number"}),
    ]

    outcome = deliver(db, settings, utcnow(), gateway)
    assert (outcome["retrying"], outcome["failed"]) == (1, 1)
    by_name = {row.recipient: row for row in messages(db)}
    assert by_name["+254700000001"].status == PENDING
    assert by_name["+254700000001"].last_error == (
        "The SMS gateway could not take the message for now: 503 Upstream carrier unavailable"
    )
    assert by_name["12"].status == FAILED
    assert by_name["12"].last_error == (
        "The SMS gateway refused the message: 400 Invalid destination number"
    )


# --- the worker --------------------------------------------------------------------------------


def booked_long_ago(db: Database, clinic: Clinic) -> datetime:
    """An appointment in ten days, booked five days ago and announced then; its start."""
    starts = local_start(days=10)
    book(db, clinic, add_patient(db), starts, created_at=starts - timedelta(days=5),
         emit_event=False)  # fmt: skip
    return starts


def test_the_worker_reminds_and_delivers_in_one_tick(db, clinic, server_settings, gateway):
    settings = notify_settings(server_settings, sms_url=gateway.url, sms_token=SecretStr(SMS_TOKEN))
    starts = booked_long_ago(db, clinic)
    worker = NotificationWorker(db, settings)

    tick = worker.tick(starts - timedelta(hours=23))
    assert (tick["queued"], tick["sent"]) == (1, 1)
    assert gateway.requests[0]["json"]["text"].startswith("Riverside Hospital: Reminder for Grace")
    assert worker.tick(starts - timedelta(hours=22)) == {
        "queued": 0, "sent": 0, "retrying": 0, "failed": 0, "cancelled": 0,
    }  # fmt: skip


def test_a_reminder_still_waiting_when_the_visit_begins_is_dropped(
    db, clinic, server_settings, gateway
):
    settings = notify_settings(server_settings)
    starts = booked_long_ago(db, clinic)
    with db.unit_of_work() as session:
        assert queue_reminders(session, starts - timedelta(hours=23), settings) == 1

    assert deliver(db, settings, starts + timedelta(minutes=5), gateway)["cancelled"] == 1
    assert gateway.requests == []
    assert only(db).last_error == "Not sent: the appointment time has passed"


def test_without_an_sms_gateway_texts_fail_once_and_say_why(db, clinic, server_settings):
    settings = notify_settings(server_settings)
    starts = booked_long_ago(db, clinic)
    worker = NotificationWorker(db, settings)

    assert worker.tick(starts - timedelta(hours=23))["failed"] == 1
    row = only(db)
    assert (row.status, row.last_error) == (FAILED, "SMS is not set up on the server")


def test_the_worker_loop_survives_a_failing_round(db, server_settings, caplog):
    settings = notify_settings(server_settings, notify_interval_seconds=0.001)
    stop = threading.Event()
    rounds: list[datetime] = []

    class FlakyWorker(NotificationWorker):
        def tick(self, now: datetime) -> dict[str, int]:
            rounds.append(now)
            if len(rounds) == 1:
                raise RuntimeError("database restarting")
            stop.set()
            return super().tick(now)

    with caplog.at_level(logging.ERROR, logger="hms_server.notify.dispatcher"):
        FlakyWorker(db, settings).run(stop)
    assert len(rounds) == 2 and all(r.tzinfo is UTC for r in rounds)
    assert "database restarting" in caplog.text
