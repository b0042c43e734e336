"""What is owed: an invoice's balance and a patient's, from the append-only rows.

The patient owes their share of each final invoice, less credit notes, plus what an insurer
refused of its claimed share; payments and deposits reduce it and refunds raise it again.
Insurance payments (those of a claim) settle the payer's share, never the patient's.
"""

import uuid

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from hms_core.db.billing import (
    APPROVED,
    CREDIT_NOTE,
    FINAL,
    INVOICE,
    PAID,
    PARTIAL,
    REFUND,
    REJECTED,
    Claim,
    Invoice,
    Payment,
)


def _sum(session: Session, query: Select) -> int:
    return int(session.execute(query).scalar_one() or 0)


def paid_on_invoice(session: Session, invoice_id: uuid.UUID) -> int:
    """The patient's payments against the invoice, less their refunds."""
    signed = _signed_amount()
    query = select(func.sum(signed)).where(
        Payment.invoice_id == invoice_id,
        Payment.claim_id.is_(None),
        Payment.deleted_at.is_(None),
    )
    return _sum(session, query)


def credited(session: Session, invoice_id: uuid.UUID) -> tuple[int, int]:
    """The patient's and the payer's shares credited by final credit notes of the invoice."""
    row = session.execute(
        select(func.sum(Invoice.patient_share), func.sum(Invoice.payer_share)).where(
            Invoice.credits_invoice_id == invoice_id,
            Invoice.kind == CREDIT_NOTE,
            Invoice.status == FINAL,
            Invoice.deleted_at.is_(None),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def claim_shortfall(session: Session, invoice_id: uuid.UUID) -> int:
    """What the insurer refused of its claimed share: the patient owes it."""
    claim = session.execute(select(Claim).where(Claim.invoice_id == invoice_id)).scalars().first()
    if claim is None or claim.deleted_at is not None:
        return 0
    if claim.status == REJECTED:
        return claim.claimed
    if claim.status in (APPROVED, PARTIAL, PAID) and claim.approved is not None:
        return max(claim.claimed - claim.approved, 0)
    return 0


def invoice_balance(session: Session, invoice: Invoice) -> int:
    """What the patient still owes on one invoice (negative: overpaid)."""
    if invoice.kind != INVOICE:
        return 0
    credited_patient, _ = credited(session, invoice.id)
    owed = invoice.patient_share - credited_patient + claim_shortfall(session, invoice.id)
    return owed - paid_on_invoice(session, invoice.id)


def patient_balance(session: Session, patient_id: uuid.UUID) -> int:
    """What the patient owes over all final invoices, less every payment, deposit and refund
    on the account (negative: the patient is in credit)."""
    invoices = session.execute(
        select(Invoice).where(
            Invoice.patient_id == patient_id,
            Invoice.kind == INVOICE,
            Invoice.status == FINAL,
            Invoice.deleted_at.is_(None),
        )
    ).scalars()
    owed = 0
    for invoice in invoices:
        credited_patient, _ = credited(session, invoice.id)
        owed += invoice.patient_share - credited_patient + claim_shortfall(session, invoice.id)
    paid = _sum(
        session,
        select(func.sum(_signed_amount())).where(
            Payment.patient_id == patient_id,
            Payment.claim_id.is_(None),
            Payment.deleted_at.is_(None),
        ),
    )
    return owed - paid


def refunded(session: Session, payment_id: uuid.UUID) -> int:
    """How much of a payment has been paid back already."""
    query = select(func.sum(Payment.amount)).where(
        Payment.refund_of_id == payment_id, Payment.kind == REFUND
    )
    return _sum(session, query)


def _signed_amount() -> ColumnElement[int]:
    """Payments and deposits count positive, refunds negative."""
    return case((Payment.kind == REFUND, -Payment.amount), else_=Payment.amount)
