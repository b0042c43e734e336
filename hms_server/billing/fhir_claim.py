"""An insurance claim as a FHIR R4 `Claim` resource, checked with the `fhir.resources` models.

`fhir.resources` 8 ships R5 as its default and R4B (4.3.0) as a subpackage; there is no exact
4.0.1 model for pydantic 2. R4B's `Claim`, `Coverage`, `Patient` and `Organization` are the
R4 resources unchanged, so a resource that R4B accepts is a valid R4 `Claim`.

The patient, the hospital (provider), the payer (insurer) and the policy (coverage) travel as
contained resources, so a payer can read the claim without access to our server. Items carry
what the hospital charged for each invoice line (tax included: R4 has no tax element); the
claim's total is the payer's share being claimed. Money is written as exact decimals in major
units with the currency's number of decimals (never through a float).
"""

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.claim import Claim as FhirClaim
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Claim, Invoice, InvoiceLine, Patient, Payer, Policy
from hms_core.services.errors import InvalidData, NotFound
from hms_server.billing import address_lines
from hms_server.settings import Settings

FHIR_JSON = "application/fhir+json"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"

Json = dict[str, Any]


class ClaimNotFound(NotFound):
    code = "claim_not_found"


class ClaimNotExportable(InvalidData):
    code = "claim_not_exportable"


def system(base: str, name: str) -> str:
    """A namespace URI of ours: 'urn:hms' + 'mrn' -> 'urn:hms:mrn', a URL gets '/mrn'."""
    return f"{base}:{name}" if base.startswith("urn:") else f"{base.rstrip('/')}/{name}"


def money(minor: int, currency: str, exponent: int) -> Json:
    """A FHIR Money: 123450 minor units, exponent 2 -> value Decimal('1234.50')."""
    return {"value": Decimal(minor).scaleb(-exponent), "currency": currency}


