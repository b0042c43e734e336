"""A patient's account read from the cache: the views of hms_core.schemas.billing, built from
the billing tables in one read transaction."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hms_core.db import Charge, Claim, Invoice, InvoiceLine, Patient, Payer, Payment, Policy
from hms_core.db.billing import DISCARDED, FINAL, INVOICE, REFUND, PriceItem
from hms_core.schemas.billing import (
    AccountView,
    ChargeView,
    ClaimView,
    HospitalProfile,
    InvoiceLineView,
    InvoiceView,
    PaymentView,
    PolicyView,
)
from hms_core.services.billing import balances
from hms_core.services.billing.charges import charge_gross
from hms_core.services.billing.prices import price_on
from hms_core.services.errors import NotFound

T = TypeVar("T", Charge, Invoice, Payment)


@dataclass(frozen=True)
class PricedItem:
    """A price-list item with the price it has today (for the manual-charge picker)."""

    id: uuid.UUID
    code: str
    name: str
    category: str
    unit: str
    unit_price: int
    tax_rate: Decimal


@dataclass(frozen=True)
class PayerChoice:
    id: uuid.UUID
    code: str
    name: str


def account_view(session: Session, patient_id: uuid.UUID, profile: HospitalProfile) -> AccountView:
    """Everything the account page shows for one patient."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("This patient is not on this computer.")
    charges = [_charge_view(c) for c in _rows(session, Charge, Charge.patient_id == patient_id)]
    payments = _rows(session, Payment, Payment.patient_id == patient_id)
    invoices = _invoice_views(session, patient_id)
    paid = sum(-p.amount if p.kind == REFUND else p.amount for p in payments if p.claim_id is None)
    balance = balances.patient_balance(session, patient_id)
    return AccountView(
        patient_id=patient.id,
        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        currency=profile.currency,
        exponent=profile.exponent,
        charges=charges,
        invoices=invoices,
        payments=_payment_views(payments, invoices),
        claims=_claim_views(session, patient_id, invoices),
        policies=policy_views(session, patient_id),
        unbilled=sum(c.gross for c in charges if c.invoice_id is None and not c.voided),
        invoiced=balance + paid,
        paid=paid,
        balance=balance,
    )


def _rows(session: Session, table: type[T], *where: ColumnElement[bool]) -> list[T]:
    """The table's live rows matching `where`, oldest first (ids are time-ordered)."""
    query = select(table).where(table.deleted_at.is_(None), *where)
    return list(session.execute(query.order_by(table.id)).scalars())


def _charge_view(charge: Charge) -> ChargeView:
    fields = {k: getattr(charge, k) for k in ChargeView.model_fields if hasattr(charge, k)}
    fields |= {"gross": charge_gross(charge), "voided": charge.voided_at is not None}
    return ChargeView.model_validate(fields)


def _invoice_views(session: Session, patient_id: uuid.UUID) -> list[InvoiceView]:
    """The patient's drafts, final invoices and credit notes, newest first."""
    invoices = [
        i
        for i in _rows(session, Invoice, Invoice.patient_id == patient_id)
        if i.status != DISCARDED
    ]
    lines = _lines_of(session, [i.id for i in invoices])
    numbers = {i.id: i.number for i in invoices}
    payers = _policy_payers(session, {i.policy_id for i in invoices if i.policy_id})
    views = []
    for invoice in invoices:
        payer_name, policy_number = payers.get(invoice.policy_id, (None, None))
        counts = invoice.kind == INVOICE and invoice.status == FINAL
        fields = {k: getattr(invoice, k) for k in _INVOICE_COLUMNS}
        fields |= {
            "credits_number": numbers.get(invoice.credits_invoice_id),
            "payer_name": payer_name,
            "policy_number": policy_number,
            "paid": balances.paid_on_invoice(session, invoice.id) if counts else 0,
            "balance": balances.invoice_balance(session, invoice) if counts else 0,
            "lines": lines[invoice.id],
        }
        views.append(InvoiceView.model_validate(fields))
    return sorted(views, key=lambda v: v.created_at, reverse=True)


_INVOICE_COLUMNS = [
    k for k in InvoiceView.model_fields if k in Invoice.__table__.columns and k != "balance"
]


