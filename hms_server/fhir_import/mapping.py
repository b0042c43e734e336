"""One function per FHIR resource type: the record rows a resource becomes.

Every row is marked source="fhir" with the resource's id as `external_id` (an observation
with components gives one row per component, `<id>#<n>`). Codes are kept as received."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hms_core.db.base import Base, new_id
from hms_core.db.clinical import (
    EMERGENCY,
    FHIR,
    FINISHED,
    IN_PROGRESS,
    INPATIENT,
    OUTPATIENT,
    RX_ACTIVE,
    RX_COMPLETED,
    RX_STOPPED,
    VIRTUAL,
    ClinicalDocument,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    Problem,
    ProcedureRecord,
)
from hms_core.db.patients import PatientAllergy
from hms_server.fhir_import.bundle import BundleIndex, Directory, Resource
from hms_server.fhir_import.values import (
    ICD10_SYSTEMS,
    attachment_text,
    clip,
    coding,
    concept_text,
    day,
    first_code,
    first_moment,
    moment,
    number,
)

ENCOUNTER_CLASSES = {
    "AMB": OUTPATIENT,
    "IMP": INPATIENT,
    "ACUTE": INPATIENT,
    "NONAC": INPATIENT,
    "OBSENC": INPATIENT,
    "SS": INPATIENT,
    "EMER": EMERGENCY,
    "VR": VIRTUAL,
    "HH": VIRTUAL,
}
RX_STATUSES = {"completed": RX_COMPLETED, "stopped": RX_STOPPED, "cancelled": RX_STOPPED}
IMPORTED_RX = "imported"  # pharmacy_status: history, not a prescription waiting at the counter
FLAGS = {"N", "L", "H", "LL", "HH", "A"}
SKIP_REASONS = {
    "Claim": "billing claims are not imported",
    "ExplanationOfBenefit": "billing claims are not imported",
    "Provenance": "provenance is not imported",
    "Practitioner": "read for names only",
    "PractitionerRole": "read for names only",
    "Organization": "read for names only",
    "Location": "read for names only",
}


class Skipped(Exception):
    """This resource is deliberately not imported; the message says why."""


@dataclass
class Context:
    """What mapping a resource needs: its patient, the bundle's references and names."""

    patient_id: uuid.UUID
    index: BundleIndex
    directory: Directory
    encounters: dict[str, uuid.UUID] = field(default_factory=dict)  # FHIR id → hms id
    notes_elsewhere: set[str] = field(default_factory=set)  # reports a DocumentReference carries

    def encounter_id(self, reference: dict[str, Any] | None) -> uuid.UUID | None:
        target = self.index.resolve(reference)
        return self.encounters.get(target[1]) if target else None

    def name(self, reference: dict[str, Any] | None, size: int) -> str:
        return clip(self.directory.name(reference), size)


def _stamp(row: Base, key: str) -> Base:
    row.id = new_id()
    row.source, row.external_id = FHIR, clip(key, 128)
    return row


def _now() -> datetime:
    return datetime.now(UTC)


def encounter(res: Resource, key: str, ctx: Context) -> list[Base]:
    participants = res.get("participant") or [{}]
    locations = res.get("location") or [{}]
    system, code, display = coding((res.get("type") or [{}])[0])
    _, reason_code, reason_display = coding((res.get("reasonCode") or [{}])[0])
    status = res.get("status", "")
    row = Encounter(
        patient_id=ctx.patient_id,
        encounter_class=ENCOUNTER_CLASSES.get((res.get("class") or {}).get("code"), OUTPATIENT),
        status=FINISHED if status == "finished" else IN_PROGRESS,
        started_at=first_moment(res, "period") or _now(),
        ended_at=moment((res.get("period") or {}).get("end")),
        type_code=clip(code, 64),
        type_display=clip(display, 300),
        reason_code=clip(reason_code, 64),
        reason_display=clip(reason_display, 300),
        clinician=ctx.name(participants[0].get("individual"), 200),
        location=ctx.name(locations[0].get("location"), 200),
    )
    row = _stamp(row, key)
    row.id = ctx.encounters.setdefault(key, row.id)
    return [row]


def condition(res: Resource, key: str, ctx: Context) -> list[Base]:
    system, code, display = coding(res.get("code"), prefer=ICD10_SYSTEMS)
    onset = first_moment(res, "onsetDateTime", "onsetPeriod")
    category = first_code(res.get("category"))
    row = Problem(
        patient_id=ctx.patient_id,
        encounter_id=ctx.encounter_id(res.get("encounter")),
        code_system=system,
        code=code,
        display=display,
        kind="diagnosis" if category == "encounter-diagnosis" else "problem",
        clinical_status=clip(first_code([res.get("clinicalStatus")]) or "active", 12),
        onset=onset.date() if onset else None,
        resolved=day(res.get("abatementDateTime")),
        recorded_by=ctx.name(res.get("recorder") or res.get("asserter"), 80),
        recorded_at=first_moment(res, "recordedDate", "onsetDateTime") or _now(),
    )
    return [_stamp(row, key)]


