"""The admin audit log viewer against a live server."""

from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, register_via_api, sign_in


def test_admin_filters_the_audit_log_by_mrn_and_user(qtbot, controller, live_server):
    patient = register_via_api(
        live_server, given_name="Sara", family_name="Berg", birth_date="1985-08-08"
    )
    window = sign_in(qtbot, controller, live_server.url, live_server.users["admin"])
    viewer = window.workspaces["audit"]
    window.rail.button("audit").click()
    qtbot.waitUntil(lambda: viewer.model.rowCount() > 0, timeout=SIGN_IN_TIMEOUT_MS)
    viewer.patient_edit.setText(patient["mrn"])
    viewer.username_edit.setText(live_server.users["reception"][0])
    viewer.search_button.click()
    qtbot.waitUntil(lambda: viewer.search_button.isEnabled(), timeout=SIGN_IN_TIMEOUT_MS)
    actions = {viewer.model.record(r).action for r in range(viewer.model.rowCount())}
    assert "patient.register" in actions
    assert all(
        viewer.model.record(r).patient_id is not None for r in range(viewer.model.rowCount())
    )


def test_unknown_mrn_is_reported(qtbot, controller, live_server):
    window = sign_in(qtbot, controller, live_server.url, live_server.users["admin"])
    viewer = window.workspaces["audit"]
    viewer.patient_edit.setText("12345")
    viewer.refresh()
    qtbot.waitUntil(lambda: viewer.search_button.isEnabled(), timeout=SIGN_IN_TIMEOUT_MS)
    assert "neither a patient id nor a valid MRN" in viewer.status_label.text()
