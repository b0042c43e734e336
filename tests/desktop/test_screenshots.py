"""Grab what a person would see (offscreen) to PNG; set HMS_SHOTS_DIR to keep the files."""

from datetime import date, timedelta

from PySide6.QtWidgets import QApplication, QWidget

from hms_core.schemas.patients import Severity
from hms_desktop.workspaces.reception.allergies import AllergyRow
from tests.desktop.helpers import (
    SIGN_IN_TIMEOUT_MS,
    fill_form,
    fill_login,
    register_via_api,
    shots_dir,
    sign_in,
)

PEOPLE = [
    ("Chidi", "Okafor", "1984-02-17", "male", "+234 803 555 0101"),
    ("Ngozi", "Okoro", "1992-09-03", "female", "+234 803 555 0102"),
    ("Emeka", "Okonkwo", "1958-12-24", "male", None),
    ("Adaeze", "Okeke", "2015-06-30", "female", "+234 803 555 0104"),
    ("Oluwaseun", "Okafor-Adeyemi", "1979-04-08", "other", "+234 803 555 0105"),
]


def save(widget: QWidget, path) -> None:  # noqa: ANN001
    QApplication.processEvents()
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 5_000


def test_screenshots(qtbot, controller, live_server, tmp_path):
    out = shots_dir(tmp_path)
    for given, family, born, sex, phone in PEOPLE:
        register_via_api(
            live_server,
            given_name=given,
            family_name=family,
            birth_date=born,
            sex=sex,
            phone=phone,
            allergies=[{"substance": "Penicillin", "reaction": "hives", "severity": "severe"}],
        )

    dialog = controller.show_login()
    fill_login(dialog, live_server.url, live_server.users["reception"][0], "wrong-password")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=SIGN_IN_TIMEOUT_MS)
    dialog.adjustSize()
    save(dialog, out / "login_error.png")
    dialog.show_error("")
    dialog.adjustSize()
    save(dialog, out / "login.png")
    dialog.close()

    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    window.resize(1360, 860)
    qtbot.waitUntil(lambda: window.server_status.online is True, timeout=SIGN_IN_TIMEOUT_MS)
    workspace = window.workspaces["reception"]
    panel = workspace.search_panel
    with qtbot.waitSignal(panel.results_shown, timeout=SIGN_IN_TIMEOUT_MS):
        panel.search("oka")
    save(window, out / "main_search_results.png")

    box = window.search_box
    box.setFocus()
    with qtbot.waitSignal(box.results_shown, timeout=SIGN_IN_TIMEOUT_MS):
        qtbot.keyClicks(box, "ok")
    save(box.popup, out / "global_search_popup.png")
    box.popup.hide()

    panel.register_button.click()
    page = workspace.registration
    future = (date.today() + timedelta(days=10)).isoformat()
    fill_form(page.form, family_name="Okafor", birth_date=future, phone="0803-55x", sex="male")
    fill_form(page.form, email="chidi@", insurance_policy_number="NHIS-1234")
    page.form.allergies.set_allergies(
        [AllergyRow("Penicillin", "anaphylaxis", Severity.SEVERE), AllergyRow("", "rash")]
    )
    page.save_button.click()
    save(window, out / "registration_errors.png")
    save(page.form, out / "registration_form_full.png")

    fill_form(page.form, given_name="Chidi", birth_date="1984-02-17", phone="", email="")
    fill_form(page.form, insurance_policy_number="")
    page.form.allergies.set_allergies(
        [AllergyRow("Penicillin", "anaphylaxis", Severity.SEVERE), AllergyRow("Latex", "rash")]
    )
    page.save_button.click()
    qtbot.waitUntil(lambda: page.duplicate_dialog is not None, timeout=SIGN_IN_TIMEOUT_MS)
    page.duplicate_dialog.adjustSize()
    save(page.duplicate_dialog, out / "duplicate_dialog.png")
    with qtbot.waitSignal(page.registered, timeout=SIGN_IN_TIMEOUT_MS):
        page.duplicate_dialog.new_button.click()
    save(window, out / "patient_registered.png")

    admin = sign_in(qtbot, controller, live_server.url, live_server.users["admin"])
    admin.resize(1360, 860)
    admin.rail.button("audit").click()
    viewer = admin.workspaces["audit"]
    qtbot.waitUntil(lambda: viewer.model.rowCount() > 0, timeout=SIGN_IN_TIMEOUT_MS)
    save(admin, out / "audit_log.png")
