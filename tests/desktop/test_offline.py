"""The desktop with the server stopped: search, register, sign in; then everything arrives."""

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from sqlalchemy import update

from hms_core.db import User
from hms_core.rules.mrn import is_valid_mrn
from hms_core.schemas.patients import PatientUpdate
from hms_server.app import create_app
from tests.conftest import RestartableServer, free_port
from tests.desktop.helpers import (
    SIGN_IN_TIMEOUT_MS,
    fill_form,
    fill_login,
    register_via_api,
    server_search,
    shots_dir,
    sign_in,
)
from tests.sync.helpers import make_pc, new_patient


@pytest.fixture
def server(live_server) -> Iterator[RestartableServer]:  # noqa: ANN001
    """The test's database served on a second port that the test may stop and restart."""
    running = RestartableServer(create_app(live_server.settings, live_server.db), free_port())
    running.start()
    yield running
    running.stop()


def go_offline(qtbot, window, server: RestartableServer) -> None:  # noqa: ANN001
    server.stop()
    window.sync_indicator.sync_button.click()
    qtbot.waitUntil(lambda: window.server_status.online is False, timeout=SIGN_IN_TIMEOUT_MS)


def test_reception_searches_and_registers_with_the_server_stopped(
    qtbot, controller, live_server, server, tmp_path
):
    known = register_via_api(
        live_server, given_name="Amara", family_name="Diallo", birth_date="1991-03-09"
    )
    window = sign_in(qtbot, controller, server.url, server.users["reception"])
    window.resize(1360, 860)
    go_offline(qtbot, window, server)
    assert window.server_status.text.startswith("Offline")

    workspace = window.workspaces["reception"]
    with qtbot.waitSignal(workspace.search_panel.results_shown, timeout=SIGN_IN_TIMEOUT_MS):
        workspace.search_panel.search("dia ama")
    assert workspace.search_panel.model.record(0).mrn == known["mrn"]

    workspace.search_panel.register_button.click()
    page = workspace.registration
    fill_form(page.form, given_name="Kofi", family_name="Boateng", birth_date="1966-10-01")
    fill_form(page.form, sex="male", phone="024 555 0199")
    with qtbot.waitSignal(page.registered, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        page.save_button.click()
    offline_mrn = blocker.args[0].mrn
    assert is_valid_mrn(offline_mrn) and offline_mrn in workspace.view.notice.label.text()
    indicator = window.sync_indicator
    qtbot.waitUntil(
        lambda: indicator.pending_label.text() == "1 change waiting to be sent",
        timeout=SIGN_IN_TIMEOUT_MS,
    )
    QApplication.processEvents()
    assert window.grab().save(str(shots_dir(tmp_path) / "offline_pending.png"))

    server.start()
    indicator.sync_button.click()
    qtbot.waitUntil(
        lambda: indicator.pending_label.text() == "All changes sent", timeout=SIGN_IN_TIMEOUT_MS
    )
    assert window.server_status.online is True
    found = server_search(live_server, "boateng kofi")
    assert [p["mrn"] for p in found] == [offline_mrn]  # the MRN on the wristband is kept


def test_offline_sign_in_for_a_user_who_signed_in_here_before(
    qtbot, controller, live_server, server
):
    username, password = server.users["nurse"]
    window = sign_in(qtbot, controller, server.url, (username, password))
    server.stop()
    with qtbot.waitSignal(controller.login_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        window.logout()
    dialog = blocker.args[0]

    fill_login(dialog, server.url, username, "not-the-password")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=SIGN_IN_TIMEOUT_MS)
    assert "Wrong username or password" in dialog.error_label.text()

    fill_login(dialog, server.url, username, password)
    with qtbot.waitSignal(controller.main_window_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        dialog.sign_in_button.click()
    offline = blocker.args[0]
    assert offline.ctx.session.offline
    assert offline.rail_titles() == ["Patients", "Ward", "ICU station"]  # cached permissions

    server.start()  # back online: the desktop signs in with the server by itself
    offline.sync_indicator.sync_button.click()
    qtbot.waitUntil(lambda: offline.ctx.api.token is not None, timeout=SIGN_IN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: offline.server_status.online is True, timeout=SIGN_IN_TIMEOUT_MS)


def test_conflict_inbox_compares_two_registrations_and_merges(
    qtbot, controller, live_server, server, tmp_path
):
    first, second = make_pc(live_server, tmp_path / "a"), make_pc(live_server, tmp_path / "b")
    for pc in (first, second):
        pc.engine.sync_once()
    kept = first.patients.register_patient(
        new_patient("Fatima", "Bello", born="1983-05-21", phone="0803 555 0110", city="Kano")
    )
    other = second.patients.register_patient(
        new_patient("Fatimah", "Bello", born="1983-05-21", city="Kano State")
    )
    for pc in (first, second):
        pc.engine.sync_once()
        pc.close()

    window = sign_in(qtbot, controller, server.url, server.users["reception"])
    window.resize(1360, 860)
    indicator = window.sync_indicator
    qtbot.waitUntil(lambda: indicator.conflicts_button.isVisibleTo(window), timeout=5000)
    assert indicator.conflicts_button.text() == "1 conflict to resolve"
    indicator.conflicts_button.click()
    inbox = window.workspaces["conflicts"]
    qtbot.waitUntil(lambda: inbox.current is not None, timeout=SIGN_IN_TIMEOUT_MS)
    rows = {inbox.comparison.index(r, 0).data(): r for r in range(inbox.comparison.rowCount())}
    assert inbox.comparison.differs(rows["Given name"])
    assert not inbox.comparison.differs(rows["Date of birth"])
    QApplication.processEvents()
    assert window.grab().save(str(shots_dir(tmp_path) / "conflict_inbox.png"))

    assert inbox.keep_left.text() == f"Same person: keep MRN {kept.mrn}"
    with qtbot.waitSignal(inbox.resolved, timeout=SIGN_IN_TIMEOUT_MS):
        inbox.keep_left.click()
    qtbot.waitUntil(
        lambda: [p["mrn"] for p in server_search(live_server, "bello fatima")] == [kept.mrn],
        timeout=SIGN_IN_TIMEOUT_MS,
    )
    assert inbox.undo_merge.isVisibleTo(window)
    inbox.undo_merge.click()
    qtbot.waitUntil(
        lambda: len(server_search(live_server, "bello")) == 2, timeout=SIGN_IN_TIMEOUT_MS
    )
    assert other.id != kept.id


def test_a_change_the_server_refuses_is_listed_until_dismissed(
    qtbot, controller, live_server, server
):
    patient = register_via_api(
        live_server, given_name="Ife", family_name="Adeyemi", birth_date="1999-09-09"
    )
    window = sign_in(qtbot, controller, server.url, server.users["nurse"])
    go_offline(qtbot, window, server)
    view = window.workspaces["patients"].view
    window.workspaces["patients"].open_patient(patient["id"])
    qtbot.waitUntil(lambda: view.patient is not None, timeout=SIGN_IN_TIMEOUT_MS)
    view.edit_button.click()
    fill_form(view.form, city="Ibadan")
    with qtbot.waitSignal(view.patient_changed, timeout=SIGN_IN_TIMEOUT_MS):
        view.save_button.click()
    with live_server.db.unit_of_work() as session:  # meanwhile the nurse's role is withdrawn
        session.execute(
            update(User).where(User.username == server.users["nurse"][0]).values(role="billing")
        )
    server.start()
    indicator = window.sync_indicator
    indicator.sync_button.click()
    qtbot.waitUntil(
        lambda: indicator.attention_label.isVisibleTo(window), timeout=SIGN_IN_TIMEOUT_MS
    )
    assert indicator.attention_label.text() == "1 change refused by the server"
    qtbot.waitUntil(lambda: window.ctx.patients.get_patient(patient["id"]).city is None)
    indicator.attention_label.click()
    dialog = indicator.attention_dialog
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=SIGN_IN_TIMEOUT_MS)
    row = dialog.model.record(0)
    assert dialog.model.data(dialog.model.index(0, 1)) == "Change of city"
    assert "may not" in row["message"]
    dialog.view.selectRow(0)
    dialog.dismiss_button.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0, timeout=SIGN_IN_TIMEOUT_MS)


