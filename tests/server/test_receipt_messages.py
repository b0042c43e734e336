"""Receipts sent to patients: a committed payment queues its message on the channels the patient
chose, the email reaches a real SMTP server with the receipt PDF attached, the SMS is a short
summary, refunds are told too, and nobody who opted out hears anything."""

import uuid
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from hms_core.db.base import new_id, utcnow
from hms_core.db.billing import DEPOSIT, Claim, Payment, Policy
from hms_core.db.notifications import SENT, OutboundMessage
from hms_core.db.patients import Patient
from hms_core.schemas.billing import RefundPayment, TakePayment
from hms_core.services.actor import Actor
from hms_core.services.billing.common import receipt_number
from hms_core.services.billing.payments import refund_payment, take_payment
from hms_core.services.unit import emit
from hms_server.db import Database
from hms_server.notify import templates
from hms_server.notify.dispatcher import deliver_due
from hms_server.notify.email import SmtpSender
from hms_server.settings import Settings
from tests.core.test_print_records import add_invoice, add_policy
from tests.server import test_notify_delivery as delivery
from tests.server.test_notify_delivery import MailServer, SmsGateway, mail_settings, sms_provider
from tests.server.test_notify_queue import add_patient, hooked, messages, notify_settings

# The real SMTP server (STARTTLS, AUTH LOGIN) and HTTP SMS gateway on 127.0.0.1 of the
# delivery tests, as fixtures of this module too.
mail_server, gateway = delivery.mail_server, delivery.gateway

CASHIER = Actor(None, "test-billing", "billing")
INVOICE_NUMBER = "INV-2026-000042"
OWED = 348100  # the invoice's gross, all the patient's: KES 3,481.00


def receipt_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"currency": "KES", "hospital_phone": "+254 20 765 4321"})


def billed_patient(db: Database, **patient: object) -> tuple[uuid.UUID, uuid.UUID]:
    """A patient with a final invoice of KES 3,481.00; returns (patient id, invoice id)."""
    patient_id = add_patient(db, **patient)
    with db.unit_of_work() as session:
        row = session.get(Patient, patient_id)
        return patient_id, add_invoice(session, row, number=INVOICE_NUMBER).id


def take(
    db: Database, patient_id: uuid.UUID, amount: int, invoice_id: uuid.UUID | None = None, **kw
) -> Payment:
    """Take a payment through the service, committed like a cash desk's push."""
    args = TakePayment(
        id=new_id(),
        patient_id=patient_id,
        invoice_id=invoice_id,
        method=kw.pop("method", "cash"),
        amount=amount,
        received_at=utcnow(),
        **kw,
    )
    with db.unit_of_work() as session:
        return take_payment(session, CASHIER, args)


def deliver(db: Database, settings: Settings, sms: SmsGateway | None = None) -> dict:
    """One delivery round now, with the real email sender (and SMS gateway when given)."""
    provider = sms_provider(sms) if sms is not None else None
    return deliver_due(db, settings, utcnow(), SmtpSender(settings), provider)


@pytest.fixture
def settings(server_settings: Settings) -> Settings:
    return receipt_settings(notify_settings(server_settings))


@pytest.fixture
def hdb(db: Database, settings: Settings) -> Database:
    return hooked(db, settings)


# --- queuing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notify_by", "channels"),
    [
        (None, ["sms"]),  # no preference: SMS, as the patient has a phone
        ("email", ["email"]),
        ("both", ["email", "sms"]),
        ("none", []),
    ],
)
def test_a_payment_queues_its_receipt_as_the_patient_prefers(
    hdb: Database, notify_by: str | None, channels: list[str]
) -> None:
    patient_id, invoice_id = billed_patient(hdb, notify_by=notify_by)

    payment = take(hdb, patient_id, 50000, invoice_id)

    rows = sorted(messages(hdb, "receipt"), key=lambda row: row.channel)
    assert [row.channel for row in rows] == channels
    for row in rows:
        assert row.payment_id == payment.id and row.patient_id == patient_id
        assert row.dedupe_key == f"receipt:{payment.id}:{row.channel}"
    sms = [row for row in rows if row.channel == "sms"]
    if sms:
        assert sms[0].recipient == "+254712345678"
        assert sms[0].body == (
            f"Riverside Hospital: Received KES 500.00 from Grace, receipt "
            f"{payment.receipt_number}. Balance now: KES 2,981.00."
        )
    with hdb.unit_of_work() as session:  # the payment is there, message or not
        assert session.get(Payment, payment.id) is not None


