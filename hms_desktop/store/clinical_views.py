"""What the clinician's dialogs show from the cache: notes, prescriptions, results to review,
the treatment plan and its versions, and the printed prescription; each read from rows in a
session the caller opened."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import ClinicalNote, MedicationOrder, Patient, PatientAllergy
from hms_core.db.base import utcnow
from hms_core.db.clinical import NOTE_DRAFT, Attachment, ClinicalOrder, Observation
from hms_core.printing.prescription_pdf import PrescribedDrug, PrescriptionDocument
from hms_core.printing.records import hospital_from_profile
from hms_core.schemas.billing import HospitalProfile
from hms_core.services.clinical.care_plans import care_plan_history, current_care_plan
from hms_core.services.clinical.results import current_observations
from hms_core.services.errors import NotFound

NOTE_FIELDS = ("complaint", "history", "examination", "assessment", "plan")
ABNORMAL = ("L", "H", "LL", "HH", "A")


@dataclass(frozen=True)
class NoteView:
    """A note as its editor shows it."""

    id: uuid.UUID
    encounter_id: uuid.UUID
    author: str
    status: str
    fields: dict[str, str]
    signed_at: datetime | None = None
    amends_id: uuid.UUID | None = None
    amend_reason: str = ""

    @property
    def signed(self) -> bool:
        return self.status != NOTE_DRAFT


@dataclass(frozen=True)
class PrescriptionView:
    """An active prescription in the medication list."""

    id: uuid.UUID
    drug_code: str
    drug_name: str
    strength: str
    form: str
    dose: Decimal | None
    dose_unit: str
    route: str
    frequency: str
    duration_days: int | None
    quantity: Decimal | None
    instructions: str
    prescribed_at: datetime
    prescriber: str
    overrides: list[dict[str, Any]] = field(default_factory=list)

    def directions(self) -> str:
        """'500 mg oral TDS for 7 days'."""
        dose = f"{plain_number(self.dose)} {self.dose_unit}" if self.dose is not None else ""
        days = f"for {self.duration_days} days" if self.duration_days else ""
        return " ".join(part for part in (dose, self.route, self.frequency, days) if part)

    def fields(self) -> dict[str, Any]:
        """The prescription's fields as a `PrescriptionFields` reads them."""
        return {
            "drug_code": self.drug_code,
            "strength": self.strength,
            "form": self.form,
            "dose": str(self.dose) if self.dose is not None else "",
            "dose_unit": self.dose_unit,
            "route": self.route,
            "frequency": self.frequency,
            "duration_days": self.duration_days,
            "quantity": str(self.quantity) if self.quantity is not None else None,
            "instructions": self.instructions,
        }


@dataclass(frozen=True)
class ResultValue:
    """One value of a result, with its reference range and flag."""

    name: str
    value: str
    unit: str
    low: Decimal | None
    high: Decimal | None
    flag: str

    def range_text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{plain_number(self.low)}–{plain_number(self.high)}"
        if self.low is not None:
            return f"≥ {plain_number(self.low)}"
        return f"≤ {plain_number(self.high)}" if self.high is not None else ""


@dataclass(frozen=True)
class AttachmentView:
    """A file of an order (an image of the study); its bytes stay on the server."""

    id: uuid.UUID
    file_name: str
    content_type: str


@dataclass(frozen=True)
class ResultSummary:
    """A validated result waiting for the ordering doctor."""

    order_id: uuid.UUID
    number: str
    test_name: str
    kind: str
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    validated_at: datetime | None
    critical: bool
    flags: tuple[str, ...]  # "Potassium H", ...
    values: tuple[ResultValue, ...] = ()
    findings: str = ""
    impression: str = ""
    indication: str = ""
    plan: str = ""  # the patient's plan in force
    attachments: tuple[AttachmentView, ...] = ()  # the study's images (detail only)


@dataclass(frozen=True)
class CarePlanVersion:
    """One version of the treatment plan: what it said, who wrote it, when and why."""

    id: uuid.UUID
    text: str
    author: str
    written_at: datetime
    reason: str


def note_view(note: ClinicalNote) -> NoteView:
    return NoteView(
        id=note.id,
        encounter_id=note.encounter_id,
        author=note.author,
        status=note.status,
        fields={name: getattr(note, name) or "" for name in NOTE_FIELDS},
        signed_at=aware(note.signed_at),
        amends_id=note.amends_id,
        amend_reason=note.amend_reason or "",
    )


def plan_text(session: Session, patient_id: uuid.UUID) -> str:
    plan = current_care_plan(session, patient_id)
    return plan.text if plan is not None else ""


