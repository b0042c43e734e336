"""Pure widget checks: the patient form, allergy banner, preferences (no server needed)."""

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from hms_core.schemas.auth import UserOut
from hms_core.schemas.patients import PatientCreate, PatientOut, Severity
from hms_desktop.session import CredentialVault, Prefs, Session
from hms_desktop.sync.api_client import ApiClient, ApiError
from hms_desktop.tasks import TaskManager
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.login_dialog import login_error_text
from hms_desktop.widgets.messages import birth_text
from hms_desktop.widgets.status_bar import ServerStatus, user_badge
from hms_desktop.workspaces.reception.allergies import AllergyRow
from hms_desktop.workspaces.reception.patient_form import (
    BIRTH_DATE_MISSING,
    PAYER_MISSING,
    PatientForm,
)
from hms_desktop.workspaces.reception.patient_view import allergy_summary
from tests.desktop.helpers import fill_form


def record(**changes: object) -> PatientOut:
    now = datetime.now(UTC)
    base = {
        "id": uuid.uuid4(),
        "mrn": "10000016",
        "given_name": "Ana",
        "family_name": "Lopez",
        "birth_date": date(1980, 2, 3),
        "birth_date_estimated": False,
        "sex": "female",
        "phone": "+34 600 000 000",
        **{k: None for k in PatientOut.model_fields if k.startswith(("email", "address", "city"))},
        **{
            k: None
            for k in (
                "region",
                "postal_code",
                "country",
                "preferred_language",
                "next_of_kin_name",
                "next_of_kin_relationship",
                "next_of_kin_phone",
                "insurance_payer",
                "insurance_policy_number",
                "insurance_valid_until",
                "past_conditions",
                "past_surgeries",
            )
        },
        "allergies": [],
        "row_version": 4,
        "created_at": now,
        "updated_at": now,
    }
    return PatientOut.model_validate({**base, **changes})


def test_cross_field_texts_match_the_schema():
    with pytest.raises(ValidationError) as caught:
        PatientCreate(given_name="A", family_name="B", sex="male")
    assert BIRTH_DATE_MISSING in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        PatientCreate(
            given_name="A",
            family_name="B",
            sex="male",
            estimated_age_years=3,
            insurance_policy_number="X1",
        )
    assert PAYER_MISSING in str(caught.value)


def test_all_errors_show_at_once(qtbot):
    form = PatientForm()
    qtbot.addWidget(form)
    fill_form(form, given_name="A", family_name="B", email="bad", insurance_policy_number="P1")
    with pytest.raises(ValidationError) as caught:
        form.to_create()
    form.show_validation_error(caught.value)
    assert form.error_text("birth_date") == BIRTH_DATE_MISSING
    assert form.error_text("insurance_payer") == PAYER_MISSING
    assert form.error_text("email").startswith("Not a valid email address")
    assert form.error_text("sex") == "This is required"


def test_editing_a_field_clears_its_error(qtbot):
    form = PatientForm()
    qtbot.addWidget(form)
    form.show_field_errors({"phone": "Bad"})
    qtbot.keyClicks(form.edits["phone"], "1")
    assert form.error_text("phone") == ""
    assert form.edits["phone"].property("invalid") is False


def test_update_sends_only_changed_fields(qtbot):
    original = record(
        allergies=[{"id": uuid.uuid4(), "substance": "Latex", "reaction": None, "severity": "mild"}]
    )
    form = PatientForm()
    qtbot.addWidget(form)
    form.load(original)
    assert form.to_update(original).model_fields_set == {"expected_row_version"}
    fill_form(form, city="Sevilla", phone="+34 600 000 001")
    update = form.to_update(original)
    assert update.model_dump(exclude_unset=True) == {
        "city": "Sevilla",
        "phone": "+34 600 000 001",
        "expected_row_version": 4,
    }
    form.allergies.set_allergies([AllergyRow("Peanut", "", Severity.SEVERE)])
    assert [a.substance for a in form.to_update(original).allergies] == ["Peanut"]


def test_estimated_age_kept_unless_changed(qtbot):
    original = record(birth_date=date(1970, 1, 1), birth_date_estimated=True)
    form = PatientForm()
    qtbot.addWidget(form)
    form.load(original)
    assert form.estimate_box.isChecked()
    assert form.to_update(original).model_fields_set == {"expected_row_version"}
    form.age_edit.setText("30")
    update = form.to_update(original)
    assert update.model_fields_set == {"birth_date", "expected_row_version"}
    assert update.birth_date.year == date.today().year - 30


def test_allergy_banner_levels():
    assert allergy_summary(record()) == ("No known allergies recorded", "none")
    mild = {"id": uuid.uuid4(), "substance": "Latex", "reaction": "rash", "severity": "mild"}
    severe = {"id": uuid.uuid4(), "substance": "Peanut", "reaction": None, "severity": "severe"}
    assert allergy_summary(record(allergies=[mild]))[1] == "present"
    text, level = allergy_summary(record(allergies=[mild, severe]))
    assert level == "severe" and "Latex (mild, rash)" in text and "Peanut (severe)" in text


def test_birth_text():
    assert birth_text(date(2000, 1, 1), True).startswith("~2000 (est.")
    assert birth_text(date(2000, 1, 1), False).startswith("2000-01-01 (")


def test_locked_account_message_gives_the_local_time():
    until = datetime(2030, 5, 1, 14, 30, tzinfo=UTC)
    exc = ApiError(423, "account_locked", "Locked", detail={"locked_until": until.isoformat()})
    text = login_error_text(exc)
    assert f"locked until {until.astimezone().strftime('%H:%M')}" in text


def test_prefs_round_trip_in_the_tmp_settings(desktop_dirs):
    prefs = Prefs()
    prefs.server_url = "ward-pc:8080"
    prefs.username = "ana"
    prefs.remember = True
    prefs.sync()
    again = Prefs()
    assert (again.server_url, again.username, again.remember) == (
        "http://ward-pc:8080",
        "ana",
        True,
    )
    assert any(desktop_dirs.settings.rglob("*.conf")) or any(desktop_dirs.settings.rglob("*.ini"))


def test_status_bar_shows_offline_when_the_server_is_unreachable(qtbot):
    user = UserOut(id=uuid.uuid4(), username="ana", full_name="Ana Reyes", role="doctor")
    session = Session("http://127.0.0.1:9", "token", user)
    tasks = TaskManager()
    ctx = AppContext(session, ApiClient(session.server_url), tasks, Prefs(), CredentialVault())
    status = ServerStatus(ctx)
    qtbot.addWidget(status)
    qtbot.waitUntil(lambda: status.online is False)
    assert status.text == "Offline — working on this computer; changes are kept"
    assert user_badge(ctx).text() == "Signed in as Ana Reyes · doctor"
    assert not session.can("patient.register") and session.can("patient.update")
    tasks.wait_for_done()
    ctx.api.close()
