"""Viewing and editing a record: allergy banner, changed fields only, 409 conflict, read-only."""

from tests.desktop.helpers import (
    SIGN_IN_TIMEOUT_MS,
    fill_form,
    register_via_api,
    sign_in,
)


def _open(qtbot, controller, live_server, role: str, patient: dict):  # noqa: ANN001, ANN201
    window = sign_in(qtbot, controller, live_server.url, live_server.users[role])
    workspace = next(iter(window.workspaces.values()))
    workspace.open_patient(patient["id"])
    qtbot.waitUntil(lambda: workspace.view.patient is not None, timeout=SIGN_IN_TIMEOUT_MS)
    return window, workspace.view


def test_edit_merges_with_a_change_saved_at_another_desk(qtbot, controller, live_server):
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
    with qtbot.waitSignal(view.patient_changed, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        view.save_button.click()
    assert blocker.args[0].phone == "030 1234 5678"

    def on_server() -> dict:
        with live_server.client("reception") as http:
            return http.get(f"/api/patients/{patient['id']}").json()

    qtbot.waitUntil(lambda: on_server()["phone"] == "030 1234 5678", timeout=SIGN_IN_TIMEOUT_MS)
    merged = on_server()
    assert (merged["city"], merged["row_version"]) == ("Berlin", 3)
    assert [a["substance"] for a in merged["allergies"]] == ["Aspirin"]


def queued(window) -> int:  # noqa: ANN001
    """Changes waiting in the window's outbox."""
    return window.ctx.sync.store.counts()["pending"]


def test_edit_validation_error_is_shown_beside_the_field(qtbot, controller, live_server):
    patient = register_via_api(
        live_server, given_name="Omar", family_name="Haddad", birth_date="1990-01-01", sex="male"
    )
    window, view = _open(qtbot, controller, live_server, "doctor", patient)
    view.edit_button.click()
    fill_form(view.form, family_name="", next_of_kin_phone="abc")
    view.save_button.click()
    assert view.form.error_text("family_name") == "This is required"
    assert "digits" in view.form.error_text("next_of_kin_phone")
    assert queued(window) == 0


def test_unchanged_edit_sends_nothing(qtbot, controller, live_server):
    patient = register_via_api(
        live_server, given_name="Ines", family_name="Silva", estimated_age_years=40
    )
    window, view = _open(qtbot, controller, live_server, "reception", patient)
    view.edit_button.click()
    assert view.form.estimate_box.isChecked()
    view.save_button.click()
    assert view.notice.label.text() == "No changes to save."
    assert queued(window) == 0


def test_lab_role_sees_the_record_read_only(qtbot, controller, live_server):
    patient = register_via_api(
        live_server,
        given_name="Yuki",
        family_name="Tanaka",
        birth_date="2001-05-05",
        allergies=[{"substance": "Peanut", "reaction": "anaphylaxis", "severity": "severe"}],
    )
    window, view = _open(qtbot, controller, live_server, "lab", patient)
    assert window.rail_titles() == ["Patients", "Lab"]
    assert view.edit_button.isHidden()
    assert view.allergy_banner.property("kind") == "severe"
    assert "Peanut (severe, anaphylaxis)" in view.allergy_banner.label.text()
