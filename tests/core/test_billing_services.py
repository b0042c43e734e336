"""Billing services against real PostgreSQL: prices by date, charges captured from care,
invoices numbered without gaps, credit notes, payments and refunds, insurance and claims, the
day close. Every refusal is in plain words and leaves nothing changed."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hms_core.db import (
    Admission,
    Appointment,
    AuditEvent,
    Bed,
    Charge,
    Department,
    DoctorProfile,
    Invoice,
    InvoiceLine,
    Payment,
    Ward,
)
from hms_core.db.base import new_id
from hms_core.schemas import billing as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.schemas.scheduling import SetAppointmentStatus
from hms_core.schemas.ward import DischargePatient
from hms_core.services import InvalidData, PermissionDenied, appointments, inpatients
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.billing import (
    balances,
    cash_desk,
    charges,
    insurance,
    invoices,
    payments,
    prices,
    prints,
    stays,
)
from hms_core.services.errors import Conflict
from hms_core.services.patients import register_patient
from hms_core.services.unit import PROVISIONAL
from tests.billing import priced_item

CASHIER = Actor(None, "test-cashier", "billing")
NURSE = Actor(None, "test-nurse", "nurse")
DOCTOR = Actor(None, "test-doctor", "doctor")
TODAY = datetime.now(UTC).date()


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    patient: uuid.UUID
    other: uuid.UUID
    items: dict[str, uuid.UUID]
    department: uuid.UUID
    payer: uuid.UUID


def _item(session, code: str, category: str, price: int, tax: str = "0", **scope) -> uuid.UUID:  # noqa: ANN001
    return priced_item(session, code, category, price, tax, TODAY - timedelta(days=400), **scope)


@pytest.fixture
def desk(db) -> Desk:  # noqa: ANN001
    with db.unit_of_work() as session:
        dept = Department(code="MED", name="Medicine", specialty="Internal medicine")
        session.add(dept)
        session.flush()
        people = [
            register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=name, family_name="Doe", birth_date=date(1970, 1, 1), sex="female"
                ),
            )
            for name in ("Jane", "Mary")
        ]
        items = {
            "xray": _item(session, "XRAY", "imaging", 4000, "15"),
            "cbc": _item(session, "CBC", "lab", 1250),
            "consult": _item(session, "CONS-MED", "consultation", 3000, department_id=dept.id),
            "consult-any": _item(session, "CONS", "consultation", 2000),
            "bed": _item(session, "BED-GEN", "bed_day", 10000, ward_class="general"),
            "dressing": _item(session, "DRESS", "procedure", 333, "7.5"),
        }
        payer = prices.save_payer(
            session, SYSTEM, wire.SavePayer(id=new_id(), code="ACME", name="Acme Health")
        )
        return Desk(people[0].id, people[1].id, items, dept.id, payer.id)


def add(db, desk: Desk, item: str, quantity: str = "1", patient=None) -> uuid.UUID:  # noqa: ANN001
    with db.unit_of_work() as session:
        charge = charges.add_charge(
            session,
            CASHIER,
            wire.AddCharge(
                id=new_id(),
                patient_id=patient or desk.patient,
                item_id=desk.items[item],
                quantity=Decimal(quantity),
                service_date=TODAY,
                reason="Given at the bedside",
            ),
        )
        return charge.id


def draft(db, desk: Desk, charge_ids: list[uuid.UUID], patient=None) -> uuid.UUID:  # noqa: ANN001
    with db.unit_of_work() as session:
        invoice = invoices.create_draft(
            session,
            CASHIER,
            wire.CreateDraftInvoice(
                id=new_id(),
                patient_id=patient or desk.patient,
                charge_ids=charge_ids,
                currency="USD",
                at=now(),
            ),
        )
        return invoice.id


def finalise(db, invoice_id: uuid.UUID) -> Invoice:  # noqa: ANN001
    with db.unit_of_work() as session:
        invoice = invoices.finalise(
            session, CASHIER, wire.InvoiceRef(invoice_id=invoice_id, at=now())
        )
        session.expunge(invoice)
        return invoice


def pay(db, desk: Desk, amount: int, invoice_id=None, kind="payment", method="cash"):  # noqa: ANN001, ANN201
    with db.unit_of_work() as session:
        payment = payments.take_payment(
            session,
            CASHIER,
            wire.TakePayment(
                id=new_id(),
                patient_id=desk.patient,
                invoice_id=invoice_id,
                kind=kind,
                method=method,
                amount=amount,
                reference="T-1" if method == "card" else "",
                received_at=now(),
            ),
        )
        session.expunge(payment)
        return payment


def count(db, model) -> int:  # noqa: ANN001
    with db.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


# --- prices ------------------------------------------------------------------------------------


def test_a_price_change_applies_from_its_day_and_old_days_keep_theirs(db, desk):  # noqa: ANN001
    with db.unit_of_work() as session:
        prices.set_price(
            session,
            SYSTEM,
            wire.SetPrice(
                id=new_id(),
                item_id=desk.items["cbc"],
                valid_from=TODAY + timedelta(days=1),
                unit_price=1500,
                today=TODAY,
            ),
        )
    with db.unit_of_work() as session:
        assert prices.price_on(session, desk.items["cbc"], TODAY).unit_price == 1250
        assert (
            prices.price_on(session, desk.items["cbc"], TODAY + timedelta(days=1)).unit_price
            == 1500
        )
        assert prices.price_on(session, desk.items["cbc"], TODAY - timedelta(days=401)) is None
    with pytest.raises(InvalidData, match="cannot start in the past"), db.unit_of_work() as session:
        prices.set_price(
            session,
            SYSTEM,
            wire.SetPrice(
                id=new_id(),
                item_id=desk.items["cbc"],
                valid_from=TODAY - timedelta(days=1),
                unit_price=1,
                today=TODAY,
            ),
        )


def test_only_price_managers_edit_the_price_list(db, desk):  # noqa: ANN001
    with pytest.raises(PermissionDenied), db.unit_of_work() as session:
        prices.save_price_item(
            session,
            CASHIER,
            wire.SavePriceItem(id=new_id(), code="NEW", name="New thing", category="other"),
        )


# --- charges -----------------------------------------------------------------------------------


def test_a_manual_charge_is_priced_audited_and_needs_a_reason(db, desk):  # noqa: ANN001
    charge_id = add(db, desk, "xray", "2")
    with db.unit_of_work() as session:
        charge = session.get(Charge, charge_id)
        assert (charge.unit_price, charge.quantity, charge.tax_rate) == (
            4000,
            Decimal(2),
            Decimal(15),
        )
        assert charges.charge_gross(charge) == 9200
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "charge.add")
        ).scalar_one()
        assert audit.patient_id == desk.patient and audit.detail["reason"] == "Given at the bedside"
    with pytest.raises(ValueError, match="at least 3 characters"):
        wire.AddCharge(
            id=new_id(), patient_id=desk.patient, item_id=desk.items["xray"],
            service_date=TODAY, reason="",
        )  # fmt: skip
    with pytest.raises(ValueError, match="greater than 0"):
        wire.AddCharge(
            id=new_id(), patient_id=desk.patient, item_id=desk.items["xray"],
            quantity=Decimal(-1), service_date=TODAY, reason="Wrong",
        )  # fmt: skip
    with pytest.raises(PermissionDenied), db.unit_of_work() as session:
        charges.add_charge(
            session,
            NURSE,
            wire.AddCharge(
                id=new_id(), patient_id=desk.patient, item_id=desk.items["xray"],
                service_date=TODAY, reason="Because",
            ),
        )  # fmt: skip


def test_completing_a_consultation_charges_it_once_by_department(db, desk):  # noqa: ANN001
    with db.unit_of_work() as session:
        doctor = DoctorProfile(number=7, display_name="Dr Who", department_id=desk.department)
        session.add(doctor)
        session.flush()
        start = now() - timedelta(minutes=20)
        appointment = Appointment(
            patient_id=desk.patient,
            doctor_id=doctor.id,
            doctor_number=7,
            department_id=desk.department,
            starts_at=start,
            ends_at=start + timedelta(minutes=15),
            status="in_consultation",
        )
        session.add(appointment)
        session.flush()
        appointment_id = appointment.id
    for _ in range(2):  # a replay changes nothing
        with db.unit_of_work() as session:
            appointments.set_status(
                session,
                DOCTOR,
                SetAppointmentStatus(appointment_id=appointment_id, status="completed", at=now()),
            )
    with db.unit_of_work() as session:
        rows = (
            session.execute(select(Charge).where(Charge.patient_id == desk.patient)).scalars().all()
        )
        assert [(c.code, c.unit_price, c.source, c.visit_id) for c in rows] == [
            ("CONS-MED", 3000, "appointment", appointment_id)
        ]
        assert "Dr Who" in rows[0].description


def test_a_provisional_completion_on_a_desk_charges_nothing(db, desk):  # noqa: ANN001
    with db.unit_of_work() as session:
        session.info[PROVISIONAL] = True
        appointment = Appointment(
            patient_id=desk.patient, doctor_id=new_id(), doctor_number=1,
            department_id=desk.department, starts_at=now(), ends_at=now(),
        )  # fmt: skip
        assert charges.capture_consultation(session, appointment) is None
        session.rollback()


def test_other_services_bill_a_priced_item_once_through_the_hook(db, desk):  # noqa: ANN001
    order = new_id()
    for _ in range(2):
        with db.unit_of_work() as session:
            charges.capture_item(
                session,
                source="lab_order",
                source_id=order,
                item_code="CBC",
                patient_id=desk.patient,
                service_date=TODAY,
            )
    with db.unit_of_work() as session:
        rows = session.execute(select(Charge).where(Charge.source_id == order)).scalars().all()
        assert [(c.code, c.unit_price, c.source) for c in rows] == [("CBC", 1250, "lab_order")]
        assert (
            charges.capture_item(
                session,
                source="lab_order",
                source_id=new_id(),
                item_code="UNKNOWN",
                patient_id=desk.patient,
                service_date=TODAY,
            )
            is None
        )


def test_discharge_charges_bed_days_split_at_a_price_change(db, desk):  # noqa: ANN001
    with db.unit_of_work() as session:
        ward = Ward(code="MED-A", name="Medical A", ward_class="general")
        session.add(ward)
        session.flush()
        bed = Bed(ward_id=ward.id, label="A-1")
        session.add(bed)
        session.flush()
        admitted = now() - timedelta(days=5)
        admission = Admission(
            patient_id=desk.patient, bed_id=bed.id, admitted_at=admitted, admitted_by="nurse"
        )
        session.add(admission)
        # a dearer bed-day from three days ago on (set back then)
        prices.set_price(
            session,
            SYSTEM,
            wire.SetPrice(
                id=new_id(),
                item_id=desk.items["bed"],
                valid_from=TODAY - timedelta(days=3),
                unit_price=12000,
                today=TODAY - timedelta(days=3),
            ),
        )
        session.flush()
        admission_id = admission.id
    with db.unit_of_work() as session:
        inpatients.discharge_patient(
            session, NURSE, DischargePatient(admission_id=admission_id, discharged_at=now())
        )
    with db.unit_of_work() as session:
        rows = (
            session.execute(
                select(Charge).where(Charge.visit_id == admission_id).order_by(Charge.service_date)
            )
            .scalars()
            .all()
        )
        assert [(int(c.quantity), c.unit_price) for c in rows] == [(2, 10000), (3, 12000)]
        assert all(c.category == "bed_day" and "Medical A" in c.description for c in rows)


def test_an_interim_bill_and_the_discharge_add_up_to_the_stay(db, desk):  # noqa: ANN001
    with db.unit_of_work() as session:
        ward = Ward(code="MED-B", name="Medical B", ward_class="general")
        session.add(ward)
        session.flush()
        bed = Bed(ward_id=ward.id, label="B-1")
        session.add(bed)
        session.flush()
        admission = Admission(
            patient_id=desk.patient,
            bed_id=bed.id,
            admitted_at=now() - timedelta(days=5),
            admitted_by="nurse",
        )
        session.add(admission)
        session.flush()
        admission_id = admission.id
    interim = wire.ChargeStayToDate(patient_id=desk.patient, through=TODAY - timedelta(days=2))
    for _ in range(2):  # asked twice: charged once
        with db.unit_of_work() as session:
            stays.charge_stay_to_date(session, CASHIER, interim)
    with db.unit_of_work() as session:
        inpatients.discharge_patient(
            session, NURSE, DischargePatient(admission_id=admission_id, discharged_at=now())
        )
    with db.unit_of_work() as session:
        rows = (
            session.execute(
                select(Charge).where(Charge.visit_id == admission_id).order_by(Charge.service_date)
            )
            .scalars()
            .all()
        )
        assert [(r.service_date, int(r.quantity)) for r in rows] == [
            (TODAY - timedelta(days=5), 3),
            (TODAY - timedelta(days=2), 2),
        ]
    with pytest.raises(InvalidData, match="is not admitted now"), db.unit_of_work() as session:
        stays.charge_stay_to_date(session, CASHIER, interim)


# --- invoices ----------------------------------------------------------------------------------


def test_finalised_invoices_are_numbered_in_order_without_gaps(db, desk):  # noqa: ANN001
    first = finalise(db, draft(db, desk, [add(db, desk, "cbc")]))
    # a finalisation that rolls back gives its number back
    doomed = draft(db, desk, [add(db, desk, "cbc")])
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        invoices.finalise(session, CASHIER, wire.InvoiceRef(invoice_id=doomed, at=now()))
        raise RuntimeError("the connection dropped")
    second = finalise(db, doomed)
    year = now().year
    assert (first.number, second.number) == (f"INV-{year}-000001", f"INV-{year}-000002")


def test_a_desk_finalises_without_a_number_and_the_server_numbers_it(db, desk):  # noqa: ANN001
    invoice_id = draft(db, desk, [add(db, desk, "cbc")])
    with db.unit_of_work() as session:
        session.info[PROVISIONAL] = True
        invoice = invoices.finalise(
            session, CASHIER, wire.InvoiceRef(invoice_id=invoice_id, at=now())
        )
        assert (invoice.status, invoice.number) == ("final", None)
        session.info.pop(PROVISIONAL)
        invoice = invoices.finalise(
            session, CASHIER, wire.InvoiceRef(invoice_id=invoice_id, at=now())
        )
        assert invoice.number == f"INV-{now().year}-000001"


def test_invoice_lines_totals_and_tax(db, desk):  # noqa: ANN001
    ids = [add(db, desk, "xray"), add(db, desk, "dressing", "3"), add(db, desk, "cbc")]
    with db.unit_of_work() as session:
        invoice = session.get(Invoice, draft(db, desk, ids))
        # xray 4000 + 15% = 4600; dressing 999 + 7.5% (74.925 -> 75) = 1074; cbc 1250
        assert (invoice.net, invoice.tax, invoice.gross) == (6249, 675, 6924)
        assert invoice.patient_share == 6924 and invoice.payer_share == 0


def test_a_final_invoice_is_never_changed(db, desk):  # noqa: ANN001
    charge_id = add(db, desk, "cbc")
    invoice = finalise(db, draft(db, desk, [charge_id]))
    with pytest.raises(Conflict, match="credit note"), db.unit_of_work() as session:
        invoices.discard_draft(session, CASHIER, wire.InvoiceRef(invoice_id=invoice.id, at=now()))
    with pytest.raises(Conflict, match="correct it with a credit note"), db.unit_of_work() as s:
        charges.void_charge(
            s, CASHIER, wire.VoidCharge(charge_id=charge_id, reason="Oops", at=now())
        )
    with pytest.raises(Conflict, match="already on INV-"), db.unit_of_work() as session:
        invoices.create_draft(
            session,
            CASHIER,
            wire.CreateDraftInvoice(
                id=new_id(),
                patient_id=desk.patient,
                charge_ids=[charge_id],
                currency="USD",
                at=now(),
            ),
        )
    with db.unit_of_work() as session:
        assert session.get(Invoice, invoice.id).gross == 1250


def test_a_discarded_draft_frees_its_charges(db, desk):  # noqa: ANN001
    charge_id = add(db, desk, "cbc")
    invoice_id = draft(db, desk, [charge_id])
    with db.unit_of_work() as session:
        invoices.discard_draft(session, CASHIER, wire.InvoiceRef(invoice_id=invoice_id, at=now()))
    assert finalise(db, draft(db, desk, [charge_id])).gross == 1250


def test_a_credit_note_credits_lines_once_and_lowers_the_balance(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "xray"), add(db, desk, "cbc")]))
    with db.unit_of_work() as session:
        line = next(
            line
            for line in session.execute(
                select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
            ).scalars()
            if line.code == "CBC"
        )
        note = invoices.issue_credit_note(
            session,
            CASHIER,
            wire.IssueCreditNote(
                id=new_id(),
                invoice_id=invoice.id,
                line_ids=[line.id],
                reason="Test not done",
                at=now(),
            ),
        )
        assert note.number == f"CN-{now().year}-000001" and note.gross == 1250
        assert balances.patient_balance(session, desk.patient) == 4600
        assert session.get(Charge, line.charge_id).voided_at is not None
    with pytest.raises(Conflict, match="already been credited"), db.unit_of_work() as session:
        invoices.issue_credit_note(
            session,
            CASHIER,
            wire.IssueCreditNote(
                id=new_id(), invoice_id=invoice.id, line_ids=[line.id], reason="Again", at=now()
            ),
        )


# --- payments ----------------------------------------------------------------------------------


def test_payments_receipts_refunds_and_the_running_balance(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "xray")]))  # 4600
    first = pay(db, desk, 1000, invoice.id)
    assert first.receipt_number.startswith(f"RC-{first.received_at:%Y%m%d}-")
    card = pay(db, desk, 3600, invoice.id, method="card")
    with db.unit_of_work() as session:
        assert balances.invoice_balance(session, session.get(Invoice, invoice.id)) == 0
    with pytest.raises(InvalidData, match="Nothing is owed"):
        pay(db, desk, 1, invoice.id)
    with db.unit_of_work() as session:
        payments.refund_payment(
            session,
            CASHIER,
            wire.RefundPayment(
                id=new_id(), payment_id=card.id, amount=600, method="card", reference="R-9",
                reason="Overcharged", received_at=now(),
            ),
        )  # fmt: skip
        assert balances.patient_balance(session, desk.patient) == 600
    with pytest.raises(InvalidData, match="Only 30.00 of receipt"), db.unit_of_work() as session:
        payments.refund_payment(
            session,
            CASHIER,
            wire.RefundPayment(
                id=new_id(), payment_id=card.id, amount=3001, method="card", reference="R-10",
                reason="Too much", received_at=now(),
            ),
        )  # fmt: skip


def test_a_payment_above_the_balance_is_refused_and_nothing_saved(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "cbc")]))  # 12.50
    before = count(db, Payment)
    with pytest.raises(InvalidData, match=r"more than the balance of INV-.* \(12.50\)"):
        pay(db, desk, 2000, invoice.id)
    assert count(db, Payment) == before
    deposit = pay(db, desk, 2000, kind="deposit")
    with db.unit_of_work() as session:
        assert balances.patient_balance(session, desk.patient) == -750  # in credit
        assert deposit.invoice_id is None


def test_card_payments_need_the_terminal_reference(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "cbc")]))
    with pytest.raises(InvalidData, match="card terminal's reference"), db.unit_of_work() as s:
        payments.take_payment(
            s,
            CASHIER,
            wire.TakePayment(
                id=new_id(), patient_id=desk.patient, invoice_id=invoice.id, method="card",
                amount=100, received_at=now(),
            ),
        )  # fmt: skip


def test_no_payment_on_a_draft(db, desk):  # noqa: ANN001
    invoice_id = draft(db, desk, [add(db, desk, "cbc")])
    with pytest.raises(Conflict, match="Finalise the invoice"):
        pay(db, desk, 100, invoice_id)


# --- insurance ---------------------------------------------------------------------------------


def _policy(db, desk: Desk, copay: str = "20", limit: int | None = None) -> uuid.UUID:  # noqa: ANN001
    with db.unit_of_work() as session:
        policy = insurance.add_policy(
            session,
            CASHIER,
            wire.AddPolicy(
                id=new_id(),
                patient_id=desk.patient,
                payer_id=desk.payer,
                policy_number="P-123",
                valid_from=TODAY - timedelta(days=30),
                covered_categories=["imaging", "lab"],
                copay_percent=Decimal(copay),
                annual_limit=limit,
            ),
        )
        return policy.id


def test_coverage_splits_covered_lines_and_the_patient_pays_the_rest(db, desk):  # noqa: ANN001
    _policy(db, desk)
    ids = [add(db, desk, "xray"), add(db, desk, "cbc"), add(db, desk, "dressing")]
    with db.unit_of_work() as session:
        invoice = session.get(Invoice, draft(db, desk, ids))
        # xray 4600: 920 / 3680; cbc 1250: 250 / 1000; dressing 358 (not covered): 358 / 0
        assert (invoice.patient_share, invoice.payer_share) == (920 + 250 + 358, 3680 + 1000)
        assert invoice.patient_share + invoice.payer_share == invoice.gross


def test_the_yearly_limit_moves_the_excess_to_the_patient(db, desk):  # noqa: ANN001
    _policy(db, desk, copay="0", limit=5000)
    first = finalise(db, draft(db, desk, [add(db, desk, "xray")]))
    second = finalise(db, draft(db, desk, [add(db, desk, "xray")]))
    assert (first.payer_share, second.payer_share) == (4600, 400)
    assert second.patient_share == 4200


def test_a_claim_for_an_uninsured_patient_is_refused(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "cbc")]))
    with pytest.raises(InvalidData, match="no insurer's share"), db.unit_of_work() as session:
        insurance.create_claim(
            session, CASHIER, wire.CreateClaim(id=new_id(), invoice_id=invoice.id, at=now())
        )


def test_a_claim_through_partial_approval_to_payment(db, desk):  # noqa: ANN001
    _policy(db, desk)
    invoice = finalise(db, draft(db, desk, [add(db, desk, "xray")]))  # payer 3680, patient 920
    with db.unit_of_work() as session:
        claim = insurance.create_claim(
            session, CASHIER, wire.CreateClaim(id=new_id(), invoice_id=invoice.id, at=now())
        )
        claim_id = claim.id
        assert claim.claimed == 3680
    steps = [
        wire.UpdateClaim(claim_id=claim_id, status="submitted", at=now()),
        wire.UpdateClaim(
            claim_id=claim_id, status="partially_approved", approved=3000, reason="Tariff", at=now()
        ),
        wire.UpdateClaim(claim_id=claim_id, status="paid", payer_reference="EFT-1", at=now()),
    ]
    for step in steps:
        with db.unit_of_work() as session:
            insurance.update_claim(session, CASHIER, step)
    with db.unit_of_work() as session:
        claim = session.get(type(claim), claim_id)
        assert (claim.status, claim.approved, claim.paid) == ("paid", 3000, 3000)
        # the patient owes their co-payment plus what the insurer refused
        assert balances.patient_balance(session, desk.patient) == 920 + 680
    with pytest.raises(Conflict, match="cannot become submitted"), db.unit_of_work() as session:
        insurance.update_claim(
            session, CASHIER, wire.UpdateClaim(claim_id=claim_id, status="submitted", at=now())
        )


# --- the day close and prints ------------------------------------------------------------------


def test_the_day_close_counts_by_method_once(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "xray")]))
    pay(db, desk, 1000, invoice.id)
    pay(db, desk, 500, invoice.id, method="card")
    pay(db, desk, 2000, kind="deposit")
    args = wire.CloseCashDay(
        id=new_id(),
        business_date=TODAY,
        timezone="UTC",
        currency="USD",
        counted_cash=2950,
        at=now(),
    )
    with db.unit_of_work() as session:
        close = cash_desk.close_cash_day(session, CASHIER, args)
        assert close.expected_cash == 3000
        assert cash_desk.parse_totals(close.totals)["card"] == 500
    with pytest.raises(Conflict, match="closed .* already"), db.unit_of_work() as session:
        cash_desk.close_cash_day(session, CASHIER, args.model_copy(update={"id": new_id()}))


def test_every_print_is_audited_and_later_ones_are_copies(db, desk):  # noqa: ANN001
    invoice = finalise(db, draft(db, desk, [add(db, desk, "cbc")]))
    copies = []
    for _ in range(2):
        with db.unit_of_work() as session:
            entry = prints.record_print(
                session,
                CASHIER,
                wire.RecordPrint(id=new_id(), doc_kind="invoice", doc_id=invoice.id, at=now()),
            )
            copies.append(entry.is_copy)
    assert copies == [False, True]
    with db.unit_of_work() as session:
        audits = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "invoice.print"))
            .scalars()
            .all()
        )
        assert len(audits) == 2 and all(a.patient_id == desk.patient for a in audits)
