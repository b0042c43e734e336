from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from hms_core.schemas.errors import field_errors
from hms_core.schemas.patients import PatientCreate, PatientUpdate

VALID = {
    "given_name": "Amina",
    "family_name": "Okafor",
    "birth_date": "1990-05-01",
    "sex": "female",
}


def errors_of(**changes):
    with pytest.raises(ValidationError) as caught:
        PatientCreate.model_validate({**VALID, **changes})
    return {e.field: e.message for e in field_errors(caught.value)}


def test_valid_minimal_patient():
    patient = PatientCreate.model_validate(VALID)
    assert patient.resolved_birth_date() == date(1990, 5, 1)
    assert not patient.birth_date_estimated


def test_future_birth_date_is_refused_in_plain_words():
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert errors_of(birth_date=tomorrow) == {"birth_date": "Date of birth cannot be in the future"}


def test_impossible_age_is_refused():
    assert "over 130" in errors_of(birth_date="1850-01-01")["birth_date"]
    assert errors_of(birth_date=None, estimated_age_years=200) == {
        "estimated_age_years": "Must be at most 130"
    }


def test_estimated_age_gives_a_flagged_birth_date():
    patient = PatientCreate.model_validate({**VALID, "birth_date": None, "estimated_age_years": 40})
    assert patient.birth_date_estimated
    assert date.today().year - patient.resolved_birth_date().year == 40


def test_missing_names():
    problems = errors_of(given_name="   ", family_name=None)
    assert problems == {"given_name": "This is required", "family_name": "This is required"}


def test_missing_birth_date_is_reported_beside_the_field():
    problems = errors_of(birth_date=None)
    assert problems == {"birth_date": "Give the date of birth, or an estimated age"}


def test_malformed_contact_details():
    problems = errors_of(phone="call me", email="not-an-email")
    assert "only digits" in problems["phone"]
    assert "email" in problems["email"].lower()


def test_oversized_and_hostile_input():
    assert errors_of(given_name="A" * 101)["given_name"] == "Too long: at most 100 characters"
    assert "control characters" in errors_of(family_name="Bad\x00Name")["family_name"]
    assert errors_of(unexpected="x") == {"unexpected": "Unknown field"}


def test_names_are_tidied():
    patient = PatientCreate.model_validate({**VALID, "given_name": "  Mary   Ann "})
    assert patient.given_name == "Mary Ann"


def test_update_cannot_empty_identity_fields():
    with pytest.raises(ValidationError):
        PatientUpdate.model_validate({"given_name": None})
    assert PatientUpdate.model_validate({"city": "Lakeside"}).model_fields_set == {"city"}