def test_identity_conflict_resolved_field_by_field(
    qtbot, controller, live_server, server, tmp_path
):
    first, second = make_pc(live_server, tmp_path / "a"), make_pc(live_server, tmp_path / "b")
    first.engine.sync_once()
    patient = first.patients.register_patient(new_patient("Jonas", "Berg", born="1961-02-02"))
    first.engine.sync_once()
    second.engine.sync_once()
    original = second.patients.get_patient(patient.id)
    first.patients.update_patient(
        patient.id,
        PatientUpdate(family_name="Bergman", birth_date="1961-02-03", expected_row_version=1),
        original,
    )
    second.patients.update_patient(
        patient.id,
        PatientUpdate(family_name="Berg-Olsen", birth_date="1961-12-02", expected_row_version=1),
        original,
    )
    for pc in (first, second):
        pc.engine.sync_once()
        pc.close()

    window = sign_in(qtbot, controller, server.url, server.users["reception"])
    window.show_workspace("conflicts")
    inbox = window.workspaces["conflicts"]
    qtbot.waitUntil(lambda: inbox.current is not None, timeout=SIGN_IN_TIMEOUT_MS)
    assert inbox.keep_left.text() == "Keep the server's version"
    assert inbox.per_field.isVisibleTo(window)
    inbox.per_field.click()
    dialog = inbox.field_dialog
    dialog.combos["family_name"].setCurrentIndex(1)  # the offline edit's name
    dialog.combos["birth_date"].setCurrentIndex(0)  # the server's date
    with qtbot.waitSignal(inbox.resolved, timeout=SIGN_IN_TIMEOUT_MS):
        dialog.apply_button.click()

    def on_server() -> tuple[str, str]:
        with live_server.client("reception") as http:
            row = http.get(f"/api/patients/{patient.id}").json()
        return row["family_name"], row["birth_date"]

    qtbot.waitUntil(lambda: on_server() == ("Berg-Olsen", "1961-02-03"), timeout=SIGN_IN_TIMEOUT_MS)
