"""The printable invoice and receipt of billing rows: plain ORM reads that work the same on the
server's PostgreSQL and on a desktop's SQLite cache (which hands datetimes back naive UTC).

Choices a reader of a printed bill relies on:
- a final invoice finalised offline has no number until it syncs; it prints with the number
  "(number pending)" rather than not at all, so the patient leaves with a bill;
- drafts and discarded invoices are not printed: only a final invoice is a bill;
- an invoice lists the patient's payments against it, each less what was refunded of it (a
  fully refunded payment is left out), so the printed balance due is the true one; insurer
  payments (rows with a claim) pay the insurer's share and are not listed;
- a receipt's balance is the patient's balance right after that payment: final invoices and
  credit notes finalised by then, less payments and deposits, plus refunds, up to it.
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.billing import (
    CREDIT_NOTE,
    FINAL,
    REFUND,
    Claim,
    DocumentPrint,
    Invoice,
    InvoiceLine,
    Payer,
    Payment,
    Policy,
)
from hms_core.db.patients import Patient
from hms_core.printing import documents
from hms_core.printing.documents import Hospital, InvoiceDocument, PartyLine, Receipt
from hms_core.rules.money import format_amount
from hms_core.schemas.billing import HospitalProfile
from hms_core.services.billing.balances import claim_shortfall
from hms_core.services.errors import InvalidData, NotFound

NUMBER_PENDING = "(number pending)"
METHOD_NAMES = {"cash": "Cash", "card": "Card", "online": "Online", "insurance": "Insurance"}


def hospital_from_profile(profile: HospitalProfile, logo_path: Path | None = None) -> Hospital:
    """The issuer printed in headers, from the hospital's profile."""
    return Hospital(
        name=profile.name,
        address_lines=tuple(line for line in profile.address_lines if line.strip()),
        phone=profile.phone,
        tax_id=profile.tax_id,
        logo_path=logo_path,
    )


def is_reprint(session: Session, doc_kind: str, doc_id: uuid.UUID) -> bool:
    """True when the document was printed (or saved as PDF) before: the next one is a copy."""
    query = select(DocumentPrint.id).where(
        DocumentPrint.doc_kind == doc_kind,
        DocumentPrint.doc_id == doc_id,
        DocumentPrint.deleted_at.is_(None),
    )
    return session.execute(query.limit(1)).first() is not None


# --- invoices --------------------------------------------------------------------------------