def care_plan_versions(session: Session, patient_id: uuid.UUID) -> list[CarePlanVersion]:
    """Every version of the patient's plan, the latest first."""
    return [
        CarePlanVersion(
            id=plan.id,
            text=plan.text,
            author=plan.author,
            written_at=aware(plan.written_at) or utcnow(),
            reason=plan.reason or "",
        )
        for plan in care_plan_history(session, patient_id)
    ]


def prescription_view(row: MedicationOrder) -> PrescriptionView:
    return PrescriptionView(
        id=row.id,
        drug_code=row.drug_code,
        drug_name=row.drug_name,
        strength=row.strength,
        form=row.form,
        dose=row.dose,
        dose_unit=row.dose_unit,
        route=row.route,
        frequency=row.frequency,
        duration_days=row.duration_days,
        quantity=row.quantity,
        instructions=row.instructions,
        prescribed_at=aware(row.prescribed_at) or utcnow(),
        prescriber=row.prescriber,
        overrides=list(row.overrides or []),
    )


def _value(obs: Observation) -> ResultValue:
    shown = plain_number(obs.value_num) if obs.value_num is not None else obs.value_text
    return ResultValue(
        obs.display or obs.code, shown, obs.unit, obs.ref_low, obs.ref_high, obs.flag
    )


def result_summary(
    session: Session, order: ClinicalOrder, patient: Patient, *, detail: bool = False
) -> ResultSummary:
    values = tuple(_value(o) for o in current_observations(session, order.id))
    flags = tuple(f"{v.name} {v.flag}" for v in values if v.flag in ABNORMAL)
    return ResultSummary(
        order_id=order.id,
        number=order.number,
        test_name=order.test_name,
        kind=order.kind,
        patient_id=patient.id,
        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        validated_at=aware(order.validated_at),
        critical=order.critical,
        flags=flags,
        values=values if detail else (),
        findings=order.findings or "",
        impression=order.impression or "",
        indication=order.indication or "",
        plan=plan_text(session, patient.id) if detail else "",
        attachments=tuple(order_attachments(session, order.id)) if detail else (),
    )


def order_attachments(session: Session, order_id: uuid.UUID) -> list[AttachmentView]:
    """The files attached to an order, in the order they were uploaded."""
    rows = session.execute(
        select(Attachment)
        .where(Attachment.order_id == order_id, Attachment.deleted_at.is_(None))
        .order_by(Attachment.uploaded_at, Attachment.file_name)
    ).scalars()
    return [AttachmentView(a.id, a.file_name, a.content_type) for a in rows]


def prescription_document(
    session: Session,
    ids: list[uuid.UUID],
    prescriber: str,
    profile: HospitalProfile,
) -> PrescriptionDocument:
    orders = [o for o in (session.get(MedicationOrder, i) for i in ids) if o is not None]
    if not orders:
        raise NotFound("These prescriptions are no longer on this computer.")
    patient = session.get(Patient, orders[0].patient_id)
    if patient is None:
        raise NotFound("The patient of this prescription is not on this computer.")
    written = (aware(orders[0].prescribed_at) or utcnow()).astimezone(ZoneInfo(profile.timezone))
    return PrescriptionDocument(
        hospital=hospital_from_profile(profile),
        prescription_id=str(orders[0].id),
        written=written.date(),
        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        age=f"{_years(patient.birth_date, written.date())} y",
        sex=patient.sex,
        allergies=tuple(_allergy_text(a) for a in _allergies(session, patient.id)),
        drugs=tuple(_printed(o) for o in orders),
        prescriber=prescriber or orders[0].prescriber,
    )


def _allergies(session: Session, patient_id: uuid.UUID) -> list[PatientAllergy]:
    return list(
        session.execute(
            select(PatientAllergy)
            .where(PatientAllergy.patient_id == patient_id, PatientAllergy.deleted_at.is_(None))
            .order_by(PatientAllergy.created_at)
        ).scalars()
    )


def _allergy_text(allergy: PatientAllergy) -> str:
    detail = ", ".join(p for p in (allergy.reaction or "", allergy.severity) if p)
    return f"{allergy.substance} ({detail})" if detail else allergy.substance


def _printed(order: MedicationOrder) -> PrescribedDrug:
    return PrescribedDrug(
        name=order.drug_name,
        strength=order.strength,
        form=order.form,
        dose=f"{plain_number(order.dose)} {order.dose_unit}" if order.dose is not None else "",
        route=order.route,
        frequency=order.frequency,
        duration_days=order.duration_days,
        quantity=(f"{plain_number(order.quantity)} {order.form}".strip() if order.quantity else ""),
        instructions=order.instructions,
    )


def _years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def plain_number(value: Decimal | None) -> str:
    """2.500 -> '2.5', 100 -> '100'."""
    return "" if value is None else format(Decimal(value).normalize(), "f")


def aware(moment: datetime | None) -> datetime | None:
    """The cache hands back naive UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
