"""Printable invoices and receipts built from the billing rows, on the server's PostgreSQL and on
a desktop's SQLite cache: lines in order, the insurance split, payments less their refunds, the
balance a receipt states, credit notes, pending numbers, and whether a print is a reprint."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from hms_core.db.base import new_id
from hms_core.db.billing import (
    CREDIT_NOTE,
    DEPOSIT,
    DRAFT,
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
from hms_core.printing.documents import Hospital
from hms_core.printing.invoice_pdf import render_invoice
from hms_core.printing.receipt_pdf import render_receipt
from hms_core.printing.records import (
    NUMBER_PENDING,
    hospital_from_profile,
    invoice_document,
    is_reprint,
    receipt_document,
)
from hms_core.rules.money import line_amounts
from hms_core.schemas.billing import HospitalProfile
from hms_core.services.billing.balances import patient_balance
from hms_core.services.billing.common import receipt_number
from hms_core.services.errors import InvalidData
from hms_desktop.store.cache import open_engine
from hms_desktop.store.schema import cache_metadata

ZONE = "Africa/Nairobi"  # UTC+3
HOSPITAL = Hospital(name="Riverside Hospital", address_lines=("1 River Road", "Nairobi"))
START = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
# (code, description, category, quantity, unit price, tax %, covered)
LINES = (
    ("CONS-GP", "General consultation", "consultation", "1", 150000, "0", True),
    ("LAB-FBC", "Full blood count", "lab", "2", 80000, "16", True),
    ("MED-PCM", "Paracetamol 500 mg", "medicine", "10", 1250, "0", False),
)
COPAY = Decimal(20)  # percent of covered lines the patient pays


@pytest.fixture(params=["postgresql", "sqlite"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A session on the server's database, or on a desktop's cache file."""
    if request.param == "postgresql":
        db = request.getfixturevalue("db")
        with db.sessions() as session:
            yield session
            session.rollback()
        return
    engine = open_engine(tmp_path / "cache.sqlite3")
    cache_metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@dataclass
class Account:
    patient_id: uuid.UUID
    invoice_id: uuid.UUID
    payments: dict[str, uuid.UUID]


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def add_patient(session: Session) -> Patient:
    patient = Patient(
        mrn="100000017",
        given_name="Grace",
        family_name="Wanjiru",
        birth_date=date(1985, 3, 14),
        sex="female",
        address_line="12 Moi Avenue",
        postal_code="00100",
        city="Nairobi",
        country="Kenya",
        sort_name="wanjiru grace",
    )
    add(session, patient)
    return patient


def add_policy(session: Session, patient: Patient) -> Policy:
    payer = Payer(code="NHIF", name="National Health Insurance Fund")
    add(session, payer)
    policy = Policy(
        patient_id=patient.id,
        payer_id=payer.id,
        policy_number="NHIF-55-0192",
        valid_from=date(2026, 1, 1),
        covered_categories="consultation,lab",
        copay_percent=COPAY,
    )
    add(session, policy)
    return policy


def add_invoice(
    session: Session,
    patient: Patient,
    lines: tuple = LINES,
    *,
    number: str | None,
    status: str = FINAL,
    policy: Policy | None = None,
    minutes: int = 0,
    **extra: object,
) -> Invoice:
    """A final invoice (or credit note) with its lines stored out of position order."""
    invoice = Invoice(
        patient_id=patient.id,
        number=number,
        status=status,
        currency="KES",
        exponent=2,
        policy_id=policy.id if policy else None,
        created_by="test-billing",
        finalised_at=at(minutes) if status == FINAL else None,
        **extra,
    )
    add(session, invoice)
    rows = [_line(invoice, position, spec, policy) for position, spec in enumerate(lines, 1)]
    add(session, *reversed(rows))
    invoice.net = sum(row.net for row in rows)
    invoice.tax = sum(row.tax for row in rows)
    invoice.gross = invoice.net + invoice.tax
    invoice.patient_share = sum(row.patient_share for row in rows)
    invoice.payer_share = sum(row.payer_share for row in rows)
    session.flush()
    return invoice