def test_the_same_payment_announced_again_queues_nothing_more(hdb: Database) -> None:
    patient_id, invoice_id = billed_patient(hdb, notify_by="both")
    payment = take(hdb, patient_id, 50000, invoice_id)

    with hdb.unit_of_work() as session:
        emit(session, "payment.received", payment_id=str(payment.id))

    assert len(messages(hdb, "receipt")) == 2


def test_an_insurers_payment_sends_the_patient_nothing(hdb: Database) -> None:
    patient_id = add_patient(hdb, notify_by="both")
    with hdb.unit_of_work() as session:
        patient = session.get(Patient, patient_id)
        policy: Policy = add_policy(session, patient)
        invoice = add_invoice(session, patient, number=INVOICE_NUMBER, policy=policy)
        claim = Claim(
            invoice_id=invoice.id, policy_id=policy.id, payer_id=policy.payer_id,
            patient_id=patient_id, claimed=invoice.payer_share, created_by="test-billing",
        )  # fmt: skip
        session.add(claim)
        session.flush()
        payment_id, now = new_id(), utcnow()
        session.add(
            Payment(
                id=payment_id, patient_id=patient_id, invoice_id=invoice.id, claim_id=claim.id,
                method="insurance", amount=invoice.payer_share, received_at=now,
                received_by="test-billing", receipt_number=receipt_number(payment_id, now),
            )
        )  # fmt: skip
        session.flush()
        emit(session, "payment.received", payment_id=str(payment_id))

    assert messages(hdb) == []


def test_a_spanish_speaking_patient_gets_the_receipt_in_spanish(hdb: Database) -> None:
    patient_id, _ = billed_patient(hdb, given="Lucía", language="Español", notify_by="email")

    payment = take(hdb, patient_id, 20000, kind=DEPOSIT)

    [row] = messages(hdb)
    assert row.language == "es"
    assert row.subject == f"Su recibo {payment.receipt_number} de Riverside Hospital"
    assert "Gracias por su pago de KES 200.00 (efectivo)" in row.body
    assert "Saldo de su cuenta ahora: KES 3,281.00." in row.body


# --- delivery ------------------------------------------------------------------------------------


def test_the_receipt_email_arrives_with_its_pdf(
    hdb: Database, server_settings: Settings, mail_server: MailServer
) -> None:
    settings = receipt_settings(mail_settings(server_settings, mail_server))
    hooked(hdb, settings)
    patient_id, invoice_id = billed_patient(hdb, email="grace@example.org", notify_by="email")
    payment = take(hdb, patient_id, 50000, invoice_id, method="card", reference="TERM-4411")

    assert deliver(hdb, settings)["sent"] == 1

    [received] = mail_server.inbox.received
    assert received["To"] == "grace@example.org"
    assert received["Subject"] == f"Your receipt {payment.receipt_number} from Riverside Hospital"
    body = received.get_body(preferencelist=("plain",)).get_content()
    assert "Thank you for your payment of KES 500.00 (card)" in body
    assert "Balance on your account now: KES 2,981.00." in body
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"Receipt {payment.receipt_number}.pdf"
    text = pdf_text(attachment.get_content())
    assert payment.receipt_number in text and "KES 500.00" in text
    assert "Grace Wanjiru" in text and INVOICE_NUMBER in text and "TERM-4411" in text
    assert "KES 2,981.00" in text and "COPY" not in text
    [row] = messages(hdb)
    assert (row.status, row.provider_ref) == (SENT, received["Message-ID"])


