"""Registering patients through the reception workspace against a live server."""

from datetime import date, timedelta

from hms_core.rules.mrn import is_valid_mrn
from hms_core.schemas.patients import Severity
from hms_desktop.workspaces.reception.allergies import AllergyRow
from tests.desktop.helpers import (
    SIGN_IN_TIMEOUT_MS,
    fill_form,
    register_via_api,
    server_search,
    sign_in,
)


def open_registration(qtbot, controller, live_server):  # noqa: ANN001, ANN201
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    workspace = window.workspaces["reception"]
    workspace.search_panel.register_button.click()
    assert workspace.stack.currentWidget() is workspace.registration
    return window, workspace, workspace.registration


def is_beside(row) -> bool:  # noqa: ANN001
    """The error label sits on the same line as its field, to the right of it."""
    field, error = row.widget.geometry(), row.error.geometry()
    return error.left() > field.left() and abs(error.top() - field.top()) < field.height()


def test_invalid_registration_shows_errors_beside_fields_and_saves_nothing(
    qtbot, controller, live_server
):
    window, workspace, page = open_registration(qtbot, controller, live_server)
    future = (date.today() + timedelta(days=3)).isoformat()
    fill_form(page.form, birth_date=future, phone="12-ab-34", sex="female")
    page.save_button.click()
    form = page.form
    assert form.error_text("given_name") == "This is required"
    assert form.error_text("family_name") == "This is required"
    assert form.error_text("birth_date") == "Date of birth cannot be in the future"
    assert "only digits" in form.error_text("phone")
    assert form.error_text("sex") == ""
    for key in ("given_name", "family_name", "birth_date", "phone"):
        assert form.rows[key].error.isVisibleTo(window)
        assert is_beside(form.rows[key]), key
        assert form.rows[key].widget.property("invalid") is True
    assert "Nothing was saved" in page.status_label.text()
    assert window.ctx.sync.store.counts()["pending"] == 0  # nothing was even queued

    fill_form(form, given_name="Valentina", family_name="Okonkwo-Smith", phone="0712 345 678")
    page.save_button.click()
    assert form.error_text("given_name") == ""
    assert form.error_text("phone") == ""
    assert form.error_text("birth_date") == "Date of birth cannot be in the future"
    assert server_search(live_server, "valentina okonkwo") == []
    assert window.ctx.sync.store.counts()["pending"] == 0


def test_missing_birth_date_and_bad_email_and_allergy(qtbot, controller, live_server):
    _, _, page = open_registration(qtbot, controller, live_server)
    fill_form(page.form, given_name="Ana", family_name="Lopez", sex="female", email="ana@")
    page.form.allergies.set_allergies([AllergyRow(substance="", reaction="rash")])
    page.save_button.click()
    assert page.form.error_text("birth_date") == "Give the date of birth, or an estimated age"
    assert "email" in page.form.error_text("email").lower()
    assert page.form.error_text("allergies").startswith("Allergy 1:")


def test_server_field_errors_are_shown_beside_fields(qtbot, controller, live_server):
    _, _, page = open_registration(qtbot, controller, live_server)
    page.form.show_field_errors({"birth_date": "Too old", "mrn": "In use"})
    assert page.form.error_text("birth_date") == "Too old"
    assert page.form.general_error.text() == "In use"


