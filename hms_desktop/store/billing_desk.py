"""The cash desk, the billing reports and the price list as the desktop sees them.

Reads come from the cache (the signed-in cashier's payments of the day, the reports, the
price list with its dated prices); the day close and price-list changes are queued mutations,
so they work offline and the server has the last word (a second close of the same day is
refused there as it is here).
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Department, Invoice, Patient, Payer, Payment, Price, PriceItem
from hms_core.db.base import new_id, utcnow
from hms_core.schemas.billing import DayClosePreview, HospitalProfile
from hms_core.services.audit import record_audit
from hms_core.services.billing import reports
from hms_desktop.store.cache import LocalStore

PROFILE_STATE = "hospital_profile"


@dataclass(frozen=True)
class DeskPayment:
    """One row of the cashier's day: money in (positive) or a refund paid out (negative)."""

    id: uuid.UUID
    receipt_number: str
    received_at: datetime
    patient_name: str
    mrn: str
    kind: str
    method: str
    amount: int  # signed: a refund is negative
    reference: str
    invoice_number: str | None


@dataclass(frozen=True)
class DeskDay:
    """The cashier's day: its payments, the totals by method, and the close if made."""

    preview: DayClosePreview
    payments: list[DeskPayment]
    exponent: int
    timezone: str
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_note: str = ""


@dataclass(frozen=True)
class ReportData:
    """The three billing reports over one range of local days."""

    start: date
    end: date
    today: date
    currency: str
    exponent: int
    timezone: str
    collections: list[tuple[date, dict[str, int]]]
    outstanding: dict[str, int]
    revenue: list[tuple[str, int]]


@dataclass(frozen=True)
class PriceRow:
    """A price-list item with the price that applies today (None when it has none yet)."""

    item_id: uuid.UUID
    code: str
    name: str
    category: str
    unit: str
    department_id: uuid.UUID | None
    department: str
    doctor_grade: str | None
    ward_class: str | None
    active: bool
    unit_price: int | None
    tax_rate: Decimal | None
    valid_from: date | None
    next_change: date | None  # a price already set for a later day


@dataclass(frozen=True)
class PriceStep:
    """One dated price of an item."""

    valid_from: date
    unit_price: int
    tax_rate: Decimal
    set_by: str
    current: bool


@dataclass(frozen=True)
class PayerRow:
    id: uuid.UUID
    code: str
    name: str
    identifier: str
    email: str
    active: bool


