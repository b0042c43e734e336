"""Wire models for patients: what reception enters and what the API returns."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hms_core.rules.contact import phone_problem

MAX_AGE_YEARS = 130


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise PydanticCustomError("name_missing", "This is required")
    if not any(c.isalpha() for c in value):
        raise PydanticCustomError("name_letters", "A name must contain letters")
    if any(not c.isprintable() for c in value):
        raise PydanticCustomError("name_chars", "A name cannot contain control characters")
    return value


def _clean_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    problem = phone_problem(value)
    if problem:
        raise PydanticCustomError("phone_invalid", problem)
    return value.strip()


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


Name = Annotated[str, StringConstraints(max_length=100), AfterValidator(_clean_name)]
Phone = Annotated[str | None, StringConstraints(max_length=32), AfterValidator(_clean_phone)]
Text = Annotated[str | None, StringConstraints(max_length=200), AfterValidator(_blank_to_none)]
ShortText = Annotated[str | None, StringConstraints(max_length=100), AfterValidator(_blank_to_none)]
LongText = Annotated[str | None, StringConstraints(max_length=4000)]


def check_birth_date(value: date, today: date | None = None) -> date:
    today = today or date.today()
    if value > today:
        raise PydanticCustomError("birth_date_future", "Date of birth cannot be in the future")
    if today.year - value.year > MAX_AGE_YEARS:
        raise PydanticCustomError(
            "birth_date_too_old", f"Date of birth gives an age over {MAX_AGE_YEARS} years"
        )
    return value


def estimated_birth_date(age_years: int, today: date | None = None) -> date:
    """A birth date for an estimated age: the same day and month, `age_years` ago."""
    today = today or date.today()
    try:
        return today.replace(year=today.year - age_years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - age_years, day=28)


class NotifyBy(StrEnum):
    """The patient's stated preference for appointment messages."""

    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"
    NONE = "none"


class AllergyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    substance: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
    ]
    reaction: Text = None
    severity: Severity = Severity.MODERATE


class AllergyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    substance: str
    reaction: str | None
    severity: Severity


class _Demographics(BaseModel):
    """Fields shared by registration and update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: Phone = None
    email: EmailStr | None = Field(default=None, max_length=254)
    address_line: Text = None
    city: ShortText = None
    region: ShortText = None
    postal_code: Annotated[str | None, StringConstraints(max_length=20)] = None
    country: ShortText = None
    preferred_language: Annotated[str | None, StringConstraints(max_length=40)] = None
    notify_by: NotifyBy | None = Field(
        default=None,
        description="How the patient wants appointment messages: email, sms, both, or none "
        "(opted out). Unset: SMS when there is a phone number, else email.",
    )
    next_of_kin_name: Text = None
    next_of_kin_relationship: Annotated[str | None, StringConstraints(max_length=60)] = None
    next_of_kin_phone: Phone = None
    insurance_payer: Annotated[str | None, StringConstraints(max_length=120)] = None
    insurance_policy_number: Annotated[str | None, StringConstraints(max_length=60)] = None
    insurance_valid_until: date | None = None
    past_conditions: LongText = None
    past_surgeries: LongText = None

    @field_validator("email", mode="before")
    @classmethod
    def _empty_email(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _insurance_complete(self) -> Self:
        if self.insurance_policy_number and not self.insurance_payer:
            raise PydanticCustomError(
                "insurance_payer",
                "Give the insurer (payer) of this policy number",
                {"field": "insurance_payer"},
            )
        return self


class DuplicateDecision(StrEnum):
    NEW_PATIENT = "new_patient"


class DuplicateReview(BaseModel):
    """Reception's answer to the duplicate check: these candidates are different people."""

    model_config = ConfigDict(extra="forbid")

    decision: DuplicateDecision = DuplicateDecision.NEW_PATIENT
    candidate_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class PatientCreate(_Demographics):
    id: uuid.UUID | None = None
    given_name: Name
    family_name: Name
    birth_date: date | None = None
    estimated_age_years: Annotated[int | None, Field(ge=0, le=MAX_AGE_YEARS)] = None
    sex: Sex
    allergies: list[AllergyIn] = Field(default_factory=list, max_length=50)
    duplicate_review: DuplicateReview | None = None

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date | None) -> date | None:
        return None if value is None else check_birth_date(value)

    @model_validator(mode="after")
    def _birth_or_age(self) -> Self:
        if self.birth_date is None and self.estimated_age_years is None:
            raise PydanticCustomError(
                "birth_date_missing",
                "Give the date of birth, or an estimated age",
                {"field": "birth_date"},
            )
        return self

    @property
    def birth_date_estimated(self) -> bool:
        return self.birth_date is None

    def resolved_birth_date(self) -> date:
        if self.birth_date is not None:
            return self.birth_date
        assert self.estimated_age_years is not None
        return estimated_birth_date(self.estimated_age_years)


class PatientUpdate(_Demographics):
    """A partial update: only the fields present in the request change."""

    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: date | None = None
    birth_date_estimated: bool | None = None
    sex: Sex | None = None
    allergies: list[AllergyIn] | None = Field(default=None, max_length=50)
    expected_row_version: int | None = Field(
        default=None, description="The row_version the editor started from; a mismatch is a 409."
    )

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date | None) -> date | None:
        return None if value is None else check_birth_date(value)

    @field_validator("given_name", "family_name", "sex", "birth_date")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("required_field", "This cannot be emptied")
        return value


class PatientSummary(BaseModel):
    """One row of a search result."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    birth_date_estimated: bool
    sex: Sex
    phone: str | None


class PatientOut(PatientSummary):
    email: str | None
    address_line: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    preferred_language: str | None
    notify_by: NotifyBy | None = None
    next_of_kin_name: str | None
    next_of_kin_relationship: str | None
    next_of_kin_phone: str | None
    insurance_payer: str | None
    insurance_policy_number: str | None
    insurance_valid_until: date | None
    past_conditions: str | None
    past_surgeries: str | None
    allergies: list[AllergyOut]
    row_version: int
    created_at: datetime
    updated_at: datetime


class DuplicateCandidate(BaseModel):
    patient: PatientSummary
    reasons: list[str]


class DuplicateCheck(BaseModel):
    """The identifying fields the duplicate check compares."""

    model_config = ConfigDict(extra="ignore")

    given_name: Name
    family_name: Name
    birth_date: date | None = None
    estimated_age_years: Annotated[int | None, Field(ge=0, le=MAX_AGE_YEARS)] = None
    phone: Phone = None
