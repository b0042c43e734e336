"""Receipt messages: when a payment (or a refund) is committed, its message to the patient is
queued in the same transaction, on the channels the patient chose for appointment messages.

An email carries the receipt as a PDF, rendered by the dispatcher when it sends (the row keeps
`payment_id`, not the file); an SMS is a short summary: amount, receipt number, balance. A
refund's message says so and carries no PDF (the receipt layout reads "Amount received").
Insurer payments (rows of a claim) are not the patient's and send nothing.
"""

import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from hms_core.db.billing import REFUND, Payment
from hms_core.db.notifications import OutboundMessage
from hms_core.db.patients import Patient
from hms_core.printing.documents import Hospital, Receipt
from hms_core.printing.receipt_pdf import render_receipt
from hms_core.printing.records import hospital_from_profile, receipt_document
from hms_core.rules.money import format_amount
from hms_core.services.errors import DomainError
from hms_server.billing import hospital_profile
from hms_server.notify import DeliveryError, templates
from hms_server.notify.email import Attachment
from hms_server.notify.queue import _add
from hms_server.settings import Settings

log = logging.getLogger(__name__)
RECEIPT, REFUND_ISSUED = "receipt", "refund"  # outbound_message kinds
PAYMENT_EVENTS = ("payment.received", "payment.refunded")


def on_payment(session: Session, data: dict[str, Any], settings: Settings) -> None:
    """The domain event of a payment or refund: queue the patient's message."""
    raw = data.get("payment_id")
    if raw:
        queue_payment_message(session, uuid.UUID(str(raw)), settings)


def queue_payment_message(
    session: Session, payment_id: uuid.UUID, settings: Settings
) -> list[OutboundMessage]:
    """Queue the receipt (or refund) message of one payment, once per channel.

    A receipt that cannot be made is logged and skipped: the payment itself must commit.
    """
    payment = session.get(Payment, payment_id)
    if payment is None or payment.deleted_at is not None or payment.claim_id is not None:
        return []
    patient = session.get(Patient, payment.patient_id)
    if patient is None or patient.deleted_at is not None:
        return []
    try:
        receipt = _receipt(session, payment.id, settings)
    except (DomainError, ValueError):
        log.exception("No message for payment %s: its receipt could not be made", payment.id)
        return []
    kind = REFUND_ISSUED if payment.kind == REFUND else RECEIPT
    code = templates.language_code(patient.preferred_language)
    rendered = templates.render(kind, code, _values(receipt, payment, patient, code, settings))
    rows = _add(session, patient, kind, code, rendered, f"{kind}:{payment.id}", None, None)
    for row in rows:
        row.payment_id = payment.id
    return rows


def receipt_attachments(
    session: Session, row: OutboundMessage, settings: Settings
) -> list[Attachment]:
    """The files an outbound email carries: the receipt PDF of a receipt message."""
    if row.kind != RECEIPT or row.payment_id is None:
        return []
    try:
        receipt = _receipt(session, row.payment_id, settings)
        pdf = render_receipt(receipt)
    except (DomainError, ValueError) as exc:
        reason = getattr(exc, "message", None) or str(exc)
        raise DeliveryError(f"The receipt could not be made: {reason}", permanent=True) from exc
    return [Attachment(f"Receipt {receipt.number}.pdf", pdf, "application/pdf")]


def hospital_for(settings: Settings) -> Hospital:
    """The issuer printed on receipts the server sends."""
    return hospital_from_profile(hospital_profile(settings))


def _receipt(session: Session, payment_id: uuid.UUID, settings: Settings) -> Receipt:
    """The original receipt of the payment, on the hospital's clock and in its currency."""
    return receipt_document(
        session,
        payment_id,
        hospital_for(settings),
        is_copy=False,
        timezone=settings.timezone,
        currency=(settings.currency, settings.currency_exponent),
    )


def _values(
    receipt: Receipt, payment: Payment, patient: Patient, code: str, settings: Settings
) -> dict[str, str]:
    """The placeholders of a receipt or refund message, in language `code`."""
    return {
        "patient": patient.given_name,
        "hospital": settings.hospital_name,
        "amount": format_amount(receipt.payment.amount, receipt.exponent, receipt.currency),
        "method": templates.method_name(payment.method, code),
        "date": templates.format_date(receipt.issued.date(), code),
        "receipt": receipt.number,
        "balance": templates.balance_text(
            receipt.balance_after, receipt.exponent, receipt.currency, code
        ),
    }