def _lines_of(
    session: Session, invoice_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[InvoiceLineView]]:
    lines: dict[uuid.UUID, list[InvoiceLineView]] = defaultdict(list)
    if invoice_ids:
        found = session.execute(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(invoice_ids), InvoiceLine.deleted_at.is_(None))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        ).scalars()
        for line in found:
            lines[line.invoice_id].append(InvoiceLineView.model_validate(line))
    return lines


def _policy_payers(
    session: Session, policy_ids: set[uuid.UUID]
) -> dict[uuid.UUID | None, tuple[str, str]]:
    if not policy_ids:
        return {}
    rows = session.execute(
        select(Policy.id, Payer.name, Policy.policy_number)
        .join(Payer, Payer.id == Policy.payer_id)
        .where(Policy.id.in_(policy_ids))
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _payment_views(payments: list[Payment], invoices: list[InvoiceView]) -> list[PaymentView]:
    numbers = {i.id: i.number for i in invoices}
    refunded: dict[uuid.UUID, int] = defaultdict(int)
    for payment in payments:
        if payment.kind == REFUND and payment.refund_of_id is not None:
            refunded[payment.refund_of_id] += payment.amount
    views = [
        PaymentView.model_validate(
            {
                **{k: getattr(p, k) for k in PaymentView.model_fields if hasattr(p, k)},
                "invoice_number": numbers.get(p.invoice_id),
                "refunded": refunded.get(p.id, 0),
            }
        )
        for p in payments
    ]
    return sorted(views, key=lambda v: v.received_at, reverse=True)


def _claim_views(
    session: Session, patient_id: uuid.UUID, invoices: list[InvoiceView]
) -> list[ClaimView]:
    numbers = {i.id: i.number for i in invoices}
    rows = session.execute(
        select(Claim, Payer.name, Policy.policy_number)
        .join(Payer, Payer.id == Claim.payer_id)
        .join(Policy, Policy.id == Claim.policy_id)
        .where(Claim.patient_id == patient_id, Claim.deleted_at.is_(None))
        .order_by(Claim.id.desc())
    ).all()
    return [
        ClaimView(
            id=claim.id,
            invoice_id=claim.invoice_id,
            invoice_number=numbers.get(claim.invoice_id),
            payer_name=payer_name,
            policy_number=policy_number,
            status=claim.status,
            claimed=claim.claimed,
            approved=claim.approved,
            paid=claim.paid,
            reason=claim.reason,
            submitted_at=claim.submitted_at,
        )
        for claim, payer_name, policy_number in rows
    ]


def policy_views(session: Session, patient_id: uuid.UUID) -> list[PolicyView]:
    """The patient's policies, newest first."""
    rows = session.execute(
        select(Policy, Payer.name)
        .join(Payer, Payer.id == Policy.payer_id)
        .where(Policy.patient_id == patient_id, Policy.deleted_at.is_(None))
        .order_by(Policy.valid_from.desc())
    ).all()
    return [
        PolicyView(
            id=policy.id,
            payer_id=policy.payer_id,
            payer_name=payer_name,
            policy_number=policy.policy_number,
            holder_name=policy.holder_name,
            valid_from=policy.valid_from,
            valid_to=policy.valid_to,
            covered_categories=[c for c in policy.covered_categories.split(",") if c],
            copay_percent=policy.copay_percent,
            annual_limit=policy.annual_limit,
            active=policy.active,
        )
        for policy, payer_name in rows
    ]


def priced_items(session: Session, day: date) -> list[PricedItem]:
    """Active items that have a price on `day`, by name, each with that day's price."""
    items = session.execute(
        select(PriceItem)
        .where(PriceItem.active.is_(True), PriceItem.deleted_at.is_(None))
        .order_by(PriceItem.name)
    ).scalars()
    found = []
    for item in items:
        price = price_on(session, item.id, day)
        if price is not None:
            found.append(
                PricedItem(
                    id=item.id,
                    code=item.code,
                    name=item.name,
                    category=item.category,
                    unit=item.unit,
                    unit_price=price.unit_price,
                    tax_rate=price.tax_rate,
                )
            )
    return found


def payer_choices(session: Session) -> list[PayerChoice]:
    """Active payers, by name."""
    found = session.execute(
        select(Payer).where(Payer.active.is_(True), Payer.deleted_at.is_(None)).order_by(Payer.name)
    ).scalars()
    return [PayerChoice(id=p.id, code=p.code, name=p.name) for p in found]
