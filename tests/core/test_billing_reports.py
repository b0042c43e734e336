"""Billing reports on real PostgreSQL and on a desktop's SQLite cache: collections by the
hospital's local day and method, outstanding balances in age buckets at their boundaries,
revenue by department less credit notes, and a cashier's day close."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db import (
    CashClose,
    Claim,
    Department,
    Invoice,
    InvoiceLine,
    Patient,
    Payer,
    Payment,
    Policy,
)
from hms_core.db.base import new_id
from hms_core.services.billing import balances, reports
from hms_desktop.store.schema import cache_metadata

TZ = "Africa/Nairobi"  # UTC+3 all year: local midnight is 21:00 UTC the day before
ZONE = ZoneInfo(TZ)
TODAY = date(2026, 3, 10)
CASHIER = "test-billing"

Unit = Callable[[], AbstractContextManager[Session]]


@pytest.fixture(params=["postgresql", "sqlite-cache"])
def unit(request: pytest.FixtureRequest, tmp_path) -> Iterator[Unit]:  # noqa: ANN001
    """A unit of work on PostgreSQL (migrated schema) or on the desktop cache's schema."""
    if request.param == "postgresql":
        db = request.getfixturevalue("db")
        yield db.unit_of_work
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    cache_metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def work() -> Iterator[Session]:
        with sessions() as session, session.begin():
            yield session

    yield work
    engine.dispose()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment given in the hospital's local time, stored as UTC (as the services store it)."""
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)


def add_patient(session: Session, name: str = "Achieng") -> uuid.UUID:
    patient = Patient(
        mrn=str(uuid.uuid4().int)[:9],
        given_name=name,
        family_name="Otieno",
        birth_date=date(1980, 1, 1),
        sex="female",
        sort_name=f"otieno {name.lower()}",
    )
    session.add(patient)
    session.flush()
    return patient.id


def pay(
    session: Session,
    patient_id: uuid.UUID,
    amount: int,
    at: datetime,
    method: str = "cash",
    kind: str = "payment",
    by: str = CASHIER,
    **fields: object,
) -> Payment:
    payment = Payment(
        patient_id=patient_id,
        kind=kind,
        method=method,
        amount=amount,
        received_at=at,
        received_by=by,
        receipt_number=f"RC-{new_id().hex[:16]}",
        **fields,
    )
    session.add(payment)
    session.flush()
    return payment


def final_invoice(
    session: Session,
    patient_id: uuid.UUID,
    share: int,
    finalised_at: datetime,
    kind: str = "invoice",
    credits: uuid.UUID | None = None,
    status: str = "final",
) -> Invoice:
    invoice = Invoice(
        patient_id=patient_id,
        kind=kind,
        status=status,
        credits_invoice_id=credits,
        currency="KES",
        net=share,
        gross=share,
        patient_share=share,
        created_by=CASHIER,
        finalised_at=finalised_at if status == "final" else None,
    )
    session.add(invoice)
    session.flush()
    return invoice


def line(
    session: Session, invoice: Invoice, net: int, department_id: uuid.UUID | None, n: int = 1
) -> None:
    session.add(
        InvoiceLine(
            invoice_id=invoice.id,
            position=n,
            code=f"X{n}",
            description="Service",
            category="procedure",
            department_id=department_id,
            service_date=TODAY,
            quantity=Decimal(1),
            unit_price=net,
            net=net,
            tax=0,
            patient_share=net,
        )
    )
    session.flush()


def add_policy(session: Session, patient_id: uuid.UUID) -> tuple[Payer, Policy]:
    payer = Payer(code=f"P{new_id().hex[:8]}", name="Afya Insurance")
    session.add(payer)
    session.flush()
    policy = Policy(
        patient_id=patient_id,
        payer_id=payer.id,
        policy_number="P-1",
        valid_from=TODAY - timedelta(days=400),
        covered_categories="procedure",
    )
    session.add(policy)
    session.flush()
    return payer, policy


def add_claim(
    session: Session,
    invoice: Invoice,
    payer: Payer,
    policy: Policy,
    status: str,
    claimed: int,
    approved: int | None,
) -> Claim:
    claim = Claim(
        invoice_id=invoice.id,
        policy_id=policy.id,
        payer_id=payer.id,
        patient_id=invoice.patient_id,
        status=status,
        claimed=claimed,
        approved=approved,
        created_by=CASHIER,
    )
    session.add(claim)
    session.flush()
    return claim