def invoice_document(
    session: Session,
    invoice_id: uuid.UUID,
    hospital: Hospital,
    *,
    is_copy: bool,
    timezone: str = "UTC",
) -> InvoiceDocument:
    """The printable final invoice or credit note `invoice_id`; refused for a draft."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.deleted_at is not None:
        raise NotFound("This invoice is not on record.")
    if invoice.status != FINAL:
        raise InvalidData("Only a final invoice can be printed. Finalise the draft first.")
    credit = invoice.kind == CREDIT_NOTE
    lines = _document_lines(session, invoice)
    issued = _local(invoice.finalised_at or invoice.created_at, timezone).date()
    return InvoiceDocument(
        number=invoice.number or NUMBER_PENDING,
        issued=issued,
        currency=invoice.currency,
        exponent=invoice.exponent,
        hospital=hospital,
        patient=_party(session, invoice.patient_id),
        lines=lines,
        insurance=_insurance(session, invoice),
        payments=() if credit else _invoice_payments(session, invoice, timezone),
        is_copy=is_copy,
        credit_note_for=_credited_number(session, invoice) if credit else None,
    )


def _document_lines(session: Session, invoice: Invoice) -> tuple[documents.InvoiceLine, ...]:
    """The invoice's lines in position order, checked against the invoice's stored total."""
    rows = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id, InvoiceLine.deleted_at.is_(None))
        .order_by(InvoiceLine.position)
    ).all()
    if not rows:
        raise InvalidData("This invoice has no lines on this computer yet; try again after sync.")
    lines = tuple(
        documents.InvoiceLine(
            description=row.description,
            code=row.code,
            quantity=abs(row.quantity),  # a credit note may store its lines mirrored
            unit_price=abs(row.unit_price),
            tax_rate=row.tax_rate,
        )
        for row in rows
    )
    printed = sum(line.amounts().gross for line in lines)
    if printed != abs(invoice.gross):
        raise InvalidData(
            "The invoice's lines do not add up to its total, so it cannot be printed. "
            "Please tell the billing supervisor."
        )
    return lines


def _insurance(session: Session, invoice: Invoice) -> documents.InsuranceSplit | None:
    """Who pays what, when an insurer pays part of the invoice."""
    payer_share = abs(invoice.payer_share)
    if payer_share == 0:
        return None
    policy = session.get(Policy, invoice.policy_id) if invoice.policy_id else None
    payer = session.get(Payer, policy.payer_id) if policy else None
    return documents.InsuranceSplit(
        payer_name=payer.name if payer else "Insurer",
        policy=policy.policy_number if policy else "",
        patient_share=abs(invoice.patient_share),
        payer_share=payer_share,
    )


def _invoice_payments(
    session: Session, invoice: Invoice, timezone: str
) -> tuple[documents.Payment, ...]:
    """The patient's payments against the invoice, each less what was refunded of it."""
    rows = session.scalars(
        select(Payment)
        .where(
            Payment.invoice_id == invoice.id,
            Payment.kind != REFUND,
            Payment.claim_id.is_(None),
            Payment.deleted_at.is_(None),
        )
        .order_by(Payment.received_at, Payment.id)
    ).all()
    refunded = _refunded(session, [row.id for row in rows])
    printed = []
    for row in rows:
        back = refunded.get(row.id, 0)
        if row.amount - back <= 0:
            continue
        reference = row.reference
        if back:
            less = format_amount(back, invoice.exponent)
            reference = f"{reference} (less {less} refunded)".strip()
        printed.append(
            documents.Payment(
                date=_local(row.received_at, timezone).date(),
                method=METHOD_NAMES.get(row.method, row.method),
                reference=reference,
                amount=row.amount - back,
            )
        )
    return tuple(printed)


