"""An insurance claim exported as FHIR R4 Claim JSON: valid for fhir.resources, exact money."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim

from hms_core.db import Claim, Invoice, InvoiceLine, Patient, Payer, Policy
from hms_core.db.base import utcnow
from hms_core.rules.money import insurance_split, line_amounts
from hms_server.billing.fhir_claim import ClaimNotFound, claim_resource, fhir_json
from hms_server.db import Database
from hms_server.settings import Settings

COPAY = Decimal(10)
COVERED = ("consultation", "lab")
# (code, description, category, quantity, unit price in minor units, tax rate %)
LINES = [
    ("CONS-GEN", "Consultation, general medicine", "consultation", "1", 5000, "0"),
    ("LAB-CBC", "Full blood count", "lab", "2", 1250, "16"),
    ("MED-AMOX", "Amoxicillin 500 mg capsules", "medicine", "1.5", 333, "0"),
]


@dataclass
class ClaimCase:
    patient_id: uuid.UUID
    invoice_id: uuid.UUID
    claim_id: uuid.UUID
    mrn: str
    invoice_number: str
    payer_share: int
    patient_share: int
    gross: int


def _patient(given: str = "Amina", family: str = "Okafor") -> Patient:
    return Patient(
        mrn=str(uuid.uuid4().int)[:9],
        given_name=given,
        family_name=family,
        birth_date=date(1985, 3, 14),
        sex="female",
        sort_name=f"{family} {given}".lower(),
    )


def _lines(invoice_id: uuid.UUID, exponent: int) -> list[InvoiceLine]:
    rows = []
    for position, (code, text, category, qty, price, rate) in enumerate(LINES, start=1):
        unit = price if exponent == 2 else price // 100 * 10**exponent or 1
        amounts = line_amounts(Decimal(qty), unit, Decimal(rate))
        covered = category in COVERED
        split = insurance_split(amounts.gross, COPAY if covered else Decimal(100))
        rows.append(
            InvoiceLine(
                invoice_id=invoice_id,
                position=position,
                code=code,
                description=text,
                category=category,
                service_date=date(2026, 11, 30) if position == 1 else date(2026, 12, position),
                quantity=Decimal(qty),
                unit_price=unit,
                tax_rate=Decimal(rate),
                net=amounts.net,
                tax=amounts.tax,
                covered=covered,
                patient_share=split.patient,
                payer_share=split.payer,
            )
        )
    return rows


def make_claim(
    db: Database,
    *,
    currency: str = "USD",
    exponent: int = 2,
    visit_kind: str | None = "admission",
    number: str | None = "INV-2026-000042",
) -> ClaimCase:
    """A patient with a policy, a final invoice of three lines (two covered) and its claim,
    written as rows (the services that make them are tested elsewhere)."""
    with db.unit_of_work() as session:
        patient = _patient()
        payer = Payer(
            code=f"NHF-{uuid.uuid4().hex[:6]}",
            name="National Health Fund",
            identifier="NHF-PAYER-7",
            email="claims@nhf.test",
        )
        session.add_all([patient, payer])
        session.flush()
        policy = Policy(
            patient_id=patient.id,
            payer_id=payer.id,
            policy_number="NHF-123456",
            holder_name="Amina Okafor",
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            covered_categories=",".join(COVERED),
            copay_percent=COPAY,
        )
        session.add(policy)
        session.flush()
        invoice = Invoice(
            patient_id=patient.id,
            status="final",
            number=number,
            visit_kind=visit_kind,
            currency=currency,
            exponent=exponent,
            policy_id=policy.id,
            created_by="test-billing",
            finalised_at=utcnow(),
            finalised_by="test-billing",
        )
        session.add(invoice)
        session.flush()
        lines = _lines(invoice.id, exponent)
        session.add_all(lines)
        invoice.net = sum(line.net for line in lines)
        invoice.tax = sum(line.tax for line in lines)
        invoice.gross = invoice.net + invoice.tax
        invoice.payer_share = sum(line.payer_share for line in lines)
        invoice.patient_share = sum(line.patient_share for line in lines)
        claim = Claim(
            invoice_id=invoice.id,
            policy_id=policy.id,
            payer_id=payer.id,
            patient_id=patient.id,
            claimed=invoice.payer_share,
            created_by="test-billing",
        )
        session.add(claim)
        session.flush()
        return ClaimCase(
            patient.id,
            invoice.id,
            claim.id,
            patient.mrn,
            number or "",
            invoice.payer_share,
            invoice.patient_share,
            invoice.gross,
        )


@pytest.fixture
def settings(server_settings: Settings) -> Settings:
    return server_settings.model_copy(
        update={
            "hospital_name": "St Luke's Hospital",
            "hospital_address": "1 Hill Road\nNairobi",
            "hospital_phone": "+254 20 555 0100",
            "hospital_tax_id": "P051234567X",
        }
    )


def export(db: Database, claim_id: uuid.UUID, settings: Settings) -> str:
    with db.unit_of_work() as session:
        return fhir_json(claim_resource(session, claim_id, settings))


def test_the_claim_is_a_valid_r4_claim_for_the_payers_share(db, settings):
    case = make_claim(db)
    text = export(db, case.claim_id, settings)

    claim = FhirClaim.model_validate_json(text)  # fhir.resources reads it back
    data = json.loads(text, parse_float=Decimal)
    assert claim.status == "active" and claim.use == "claim"
    assert claim.type.coding[0].code == "institutional"
    assert claim.priority.coding[0].code == "normal"
    assert data["total"] == {"value": Decimal(case.payer_share).scaleb(-2), "currency": "USD"}
    assert data["total"]["value"] == Decimal("71.10")  # 45.00 + 26.10 of the covered lines
    assert [item["sequence"] for item in data["item"]] == [1, 2, 3]
    assert sum(item["net"]["value"] for item in data["item"]) == Decimal(case.gross) / 100
    lab = data["item"][1]
    assert lab["productOrService"]["coding"][0]["code"] == "LAB-CBC"
    assert lab["productOrService"]["coding"][0]["display"] == "Full blood count"
    assert lab["quantity"]["value"] == 2 and lab["unitPrice"]["value"] == Decimal("12.50")
    assert lab["servicedDate"] == "2026-12-02"
    assert data["item"][2]["quantity"]["value"] == Decimal("1.5")


def test_money_is_written_with_the_currencys_decimals_never_through_floats(db, settings):
    case = make_claim(db)
    text = export(db, case.claim_id, settings)
    assert '"unitPrice":{"value":12.50,"currency":"USD"}' in text
    assert '"total":{"value":71.10,"currency":"USD"}' in text
    assert '"net":{"value":50.00,"currency":"USD"}' in text

    yen = make_claim(db, currency="JPY", exponent=0, visit_kind="appointment", number=None)
    text = export(db, yen.claim_id, settings)
    FhirClaim.model_validate_json(text)
    assert f'"total":{{"value":{yen.payer_share},"currency":"JPY"}}' in text
    assert json.loads(text)["type"]["coding"][0]["code"] == "professional"


def test_the_claim_carries_patient_hospital_payer_and_policy(db, settings):
    case = make_claim(db)
    data = json.loads(export(db, case.claim_id, settings))
    contained = {resource["id"]: resource for resource in data["contained"]}

    patient = contained["patient"]
    assert patient["resourceType"] == "Patient"
    assert patient["identifier"][0]["value"] == case.mrn
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert data["patient"]["reference"] == "#patient"
    assert data["patient"]["identifier"]["value"] == case.mrn

    provider = contained["provider"]
    assert provider["name"] == "St Luke's Hospital"
    assert provider["address"][0]["line"] == ["1 Hill Road", "Nairobi"]
    assert provider["identifier"][0]["value"] == "P051234567X"
    assert data["provider"]["reference"] == "#provider"

    insurer = contained["insurer"]
    assert insurer["resourceType"] == "Organization" and insurer["name"] == "National Health Fund"
    assert insurer["identifier"][0]["value"] == "NHF-PAYER-7"
    assert data["insurer"]["reference"] == "#insurer"

    coverage = contained["coverage"]
    assert coverage["subscriberId"] == "NHF-123456"
    assert coverage["beneficiary"] == {"reference": "#patient"}
    assert coverage["payor"] == [{"reference": "#insurer"}]
    assert data["insurance"] == [
        {"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}
    ]
    numbers = [identifier["value"] for identifier in data["identifier"]]
    assert case.invoice_number in numbers and str(case.claim_id) in numbers
    assert datetime.fromisoformat(data["created"]).tzinfo is not None


def test_an_unknown_claim_is_refused_in_plain_words(db, settings):
    with db.unit_of_work() as session, pytest.raises(ClaimNotFound, match="was not found"):
        claim_resource(session, uuid.uuid4(), settings)


def test_decimals_are_written_digit_for_digit():
    big = Decimal(10**13 - 1).scaleb(-2)
    assert fhir_json({"value": big, "n": [1, True, None, "é"]}) == (
        '{"value":99999999999.99,"n":[1,true,null,"é"]}'
    )
    with pytest.raises(ValueError):
        fhir_json(Decimal("NaN"))