# --- collections ------------------------------------------------------------------------------


def test_daily_collections_count_each_payment_on_its_local_day_by_method(unit: Unit) -> None:
    day1, day2, day3 = TODAY - timedelta(days=2), TODAY - timedelta(days=1), TODAY
    with unit() as session:
        patient = add_patient(session)
        cash = pay(session, patient, 10_000, local(day1, 9))
        pay(session, patient, 5_000, local(day1, 10), method="card")
        pay(session, patient, 3_000, local(day2, 11), method="online", kind="deposit")
        pay(session, patient, 2_500, local(day2, 12), kind="refund", refund_of_id=cash.id)
        # 23:30 local on day 2 is 20:30 UTC: day 2, not day 3
        pay(session, patient, 700, local(day2, 23, 30))
        # 00:15 local on day 3 is still day 2 in UTC (21:15): counted on day 3
        pay(session, patient, 400, local(day3, 0, 15), method="card")
        pay(session, patient, 999, local(day1 - timedelta(days=1), 23, 59))  # before the range
        pay(session, patient, 888, local(day3 + timedelta(days=1), 0, 0))  # after it
    with unit() as session:
        found = reports.daily_collections(session, day1, day3, TZ)
        empty = reports.daily_collections(
            session, day3 + timedelta(days=5), TODAY.replace(day=16), TZ
        )
    assert found == [
        (day1, {"cash": 10_000, "card": 5_000}),
        (day2, {"online": 3_000, "cash": -2_500 + 700}),
        (day3, {"card": 400}),
    ]
    assert empty == [(TODAY.replace(day=15), {}), (TODAY.replace(day=16), {})]


def test_day_close_preview_is_the_cashiers_own_local_day_and_knows_when_closed(
    unit: Unit,
) -> None:
    with unit() as session:
        patient = add_patient(session)
        first = pay(session, patient, 20_000, local(TODAY, 8))
        pay(session, patient, 4_550, local(TODAY, 9), method="card", reference="T-1")
        pay(session, patient, 5_000, local(TODAY, 10), kind="deposit")
        pay(session, patient, 1_000, local(TODAY, 11), kind="refund", refund_of_id=first.id)
        pay(session, patient, 7_000, local(TODAY, 12), by="someone-else")
        pay(session, patient, 6_000, local(TODAY - timedelta(days=1), 23, 50))
        claim_paid = final_invoice(session, patient, 0, local(TODAY, 7))
        payer, policy = add_policy(session, patient)
        claim = add_claim(session, claim_paid, payer, policy, "paid", 9_000, 9_000)
        pay(session, patient, 9_000, local(TODAY, 13), method="insurance", claim_id=claim.id)
    with unit() as session:
        preview = reports.day_close_preview(session, CASHIER, TODAY, TZ, "KES")
    assert preview.by_method == {"cash": 24_000, "card": 4_550, "online": 0, "insurance": 0}
    assert preview.expected_cash == 24_000
    assert preview.count == 4
    assert (preview.closed, preview.counted_cash) == (False, None)
    with unit() as session:
        session.add(
            CashClose(
                cashier=CASHIER,
                business_date=TODAY,
                currency="KES",
                expected_cash=24_000,
                counted_cash=23_900,
                totals="cash=24000;card=4550",
                closed_at=local(TODAY, 18),
            )
        )
    with unit() as session:
        closed = reports.day_close_preview(session, CASHIER, TODAY, TZ, "KES")
        other_day = reports.day_close_preview(
            session, CASHIER, TODAY - timedelta(days=1), TZ, "KES"
        )
    assert (closed.closed, closed.counted_cash) == (True, 23_900)
    assert other_day.by_method["cash"] == 6_000 and not other_day.closed


# --- outstanding balances ---------------------------------------------------------------------


def test_outstanding_balances_fall_in_age_buckets_at_their_boundaries(unit: Unit) -> None:
    ages = {30: 1, 31: 10, 60: 100, 61: 1_000, 90: 10_000, 91: 100_000, 0: 1_000_000}
    with unit() as session:
        patient = add_patient(session)
        for days, share in ages.items():
            # 00:30 local on that date: 21:30 UTC on the date before
            final_invoice(session, patient, share, local(TODAY - timedelta(days=days), 0, 30))
    with unit() as session:
        buckets = reports.outstanding_by_age(session, TODAY, TZ)
    assert buckets == {
        "0-30": 1_000_001,
        "31-60": 110,
        "61-90": 11_000,
        "over 90": 100_000,
    }