def _refunded(session: Session, payment_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How much was paid back of each of `payment_ids`."""
    if not payment_ids:
        return {}
    refunds = session.scalars(
        select(Payment).where(
            Payment.kind == REFUND,
            Payment.refund_of_id.in_(payment_ids),
            Payment.deleted_at.is_(None),
        )
    ).all()
    totals: dict[uuid.UUID, int] = {}
    for refund in refunds:
        if refund.refund_of_id is not None:
            totals[refund.refund_of_id] = totals.get(refund.refund_of_id, 0) + refund.amount
    return totals


def _credited_number(session: Session, credit_note: Invoice) -> str:
    """The number of the invoice a credit note corrects."""
    credited = (
        session.get(Invoice, credit_note.credits_invoice_id)
        if credit_note.credits_invoice_id
        else None
    )
    return (credited.number if credited else None) or NUMBER_PENDING


# --- receipts --------------------------------------------------------------------------------


def receipt_document(
    session: Session,
    payment_id: uuid.UUID,
    hospital: Hospital,
    *,
    is_copy: bool,
    cashier_name: str = "",
    timezone: str = "UTC",
    currency: tuple[str, int] | None = None,
) -> Receipt:
    """The printable receipt of one payment, deposit or refund.

    The amounts are in the currency of the payment's invoice, else `currency` (code,
    exponent: the hospital's), else that of the patient's latest invoice. The cashier printed
    is `cashier_name`, or the username that took the payment.
    """
    payment = session.get(Payment, payment_id)
    if payment is None or payment.deleted_at is not None:
        raise NotFound("This payment is not on record.")
    invoice = session.get(Invoice, payment.invoice_id) if payment.invoice_id else None
    code, exponent = _currency(session, payment, invoice, currency)
    method = METHOD_NAMES.get(payment.method, payment.method)
    issued = _local(payment.received_at, timezone)
    return Receipt(
        number=payment.receipt_number,
        issued=issued,
        currency=code,
        exponent=exponent,
        hospital=hospital,
        patient=_party(session, payment.patient_id),
        payment=documents.Payment(
            date=issued.date(),
            method=f"Refund ({method})" if payment.kind == REFUND else method,
            reference=payment.reference,
            amount=payment.amount,
        ),
        balance_after=balance_after(session, payment),
        invoice_number=(invoice.number or NUMBER_PENDING) if invoice else None,
        is_copy=is_copy,
        is_refund=payment.kind == REFUND,
        cashier=cashier_name or payment.received_by,
    )


def _currency(
    session: Session,
    payment: Payment,
    invoice: Invoice | None,
    default: tuple[str, int] | None,
) -> tuple[str, int]:
    """The payment's currency: its invoice's, the given default, the latest invoice's."""
    if invoice is None and default is not None:
        return default
    source = (
        invoice
        or session.scalars(
            select(Invoice)
            .where(Invoice.patient_id == payment.patient_id, Invoice.deleted_at.is_(None))
            .order_by(Invoice.created_at.desc())
            .limit(1)
        ).first()
    )
    if source is None:
        raise InvalidData(
            "The currency of this payment is unknown here (the patient has no invoice yet); "
            "set the hospital currency and print again."
        )
    return source.currency, source.exponent


def balance_after(session: Session, payment: Payment) -> int:
    """What the patient owed right after `payment` (negative: in credit).

    The rule of `balances.patient_balance`, as of the payment: the patient's share of final
    invoices less credit notes, finalised by then (the payment's own invoice always counts),
    plus what an insurer had refused by then; less payments and deposits, plus refunds, up
    to and including this one. Insurer payments (with a claim) are not the patient's.
    """
    moment = _aware(payment.received_at)
    owed = 0
    for invoice in _final_invoices(session, payment.patient_id):
        finalised = _aware(invoice.finalised_at or invoice.created_at)
        if finalised <= moment or invoice.id == payment.invoice_id:
            if invoice.kind == CREDIT_NOTE:
                owed -= invoice.patient_share
            else:
                owed += invoice.patient_share + _refused_by(session, invoice.id, moment)
    paid = 0
    for row in _patient_payments(session, payment.patient_id):
        if (_aware(row.received_at), row.id) <= (moment, payment.id):
            paid += -row.amount if row.kind == REFUND else row.amount
    return owed - paid


def _refused_by(session: Session, invoice_id: uuid.UUID, moment: datetime) -> int:
    """What the insurer had refused of the invoice's claim by `moment` (the patient owes it)."""
    decided = session.scalars(
        select(Claim.decided_at).where(Claim.invoice_id == invoice_id, Claim.deleted_at.is_(None))
    ).first()
    if decided is None or _aware(decided) > moment:
        return 0
    return claim_shortfall(session, invoice_id)


def _final_invoices(session: Session, patient_id: uuid.UUID) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(
                Invoice.patient_id == patient_id,
                Invoice.status == FINAL,
                Invoice.deleted_at.is_(None),
            )
        )
    )


def _patient_payments(session: Session, patient_id: uuid.UUID) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(
                Payment.patient_id == patient_id,
                Payment.claim_id.is_(None),
                Payment.deleted_at.is_(None),
            )
        )
    )


# --- shared ----------------------------------------------------------------------------------


def _party(session: Session, patient_id: uuid.UUID) -> PartyLine:
    """The patient as addressed on a document: name, MRN and postal address."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("The patient of this document is not on this computer yet.")
    town = " ".join(part for part in (patient.postal_code, patient.city) if part)
    lines = (patient.address_line, town, patient.region, patient.country)
    return PartyLine(
        name=f"{patient.given_name} {patient.family_name}",
        mrn=patient.mrn,
        address_lines=tuple(line.strip() for line in lines if line and line.strip()),
    )


def _aware(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite hands back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _local(moment: datetime, timezone: str) -> datetime:
    """A stored moment on the hospital's clock."""
    return _aware(moment).astimezone(ZoneInfo(timezone))
