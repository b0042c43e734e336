"""Type-ahead patient search (global box and workspace list) against a live server."""

from hms_core.rules.mrn import make_mrn
from hms_desktop.widgets.patient_search import INVALID_MRN_HINT, mrn_hint
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, register_via_api, sign_in


def _patients(live_server) -> tuple[dict, dict]:  # noqa: ANN001
    johanna = register_via_api(
        live_server,
        given_name="Johanna",
        family_name="Smithers",
        birth_date="1991-03-09",
        phone="+44 7700 900123",
    )
    other = register_via_api(
        live_server, given_name="Peter", family_name="Jones", birth_date="1950-12-01", sex="male"
    )
    return johanna, other


def test_global_search_finds_by_reversed_name_fragments_and_opens_record(
    qtbot, controller, live_server
):
    johanna, _ = _patients(live_server)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    box = window.search_box
    box.setFocus()
    with qtbot.waitSignal(box.results_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        qtbot.keyClicks(box, "smith joh")
    assert blocker.args == [1]
    assert box.model.patient(0).mrn == johanna["mrn"]
    assert box.popup.isVisible()
    workspace = window.workspaces["patients"]
    qtbot.keyClick(box, "\r")
    qtbot.waitUntil(lambda: workspace.view.mrn_label.text() == johanna["mrn"])
    assert workspace.stack.currentWidget() is workspace.view
    assert not box.popup.isVisible()
    assert not workspace.view.edit_button.isHidden()  # doctors hold patient.update


def test_global_search_finds_by_mrn_and_phone(qtbot, controller, live_server):
    johanna, other = _patients(live_server)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    box = window.search_box
    with qtbot.waitSignal(box.results_shown, timeout=SIGN_IN_TIMEOUT_MS):
        qtbot.keyClicks(box, other["mrn"])
    assert [box.model.patient(r).mrn for r in range(box.model.rowCount())] == [other["mrn"]]
    assert box.hint_text == ""
    box.clear()
    with qtbot.waitSignal(box.results_shown, timeout=SIGN_IN_TIMEOUT_MS):
        qtbot.keyClicks(box, "44 7700 900")
    assert box.model.patient(0).mrn == johanna["mrn"]


def test_invalid_mrn_check_digit_hint(qtbot, controller, live_server):
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    good = make_mrn(1234567)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert mrn_hint(good) is None and mrn_hint(bad) == INVALID_MRN_HINT
    assert mrn_hint("1234") is None  # too short to be an MRN: maybe a phone number
    box = window.search_box
    with qtbot.waitSignal(box.results_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        qtbot.keyClicks(box, bad)
    assert blocker.args == [0]
    assert box.hint_text == INVALID_MRN_HINT
    assert box.popup.hint.isVisible()
    panel = window.workspaces["reception"].search_panel
    with qtbot.waitSignal(panel.results_shown, timeout=SIGN_IN_TIMEOUT_MS):
        qtbot.keyClicks(panel.query_edit, bad)
    assert panel.status_label.text() == INVALID_MRN_HINT


def test_workspace_list_search_and_open(qtbot, controller, live_server):
    johanna, _ = _patients(live_server)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    panel = window.workspaces["reception"].search_panel
    with qtbot.waitSignal(panel.results_shown, timeout=SIGN_IN_TIMEOUT_MS) as blocker:
        qtbot.keyClicks(panel.query_edit, "smi")
    assert blocker.args == [1]
    assert panel.model.data(panel.model.index(0, 1)) == "SMITHERS"
    assert panel.status_label.text() == "1 patient found."
    with qtbot.waitSignal(panel.patient_activated):
        panel.view.doubleClicked.emit(panel.model.index(0, 0))
    view = window.workspaces["reception"].view
    qtbot.waitUntil(lambda: view.mrn_label.text() == johanna["mrn"])