def _line(invoice: Invoice, position: int, spec: tuple, policy: Policy | None) -> InvoiceLine:
    code, description, category, quantity, price, rate, covered = spec
    amounts = line_amounts(Decimal(quantity), price, Decimal(rate))
    covered = covered and policy is not None
    patient_share = amounts.gross * int(COPAY) // 100 if covered else amounts.gross
    return InvoiceLine(
        invoice_id=invoice.id,
        position=position,
        code=code,
        description=description,
        category=category,
        service_date=date(2026, 12, 6),
        quantity=Decimal(quantity),
        unit_price=price,
        tax_rate=Decimal(rate),
        net=amounts.net,
        tax=amounts.tax,
        covered=covered,
        patient_share=patient_share,
        payer_share=amounts.gross - patient_share,
    )


def pay(
    session: Session,
    patient: Patient,
    amount: int,
    minutes: int,
    *,
    invoice: Invoice | None = None,
    kind: str = "payment",
    method: str = "cash",
    reference: str = "",
    **extra: object,
) -> Payment:
    payment_id, received = new_id(), at(minutes)
    payment = Payment(
        id=payment_id,
        patient_id=patient.id,
        invoice_id=invoice.id if invoice else None,
        kind=kind,
        method=method,
        amount=amount,
        reference=reference,
        received_at=received,
        received_by="test-billing",
        receipt_number=receipt_number(payment_id, received),
        **extra,
    )
    add(session, payment)
    return payment


@pytest.fixture
def account(session: Session) -> Account:
    """An insured patient's invoice (79,620 theirs, 268,480 the insurer's), paid in cash and by
    card, part of the card payment refunded, the insurer's claim paid, and a deposit."""
    patient = add_patient(session)
    policy = add_policy(session, patient)
    invoice = add_invoice(session, patient, number="INV-2026-000042", policy=policy)
    claim = Claim(
        invoice_id=invoice.id,
        policy_id=policy.id,
        payer_id=policy.payer_id,
        patient_id=patient.id,
        claimed=invoice.payer_share,
        status="paid",
        approved=invoice.payer_share,
        paid=invoice.payer_share,
        created_by="test-billing",
        decided_at=at(50),
    )
    add(session, claim)
    cash = pay(session, patient, 50000, 10, invoice=invoice)
    card = pay(session, patient, 29620, 20, invoice=invoice, method="card", reference="TERM-7788")
    refund = pay(session, patient, 10000, 30, invoice=invoice, kind=REFUND, refund_of_id=card.id)
    insurer = pay(
        session, patient, invoice.payer_share, 40, invoice=invoice, method="insurance",
        claim_id=claim.id,
    )  # fmt: skip
    deposit = pay(session, patient, 5000, 60, kind=DEPOSIT)
    payments = {"cash": cash.id, "card": card.id, "refund": refund.id, "deposit": deposit.id}
    return Account(patient.id, invoice.id, payments | {"insurer": insurer.id})


# --- invoices ------------------------------------------------------------------------------------


def test_an_invoice_prints_its_lines_in_order_with_the_insurers_share(session, account) -> None:
    doc = invoice_document(session, account.invoice_id, HOSPITAL, is_copy=False, timezone=ZONE)

    assert doc.number == "INV-2026-000042"
    assert (doc.issued, doc.currency, doc.exponent) == (date(2026, 12, 6), "KES", 2)
    assert doc.patient.name == "Grace Wanjiru" and doc.patient.mrn == "100000017"
    assert doc.patient.address_lines == ("12 Moi Avenue", "00100 Nairobi", "Kenya")
    assert [line.code for line in doc.lines] == ["CONS-GP", "LAB-FBC", "MED-PCM"]
    assert [line.quantity for line in doc.lines] == [1, 2, 10]
    assert doc.totals().gross == 150000 + 185600 + 12500
    assert doc.insurance is not None
    assert doc.insurance.payer_name == "National Health Insurance Fund"
    assert doc.insurance.policy == "NHIF-55-0192"
    assert (doc.insurance.patient_share, doc.insurance.payer_share) == (79620, 268480)
    assert not doc.is_copy and doc.credit_note_for is None


