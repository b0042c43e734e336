"""Plain-words descriptions of failures, and small display helpers."""

from datetime import date, datetime
from typing import Protocol

from pydantic import ValidationError

from hms_core.services.errors import DomainError
from hms_desktop.store.mrns import NoMrnLeft
from hms_desktop.sync.api_client import ApiError, ServerUnreachable


def describe_error(exc: BaseException) -> str:
    """A sentence a nurse understands for any failure of a background task."""
    if isinstance(exc, ApiError | ServerUnreachable | DomainError | NoMrnLeft):
        return str(getattr(exc, "message", exc))
    if isinstance(exc, ValidationError):
        return "Some of the data was not valid; check the form and try again."
    return f"Something went wrong: {exc}. Try again, or ask IT."


def local_time(moment: datetime) -> str:
    """A timestamp in this PC's time zone, as YYYY-MM-DD HH:MM."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def age_years(birth: date, today: date | None = None) -> int:
    """Completed years of age on `today`."""
    today = today or date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def birth_text(birth: date, estimated: bool) -> str:
    """'1980-02-03 (45 y)', or '~1980 (est. 45 y)' for an estimated birth date."""
    years = age_years(birth)
    if estimated:
        return f"~{birth.year} (est. {years} y)"
    return f"{birth.isoformat()} ({years} y)"


class _Named(Protocol):
    given_name: str
    family_name: str


def patient_name(patient: _Named) -> str:
    """'FAMILY, Given', as printed on wristbands."""
    return f"{patient.family_name.upper()}, {patient.given_name}"
