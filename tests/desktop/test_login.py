"""Signing in against a live server: rails per role, wrong password, remember me, sign out."""

import re

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QApplication

from hms_desktop.app import AppController, parse_args
from hms_desktop.session import NO_KEYRING_MESSAGE, CredentialVault, Prefs
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, close_controller, fill_login, sign_in


def test_good_password_opens_the_main_window_with_the_roles_rail(qtbot, controller, live_server):
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    assert window.isVisible()
    assert window.rail_titles() == ["Reception", "Appointments", "Conflicts"]
    assert controller.login_dialog is None
    assert window.windowTitle().startswith("hms — ")
    qtbot.waitUntil(lambda: window.server_status.online is True, timeout=SIGN_IN_TIMEOUT_MS)


@pytest.mark.parametrize(
    ("role", "rail"),
    [
        ("reception", ["Reception", "Appointments", "Conflicts"]),
        ("doctor", ["Patients", "Clinic", "Ward", "ICU station"]),
        ("nurse", ["Patients", "Ward", "ICU station"]),
        ("lab", ["Patients", "Lab"]),
        ("pharmacy", ["Patients", "Pharmacy"]),
        ("billing", ["Patients", "Billing"]),
        (
            "admin",
            [
                "Reception",
                "Appointments",
                "Clinic",
                "Ward",
                "ICU station",
                "Billing",
                "Lab",
                "Pharmacy",
                "Conflicts",
                "Doctors' hours",
                "Price list",
                "Audit log",
            ],
        ),
    ],
)
def test_each_role_sees_only_its_workspaces(qtbot, controller, live_server, role, rail):
    window = sign_in(qtbot, controller, live_server.url, live_server.users[role])
    assert window.rail_titles() == rail


def test_reception_can_register_and_doctor_cannot(qtbot, controller, live_server):
    reception = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    assert reception.workspaces["reception"].search_panel.register_button.isVisibleTo(reception)
    controller._on_signed_out("")
    doctor = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    workspace = doctor.workspaces["patients"]
    assert not workspace.search_panel.register_button.isVisibleTo(doctor)
    assert workspace.registration is None
    assert "reception" not in doctor.workspaces


def test_wrong_password_shows_plain_error_and_stays_on_dialog(qtbot, controller, live_server):
    username, _ = live_server.users["reception"]
    dialog = controller.show_login()
    fill_login(dialog, live_server.url, username, "not-the-password")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=SIGN_IN_TIMEOUT_MS)
    assert "Wrong username or password" in dialog.error_label.text()
    assert dialog.isVisible()
    assert controller.window is None
    assert dialog.password_edit.text() == ""
    assert dialog.sign_in_button.isEnabled()


def test_missing_password_is_caught_before_any_request(qtbot, controller):
    dialog = controller.show_login()
    fill_login(dialog, "http://127.0.0.1:9", "ana", "")
    dialog.sign_in_button.click()
    assert dialog.error_label.text() == "Enter your password."
    assert not controller.tasks.busy


def test_unreachable_server_is_explained(qtbot, controller):
    dialog = controller.show_login()
    fill_login(dialog, "http://127.0.0.1:9", "ana", "secret")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=SIGN_IN_TIMEOUT_MS)
    text = dialog.error_label.text()
    assert "server cannot be reached" in text and "not signed in on this computer" in text


def test_remember_me_keeps_the_token_in_the_keyring_only(
    qtbot, controller, live_server, memory_keyring, desktop_dirs
):
    username, _ = live_server.users["reception"]
    window = sign_in(
        qtbot, controller, live_server.url, live_server.users["reception"], remember=True
    )
    token = window.ctx.session.token
    assert memory_keyring.items == {("hms", f"{live_server.url}|{username}"): token}
    Prefs().sync()
    written = [p for p in desktop_dirs.root.rglob("*") if p.is_file()]
    assert written, "prefs and the client id should have been written somewhere under tmp"
    for path in written:
        assert token.encode() not in path.read_bytes(), f"token leaked into {path}"


def test_remembered_token_skips_the_password(qtbot, controller, live_server, memory_keyring):
    sign_in(qtbot, controller, live_server.url, live_server.users["doctor"], remember=True)
    close_controller(controller)
    again = AppController(prefs=Prefs(), vault=CredentialVault())
    try:
        with qtbot.waitSignal(again.main_window_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
            again.start()
        assert blocker.args[0].rail_titles() == ["Patients", "Clinic", "Ward", "ICU station"]
    finally:
        close_controller(again)


def test_expired_remembered_token_asks_for_the_password(
    qtbot, controller, live_server, memory_keyring
):
    username, _ = live_server.users["doctor"]
    prefs = Prefs()
    prefs.server_url, prefs.username, prefs.remember = live_server.url, username, True
    memory_keyring.set_password("hms", f"{live_server.url}|{username}", "revoked-token")
    controller.start()
    dialog = controller.login_dialog
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=SIGN_IN_TIMEOUT_MS)
    assert "expired" in dialog.error_label.text()
    assert memory_keyring.items == {}
    assert controller.window is None


def test_sign_out_revokes_and_forgets_the_token(qtbot, controller, live_server, memory_keyring):
    window = sign_in(
        qtbot, controller, live_server.url, live_server.users["reception"], remember=True
    )
    token = window.ctx.session.token
    with qtbot.waitSignal(controller.login_shown, timeout=SIGN_IN_TIMEOUT_MS):
        window.logout_action.trigger()
    assert memory_keyring.items == {}
    with live_server.client() as http:
        response = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_remember_me_is_disabled_without_a_keyring(qtbot, controller):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    dialog = controller.show_login()
    assert not dialog.remember_box.isEnabled()
    assert not dialog.remember_box.isChecked()
    assert dialog.remember_note.text() == NO_KEYRING_MESSAGE
    assert CredentialVault().save_token("http://x", "ana", "t") is False
    assert CredentialVault().load_token("http://x", "ana") is None
    CredentialVault().forget("http://x", "ana")
    QApplication.processEvents()


def test_expired_session_returns_to_sign_in_with_a_message(qtbot, controller, live_server):
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    token = window.ctx.session.token
    with live_server.client() as http:  # the token is revoked behind the window's back
        http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    with qtbot.waitSignal(controller.login_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        window.sync_indicator.sync_button.click()
    dialog = blocker.args[0]
    assert dialog.error_label.isVisibleTo(dialog)
    assert dialog.error_label.text()
    assert controller.window is None


def test_command_line_prefills_the_dialog(qtbot, styled_app):
    args = parse_args(["--server", "ward-pc:8080", "--username", "nurse1"], Prefs())
    ctrl = AppController(
        server_url=args.server, username=args.username, password="demo-pass", prefs=Prefs()
    )
    try:
        ctrl.start()
        dialog = ctrl.login_dialog
        assert dialog.server_edit.text() == "http://ward-pc:8080"
        assert dialog.username_edit.text() == "nurse1"
        assert dialog.password_edit.text() == "demo-pass"
        assert not ctrl.tasks.busy  # no remembered sign-in is tried when told who to be
    finally:
        close_controller(ctrl)


def test_locked_account_says_until_when(qtbot, controller, live_server):
    username, password = live_server.users["nurse"]
    with live_server.client() as http:
        for _ in range(live_server.settings.max_failed_logins):
            http.post("/api/auth/login", json={"username": username, "password": "wrong"})
    dialog = controller.show_login()
    fill_login(dialog, live_server.url, username, password)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=SIGN_IN_TIMEOUT_MS)
    assert re.search(r"locked until \d\d:\d\d", dialog.error_label.text()), (
        dialog.error_label.text()
    )
    assert controller.window is None
