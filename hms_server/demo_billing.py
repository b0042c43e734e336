"""The demo hospital's billing: a price list with taxes, the insurers of the demo patients and
their policies, and accounts in every state (unbilled charges, a draft, final invoices part
paid, a claim on its way). Visits completed in the clinic are charged by the services."""

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Charge, Department, Patient
from hms_core.db.base import new_id, utcnow
from hms_core.schemas import billing as wire
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.billing import charges, insurance, invoices, payments, prices
from hms_core.services.billing.balances import invoice_balance
from hms_core.services.unit import take_events

CLERK = Actor(None, "billing", "billing")
PRICED_FROM = date(2024, 1, 1)
# (code, name, category, price in cents, tax percent, unit)
ITEMS = [
    ("CONS", "Outpatient consultation", "consultation", 3500, "0", "visit"),
    ("LAB-CBC", "Complete blood count", "lab", 1800, "0", "test"),
    ("LAB-BMP", "Basic metabolic panel", "lab", 2400, "0", "test"),
    ("LAB-LFT", "Liver function tests", "lab", 2600, "0", "test"),
    ("LAB-HBA1C", "HbA1c", "lab", 2200, "0", "test"),
    ("LAB-LIPID", "Lipid panel", "lab", 2500, "0", "test"),
    ("LAB-UA", "Urinalysis", "lab", 900, "0", "test"),
    ("LAB-CRP", "C-reactive protein", "lab", 1500, "0", "test"),
    ("LAB-TROP", "High-sensitivity troponin", "lab", 3800, "0", "test"),
    ("IMG-CXR", "Chest X-ray (2 views)", "imaging", 6500, "0", "study"),
    ("IMG-US-ABD", "Abdominal ultrasound", "imaging", 11000, "0", "study"),
    ("IMG-CT-HEAD", "CT head without contrast", "imaging", 32000, "0", "study"),
    ("IMG-MRI-KNEE", "MRI knee", "imaging", 48000, "0", "study"),
    ("PROC-ECG", "12-lead ECG", "procedure", 2500, "0", "each"),
    ("PROC-DRESS", "Wound dressing", "procedure", 1200, "0", "each"),
    ("PROC-IV", "IV cannulation", "procedure", 900, "0", "each"),
    ("PROC-CAST", "Plaster cast", "procedure", 7500, "0", "each"),
    ("SURG-APPX", "Laparoscopic appendectomy", "surgery", 380000, "0", "each"),
    ("SURG-HERNIA", "Inguinal hernia repair", "surgery", 260000, "0", "each"),
    ("SURG-CS", "Caesarean section", "surgery", 420000, "0", "each"),
    ("BED-GEN", "Bed-day, general ward", "bed_day", 18000, "0", "day"),
    ("BED-SEMI", "Bed-day, semi-private room", "bed_day", 26000, "0", "day"),
    ("BED-PVT", "Bed-day, private room", "bed_day", 42000, "0", "day"),
    ("BED-ICU", "Bed-day, intensive care", "bed_day", 120000, "0", "day"),
    ("MED-PARA", "Paracetamol 500 mg tablet", "medicine", 15, "0", "tablet"),
    ("MED-AMOX", "Amoxicillin 500 mg capsule", "medicine", 40, "0", "capsule"),
    ("MED-CEFTR", "Ceftriaxone 1 g vial", "medicine", 850, "0", "vial"),
    ("MED-INS", "Insulin glargine 100 U/mL pen", "medicine", 2900, "0", "pen"),
    ("OTH-CERT", "Medical certificate", "other", 1500, "15", "each"),
    ("OTH-COPY", "Copy of medical records", "other", 2000, "15", "each"),
    ("OTH-TV", "Private room TV and phone", "other", 800, "15", "day"),
]
WARD_CLASS = {
    "BED-GEN": "general",
    "BED-SEMI": "semi-private",
    "BED-PVT": "private",
    "BED-ICU": "icu",
}
SPECIALIST_FEE = 5500  # a specialist's consultation in a department (cents)
COVER = ["consultation", "lab", "imaging", "procedure", "surgery", "bed_day", "medicine"]
PAYER_CODES = {
    "National Health Fund": "NHF",
    "MediCare Plus": "MCP",
    "Allied Insurance": "ALLIED",
    "Unity Health Mutual": "UNITY",
}
EXTRAS = ["LAB-CBC", "LAB-CRP", "IMG-CXR", "PROC-ECG", "LAB-BMP", "PROC-DRESS", "MED-AMOX"]


def seed_billing(session: Session, rng: random.Random) -> str:
    """Price list, payers and policies, charges from completed visits, demo accounts."""
    items = _price_list(session)
    payers = _payers(session)
    policies = _policies(session, payers)
    accounts = _accounts(session, items, rng)
    take_events(session)  # no receipts are sent for the demo's made-up payments
    return (
        f"{len(items)} priced items, {len(payers)} insurers, {policies} policies, "
        f"{accounts} billed accounts"
    )


