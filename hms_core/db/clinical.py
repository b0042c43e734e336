"""The clinical record: encounters with their notes, problems and diagnoses, procedures,
immunizations, documents, the treatment plan, prescriptions, and orders (lab and imaging)
through to their results.

Clinical facts are never deleted: notes are amended by new rows, prescriptions change by new
versions, results are corrected by amended observations; a row recorded in error is voided
with a reason. Codes keep their system and display as received (`code_system`, `code`,
`display`), so an imported code we do not know is never lost. Imported rows carry `source`
("fhir") and the sender's id (`external_id`), which makes importing twice change nothing.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, ReplicatedMixin
from hms_core.db.types import DecimalText

HMS = "hms"
FHIR = "fhir"

# Encounter classes and statuses
OUTPATIENT, INPATIENT, EMERGENCY, VIRTUAL = "outpatient", "inpatient", "emergency", "virtual"
IN_PROGRESS, FINISHED = "in_progress", "finished"

# Note statuses
NOTE_DRAFT, NOTE_SIGNED = "draft", "signed"

# Prescription statuses
RX_ACTIVE, RX_STOPPED, RX_SUPERSEDED, RX_COMPLETED = "active", "stopped", "superseded", "completed"

# Order kinds, priorities and statuses (a lab order walks them in this order)
LAB, IMAGING = "lab", "imaging"
ROUTINE, URGENT, STAT = "routine", "urgent", "stat"
ORDERED, COLLECTED, RECEIVED, RESULTED, VALIDATED, CANCELLED = (
    "ordered",
    "collected",
    "received",
    "resulted",
    "validated",
    "cancelled",
)

# Observation flags
NORMAL, LOW, HIGH, CRITICAL_LOW, CRITICAL_HIGH, ABNORMAL = "N", "L", "H", "LL", "HH", "A"


class _Coded:
    """A code as received: system, code and display text."""

    code_system: Mapped[str] = mapped_column(String(200), default="")
    code: Mapped[str] = mapped_column(String(64), default="")
    display: Mapped[str] = mapped_column(String(500), default="")


class _Sourced:
    """Where a row came from: this system, or an import (with the sender's id)."""

    source: Mapped[str] = mapped_column(String(12), default=HMS)
    external_id: Mapped[str | None] = mapped_column(String(128), default=None)


class _Voidable:
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_by: Mapped[str | None] = mapped_column(String(80), default=None)
    void_reason: Mapped[str | None] = mapped_column(String(500), default=None)


def _external_unique(table: str) -> UniqueConstraint:
    return UniqueConstraint("source", "external_id", name=f"uq_{table}_external")


class Encounter(_Sourced, ReplicatedMixin, Base):
    """One visit or admission: the frame of notes, orders and prescriptions."""

    __tablename__ = "encounter"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_class: Mapped[str] = mapped_column(String(20), default=OUTPATIENT)
    status: Mapped[str] = mapped_column(String(20), default=IN_PROGRESS)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    type_code: Mapped[str] = mapped_column(String(64), default="")
    type_display: Mapped[str] = mapped_column(String(300), default="")
    reason_code: Mapped[str] = mapped_column(String(64), default="")
    reason_display: Mapped[str] = mapped_column(String(300), default="")
    clinician: Mapped[str] = mapped_column(String(200), default="")
    department_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    admission_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    location: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        _external_unique("encounter"),
        Index("ix_encounter_patient_started", "patient_id", "started_at"),
    )


class ClinicalNote(ReplicatedMixin, Base):
    """A structured note. Once signed it never changes: an amendment is a new signed note
    that names the one it amends and why."""

    __tablename__ = "clinical_note"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounter.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    complaint: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[str] = mapped_column(Text, default="")
    examination: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=NOTE_DRAFT)
    signed_at: Mapped[datetime | None] = mapped_column(default=None)
    amends_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinical_note.id"), default=None
    )
    amend_reason: Mapped[str] = mapped_column(String(500), default="")


class Problem(_Coded, _Sourced, _Voidable, ReplicatedMixin, Base):
    """A problem or diagnosis (ICD-10 from the catalogue, or a code as imported)."""

    __tablename__ = "problem"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(String(12), default="diagnosis")  # diagnosis | problem
    clinical_status: Mapped[str] = mapped_column(String(12), default="active")
    onset: Mapped[date | None] = mapped_column(default=None)
    resolved: Mapped[date | None] = mapped_column(default=None)
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (_external_unique("problem"),)


class ProcedureRecord(_Coded, _Sourced, _Voidable, ReplicatedMixin, Base):
    """A procedure or surgery that was performed."""

    __tablename__ = "procedure_record"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    performed_at: Mapped[datetime]
    performer: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (_external_unique("procedure_record"),)


class Immunization(_Coded, _Sourced, _Voidable, ReplicatedMixin, Base):
    """A vaccine given (CVX or as imported)."""

    __tablename__ = "immunization"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    given_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="completed")
    lot: Mapped[str] = mapped_column(String(60), default="")

    __table_args__ = (_external_unique("immunization"),)


class ClinicalDocument(_Coded, _Sourced, _Voidable, ReplicatedMixin, Base):
    """A document in the record: a letter, an imported note, a scanned paper (the file
    itself, if any, is an `attachment`)."""

    __tablename__ = "clinical_document"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    title: Mapped[str] = mapped_column(String(300), default="")
    written_at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="text/plain")
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (_external_unique("clinical_document"),)