def compact(value: Any) -> Any:
    """`value` without None, empty strings, lists or objects (FHIR forbids empty elements)."""
    if isinstance(value, dict):
        kept = {k: compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        kept = [compact(v) for v in value]
        return [v for v in kept if v not in (None, "", [], {})]
    return value


def fhir_json(value: Any) -> str:
    """JSON text with decimals written digit for digit (json.dumps would need floats)."""
    if isinstance(value, dict):
        members = (f"{json.dumps(str(k))}:{fhir_json(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(fhir_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number FHIR can carry")
        return format(value, "f")
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as FHIR JSON")


def _when(value: object, element: Json) -> Json | None:
    """`element` if `value` is set, else nothing (dropped by `compact`)."""
    return element if value else None


def _moment(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _coding(system_uri: str, code: str, display: str = "") -> Json:
    return {"coding": [{"system": system_uri, "code": code, "display": display}]}


def _mrn(patient: Patient, base: str) -> Json:
    return {
        "use": "usual",
        "type": _coding(V2_0203, "MR", "Medical record number"),
        "system": system(base, "mrn"),
        "value": patient.mrn,
    }


def _patient(patient: Patient, base: str) -> Json:
    return {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [_mrn(patient, base)],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
    }


def _provider(settings: Settings, base: str) -> Json:
    tax_id, phone = settings.hospital_tax_id, settings.hospital_phone
    return {
        "resourceType": "Organization",
        "id": "provider",
        "identifier": [_when(tax_id, {"type": _coding(V2_0203, "TAX", "Tax ID"), "value": tax_id})],
        "name": settings.hospital_name,
        "telecom": [_when(phone, {"system": "phone", "value": phone})],
        "address": [{"line": address_lines(settings.hospital_address)}],
    }


def _insurer(payer: Payer, base: str) -> Json:
    return {
        "resourceType": "Organization",
        "id": "insurer",
        "identifier": [
            {"value": payer.identifier},
            {"system": system(base, "payer"), "value": payer.code},
        ],
        "name": payer.name,
        "telecom": [_when(payer.email, {"system": "email", "value": payer.email})],
    }


def _coverage(policy: Policy, patient: Patient) -> Json:
    own_name = f"{patient.given_name} {patient.family_name}".strip().lower()
    holder = policy.holder_name.strip()
    subscriber = (
        {"display": holder}
        if holder and holder.lower() != own_name
        else {"reference": "#patient", "display": holder}
    )
    return {
        "resourceType": "Coverage",
        "id": "coverage",
        "identifier": [{"value": policy.policy_number}],
        "status": "active" if policy.active else "cancelled",
        "subscriber": subscriber,
        "subscriberId": policy.policy_number,
        "beneficiary": {"reference": "#patient"},
        "period": {
            "start": policy.valid_from.isoformat(),
            "end": policy.valid_to.isoformat() if policy.valid_to else None,
        },
        "payor": [{"reference": "#insurer"}],
    }


def _item(sequence: int, line: InvoiceLine, invoice: Invoice, base: str) -> Json:
    currency, exponent = invoice.currency, invoice.exponent
    return {
        "sequence": sequence,
        "category": _coding(system(base, "charge-category"), line.category),
        "productOrService": _coding(system(base, "price-list"), line.code, line.description),
        "servicedDate": line.service_date.isoformat(),
        "quantity": {"value": Decimal(line.quantity)},
        "unitPrice": money(line.unit_price, currency, exponent),
        "net": money(line.net + line.tax, currency, exponent),
    }


def _period(lines: list[InvoiceLine]) -> Json:
    days: list[date] = [line.service_date for line in lines]
    return {"start": min(days).isoformat(), "end": max(days).isoformat()} if days else {}


def _identifiers(claim: Claim, invoice: Invoice, base: str) -> list[Json]:
    return [
        {"system": system(base, "claim"), "value": str(claim.id)},
        _when(invoice.number, {"system": system(base, "invoice"), "value": invoice.number}),
    ]


def _load(session: Session, claim_id: uuid.UUID) -> tuple:
    """The claim with its invoice, lines, policy, payer and patient (NotFound in plain words)."""
    claim = session.get(Claim, claim_id)
    if claim is None or claim.deleted_at is not None:
        raise ClaimNotFound("This insurance claim was not found.", fields={"claim_id": "Unknown"})
    lines = session.execute(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == claim.invoice_id, InvoiceLine.deleted_at.is_(None))
        .order_by(InvoiceLine.position)
    ).scalars()
    invoice = session.get_one(Invoice, claim.invoice_id)
    policy = session.get_one(Policy, claim.policy_id)
    payer = session.get_one(Payer, claim.payer_id)
    patient = session.get_one(Patient, claim.patient_id)
    return claim, invoice, list(lines), policy, payer, patient


def claim_resource(session: Session, claim_id: uuid.UUID, settings: Settings) -> Json:
    """The claim as a FHIR R4 Claim (a dict whose money values are Decimals; see fhir_json)."""
    claim, invoice, lines, policy, payer, patient = _load(session, claim_id)
    base = settings.fhir_system_base
    kind = "institutional" if invoice.visit_kind == "admission" else "professional"
    resource = compact(
        {
            "resourceType": "Claim",
            "id": str(claim.id),
            "contained": [
                _patient(patient, base),
                _provider(settings, base),
                _insurer(payer, base),
                _coverage(policy, patient),
            ],
            "identifier": _identifiers(claim, invoice, base),
            "status": "active",
            "type": _coding(CLAIM_TYPE, kind),
            "use": "claim",
            "patient": {
                "reference": "#patient",
                "identifier": _mrn(patient, base),
                "display": f"{patient.given_name} {patient.family_name}",
            },
            "billablePeriod": _period(lines),
            "created": _moment(claim.created_at),
            "insurer": {"reference": "#insurer", "display": payer.name},
            "provider": {"reference": "#provider", "display": settings.hospital_name},
            "priority": _coding(PRIORITY, "normal"),
            "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}],
            "item": [_item(n, line, invoice, base) for n, line in enumerate(lines, start=1)],
            "total": money(claim.claimed, invoice.currency, invoice.exponent),
        }
    )
    validate(resource)
    return resource


def validate(resource: Json) -> FhirClaim:
    """The resource read by the fhir.resources R4B Claim model; refused in words if invalid."""
    try:
        return FhirClaim.model_validate(resource)
    except ValidationError as error:
        where = ", ".join(".".join(map(str, e["loc"])) for e in error.errors()[:3])
        raise ClaimNotExportable(
            f"This claim cannot be sent as a FHIR Claim: check {where}.",
            detail={"problems": [e["msg"] for e in error.errors()[:5]]},
        ) from None
