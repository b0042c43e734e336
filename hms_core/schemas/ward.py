"""Wire models of the ward: admitting to a bed, discharging, charting vital signs, and the
views the ward workspace shows.

Mutation arguments carry every identifier and moment they record (`id`, `admitted_at`,
`recorded_at`), so the desktop and the server run a mutation to the same rows.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
ACVPU = Literal["A", "C", "V", "P", "U"]


def _utc(moment: datetime) -> datetime:
    """A desktop's SQLite cache hands back naive UTC; views always carry the zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(_utc)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AdmitPatient(_Args):
    """Put a patient in a free bed."""

    id: uuid.UUID = Field(description="The admission's id, minted by the client")
    patient_id: uuid.UUID
    bed_id: uuid.UUID
    admitted_at: AwareDatetime
    reason: Reason = ""


class DischargePatient(_Args):
    """End an open admission: the bed is free again."""

    admission_id: uuid.UUID
    discharged_at: AwareDatetime
    note: Note = ""


class TransferPatient(_Args):
    """Move an admitted patient to another free bed."""

    admission_id: uuid.UUID
    bed_id: uuid.UUID
    at: AwareDatetime


class RecordVitals(_Args):
    """One set of vital signs charted by a nurse; any value may be left out (None)."""

    id: uuid.UUID = Field(description="The entry's id, minted by the client")
    patient_id: uuid.UUID
    taken_at: AwareDatetime
    recorded_at: AwareDatetime | None = Field(
        default=None, description="When the nurse saved it (the client's clock); default now"
    )
    respiration_rate: float | None = None
    spo2: float | None = None
    spo2_scale: Literal[1, 2] = 1
    on_oxygen: bool | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    pulse: float | None = None
    consciousness: ACVPU | None = None
    temperature_c: float | None = None
    note: Note = ""


class WardChoice(BaseModel):
    id: uuid.UUID
    code: str
    name: str


class BedView(BaseModel):
    """One bed of a ward with its patient (if any) and the patient's latest charted NEWS2."""

    bed_id: uuid.UUID
    label: str
    ward_code: str
    admission_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    patient_name: str = ""
    mrn: str = ""
    admitted_at: Moment | None = None
    news2_total: int | None = None
    news2_band: str | None = None
    last_taken_at: Moment | None = None
    has_vitals: bool = False


class VitalsView(BaseModel):
    """One charted set, as the ward lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    taken_at: Moment
    recorded_by: str
    respiration_rate: float | None
    spo2: float | None
    spo2_scale: int
    on_oxygen: bool | None
    systolic_bp: float | None
    diastolic_bp: float | None
    pulse: float | None
    consciousness: str | None
    temperature_c: float | None
    news2_total: int | None
    news2_band: str | None
    note: str