class LocalBillingDesk:
    """The signed-in cashier's day, the reports and the price list, on the cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited_days: set[date] = set()  # days whose payments list was audited

    # --- the hospital's conventions ---------------------------------------------------------

    def profile(self) -> HospitalProfile:
        """The hospital profile this desktop keeps (UTC and USD until it has one)."""
        value = self.store.get_state(PROFILE_STATE)
        if isinstance(value, str):
            return HospitalProfile.model_validate_json(value)
        if isinstance(value, dict):
            return HospitalProfile.model_validate(value)
        return HospitalProfile(name="")

    def today(self, profile: HospitalProfile | None = None) -> date:
        """Today's date in the hospital's time zone."""
        zone = ZoneInfo((profile or self.profile()).timezone)
        return datetime.now(zone).date()

    @property
    def cashier(self) -> str:
        return self.store.actor.username

    # --- the cash desk ----------------------------------------------------------------------

    def day(self, business_date: date | None = None) -> DeskDay:
        """The signed-in cashier's payments and totals of a day (today by default)."""
        profile = self.profile()
        when = business_date or self.today(profile)
        cashier = self.cashier

        def read(session: Session) -> DeskDay:
            preview = reports.day_close_preview(
                session, cashier, when, profile.timezone, profile.currency
            )
            rows = reports.cashier_payments(session, cashier, when, profile.timezone)
            close = reports.find_close(session, cashier, when)
            self._audit_day(session, when, len(rows))
            return DeskDay(
                preview=preview,
                payments=_desk_payments(session, rows),
                exponent=profile.exponent,
                timezone=profile.timezone,
                closed_at=reports.as_utc(close.closed_at) if close else None,
                closed_by=close.cashier if close else None,
                close_note=close.note if close else "",
            )

        return self.store.read(read)

    def _audit_day(self, session: Session, when: date, rows: int) -> None:
        """Record (once a session per day) that the cashier looked at the day's payments,
        which name patients."""
        if when in self._audited_days:
            return
        self._audited_days.add(when)
        detail = {"date": when.isoformat(), "rows": rows}
        record_audit(session, self.store.actor, "billing.cashdesk", detail=detail)
        session.flush()  # hands the record to the cache's access log

    def close_day(
        self, counted_cash: int, note: str = "", business_date: date | None = None
    ) -> dict[str, Any]:
        """Close the cashier's day with the cash counted in the drawer (minor units)."""
        profile = self.profile()
        args = {
            "id": str(new_id()),
            "business_date": (business_date or self.today(profile)).isoformat(),
            "timezone": profile.timezone,
            "currency": profile.currency,
            "counted_cash": counted_cash,
            "note": note,
            "at": utcnow().isoformat(),
        }
        return self.store.mutate("close_cash_day", args)

    # --- reports ----------------------------------------------------------------------------

    def reports(self, days: int = 7, end: date | None = None) -> ReportData:
        """Collections and revenue over the last `days` local days, and balances by age."""
        profile = self.profile()
        today = self.today(profile)
        last = end or today
        first = last - timedelta(days=days - 1)
        tz = profile.timezone

        def read(session: Session) -> ReportData:
            return ReportData(
                start=first,
                end=last,
                today=today,
                currency=profile.currency,
                exponent=profile.exponent,
                timezone=tz,
                collections=reports.daily_collections(session, first, last, tz),
                outstanding=reports.outstanding_by_age(session, today, tz),
                revenue=reports.revenue_by_department(session, first, last, tz),
            )

        return self.store.read(read)

    # --- the price list ---------------------------------------------------------------------

    def price_list(self, on: date | None = None) -> list[PriceRow]:
        """Every item by category and name, with the price that applies on `on` (today)."""
        when = on or self.today()
        return self.store.read(lambda s: _price_rows(s, when))

    def price_history(self, item_id: uuid.UUID, on: date | None = None) -> list[PriceStep]:
        """An item's dated prices, newest first; the one in force on `on` marked current."""
        when = on or self.today()
        return self.store.read(lambda s: _price_steps(s, item_id, when))

    def departments(self) -> list[tuple[uuid.UUID, str]]:
        """(id, name) of the departments, by name."""
        query = (
            select(Department.id, Department.name)
            .where(Department.deleted_at.is_(None))
            .order_by(Department.name)
        )
        return self.store.read(lambda s: [(i, n) for i, n in s.execute(query).all()])

    def payers(self) -> list[PayerRow]:
        """The insurers and other payers, by name."""
        query = select(Payer).where(Payer.deleted_at.is_(None)).order_by(Payer.name)
        return self.store.read(
            lambda s: [
                PayerRow(p.id, p.code, p.name, p.identifier, p.email, p.active)
                for p in s.execute(query).scalars()
            ]
        )

    def save_item(self, fields: dict[str, Any], item_id: uuid.UUID | None = None) -> uuid.UUID:
        """Create (or change) a price-list item; `fields` are SavePriceItem's without the id."""
        chosen = item_id or new_id()
        args = {**_jsonable(fields), "id": str(chosen)}
        self.store.mutate("save_price_item", args)
        return chosen

    def set_price(
        self, item_id: uuid.UUID, valid_from: date, unit_price: int, tax_rate: Decimal
    ) -> dict[str, Any]:
        """The item's price from `valid_from` on (a day from today on)."""
        args = {
            "id": str(new_id()),
            "item_id": str(item_id),
            "valid_from": valid_from.isoformat(),
            "unit_price": unit_price,
            "tax_rate": str(tax_rate),
            "today": self.today().isoformat(),
        }
        return self.store.mutate("set_price", args)

    def save_payer(self, fields: dict[str, Any], payer_id: uuid.UUID | None = None) -> uuid.UUID:
        """Create (or change) a payer; `fields` are SavePayer's without the id."""
        chosen = payer_id or new_id()
        self.store.mutate("save_payer", {**_jsonable(fields), "id": str(chosen)})
        return chosen


