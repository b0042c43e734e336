"""Wire models for scheduling: availability, appointments, follow-ups and free slots.

Mutation arguments carry every identifier and every moment they record (`at`, `booked_at`),
so the desktop and the server run a mutation to the same rows.
"""

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
RequiredReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)
]
MAX_MINUTES = 240  # the longest appointment or slot
Minutes = Annotated[int, Field(ge=5, le=MAX_MINUTES)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WeeklySessionIn(_Args):
    """One weekly session of a doctor, in the doctor's time zone."""

    id: uuid.UUID | None = None
    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")]
    start_time: time
    end_time: time
    slot_minutes: Minutes = 15
    break_start: time | None = None
    break_end: time | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _hours(self) -> Self:
        if self.end_time <= self.start_time:
            raise PydanticCustomError("hours", "The session must end after it starts")
        if (self.break_start is None) != (self.break_end is None):
            raise PydanticCustomError("break", "Give both the start and the end of the break")
        if (
            self.break_start is not None
            and self.break_end is not None
            and not (self.start_time < self.break_start < self.break_end < self.end_time)
        ):
            raise PydanticCustomError("break", "The break must lie inside the session's hours")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise PydanticCustomError("valid", "'Valid until' is before 'valid from'")
        return self


class SetWeeklyAvailability(_Args):
    """Replace a doctor's weekly sessions with these."""

    doctor_id: uuid.UUID
    sessions: list[WeeklySessionIn] = Field(max_length=50)


class ChangeKind(StrEnum):
    LEAVE = "leave"
    EXTRA = "extra"


class AddAvailabilityChange(_Args):
    """Leave (no appointments in the period) or an extra one-off session."""

    id: uuid.UUID | None = None
    doctor_id: uuid.UUID
    kind: ChangeKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    slot_minutes: Minutes | None = None
    reason: Reason = ""

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise PydanticCustomError("period", "The period must end after it starts")
        if (self.ends_at - self.starts_at).days > 366:
            raise PydanticCustomError("period", "A period can be at most a year long")
        return self


class RemoveAvailabilityChange(_Args):
    change_id: uuid.UUID


class BookAppointment(_Args):
    id: uuid.UUID | None = None
    patient_id: uuid.UUID
    doctor_id: uuid.UUID
    starts_at: AwareDatetime
    duration_minutes: Minutes | None = Field(
        default=None, description="Default: the slot length of the doctor's session."
    )
    reason: Reason = ""
    request_only: bool = Field(
        default=False, description="A request the doctor confirms (status 'requested')."
    )
    follow_up_id: uuid.UUID | None = None
    department_wide: bool = Field(
        default=False,
        description="Booked as 'first available' in the department: "
        "alternatives offered on refusal come from all its doctors.",
    )
    booked_at: AwareDatetime | None = Field(
        default=None, description="When the person at the desk booked (their clock)."
    )


class RescheduleAppointment(_Args):
    appointment_id: uuid.UUID
    starts_at: AwareDatetime
    doctor_id: uuid.UUID | None = Field(default=None, description="Move to another doctor.")
    duration_minutes: Minutes | None = None
    reason: Reason = ""
    at: AwareDatetime | None = None


class CancelAppointment(_Args):
    appointment_id: uuid.UUID
    reason: RequiredReason
    at: AwareDatetime | None = None


class StatusChange(StrEnum):
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    IN_CONSULTATION = "in_consultation"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class SetAppointmentStatus(_Args):
    appointment_id: uuid.UUID
    status: StatusChange
    at: AwareDatetime | None = None


class RequestFollowUp(_Args):
    id: uuid.UUID | None = None
    patient_id: uuid.UUID
    after_days: Annotated[int, Field(ge=1, le=730)]
    requested_on: date = Field(description="The day the doctor asked (their calendar).")
    reason: Reason = ""
    doctor_id: uuid.UUID | None = Field(
        default=None,
        description="Default: the requesting doctor; none means any doctor of the department.",
    )
    department_id: uuid.UUID | None = None
    source_appointment_id: uuid.UUID | None = None


class CancelFollowUp(_Args):
    follow_up_id: uuid.UUID
    reason: RequiredReason


class FreeSlot(BaseModel):
    doctor_id: uuid.UUID
    doctor_name: str
    department_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime


class SlotQuery(BaseModel):
    """Where and when to look for free slots."""

    model_config = ConfigDict(extra="forbid")

    department_id: uuid.UUID | None = None
    doctor_id: uuid.UUID | None = None
    first_day: date
    days: Annotated[int, Field(ge=1, le=62)] = 7
    limit: Annotated[int, Field(ge=1, le=5000)] = 500

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.department_id is None and self.doctor_id is None:
            raise PydanticCustomError("where", "Choose a department or a doctor")
        return self


class DoctorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    display_name: str
    department_id: uuid.UUID
    grade: str
    timezone: str
    active: bool


class MessageView(BaseModel):
    """A message to the patient about an appointment, with its delivery status."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    channel: str
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class AppointmentView(BaseModel):
    """One appointment as lists show it: who, with whom, when, and how far it has got."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    patient_phone: str | None
    doctor_id: uuid.UUID
    doctor_name: str
    department_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: str
    reason: str
    source: str
    cancel_reason: str | None
    checked_in_at: datetime | None
    follow_up_id: uuid.UUID | None


class FollowUpView(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    doctor_id: uuid.UUID | None
    doctor_name: str | None
    department_id: uuid.UUID
    due_date: date
    reason: str
    requested_by: str
    status: str
