"""Viewing and editing a record: allergy banner, changed fields only, 409 conflict, read-only."""

from tests.desktop.helpers import (
    SIGN_IN_TIMEOUT_MS,
    fill_form,
    record_requests,
    register_via_api,
    sign_in,
    writes,
)


def _open(qtbot, controller, live_server, role: str, patient: dict):  # noqa: ANN001, ANN201
    window = sign_in(qtbot, controller, live_server.url, live_server.users[role])
    workspace = next(iter(window.workspaces.values()))
    workspace.open_patient(patient["id"])
    qtbot.waitUntil(lambda: workspace.view.patient is not None, timeout=SIGN_IN_TIMEOUT_MS)
    return window, workspace.view


def test_edit_sends_changes_and_a_stale_version_is_a_conflict(qtbot, controller, live_server):
    patient = register_via_api(
        live_server,
        given_name="Lena",
        family_name="Fischer",
        birth_date="1979-11-02",
        allergies=[{"substance": "Aspirin", "severity": "mild"}],
    )
    _, view = _open(qtbot, controller, live_server, "reception", patient)
    assert view.allergy_banner.property("kind") == "present"
    view.edit_button.click()
    fill_form(view.form, phone="030 1234 5678")
    with live_server.client("reception") as http:  # someone at another desk saves first
        response = http.patch(
            f"/api/patients/{patient['id']}", json={"city": "Berlin", "expected_row_version": 1}
        )
    assert response.status_code == 200, response.text
    view.save_button.click()
    qtbot.waitUntil(lambda: view.conflict.isVisibleTo(view), timeout=SIGN_IN_TIMEOUT_MS)
    assert "Someone else changed this record" in view.conflict.label.text()
    view.conflict.button.click()
    qtbot.waitUntil(lambda: view.patient.city == "Berlin", timeout=SIGN_IN_TIMEOUT_MS)
    assert view.stack.currentIndex() == 0
    view.edit_button.click()
    fill_form(view.form, phone="030 1234 5678")
    with qtbot.waitSignal(view.patient_changed, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        view.save_button.click()
    saved = blocker.args[0]
    assert (saved.phone, saved.city, saved.row_version) == ("030 1234 5678", "Berlin", 3)
    assert [a.substance for a in saved.allergies] == ["Aspirin"]


def test_edit_validation_error_is_shown_beside_the_field(qtbot, controller, live_server):
    patient = register_via_api(
        live_server, given_name="Omar", family_name="Haddad", birth_date="1990-01-01", sex="male"
    )
    window, view = _open(qtbot, controller, live_server, "doctor", patient)
    sent = record_requests(window.ctx.api)
    view.edit_button.click()
    fill_form(view.form, family_name="", next_of_kin_phone="abc")
    view.save_button.click()
    assert view.form.error_text("family_name") == "This is required"
    assert "digits" in view.form.error_text("next_of_kin_phone")
    assert writes(sent) == []


def test_unchanged_edit_sends_nothing(qtbot, controller, live_server):
    patient = register_via_api(
        live_server, given_name="Ines", family_name="Silva", estimated_age_years=40
    )
    window, view = _open(qtbot, controller, live_server, "reception", patient)
    sent = record_requests(window.ctx.api)
    view.edit_button.click()
    assert view.form.estimate_box.isChecked()
    view.save_button.click()
    assert view.notice.label.text() == "No changes to save."
    assert writes(sent) == []


def test_lab_role_sees_the_record_read_only(qtbot, controller, live_server):
    patient = register_via_api(
        live_server,
        given_name="Yuki",
        family_name="Tanaka",
        birth_date="2001-05-05",
        allergies=[{"substance": "Peanut", "reaction": "anaphylaxis", "severity": "severe"}],
    )
    window, view = _open(qtbot, controller, live_server, "lab", patient)
    assert window.rail_titles() == ["Patients"]
    assert view.edit_button.isHidden()
    assert view.allergy_banner.property("kind") == "severe"
    assert "Peanut (severe, anaphylaxis)" in view.allergy_banner.label.text()