def test_successful_registration_shows_a_valid_mrn(qtbot, controller, live_server):
    _, workspace, page = open_registration(qtbot, controller, live_server)
    fill_form(
        page.form,
        given_name="  Kwame ",
        family_name="Mensah",
        birth_date="1988-07-21",
        sex="male",
        phone="+233 24 123 4567",
        city="Kumasi",
        next_of_kin_name="Akua Mensah",
        insurance_payer="NHIS",
        insurance_policy_number="P-9981",
        past_conditions="Asthma since childhood",
    )
    page.form.allergies.set_allergies(
        [AllergyRow("Penicillin", "anaphylaxis", Severity.SEVERE), AllergyRow("Latex")]
    )
    with qtbot.waitSignal(page.registered, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        page.save_button.click()
    patient = blocker.args[0]
    view = workspace.view
    assert workspace.stack.currentWidget() is view
    assert is_valid_mrn(view.mrn_label.text())
    assert view.mrn_label.text() == patient.mrn
    assert patient.mrn in view.notice.label.text() and view.notice.isVisibleTo(view)
    assert view.allergy_banner.property("kind") == "severe"
    assert "Penicillin" in view.allergy_banner.label.text()
    assert view.name_label.text() == "MENSAH, Kwame"
    qtbot.waitUntil(
        lambda: [p["mrn"] for p in server_search(live_server, "mensah kwame")] == [patient.mrn],
        timeout=SIGN_IN_TIMEOUT_MS,
    )


def test_estimated_age_registration(qtbot, controller, live_server):
    _, workspace, page = open_registration(qtbot, controller, live_server)
    fill_form(page.form, given_name="Unknown", family_name="Traveller", sex="unknown")
    page.form.estimate_box.setChecked(True)
    page.form.age_edit.setText("60")
    with qtbot.waitSignal(page.registered, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        page.save_button.click()
    assert blocker.args[0].birth_date_estimated
    assert "est. 60 y" in workspace.view.facts_label.text()


def _start_duplicate(qtbot, controller, live_server):  # noqa: ANN001, ANN201
    existing = register_via_api(
        live_server, given_name="Maria", family_name="Gonzalez", birth_date="1975-04-12"
    )
    _, workspace, page = open_registration(qtbot, controller, live_server)
    fill_form(
        page.form,
        given_name="María",
        family_name="González",
        birth_date="1975-04-12",
        sex="female",
        phone="555 0101 22",
    )
    page.save_button.click()
    qtbot.waitUntil(
        lambda: page.duplicate_dialog is not None and page.duplicate_dialog.isVisible(),
        timeout=SIGN_IN_TIMEOUT_MS,
    )
    return existing, workspace, page, page.duplicate_dialog


def test_duplicate_dialog_same_patient_opens_existing_record(qtbot, controller, live_server):
    existing, workspace, page, dialog = _start_duplicate(qtbot, controller, live_server)
    assert dialog.model.rowCount() == 1
    assert dialog.model.data(dialog.model.index(0, 0)) == existing["mrn"]
    assert "same date of birth" in dialog.model.data(dialog.model.index(0, 5))
    with qtbot.waitSignal(page.existing_chosen, timeout=SIGN_IN_TIMEOUT_MS):
        dialog.same_button.click()
    assert workspace.view.mrn_label.text() == existing["mrn"]
    assert len(server_search(live_server, "gonzalez maria")) == 1

    def audited() -> list[str]:
        with live_server.client("admin") as http:
            events = http.get("/api/audit", params={"patient_id": existing["id"]}).json()
        return [e["action"] for e in events]

    qtbot.waitUntil(lambda: "patient.duplicate_review" in audited(), timeout=SIGN_IN_TIMEOUT_MS)
    assert "patient.read" in audited()  # the read from this PC's cache is audited too


def test_duplicate_dialog_new_patient_registers_anyway(qtbot, controller, live_server):
    existing, workspace, page, dialog = _start_duplicate(qtbot, controller, live_server)
    with qtbot.waitSignal(page.registered, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        dialog.new_button.click()
    new = blocker.args[0]
    assert new.mrn != existing["mrn"] and is_valid_mrn(new.mrn)
    qtbot.waitUntil(
        lambda: len(server_search(live_server, "gonzalez maria")) == 2,
        timeout=SIGN_IN_TIMEOUT_MS,
    )


def test_look_alike_arriving_after_the_check_opens_the_same_dialog(qtbot, controller, live_server):
    register_via_api(live_server, given_name="Tomas", family_name="Novak", birth_date="1960-01-30")
    window, workspace, page = open_registration(qtbot, controller, live_server)
    window.ctx.patients.check_duplicates = lambda check: []  # as if it arrived meanwhile
    fill_form(
        page.form, given_name="Tomas", family_name="Novak", birth_date="1960-01-30", sex="male"
    )
    page.save_button.click()
    qtbot.waitUntil(lambda: page.duplicate_dialog is not None, timeout=SIGN_IN_TIMEOUT_MS)
    with qtbot.waitSignal(page.registered, timeout=SIGN_IN_TIMEOUT_MS):
        page.duplicate_dialog.new_button.click()
    qtbot.waitUntil(
        lambda: len(server_search(live_server, "novak tomas")) == 2, timeout=SIGN_IN_TIMEOUT_MS
    )
