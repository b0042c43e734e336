"""Billing done on desk caches: an invoice finalised offline gets its number from the server's
gap-free sequence at sync, a receipt printed offline keeps its number, two desks taking the
same bill offline end with one payment and a refusal in plain words, and clinical PCs never
receive billing rows."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from hms_core.db import Admission, Bed, Charge, Invoice, Payment, Ward
from hms_core.db.base import new_id
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_desktop.store.billing import LocalBilling
from tests.billing import priced_item
from tests.sync.helpers import Pc, make_pc


def now() -> str:
    return datetime.now(UTC).isoformat()


def price_list_and_patients(db) -> tuple[uuid.UUID, list[uuid.UUID]]:  # noqa: ANN001
    """One priced item (a chest X-ray at 65.00) and two patients."""
    with db.unit_of_work() as session:
        item_id = priced_item(session, "IMG-CXR", "imaging", 6500)
        people = [
            register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=name, family_name="Bill", birth_date=date(1975, 3, 3), sex="male"
                ),
            )
            for name in ("Omar", "Liam")
        ]
        return item_id, [p.id for p in people]


def bill(pc: Pc, item_id: uuid.UUID, patient_id: uuid.UUID) -> uuid.UUID:
    """Charge, draft and finalise on the desk's cache; the invoice's id."""
    charge_id, invoice_id = new_id(), new_id()
    pc.store.mutate(
        "add_charge",
        {
            "id": str(charge_id),
            "patient_id": str(patient_id),
            "item_id": str(item_id),
            "quantity": "1",
            "service_date": date.today().isoformat(),
            "reason": "Ordered in the emergency room",
        },
    )
    pc.store.mutate(
        "create_draft_invoice",
        {
            "id": str(invoice_id),
            "patient_id": str(patient_id),
            "charge_ids": [str(charge_id)],
            "currency": "USD",
            "at": now(),
        },
    )
    result = pc.store.mutate("finalise_invoice", {"invoice_id": str(invoice_id), "at": now()})
    assert (result["status"], result["number"]) == ("final", None)  # pending until it syncs
    return invoice_id


def pay(pc: Pc, patient_id: uuid.UUID, invoice_id: uuid.UUID, amount: int) -> dict:
    return pc.store.mutate(
        "take_payment",
        {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "invoice_id": str(invoice_id),
            "method": "cash",
            "amount": amount,
            "received_at": now(),
        },
    )


def local_number(pc: Pc, invoice_id: uuid.UUID) -> str | None:
    return pc.store.read(lambda s: s.get(Invoice, invoice_id).number)


def test_offline_invoices_get_gap_free_numbers_and_receipts_keep_theirs(live_server, tmp_path):
    item_id, (omar, liam) = price_list_and_patients(live_server.db)
    first = make_pc(live_server, tmp_path, role="billing")
    second = make_pc(live_server, tmp_path, role="billing")
    for pc in (first, second):
        pc.engine.sync_once()  # the price list reaches both desks, then the network drops
    one = bill(first, item_id, omar)
    two = bill(second, item_id, liam)
    receipt = pay(first, omar, one, 6500)["receipt_number"]
    assert receipt.startswith("RC-")
    second.engine.sync_once()
    first.engine.sync_once()
    year = datetime.now(UTC).year
    assert local_number(second, two) == f"INV-{year}-000001"  # in the order they reached it
    assert local_number(first, one) == f"INV-{year}-000002"
    with live_server.db.unit_of_work() as session:
        numbers = sorted(session.execute(select(Invoice.number)).scalars())
        assert numbers == [f"INV-{year}-000001", f"INV-{year}-000002"]
        [payment] = session.execute(select(Payment)).scalars().all()
        assert (payment.receipt_number, payment.amount) == (receipt, 6500)
        charge = session.execute(select(Charge)).scalars().first()
        assert charge.quantity == Decimal(1) and charge.unit_price == 6500
    for pc in (first, second):
        assert pc.store.counts()["pending"] == 0
        pc.close()


def test_two_desks_taking_one_bill_offline_end_with_one_payment_and_a_refusal(
    live_server, tmp_path
):
    item_id, (omar, _) = price_list_and_patients(live_server.db)
    first = make_pc(live_server, tmp_path, role="billing")
    second = make_pc(live_server, tmp_path, role="billing")
    first.engine.sync_once()
    invoice_id = bill(first, item_id, omar)
    first.engine.sync_once()
    second.engine.sync_once()  # both desks see the final invoice; then both work offline
    pay(first, omar, invoice_id, 6500)
    pay(second, omar, invoice_id, 6500)
    first.engine.sync_once()
    second.engine.sync_once()
    [rejection] = second.store.rejections()
    assert rejection["name"] == "take_payment"
    assert rejection["message"].startswith("Nothing is owed on the balance of INV-")
    second.engine.sync_once()
    assert second.store.read(lambda s: len(s.execute(select(Payment)).scalars().all())) == 1
    with live_server.db.unit_of_work() as session:
        assert len(session.execute(select(Payment)).scalars().all()) == 1
    for pc in (first, second):
        pc.close()


def test_clinical_pcs_receive_no_billing_rows(live_server, tmp_path):
    item_id, (omar, _) = price_list_and_patients(live_server.db)
    desk = make_pc(live_server, tmp_path, role="billing")
    desk.engine.sync_once()
    bill(desk, item_id, omar)
    desk.engine.sync_once()
    ward = make_pc(live_server, tmp_path, role="nurse")
    ward.engine.sync_once()
    assert ward.store.read(lambda s: s.execute(select(Invoice)).scalars().all()) == []
    assert desk.store.read(lambda s: len(s.execute(select(Invoice)).scalars().all())) == 1
    for pc in (desk, ward):
        pc.close()


def test_an_interim_bill_asked_at_the_desk_is_charged_by_the_server(live_server, tmp_path):
    _, (omar, liam) = price_list_and_patients(live_server.db)
    with live_server.db.unit_of_work() as session:
        ward = Ward(code="MED-A", name="Medical A", ward_class="general")
        session.add(ward)
        session.flush()
        bed = Bed(ward_id=ward.id, label="A-01")
        session.add(bed)
        session.flush()
        admitted = datetime.now(UTC) - timedelta(days=3)
        session.add(
            Admission(patient_id=omar, bed_id=bed.id, admitted_at=admitted, admitted_by="n")
        )
        priced_item(session, "BED-GEN", "bed_day", 18000, ward_class="general")
    desk = make_pc(live_server, tmp_path, role="billing")
    desk.engine.sync_once()
    billing = LocalBilling(desk.store)
    assert billing.charge_stay_to_date(omar)["charges"] == []  # the desk cannot; the server can
    billing.charge_stay_to_date(liam)  # not admitted: refused by the server
    desk.engine.sync_once()
    desk.engine.sync_once()
    charges = desk.store.read(
        lambda s: [
            (c.code, int(c.quantity), c.unit_price) for c in s.execute(select(Charge)).scalars()
        ]
    )
    assert charges == [("BED-GEN", 3, 18000)]
    [rejection] = desk.store.rejections()
    assert "is not admitted now" in rejection["message"]
    desk.close()