def test_outstanding_is_what_the_patient_still_owes_after_credits_payments_and_claims(
    unit: Unit,
) -> None:
    with unit() as session:
        patient = add_patient(session)
        recent = local(TODAY - timedelta(days=5), 10)
        old = local(TODAY - timedelta(days=45), 10)
        # paid in part, one payment partly refunded: owes 10_000 - 6_000 + 1_000
        partly = final_invoice(session, patient, 10_000, recent)
        paid = pay(session, patient, 6_000, recent, invoice_id=partly.id)
        pay(
            session,
            patient,
            1_000,
            recent,
            kind="refund",
            refund_of_id=paid.id,
            invoice_id=partly.id,
        )
        # credited in part (a credit note's amounts are positive): owes 8_000 - 3_000
        credited = final_invoice(session, patient, 8_000, old)
        final_invoice(session, patient, 3_000, recent, kind="credit_note", credits=credited.id)
        # fully paid: owes nothing
        settled = final_invoice(session, patient, 2_000, old)
        pay(session, patient, 2_000, old, method="card", invoice_id=settled.id)
        # insured: patient share 1_000 paid; the payer approved 3_000 of 5_000 claimed
        insured = final_invoice(session, patient, 1_000, old)
        pay(session, patient, 1_000, old, invoice_id=insured.id)
        payer, policy = add_policy(session, patient)
        add_claim(session, insured, payer, policy, "partially_approved", 5_000, 3_000)
        # the payer refused a claim of 4_000 outright: the patient owes it
        refused = final_invoice(session, patient, 0, recent)
        add_claim(session, refused, payer, policy, "rejected", 4_000, None)
        # a draft and a discarded invoice are not owed
        final_invoice(session, patient, 50_000, recent, status="draft")
        final_invoice(session, patient, 60_000, recent, status="discarded")
    with unit() as session:
        buckets = reports.outstanding_by_age(session, TODAY, TZ)
        invoices = session.execute(select(Invoice).where(Invoice.status == "final")).scalars()
        owed = [balances.invoice_balance(session, invoice) for invoice in invoices]
    assert buckets == {"0-30": 5_000 + 4_000, "31-60": 5_000 + 2_000, "61-90": 0, "over 90": 0}
    assert sum(buckets.values()) == sum(b for b in owed if b > 0)  # as the account page says


# --- revenue ----------------------------------------------------------------------------------


def test_revenue_by_department_is_net_of_credit_notes_within_the_range(unit: Unit) -> None:
    start, end = TODAY - timedelta(days=6), TODAY
    with unit() as session:
        patient = add_patient(session)
        cardiology = Department(code="CARD", name="Cardiology", specialty="Cardiology")
        surgery = Department(code="SURG", name="Surgery", specialty="Surgery")
        session.add_all([cardiology, surgery])
        session.flush()
        first = final_invoice(session, patient, 0, local(start, 0, 10))
        line(session, first, 30_000, cardiology.id, 1)
        line(session, first, 12_000, surgery.id, 2)
        line(session, first, 500, None, 3)
        second = final_invoice(session, patient, 0, local(end, 23, 50))
        line(session, second, 20_000, surgery.id)
        note = final_invoice(session, patient, 0, local(end, 9), "credit_note", first.id)
        line(session, note, 2_000, cardiology.id)
        outside = final_invoice(session, patient, 0, local(start - timedelta(days=1), 23, 59))
        line(session, outside, 99_000, cardiology.id)
        draft = final_invoice(session, patient, 0, local(end, 9), status="draft")
        line(session, draft, 77_000, surgery.id)
    with unit() as session:
        revenue = reports.revenue_by_department(session, start, end, TZ)
    assert revenue == [("Surgery", 32_000), ("Cardiology", 28_000), ("No department", 500)]


def test_day_windows_follow_the_zone_across_a_clock_change() -> None:
    since, until = reports.day_window(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    assert since == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # a 23-hour day
    assert reports.local_date(datetime(2026, 3, 28, 23, 30), "Europe/Berlin") == date(2026, 3, 29)