def test_payments_are_listed_less_their_refunds_and_the_insurers_payment_is_not(
    session, account
) -> None:
    doc = invoice_document(session, account.invoice_id, HOSPITAL, is_copy=True, timezone=ZONE)

    listed = [(p.method, p.reference, p.amount) for p in doc.payments]
    assert listed == [("Cash", "", 50000), ("Card", "TERM-7788 (less 100.00 refunded)", 19620)]
    assert doc.balance_due() == 79620 - 50000 - 19620
    assert doc.is_copy

    text = pdf_text(render_invoice(doc))
    assert "INV-2026-000042" in text and "Grace Wanjiru" in text
    assert "National Health Insurance Fund" in text and "COPY" in text


def test_a_credit_note_names_the_invoice_it_corrects(session, account) -> None:
    patient = session.get(Patient, account.patient_id)
    note = add_invoice(
        session, patient, LINES[2:], number="CN-2026-000007", kind=CREDIT_NOTE,
        credits_invoice_id=account.invoice_id, minutes=90,
    )  # fmt: skip

    doc = invoice_document(session, note.id, HOSPITAL, is_copy=False, timezone=ZONE)

    assert (doc.number, doc.credit_note_for) == ("CN-2026-000007", "INV-2026-000042")
    assert [line.code for line in doc.lines] == ["MED-PCM"]
    assert doc.insurance is None and doc.payments == ()
    assert "Credit note" in pdf_text(render_invoice(doc))


def test_an_invoice_finalised_offline_prints_with_its_number_pending(session) -> None:
    patient = add_patient(session)
    invoice = add_invoice(session, patient, number=None)

    doc = invoice_document(session, invoice.id, HOSPITAL, is_copy=False)

    assert doc.number == NUMBER_PENDING == "(number pending)"
    assert doc.insurance is None and doc.balance_due() == doc.totals().gross
    payment = pay(session, patient, 1000, 5, invoice=invoice)
    receipt = receipt_document(session, payment.id, HOSPITAL, is_copy=False)
    assert receipt.invoice_number == NUMBER_PENDING


def test_a_draft_is_not_printed(session) -> None:
    patient = add_patient(session)
    draft = add_invoice(session, patient, number=None, status=DRAFT)

    with pytest.raises(InvalidData, match="Only a final invoice can be printed"):
        invoice_document(session, draft.id, HOSPITAL, is_copy=False)


def test_an_invoice_whose_lines_disagree_with_its_total_is_refused(session) -> None:
    patient = add_patient(session)
    invoice = add_invoice(session, patient, number="INV-2026-000043")
    invoice.gross += 1
    session.flush()

    with pytest.raises(InvalidData, match="do not add up to its total"):
        invoice_document(session, invoice.id, HOSPITAL, is_copy=False)


# --- receipts ------------------------------------------------------------------------------------


def test_each_receipt_states_the_balance_right_after_its_payment(session, account) -> None:
    def balance(name: str) -> int:
        payment_id = account.payments[name]
        return receipt_document(session, payment_id, HOSPITAL, is_copy=False).balance_after

    assert balance("cash") == 79620 - 50000
    assert balance("card") == 0
    assert balance("refund") == 10000
    assert balance("deposit") == 10000 - 5000 == patient_balance(session, account.patient_id)

    # A later credit note lowers the balance now, not what the earlier receipts said.
    patient = session.get(Patient, account.patient_id)
    add_invoice(
        session, patient, LINES[2:], number="CN-2026-000008", kind=CREDIT_NOTE,
        credits_invoice_id=account.invoice_id, minutes=90,
    )  # fmt: skip
    assert patient_balance(session, account.patient_id) == 5000 - 12500
    assert balance("deposit") == 5000


