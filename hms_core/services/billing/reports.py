"""Billing reports: daily collections by method, outstanding balances by age, revenue by
department, and a cashier's day close. Read-only queries that run the same on PostgreSQL and
on a desktop's SQLite cache.

Days are the hospital's days: a payment received at 23:30 local time counts on that local
date whatever its UTC date. Moments read back from SQLite are naive UTC; they are made aware
before any conversion.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hms_core.db.billing import (
    APPROVED,
    CASH,
    CREDIT_NOTE,
    FINAL,
    INVOICE,
    PAID,
    PARTIAL,
    REFUND,
    REJECTED,
    CashClose,
    Claim,
    Invoice,
    InvoiceLine,
    Payment,
)
from hms_core.db.hospital import Department
from hms_core.schemas.billing import DayClosePreview
from hms_core.services.billing import cash_desk

AGE_BUCKETS = ("0-30", "31-60", "61-90", "over 90")
NO_DEPARTMENT = "No department"


# --- days in the hospital's zone --------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """An aware UTC moment (a naive one, as SQLite returns it, is UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date(moment: datetime, tz: str) -> date:
    """The hospital-zone date of a stored moment."""
    return as_utc(moment).astimezone(ZoneInfo(tz)).date()


def day_window(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """[from, until) in UTC covering the local days `start` to `end`, both included."""
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time.min, zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC)
    return since, until


def signed_amount(payment: Payment) -> int:
    """What a payment row adds to the till: a refund takes its amount out."""
    return -payment.amount if payment.kind == REFUND else payment.amount


# --- collections ------------------------------------------------------------------------------


def _payments_between(
    session: Session, since: datetime, until: datetime, cashier: str | None = None
) -> list[Payment]:
    query = select(Payment).where(
        Payment.deleted_at.is_(None), Payment.received_at >= since, Payment.received_at < until
    )
    if cashier is not None:
        query = query.where(Payment.received_by == cashier)
    return list(session.execute(query.order_by(Payment.received_at, Payment.id)).scalars())


def net_by_method(payments: Iterable[Payment]) -> dict[str, int]:
    """Payments and deposits less refunds, by method."""
    totals: dict[str, int] = defaultdict(int)
    for payment in payments:
        totals[payment.method] += signed_amount(payment)
    return dict(totals)


def daily_collections(
    session: Session, start: date, end: date, tz: str
) -> list[tuple[date, dict[str, int]]]:
    """Every local day from `start` to `end` with its net collections by method (payments
    and deposits less refunds); a day with none has an empty dict."""
    since, until = day_window(start, end, tz)
    by_day: dict[date, list[Payment]] = defaultdict(list)
    for payment in _payments_between(session, since, until):
        by_day[local_date(payment.received_at, tz)].append(payment)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [(day, net_by_method(by_day.get(day, []))) for day in days]


def cashier_payments(session: Session, cashier: str, business_date: date, tz: str) -> list[Payment]:
    """The rows a cashier took at the desk on one local day, oldest first (an insurer's
    payment of a claim never passes through the drawer, so it is not among them)."""
    since, until = day_window(business_date, business_date, tz)
    rows = _payments_between(session, since, until, cashier)
    return [p for p in rows if p.claim_id is None]


def find_close(session: Session, cashier: str, business_date: date) -> CashClose | None:
    """The cashier's close of that day, if made."""
    return session.execute(
        select(CashClose).where(
            CashClose.cashier == cashier,
            CashClose.business_date == business_date,
            CashClose.deleted_at.is_(None),
        )
    ).scalar_one_or_none()


def day_close_preview(
    session: Session, cashier: str, business_date: date, tz: str, currency: str
) -> DayClosePreview:
    """What the cashier's payments of the local day add up to by method (the same sums the
    close stores), and whether the day is closed."""
    by_method, count = cash_desk.day_totals(session, cashier, business_date, tz)
    closed = find_close(session, cashier, business_date)
    return DayClosePreview(
        cashier=cashier,
        business_date=business_date,
        currency=currency,
        by_method=by_method,
        count=count,
        expected_cash=by_method.get(CASH, 0),
        closed=closed is not None,
        counted_cash=closed.counted_cash if closed is not None else None,
    )


# --- outstanding balances ---------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoice:
    """A final invoice with what the patient still owes on it."""

    invoice_id: uuid.UUID
    finalised_on: date
    balance: int


def _sums(session: Session, query: Select[Any]) -> dict[uuid.UUID, int]:
    """{key: total} from a two-column grouped query."""
    return {key: int(total or 0) for key, total in session.execute(query).all()}


def _credited(session: Session) -> dict[uuid.UUID, int]:
    """Patient share credited back, by the invoice each final credit note corrects."""
    query = (
        select(Invoice.credits_invoice_id, func.sum(func.abs(Invoice.patient_share)))
        .where(
            Invoice.kind == CREDIT_NOTE,
            Invoice.status == FINAL,
            Invoice.deleted_at.is_(None),
            Invoice.credits_invoice_id.is_not(None),
        )
        .group_by(Invoice.credits_invoice_id)
    )
    return _sums(session, query)


def _paid(session: Session) -> dict[uuid.UUID, int]:
    """Payments against each invoice, less what was refunded of them (insurance excluded:
    the payer's money settles the payer's share, not the patient's)."""
    paid = _sums(
        session,
        select(Payment.invoice_id, func.sum(Payment.amount))
        .where(
            Payment.invoice_id.is_not(None),
            Payment.kind != REFUND,
            Payment.claim_id.is_(None),
            Payment.deleted_at.is_(None),
        )
        .group_by(Payment.invoice_id),
    )
    original = Payment.__table__.alias("original")
    refunded = _sums(
        session,
        select(original.c.invoice_id, func.sum(Payment.amount))
        .join(original, original.c.id == Payment.refund_of_id)
        .where(
            Payment.kind == REFUND,
            Payment.deleted_at.is_(None),
            original.c.invoice_id.is_not(None),
            original.c.claim_id.is_(None),
        )
        .group_by(original.c.invoice_id),
    )
    return {key: paid.get(key, 0) - refunded.get(key, 0) for key in paid.keys() | refunded.keys()}


def claim_shortfall(claim: Claim) -> int:
    """What a payer declined of a claim, which falls back to the patient."""
    if claim.status == REJECTED:
        return claim.claimed
    if claim.status in (APPROVED, PARTIAL, PAID) and claim.approved is not None:
        return max(claim.claimed - claim.approved, 0)
    return 0


def _shortfalls(session: Session) -> dict[uuid.UUID, int]:
    claims = session.execute(select(Claim).where(Claim.deleted_at.is_(None))).scalars()
    return {c.invoice_id: claim_shortfall(c) for c in claims}


def open_invoices(session: Session, tz: str) -> list[OpenInvoice]:
    """Final invoices on which the patient still owes something."""
    invoices = session.execute(
        select(Invoice.id, Invoice.patient_share, Invoice.finalised_at).where(
            Invoice.kind == INVOICE,
            Invoice.status == FINAL,
            Invoice.deleted_at.is_(None),
            Invoice.finalised_at.is_not(None),
        )
    ).all()
    credited, paid, short = _credited(session), _paid(session), _shortfalls(session)
    found = []
    for invoice_id, share, finalised_at in invoices:
        balance = share - credited.get(invoice_id, 0) - paid.get(invoice_id, 0)
        balance += short.get(invoice_id, 0)
        if balance > 0:
            found.append(OpenInvoice(invoice_id, local_date(finalised_at, tz), balance))
    return found


def age_bucket(days: int) -> str:
    """The bucket of a balance `days` days after its invoice was finalised."""
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over 90"


def outstanding_by_age(session: Session, today: date, tz: str) -> dict[str, int]:
    """What patients owe on final invoices, by days since the invoice was finalised."""
    buckets = dict.fromkeys(AGE_BUCKETS, 0)
    for invoice in open_invoices(session, tz):
        buckets[age_bucket((today - invoice.finalised_on).days)] += invoice.balance
    return buckets


# --- revenue ----------------------------------------------------------------------------------


def _line_nets(
    session: Session, kind: str, since: datetime, until: datetime
) -> list[tuple[uuid.UUID | None, int]]:
    """(department id, net) of the lines of final documents of `kind` finalised in the window."""
    rows = session.execute(
        select(InvoiceLine.department_id, func.sum(func.abs(InvoiceLine.net)))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.kind == kind,
            Invoice.status == FINAL,
            Invoice.deleted_at.is_(None),
            InvoiceLine.deleted_at.is_(None),
            Invoice.finalised_at >= since,
            Invoice.finalised_at < until,
        )
        .group_by(InvoiceLine.department_id)
    ).all()
    return [(department_id, int(total or 0)) for department_id, total in rows]


def revenue_by_department(
    session: Session, start: date, end: date, tz: str
) -> list[tuple[str, int]]:
    """Net revenue (before tax) of invoices finalised in the local days `start`..`end`, less
    the credit notes issued in them, by department; largest first."""
    since, until = day_window(start, end, tz)
    totals: dict[uuid.UUID | None, int] = defaultdict(int)
    for department_id, net in _line_nets(session, INVOICE, since, until):
        totals[department_id] += net
    for department_id, net in _line_nets(session, CREDIT_NOTE, since, until):
        totals[department_id] -= net
    names = _department_names(session, [d for d in totals if d is not None])
    named: dict[str, int] = defaultdict(int)
    for department_id, net in totals.items():
        named[names.get(department_id, NO_DEPARTMENT) if department_id else NO_DEPARTMENT] += net
    return sorted(named.items(), key=lambda item: (-item[1], item[0]))


def _department_names(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(ids)))
    return {department_id: name for department_id, name in rows.all()}