# --- reading helpers --------------------------------------------------------------------------


def _desk_payments(session: Session, rows: list[Payment]) -> list[DeskPayment]:
    patients = _by_id(session, Patient, {p.patient_id for p in rows})
    invoices = _by_id(session, Invoice, {p.invoice_id for p in rows if p.invoice_id})
    found = []
    for payment in rows:
        patient = patients.get(payment.patient_id)
        invoice = invoices.get(payment.invoice_id) if payment.invoice_id else None
        found.append(
            DeskPayment(
                id=payment.id,
                receipt_number=payment.receipt_number,
                received_at=reports.as_utc(payment.received_at),
                patient_name=_name(patient),
                mrn=patient.mrn if patient else "",
                kind=payment.kind,
                method=payment.method,
                amount=reports.signed_amount(payment),
                reference=payment.reference,
                invoice_number=_invoice_number(invoice),
            )
        )
    return found


def _by_id(session: Session, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    return {
        row.id: row for row in session.execute(select(model).where(model.id.in_(ids))).scalars()
    }


def _name(patient: Patient | None) -> str:
    if patient is None:
        return "(patient not on this computer)"
    return f"{patient.family_name.upper()}, {patient.given_name}"


def _invoice_number(invoice: Invoice | None) -> str | None:
    if invoice is None:
        return None
    return invoice.number or "number pending sync"


def _price_rows(session: Session, on: date) -> list[PriceRow]:
    items = session.execute(
        select(PriceItem)
        .where(PriceItem.deleted_at.is_(None))
        .order_by(PriceItem.category, PriceItem.name, PriceItem.code)
    ).scalars()
    prices: dict[uuid.UUID, list[Price]] = {}
    for price in session.execute(
        select(Price).where(Price.deleted_at.is_(None)).order_by(Price.valid_from)
    ).scalars():
        prices.setdefault(price.item_id, []).append(price)
    names = dict(session.execute(select(Department.id, Department.name)).all())
    return [_price_row(item, prices.get(item.id, []), names, on) for item in items]


def _price_row(
    item: PriceItem, steps: list[Price], names: dict[uuid.UUID, str], on: date
) -> PriceRow:
    current = _in_force(steps, on)
    later = [p.valid_from for p in steps if p.valid_from > on]
    return PriceRow(
        item_id=item.id,
        code=item.code,
        name=item.name,
        category=item.category,
        unit=item.unit,
        department_id=item.department_id,
        department=names.get(item.department_id, "") if item.department_id else "",
        doctor_grade=item.doctor_grade,
        ward_class=item.ward_class,
        active=item.active,
        unit_price=current.unit_price if current else None,
        tax_rate=Decimal(current.tax_rate) if current else None,
        valid_from=current.valid_from if current else None,
        next_change=min(later) if later else None,
    )


def _in_force(steps: list[Price], on: date) -> Price | None:
    """The step with the latest `valid_from` not after `on` (steps sorted by date)."""
    current = None
    for price in steps:
        if price.valid_from <= on:
            current = price
    return current


def _price_steps(session: Session, item_id: uuid.UUID, on: date) -> list[PriceStep]:
    steps = list(
        session.execute(
            select(Price)
            .where(Price.item_id == item_id, Price.deleted_at.is_(None))
            .order_by(Price.valid_from)
        ).scalars()
    )
    current = _in_force(steps, on)
    return [
        PriceStep(p.valid_from, p.unit_price, Decimal(p.tax_rate), p.set_by, p is current)
        for p in reversed(steps)
    ]


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """Ids and decimals as text, the way a mutation's arguments travel."""
    return {k: str(v) if isinstance(v, uuid.UUID | Decimal) else v for k, v in fields.items()}