def observation(res: Resource, key: str, ctx: Context) -> list[Base]:
    """One row for the observation's own value, one per component (blood pressure ...)."""
    common = {
        "patient_id": ctx.patient_id,
        "encounter_id": ctx.encounter_id(res.get("encounter")),
        "category": clip(first_code(res.get("category")) or "laboratory", 30),
        "effective_at": first_moment(res, "effectiveDateTime", "effectivePeriod", "issued")
        or _now(),
        "status": clip(res.get("status") or "final", 12),
        "entered_by": ctx.name((res.get("performer") or [{}])[0], 80),
    }
    components = [c for c in res.get("component", []) or [] if isinstance(c, dict)]
    parts = [(key, res)] if not components or _has_value(res) else []
    parts += [(f"{key}#{n}", comp) for n, comp in enumerate(components, start=1)]
    return [_stamp(_observation_row(part, common), part_key) for part_key, part in parts]


def _has_value(res: Resource) -> bool:
    return any(name.startswith("value") for name in res)


def _observation_row(part: Resource, common: dict[str, Any]) -> Observation:
    system, code, display = coding(part.get("code"))
    row = Observation(code_system=system, code=code, display=display, **common)
    quantity = part.get("valueQuantity")
    if isinstance(quantity, dict):
        row.value_num = number(quantity.get("value"))
        row.unit = clip(quantity.get("unit") or quantity.get("code") or "", 40)
    elif "valueCodeableConcept" in part:
        row.value_text = clip(concept_text(part["valueCodeableConcept"]), 500)
    elif "valueInteger" in part:
        row.value_num = number(part["valueInteger"])
    else:
        row.value_text = clip(_plain_value(part), 500)
    ranges = part.get("referenceRange") or [{}]
    row.ref_low = number((ranges[0].get("low") or {}).get("value"))
    row.ref_high = number((ranges[0].get("high") or {}).get("value"))
    flag = first_code(part.get("interpretation"))
    row.flag = flag if flag in FLAGS else ""
    return row


def _plain_value(part: Resource) -> str:
    for name in ("valueString", "valueBoolean", "valueDateTime", "valueTime", "valuePeriod"):
        if name in part:
            return str(part[name])
    return ""


def immunization(res: Resource, key: str, ctx: Context) -> list[Base]:
    system, code, display = coding(res.get("vaccineCode"))
    row = Immunization(
        patient_id=ctx.patient_id,
        encounter_id=ctx.encounter_id(res.get("encounter")),
        code_system=system,
        code=code,
        display=display,
        given_at=first_moment(res, "occurrenceDateTime", "recorded") or _now(),
        status=clip(res.get("status") or "completed", 20),
        lot=clip(res.get("lotNumber", ""), 60),
    )
    return [_stamp(row, key)]


def allergy(res: Resource, key: str, ctx: Context) -> list[Base]:
    system, code, display = coding(res.get("code"))
    reactions = res.get("reaction") or [{}]
    manifestation = concept_text((reactions[0].get("manifestation") or [{}])[0])
    severity = reactions[0].get("severity") or {"high": "severe", "low": "mild"}.get(
        res.get("criticality", ""), "moderate"
    )
    row = PatientAllergy(
        patient_id=ctx.patient_id,
        substance=clip(concept_text(res.get("code")) or display or code or "unknown", 120),
        reaction=clip(manifestation, 200) or None,
        severity=severity,
        kind=clip(res.get("type") or "allergy", 12),
        category=clip(((res.get("category") or [""])[0]), 20),
        code_system=system,
        code=code,
        row_version=1,
    )
    return [_stamp(row, key)]


def medication_request(res: Resource, key: str, ctx: Context) -> list[Base]:
    concept = res.get("medicationCodeableConcept")
    system, code, display = coding(concept)
    name = concept_text(concept) or ctx.directory.name(res.get("medicationReference"))
    dosage = (res.get("dosageInstruction") or [{}])[0]
    dose = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity") or {}
    row = MedicationOrder(
        patient_id=ctx.patient_id,
        encounter_id=ctx.encounter_id(res.get("encounter")),
        code_system=system,
        code=code,
        display=display,
        drug_name=clip(name or display or code or "unnamed medication", 200),
        dose=number(dose.get("value")),
        dose_unit=clip(dose.get("unit") or dose.get("code") or "", 20),
        route=clip(concept_text(dosage.get("route")), 20),
        instructions=clip(dosage.get("text", ""), 500),
        status=RX_STATUSES.get(res.get("status", ""), RX_ACTIVE),
        prescriber=ctx.name(res.get("requester"), 80),
        prescribed_at=first_moment(res, "authoredOn") or _now(),
        pharmacy_status=IMPORTED_RX,
        row_version=1,
    )
    return [_stamp(row, key)]


