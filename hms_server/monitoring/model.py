"""What flows through the monitoring pipeline: readings, where they belong, observed values."""

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Reading:
    """One numeric value as a monitor (or a nurse) gave it, already mapped to a parameter."""

    parameter: str  # hms_core.rules.vitals.PARAMETERS
    value: float | None
    observed_at: datetime
    unit: str = ""
    code_system: str = ""  # MDC, LOINC, local
    code: str = ""
    value_code: str | None = None  # ACVPU letter, "air"/"oxygen"
    artefact: bool = False  # sensor off: a monitor reports 0


@dataclass(frozen=True)
class Placement:
    """Where a message's readings belong; patient None = unmatched (a nurse assigns it)."""

    patient_id: uuid.UUID | None
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    device_id: str | None
    hint: str = ""  # what the message said about bed and patient, for the nurse

    @property
    def matched(self) -> bool:
        return self.patient_id is not None


@dataclass(frozen=True)
class ObservedValue:
    placement: Placement
    reading: Reading
    received_at: datetime