def test_a_receipt_on_the_hospitals_clock_names_its_invoice_and_cashier(session, account) -> None:
    card_id = account.payments["card"]
    receipt = receipt_document(
        session, card_id, HOSPITAL, is_copy=False, cashier_name="Mary Achieng", timezone=ZONE
    )

    payment = session.get(Payment, card_id)
    assert receipt.number == payment.receipt_number
    assert receipt.issued.replace(tzinfo=None) == datetime(2026, 12, 6, 11, 20)  # 08:20 UTC
    assert receipt.issued.utcoffset() == timedelta(hours=3)
    assert (receipt.payment.method, receipt.payment.reference) == ("Card", "TERM-7788")
    assert (receipt.payment.amount, receipt.currency) == (29620, "KES")
    assert receipt.invoice_number == "INV-2026-000042"
    assert receipt.cashier == "Mary Achieng"

    text = pdf_text(render_receipt(receipt, "80mm"))
    assert payment.receipt_number in text and "KES 296.20" in text and "Mary Achieng" in text


def test_a_refund_and_a_deposit_have_their_own_receipts(session, account) -> None:
    refund = receipt_document(session, account.payments["refund"], HOSPITAL, is_copy=False)
    deposit = receipt_document(
        session, account.payments["deposit"], HOSPITAL, is_copy=False, currency=("USD", 2)
    )

    assert refund.payment.method == "Refund (Cash)" and refund.payment.amount == 10000
    assert refund.cashier == "test-billing"  # no name given: who took it
    assert deposit.invoice_number is None
    assert deposit.currency == "USD"  # on the account: the hospital currency given
    refund_text = pdf_text(render_receipt(refund, "80mm"))
    assert "REFUND" in refund_text and "Amount refunded" in refund_text
    assert "Amount received" in pdf_text(render_receipt(deposit))


def test_a_deposit_before_any_invoice_needs_the_hospital_currency(session) -> None:
    patient = add_patient(session)
    deposit = pay(session, patient, 20000, 0, kind=DEPOSIT)

    with pytest.raises(InvalidData, match="currency of this payment is unknown"):
        receipt_document(session, deposit.id, HOSPITAL, is_copy=False)
    receipt = receipt_document(session, deposit.id, HOSPITAL, is_copy=False, currency=("KES", 2))
    assert (receipt.currency, receipt.balance_after) == ("KES", -20000)


# --- issuer and reprints -------------------------------------------------------------------------


def test_the_hospital_profile_becomes_the_printed_issuer(tmp_path: Path) -> None:
    profile = HospitalProfile(
        name="Riverside Hospital",
        address_lines=["1 River Road", " ", "Nairobi"],
        phone="+254 20 123 4567",
        tax_id="P051234567X",
        currency="KES",
    )
    logo = tmp_path / "logo.png"

    hospital = hospital_from_profile(profile, logo)

    assert hospital == Hospital(
        name="Riverside Hospital",
        address_lines=("1 River Road", "Nairobi"),
        phone="+254 20 123 4567",
        tax_id="P051234567X",
        logo_path=logo,
    )


def test_a_document_printed_once_is_a_reprint_next_time(session, account) -> None:
    patient_id, invoice_id = account.patient_id, account.invoice_id
    assert not is_reprint(session, "invoice", invoice_id)

    printed = DocumentPrint(
        doc_kind="invoice",
        doc_id=invoice_id,
        patient_id=patient_id,
        printed_at=at(70),
        printed_by="test-billing",
    )
    add(session, printed)

    assert is_reprint(session, "invoice", invoice_id)
    assert not is_reprint(session, "receipt", invoice_id)
    assert not is_reprint(session, "receipt", account.payments["cash"])


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