def procedure(res: Resource, key: str, ctx: Context) -> list[Base]:
    system, code, display = coding(res.get("code"))
    performer = (res.get("performer") or [{}])[0].get("actor")
    row = ProcedureRecord(
        patient_id=ctx.patient_id,
        encounter_id=ctx.encounter_id(res.get("encounter")),
        code_system=system,
        code=code,
        display=display,
        performed_at=first_moment(res, "performedDateTime", "performedPeriod") or _now(),
        performer=ctx.name(performer, 200),
        note=clip(concept_text((res.get("reasonCode") or [{}])[0]), 500),
    )
    return [_stamp(row, key)]


def document_reference(res: Resource, key: str, ctx: Context) -> list[Base]:
    system, code, display = coding(res.get("type"))
    attachments = [c.get("attachment") or {} for c in res.get("content", []) or []]
    text = "\n\n".join(t for t in (attachment_text(a) for a in attachments) if t)
    encounters = (res.get("context") or {}).get("encounter") or [None]
    row = ClinicalDocument(
        patient_id=ctx.patient_id,
        encounter_id=ctx.encounter_id(encounters[0]),
        code_system=system,
        code=code,
        display=display,
        title=clip(res.get("description") or display or "Document", 300),
        written_at=first_moment(res, "date") or _now(),
        author=ctx.name((res.get("author") or [None])[0], 200),
        content_type=clip(_media_type(attachments), 100),
        text=text,
    )
    return [_stamp(row, key)]


def diagnostic_report(res: Resource, key: str, ctx: Context) -> list[Base]:
    """The report's note, conclusion and results as a document — unless a DocumentReference
    of the same bundle carries the same note (Synthea sends each note both ways)."""
    if key in ctx.notes_elsewhere:
        raise Skipped("its note is imported from the DocumentReference")
    system, code, display = coding(res.get("code"))
    forms = [f for f in res.get("presentedForm", []) or [] if isinstance(f, dict)]
    parts = [attachment_text(f) for f in forms]
    parts.append(res.get("conclusion", ""))
    results = [r.get("display") for r in res.get("result", []) or [] if r.get("display")]
    if results:
        parts.append("Results: " + "; ".join(results))
    row = ClinicalDocument(
        patient_id=ctx.patient_id,
        encounter_id=ctx.encounter_id(res.get("encounter")),
        code_system=system,
        code=code,
        display=display,
        title=clip(display or "Report", 300),
        written_at=first_moment(res, "issued", "effectiveDateTime", "effectivePeriod") or _now(),
        author=ctx.name((res.get("performer") or [None])[0], 200),
        content_type=clip(_media_type(forms), 100),
        text="\n\n".join(p for p in parts if p),
    )
    return [_stamp(row, key)]


def _media_type(attachments: list[dict[str, Any]]) -> str:
    for attachment in attachments:
        if attachment.get("contentType"):
            return str(attachment["contentType"]).split(";")[0].strip()
    return "text/plain"


def notes_carried(index_resources: list[tuple[str, Resource]]) -> set[str]:
    """Ids of DiagnosticReports whose note a DocumentReference names (identifier urn:uuid)."""
    carried: set[str] = set()
    for _, res in index_resources:
        if res["resourceType"] == "DocumentReference":
            for ident in res.get("identifier", []) or []:
                carried.add(str(ident.get("value", "")).removeprefix("urn:uuid:"))
    return carried


Mapper = Callable[[Resource, str, Context], list[Base]]
# Resource type → (table the rows go to, mapper)
MAPPERS: dict[str, tuple[type[Base], Mapper]] = {
    "Encounter": (Encounter, encounter),
    "Condition": (Problem, condition),
    "Observation": (Observation, observation),
    "Immunization": (Immunization, immunization),
    "AllergyIntolerance": (PatientAllergy, allergy),
    "MedicationRequest": (MedicationOrder, medication_request),
    "Procedure": (ProcedureRecord, procedure),
    "DocumentReference": (ClinicalDocument, document_reference),
    "DiagnosticReport": (ClinicalDocument, diagnostic_report),
}


def skip_reason(resource_type: str) -> str:
    return SKIP_REASONS.get(resource_type, "resource type not imported")
