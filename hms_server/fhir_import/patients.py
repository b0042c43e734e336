"""FHIR Patient → a registered patient, with an id derived from the FHIR id so that a
re-import finds the same patient (the patient table has no external id column)."""

import uuid

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hms_core.db.patients import Patient
from hms_core.rules.contact import phone_problem
from hms_core.schemas.patients import DuplicateReview, PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.errors import DuplicateSuspected, InvalidData
from hms_core.services.patients import register_patient
from hms_server.fhir_import.bundle import Resource
from hms_server.fhir_import.values import clip

# uuid5 namespace of patients imported from FHIR: id = uuid5(FHIR_PATIENTS, "Patient/<fhir id>")
FHIR_PATIENTS = uuid.UUID("6f1d3c52-8f3e-5a4b-9b0e-3c1f5e2a7d90")
SEXES = {"male", "female", "other", "unknown"}


def patient_uuid(fhir_id: str) -> uuid.UUID:
    """The hms id of the patient FHIR knows as `fhir_id` (the same on every import)."""
    return uuid.uuid5(FHIR_PATIENTS, f"Patient/{fhir_id}")


def register_fhir_patient(session: Session, res: Resource, patient_id: uuid.UUID) -> Patient:
    """Register the patient through the domain service (new MRN, name index, audit).

    The duplicate check still runs; its candidates are recorded as reviewed (the audit
    keeps them), since an import cannot ask reception."""
    data = _patient_create(res, patient_id)
    try:
        return register_patient(session, SYSTEM, data)
    except DuplicateSuspected as exc:
        ids = [uuid.UUID(c["patient"]["id"]) for c in exc.detail.get("candidates", [])]
        data.duplicate_review = DuplicateReview(candidate_ids=ids)
        return register_patient(session, SYSTEM, data)


def _patient_create(res: Resource, patient_id: uuid.UUID) -> PatientCreate:
    names = res.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    address = (res.get("address") or [{}])[0]
    phone = _phone(res)
    try:
        return PatientCreate(
            id=patient_id,
            given_name=clip(" ".join(name.get("given", [])) or "Unknown", 100),
            family_name=clip(name.get("family") or "Unknown", 100),
            birth_date=res.get("birthDate"),
            sex=res.get("gender") if res.get("gender") in SEXES else "unknown",
            phone=phone,
            address_line=clip(", ".join(address.get("line", [])), 200) or None,
            city=clip(address.get("city", ""), 100) or None,
            region=clip(address.get("state", ""), 100) or None,
            postal_code=clip(address.get("postalCode", ""), 20) or None,
            country=clip(address.get("country", ""), 100) or None,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidData(
            f"The patient {res.get('id', '')} cannot be registered: {problems}."
        ) from None


def _phone(res: Resource) -> str | None:
    """The first phone number that is a valid phone number (others are left out)."""
    for telecom in res.get("telecom", []) or []:
        value = str(telecom.get("value") or "")
        if telecom.get("system") == "phone" and value and not phone_problem(value):
            return value[:32]
    return None
