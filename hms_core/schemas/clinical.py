"""Wire models of the clinical record: the mutations' arguments (encounters and notes,
problems, the treatment plan, prescriptions, orders and results) and their small shared parts.

Mutation arguments carry every id and moment they record, so the desktop and the server run
them to the same rows. Free text is trimmed and bounded; codes come from the catalogues in
`resources/clinical/` (checked by the services).
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Priority = Literal["routine", "urgent", "stat"]
EncounterClass = Literal["outpatient", "inpatient", "emergency", "virtual"]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- encounters, notes, problems, plan --------------------------------------------------------


class StartEncounter(_Args):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_class: EncounterClass = "outpatient"
    started_at: AwareDatetime
    reason: Short = ""
    appointment_id: uuid.UUID | None = None
    admission_id: uuid.UUID | None = None


class FinishEncounter(_Args):
    encounter_id: uuid.UUID
    at: AwareDatetime


class NoteFields(_Args):
    """The structured parts of a note (SOAP with the history apart)."""

    complaint: Text = ""
    history: Text = ""
    examination: Text = ""
    assessment: Text = ""
    plan: Text = ""


class SaveNote(NoteFields):
    """Create or change a draft note (only its author changes it)."""

    id: uuid.UUID
    encounter_id: uuid.UUID


class SignNote(_Args):
    note_id: uuid.UUID
    at: AwareDatetime


class AmendNote(NoteFields):
    """A signed note is never edited: the amendment is a new signed note with a reason."""

    id: uuid.UUID
    note_id: uuid.UUID
    reason: Reason
    at: AwareDatetime


class AddProblem(_Args):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    code: Code  # ICD-10 from the catalogue
    kind: Literal["diagnosis", "problem"] = "diagnosis"
    onset: date | None = None
    note: Short = ""
    at: AwareDatetime


class UpdateProblem(_Args):
    """Resolve (or reactivate) a problem, or void one recorded in error (with a reason)."""

    problem_id: uuid.UUID
    clinical_status: Literal["active", "resolved", "inactive", "entered_in_error"]
    resolved: date | None = None
    reason: Short = ""
    at: AwareDatetime


class UpdateCarePlan(_Args):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    reason: Short = ""
    at: AwareDatetime


class RecordProcedure(_Args):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    code: Code
    display: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
    code_system: Short = ""
    performed_at: AwareDatetime
    note: Short = ""


# --- prescribing ------------------------------------------------------------------------------


class Override(_Args):
    """A safety warning the prescriber read and overrode, and why."""

    check: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    reason: Reason


Dose = Annotated[Decimal, Field(gt=0, le=100_000, max_digits=12, decimal_places=4)]


class PrescriptionFields(_Args):
    drug_code: Code  # the formulary's code
    strength: Annotated[str, StringConstraints(max_length=60)] = ""
    form: Annotated[str, StringConstraints(max_length=40)] = ""
    dose: Dose
    dose_unit: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    route: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    frequency: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    duration_days: Annotated[int, Field(gt=0, le=3650)] | None = None
    quantity: Annotated[Decimal, Field(gt=0, le=100_000)] | None = None
    instructions: Short = ""


class Prescribe(PrescriptionFields):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    overrides: list[Override] = Field(default_factory=list, max_length=20)
    at: AwareDatetime


class ChangePrescription(_Args):
    """A new version of a prescription: changed (new fields), stopped, or renewed."""

    id: uuid.UUID
    prescription_id: uuid.UUID
    change: Literal["update", "stop", "renew"]
    reason: Reason
    fields: PrescriptionFields | None = None  # for an update
    overrides: list[Override] = Field(default_factory=list, max_length=20)
    at: AwareDatetime


# --- orders and results -----------------------------------------------------------------------


class PlaceOrder(_Args):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    kind: Literal["lab", "imaging"]
    test_code: Code  # the lab or imaging catalogue's code
    indication: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)
    ]
    priority: Priority = "routine"
    body_site: Short = ""
    at: AwareDatetime


class OrderStep(_Args):
    """Specimen collected, specimen received, results validated: who (the actor) and when."""

    order_id: uuid.UUID
    at: AwareDatetime


class CancelOrder(_Args):
    order_id: uuid.UUID
    reason: Reason
    at: AwareDatetime


class ResultValue(_Args):
    id: uuid.UUID
    analyte: Code  # the analyte's code in the lab catalogue (its LOINC)
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    unit: Annotated[str, StringConstraints(max_length=40)] = ""


class EnterResults(_Args):
    order_id: uuid.UUID
    results: list[ResultValue] = Field(min_length=1, max_length=100)
    at: AwareDatetime


class ImagingReport(_Args):
    order_id: uuid.UUID
    findings: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=20_000)
    ]
    impression: Text = ""
    at: AwareDatetime


class AcknowledgeResult(_Args):
    """The doctor read the result: an interpretation, and optionally the plan updated."""

    order_id: uuid.UUID
    interpretation: Text = ""
    plan_id: uuid.UUID | None = None  # the id of the new care-plan version, when plan given
    plan: Text = ""
    at: AwareDatetime