class CarePlan(ReplicatedMixin, Base):
    """The treatment plan: each update is a new version; the latest is the plan."""

    __tablename__ = "care_plan"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(80))
    written_at: Mapped[datetime]
    previous_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("care_plan.id"), default=None)
    reason: Mapped[str] = mapped_column(String(500), default="")  # e.g. "after HbA1c result"


class MedicationOrder(_Coded, _Sourced, ReplicatedMixin, Base):
    """A prescription (one version of it). Updating, stopping or renewing makes a new
    version pointing at the previous one, which becomes superseded."""

    __tablename__ = "medication_order"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    drug_code: Mapped[str] = mapped_column(String(40), default="")  # the formulary's code
    drug_name: Mapped[str] = mapped_column(String(200))
    strength: Mapped[str] = mapped_column(String(60), default="")
    form: Mapped[str] = mapped_column(String(40), default="")
    dose: Mapped[Decimal | None] = mapped_column(DecimalText, default=None)
    dose_unit: Mapped[str] = mapped_column(String(20), default="")
    route: Mapped[str] = mapped_column(String(20), default="")
    frequency: Mapped[str] = mapped_column(String(20), default="")  # OD, BD, TDS, QDS, QxH, PRN
    duration_days: Mapped[int | None] = mapped_column(Integer, default=None)
    quantity: Mapped[Decimal | None] = mapped_column(DecimalText, default=None)
    instructions: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(12), default=RX_ACTIVE)
    prescriber: Mapped[str] = mapped_column(String(80), default="")
    prescribed_at: Mapped[datetime]
    previous_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medication_order.id"), default=None
    )
    change: Mapped[str] = mapped_column(String(12), default="new")  # new|update|stop|renew
    change_reason: Mapped[str] = mapped_column(String(500), default="")
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pharmacy_status: Mapped[str] = mapped_column(String(12), default="queued")

    __table_args__ = (_external_unique("medication_order"),)


class ClinicalOrder(ReplicatedMixin, Base):
    """A lab test or imaging study ordered for a patient, through to its validated result.

    `number` (ORD-YYYYMMDD-XXXXXX) is made from the id, so an order placed offline has the
    number its specimen label carries."""

    __tablename__ = "clinical_order"

    number: Mapped[str] = mapped_column(String(30), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(String(10))  # lab | imaging
    test_code: Mapped[str] = mapped_column(String(40))  # the catalogue's code
    test_name: Mapped[str] = mapped_column(String(200))
    loinc: Mapped[str] = mapped_column(String(20), default="")
    specimen: Mapped[str] = mapped_column(String(40), default="")
    modality: Mapped[str] = mapped_column(String(20), default="")  # imaging: xray|us|ct|mri
    body_site: Mapped[str] = mapped_column(String(100), default="")
    indication: Mapped[str] = mapped_column(String(500), default="")
    priority: Mapped[str] = mapped_column(String(10), default=ROUTINE)
    status: Mapped[str] = mapped_column(String(12), default=ORDERED)
    ordered_by: Mapped[str] = mapped_column(String(80))
    ordered_at: Mapped[datetime]
    collected_by: Mapped[str | None] = mapped_column(String(80), default=None)
    collected_at: Mapped[datetime | None] = mapped_column(default=None)
    received_by: Mapped[str | None] = mapped_column(String(80), default=None)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    resulted_by: Mapped[str | None] = mapped_column(String(80), default=None)
    resulted_at: Mapped[datetime | None] = mapped_column(default=None)
    validated_by: Mapped[str | None] = mapped_column(String(80), default=None)
    validated_at: Mapped[datetime | None] = mapped_column(default=None)
    critical: Mapped[bool] = mapped_column(default=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    interpretation: Mapped[str] = mapped_column(Text, default="")
    cancelled_reason: Mapped[str] = mapped_column(String(500), default="")
    findings: Mapped[str] = mapped_column(Text, default="")  # imaging report
    impression: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_clinical_order_status_priority", "status", "priority"),)


class Observation(_Coded, _Sourced, ReplicatedMixin, Base):
    """One measured value: a lab result (of an order, or imported), a vital sign or another
    observation as imported. Corrected by a new row that `amends_id` the old one."""

    __tablename__ = "observation"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinical_order.id"), default=None, index=True
    )
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    category: Mapped[str] = mapped_column(String(30), default="laboratory")
    effective_at: Mapped[datetime]
    value_num: Mapped[Decimal | None] = mapped_column(DecimalText, default=None)
    value_text: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")
    ref_low: Mapped[Decimal | None] = mapped_column(DecimalText, default=None)
    ref_high: Mapped[Decimal | None] = mapped_column(DecimalText, default=None)
    flag: Mapped[str] = mapped_column(String(4), default="")
    status: Mapped[str] = mapped_column(String(12), default="final")  # preliminary|final|amended
    entered_by: Mapped[str] = mapped_column(String(80), default="")
    amends_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("observation.id"), default=None)

    __table_args__ = (
        _external_unique("observation"),
        Index("ix_observation_patient_code_time", "patient_id", "code", "effective_at"),
    )


class Attachment(ReplicatedMixin, Base):
    """A file in the record (an image of a study, a DICOM file, a scanned document). The
    server keeps the bytes; the row says what it is."""

    __tablename__ = "attachment"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    document_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(String(300), default="")
