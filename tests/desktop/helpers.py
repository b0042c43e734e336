"""Helpers for desktop tests: sign in through the dialog, wait for background work, shots."""

import os
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from hms_desktop.app import AppController, shutdown_context
from hms_desktop.main_window import MainWindow
from hms_desktop.widgets.login_dialog import LoginDialog

SIGN_IN_TIMEOUT_MS = 20_000


def close_controller(ctrl: AppController) -> None:
    """Close the controller's windows and let its background tasks finish (idempotent)."""
    if not shiboken6.isValid(ctrl):
        return
    window, dialog = ctrl.window, ctrl.login_dialog
    ctrl.window = ctrl.login_dialog = None
    for widget in (window, dialog):
        if widget is not None and shiboken6.isValid(widget):
            widget.close()
            widget.deleteLater()
    ctrl.tasks.wait_for_done()
    QApplication.processEvents()
    if window is not None:
        shutdown_context(window.ctx)
    ctrl.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def fill_login(dialog: LoginDialog, url: str, username: str, password: str) -> None:
    dialog.server_edit.setText(url)
    dialog.username_edit.setText(username)
    dialog.password_edit.setText(password)


def sign_in(
    qtbot,  # noqa: ANN001
    ctrl: AppController,
    url: str,
    credentials: tuple[str, str],
    *,
    remember: bool = False,
) -> MainWindow:
    """Sign in through the login dialog and return the main window."""
    dialog = ctrl.show_login()
    fill_login(dialog, url, *credentials)
    dialog.remember_box.setChecked(remember)
    with qtbot.waitSignal(ctrl.main_window_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        dialog.sign_in_button.click()
    window = blocker.args[0]
    assert isinstance(window, MainWindow)
    wait_synced(qtbot, window)
    return window


def wait_synced(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    """Wait until the window's cache holds the server's data (first sync done)."""
    store = window.ctx.sync.store
    qtbot.waitUntil(lambda: store.get_state("last_seq") is not None, timeout=SIGN_IN_TIMEOUT_MS)


def wait_idle(qtbot, ctrl: AppController) -> None:  # noqa: ANN001
    """Wait until every background task has delivered its result."""
    qtbot.waitUntil(lambda: not ctrl.tasks.busy, timeout=SIGN_IN_TIMEOUT_MS)


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $HMS_SHOTS_DIR when set, else the test's tmp dir."""
    path = Path(os.environ.get("HMS_SHOTS_DIR") or tmp_path / "shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def register_via_api(live_server, **fields: object) -> dict:  # noqa: ANN001
    """Register a patient straight through the HTTP API (as another reception PC would)."""
    body = {"sex": "female", **fields}
    with live_server.client("reception") as http:
        response = http.post("/api/patients", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def server_search(live_server, query: str) -> list[dict]:  # noqa: ANN001
    with live_server.client("reception") as http:
        response = http.get("/api/patients", params={"q": query})
    assert response.status_code == 200, response.text
    return response.json()


def fill_form(form, **values: str) -> None:  # noqa: ANN001
    """Type values into a PatientForm: text fields by key, plus `sex`."""
    for key, value in values.items():
        if key == "sex":
            form.sex_combo.setCurrentIndex(form.sex_combo.findData(value))
        elif key in form.notes:
            form.notes[key].setPlainText(value)
        else:
            form.edits[key].setText(value)


def record_requests(api) -> list[tuple[str, str]]:  # noqa: ANN001
    """Record (method, path) of every request `api` sends from now on."""
    sent: list[tuple[str, str]] = []
    original = api._send

    def spy(method: str, path: str, **kwargs: object):  # noqa: ANN202
        sent.append((method, path))
        return original(method, path, **kwargs)

    api._send = spy
    return sent


def writes(sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The requests that would change patient data."""
    return [(m, p) for m, p in sent if m != "GET" and p.startswith("/api/patients")]