def test_the_sms_summary_reaches_the_gateway(
    hdb: Database, settings: Settings, gateway: SmsGateway
) -> None:
    patient_id, invoice_id = billed_patient(hdb, notify_by="sms")
    payment = take(hdb, patient_id, OWED, invoice_id)

    assert deliver(hdb, settings, gateway)["sent"] == 1

    [request] = gateway.requests
    assert request["json"]["to"] == "+254712345678"
    assert request["json"]["text"] == (
        f"Riverside Hospital: Received KES 3,481.00 from Grace, receipt "
        f"{payment.receipt_number}. Balance now: KES 0.00."
    )


def test_a_refund_is_told_by_email_without_a_receipt_pdf(
    hdb: Database, server_settings: Settings, mail_server: MailServer
) -> None:
    settings = receipt_settings(mail_settings(server_settings, mail_server))
    hooked(hdb, settings)
    patient_id, invoice_id = billed_patient(hdb, notify_by="email")
    payment = take(hdb, patient_id, 50000, invoice_id)
    refund = RefundPayment(
        id=new_id(), payment_id=payment.id, amount=15000, method="cash",
        reason="Charged twice for the dressing", received_at=utcnow(),
    )  # fmt: skip
    with hdb.unit_of_work() as session:
        refund_row = refund_payment(session, CASHIER, refund)

    assert deliver(hdb, settings)["sent"] == 2

    receipt_mail, refund_mail = mail_server.inbox.received
    assert len(list(receipt_mail.iter_attachments())) == 1
    assert refund_mail["Subject"] == f"Refund {refund_row.receipt_number} from Riverside Hospital"
    body = refund_mail.get_content()
    assert "We have refunded KES 150.00 to you (cash)" in body
    assert "Balance on your account now: KES 3,131.00." in body
    with hdb.unit_of_work() as session:
        kinds = session.scalars(select(OutboundMessage.kind).order_by(OutboundMessage.created_at))
        assert list(kinds) == ["receipt", "refund"]


def test_an_opted_out_patient_gets_no_receipt(
    hdb: Database, server_settings: Settings, mail_server: MailServer
) -> None:
    settings = receipt_settings(mail_settings(server_settings, mail_server))
    hooked(hdb, settings)
    patient_id, invoice_id = billed_patient(hdb, notify_by="none")

    take(hdb, patient_id, 50000, invoice_id)

    assert deliver(hdb, settings)["sent"] == 0
    assert mail_server.inbox.received == [] and messages(hdb) == []


# --- texts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", templates.LANGUAGES)
@pytest.mark.parametrize("kind", templates.PAYMENT_KINDS)
@pytest.mark.parametrize("balance", [1234567, 0, -250000])
def test_every_payment_message_fills_in_and_its_sms_fits(kind: str, code: str, balance: int):
    values = {
        "patient": "Bartholomew-Alexander",
        "hospital": "St Bartholomew's Regional Referral Hospital",
        "amount": "KES 1,234,567.89",
        "method": templates.method_name("online", code),
        "date": templates.format_date(date(2026, 9, 30), code),
        "receipt": "RC-20260930-3F9A0C1B",
        "balance": templates.balance_text(balance, 2, "KES", code),
    }
    message = templates.render(kind, code, values)
    for text in (message.subject, message.body, message.sms):
        assert text and "{" not in text and "}" not in text
    assert len(message.sms) <= templates.SMS_MAX_CHARS
    assert values["receipt"] in message.sms and values["amount"] in message.sms
    assert values["balance"] in message.sms and values["hospital"] in message.body
    assert (balance < 0) == ("2,500.00 " in values["balance"])  # in credit, said in words


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