def _price_list(session: Session) -> dict[str, uuid.UUID]:
    items: dict[str, uuid.UUID] = {}
    for code, name, category, price, tax, unit in ITEMS:
        items[code] = _priced(session, code, name, category, price, tax, unit, WARD_CLASS.get(code))
    for dept in session.execute(select(Department).order_by(Department.code)).scalars():
        code = f"CONS-{dept.code}-SP"
        items[code] = _priced(
            session,
            code,
            f"Specialist consultation, {dept.name}",
            "consultation",
            SPECIALIST_FEE,
            "0",
            "visit",
            None,
            department_id=dept.id,
            doctor_grade="specialist",
        )
    return items


def _priced(
    session: Session,
    code: str,
    name: str,
    category: str,
    price: int,
    tax: str,
    unit: str,
    ward_class: str | None,
    **scope: object,
) -> uuid.UUID:
    item = prices.save_price_item(
        session,
        SYSTEM,
        wire.SavePriceItem(
            id=new_id(),
            code=code,
            name=name,
            category=category,
            unit=unit,
            ward_class=ward_class,
            **scope,
        ),
    )
    prices.set_price(
        session,
        SYSTEM,
        wire.SetPrice(
            id=new_id(),
            item_id=item.id,
            valid_from=PRICED_FROM,
            unit_price=price,
            tax_rate=Decimal(tax),
            today=PRICED_FROM,
        ),
    )
    return item.id


def _payers(session: Session) -> dict[str, uuid.UUID]:
    made = {}
    for name, code in PAYER_CODES.items():
        args = wire.SavePayer(
            id=new_id(), code=code, name=name, identifier=f"urn:payer:{code.lower()}"
        )
        made[name] = prices.save_payer(session, SYSTEM, args).id
    return made


def _policies(session: Session, payers: dict[str, uuid.UUID]) -> int:
    """A policy for each demo patient whose registration names an insurer."""
    made = 0
    insured = select(Patient).where(Patient.insurance_payer.is_not(None)).order_by(Patient.mrn)
    for patient in session.execute(insured).scalars():
        payer_id = payers.get(patient.insurance_payer or "")
        if payer_id is None:
            continue
        insurance.add_policy(
            session,
            SYSTEM,
            wire.AddPolicy(
                id=new_id(),
                patient_id=patient.id,
                payer_id=payer_id,
                policy_number=patient.insurance_policy_number or f"POL-{patient.mrn}",
                holder_name=f"{patient.given_name} {patient.family_name}",
                valid_from=date(2024, 1, 1),
                valid_to=patient.insurance_valid_until,
                covered_categories=COVER,
                copay_percent=Decimal(10 if made % 2 else 20),
                annual_limit=2_000_000,
            ),
        )
        made += 1
    return made


def _accounts(session: Session, items: dict[str, uuid.UUID], rng: random.Random) -> int:
    """A dozen outpatients seen in the last days: a consultation and two extras each, then
    invoiced, part paid and claimed, or left as a draft or unbilled for the desk to try."""
    now = utcnow()
    people = select(Patient.id).order_by(Patient.mrn).offset(20).limit(12)
    billed = 0
    for n, patient_id in enumerate(session.execute(people).scalars().all()):
        seen = now.date() - timedelta(days=rng.randint(0, 3))
        for code in ["CONS", *rng.sample(EXTRAS, 2)]:
            charges.add_charge(
                session,
                CLERK,
                wire.AddCharge(
                    id=new_id(),
                    patient_id=patient_id,
                    item_id=items[code],
                    service_date=seen,
                    reason="Outpatient visit",
                ),
            )
        if n % 4 == 3:
            continue  # left unbilled: the desk invoices it in the demo
        _invoice(session, patient_id, n, now)
        billed += 1
    return billed


def _invoice(session: Session, patient_id: uuid.UUID, n: int, now) -> None:  # noqa: ANN001
    unbilled = select(Charge.id).where(
        Charge.patient_id == patient_id, Charge.invoice_id.is_(None), Charge.voided_at.is_(None)
    )
    invoice = invoices.create_draft(
        session,
        CLERK,
        wire.CreateDraftInvoice(
            id=new_id(),
            patient_id=patient_id,
            charge_ids=list(session.execute(unbilled).scalars()),
            currency="USD",
            at=now,
        ),
    )
    if n % 4 == 2:
        return  # a draft
    invoices.finalise(session, CLERK, wire.InvoiceRef(invoice_id=invoice.id, at=now))
    owed = invoice_balance(session, invoice)
    if owed > 0 and n % 2 == 0:
        payments.take_payment(
            session,
            CLERK,
            wire.TakePayment(
                id=new_id(),
                patient_id=patient_id,
                invoice_id=invoice.id,
                method="cash" if n % 3 else "card",
                reference="" if n % 3 else f"TERM-{4000 + n}",
                amount=max(owed // 2, 1),
                received_at=now,
            ),
        )
    if invoice.payer_share > 0:
        claim = insurance.create_claim(
            session, CLERK, wire.CreateClaim(id=new_id(), invoice_id=invoice.id, at=now)
        )
        insurance.update_claim(
            session, CLERK, wire.UpdateClaim(claim_id=claim.id, status="submitted", at=now)
        )
