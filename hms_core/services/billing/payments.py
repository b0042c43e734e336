"""Payments, deposits and refunds: append-only rows, each with a receipt issued on the spot.

A payment never exceeds what is owed (the invoice's balance, or the account's when no invoice
is named): money beyond that is taken as a deposit, on purpose. A refund pays back part or all
of an earlier payment or deposit, never more than is left of it.
"""

from datetime import UTC

from sqlalchemy.orm import Session

from hms_core.db.billing import (
    CARD,
    DEPOSIT,
    FINAL,
    INSURANCE,
    INVOICE,
    ONLINE,
    REFUND,
    Invoice,
    Payment,
)
from hms_core.rbac import Perm
from hms_core.rules.money import format_amount
from hms_core.schemas.billing import RefundPayment, TakePayment
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.balances import invoice_balance, patient_balance, refunded
from hms_core.services.billing.common import get_row, receipt_number
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit


def take_payment(session: Session, actor: Actor, args: TakePayment) -> Payment:
    """Money received against an invoice or the account, or a deposit; audited, with a
    receipt number at once."""
    actor.require(Perm.PAYMENT_TAKE)
    existing = session.get(Payment, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    _check_method(args.method, args.reference)
    invoice = _invoice_for(session, args) if args.invoice_id else None
    if args.kind == DEPOSIT:
        if invoice is not None:
            raise InvalidData("A deposit is taken on the account, not on an invoice.")
    else:
        owed = (
            invoice_balance(session, invoice) if invoice else patient_balance(session, patient.id)
        )
        _check_not_above(args.amount, owed, invoice)
    payment = Payment(
        id=args.id,
        patient_id=patient.id,
        invoice_id=invoice.id if invoice else None,
        kind=args.kind,
        method=args.method,
        amount=args.amount,
        reference=args.reference,
        received_at=args.received_at.astimezone(UTC),
        received_by=actor.username,
        receipt_number=receipt_number(args.id, args.received_at.astimezone(UTC)),
        note=args.note,
    )
    return _record(session, actor, payment, "payment.take")


def refund_payment(session: Session, actor: Actor, args: RefundPayment) -> Payment:
    """Pay back (part of) a payment or deposit, with a reason and its own receipt."""
    actor.require(Perm.PAYMENT_TAKE)
    existing = session.get(Payment, args.id)
    if existing is not None:
        return existing
    original = get_row(
        session, Payment, args.payment_id, "This payment does not exist.", "payment_id"
    )
    if original.kind == REFUND or original.claim_id is not None:
        raise InvalidData("Only a patient's payment or deposit can be refunded.")
    _check_method(args.method, args.reference)
    left = original.amount - refunded(session, original.id)
    if args.amount > left:
        raise InvalidData(
            f"Only {format_amount(left)} of receipt {original.receipt_number} is left to refund.",
            fields={"amount": "More than is left"},
        )
    refund = Payment(
        id=args.id,
        patient_id=original.patient_id,
        invoice_id=original.invoice_id,
        kind=REFUND,
        method=args.method,
        amount=args.amount,
        reference=args.reference,
        refund_of_id=original.id,
        received_at=args.received_at.astimezone(UTC),
        received_by=actor.username,
        receipt_number=receipt_number(args.id, args.received_at.astimezone(UTC)),
        note=args.reason,
    )
    return _record(session, actor, refund, "payment.refund")


def _record(session: Session, actor: Actor, payment: Payment, action: str) -> Payment:
    session.add(payment)
    session.flush()
    record_audit(
        session,
        actor,
        action,
        patient_id=payment.patient_id,
        detail={
            "payment_id": str(payment.id),
            "receipt": payment.receipt_number,
            "method": payment.method,
            "amount": payment.amount,
            "invoice_id": str(payment.invoice_id) if payment.invoice_id else None,
        },
    )
    emit(session, "payment.received", payment_id=str(payment.id))
    return payment


def _check_method(method: str, reference: str) -> None:
    if method == INSURANCE:
        raise InvalidData(
            "An insurer's payment is recorded on its claim, not at the cash desk.",
            fields={"method": "Use the claim"},
        )
    if method in (CARD, ONLINE) and not reference:
        what = "the card terminal's" if method == CARD else "the payment provider's"
        raise InvalidData(
            f"Enter {what} reference for this payment.", fields={"reference": "Required"}
        )


def _invoice_for(session: Session, args: TakePayment) -> Invoice:
    invoice = get_row(
        session, Invoice, args.invoice_id, "This invoice does not exist.", "invoice_id"
    )
    if invoice.patient_id != args.patient_id:
        raise InvalidData(
            "This invoice belongs to another patient.", fields={"invoice_id": "Other patient"}
        )
    if invoice.kind != INVOICE or invoice.status != FINAL:
        raise Conflict("Finalise the invoice before taking payment for it.")
    return invoice


def _check_not_above(amount: int, owed: int, invoice: Invoice | None) -> None:
    if amount <= owed:
        return
    what = f"the balance of {invoice.number or 'this invoice'}" if invoice else "the balance due"
    if owed <= 0:
        raise InvalidData(
            f"Nothing is owed on {what}. Take the money as a deposit if that is intended.",
            fields={"amount": "Nothing owed"},
        )
    raise InvalidData(
        f"The payment ({format_amount(amount)}) is more than {what} ({format_amount(owed)}). "
        "Take the balance, and the rest as a deposit if that is intended.",
        fields={"amount": "More than owed"},
    )
