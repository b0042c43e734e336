"""Diagnoses and the treatment plan from the chart, against a live server and a real desktop
cache: ICD-10 found by code or by words, the diagnosis added shows in the problem list and
reaches the server coded; an unknown code is refused in the dialog with what was typed kept; a
problem is resolved, another marked as recorded in error with a reason; the plan is rewritten
twice and its history keeps both versions. A nurse's chart offers none of this."""

import uuid
from datetime import date

import shiboken6
from PySide6.QtCore import QDate, QModelIndex
from PySide6.QtWidgets import QApplication, QPushButton
from sqlalchemy import select

from hms_core.db.clinical import CarePlan, Problem
from hms_core.rbac import Perm
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.clinical.problems import ICD10
from hms_core.services.patients import register_patient
from hms_desktop.store.chart import ProblemLine
from hms_desktop.workspaces.chart.actions import ChartActions
from hms_desktop.workspaces.chart.plan_dialog import PlanDialog
from hms_desktop.workspaces.chart.problem_dialog import ProblemDialog, ProblemStatusDialog
from hms_desktop.workspaces.chart.view import ChartView
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
FIRST_PLAN = "Metformin 500 mg BD. Diet advice. HbA1c in 3 months."
SECOND_PLAN = "Metformin 1 g BD. Dietitian referral. HbA1c in 3 months, feet and eyes yearly."
BUTTONS = {"Add diagnosis…", "Update plan…", "Resolve…", "Entered in error…"}


def seed_patient(db) -> uuid.UUID:  # noqa: ANN001
    with db.unit_of_work() as session:
        data = PatientCreate(
            given_name="Joseph", family_name="Mensah", birth_date=date(1958, 7, 2), sex="male"
        )
        return register_patient(session, SYSTEM, data).id


def server_rows(db, table: type, patient_id: uuid.UUID) -> list:  # noqa: ANN001
    with db.unit_of_work() as session:
        rows = list(session.execute(select(table).where(table.patient_id == patient_id)).scalars())
        session.expunge_all()
        return rows


def open_chart(qtbot, window, patient_id: uuid.UUID) -> ChartView:  # noqa: ANN001
    chart = ChartView(window.ctx, window.ctx.session.can(Perm.NOTE_WRITE))
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    with qtbot.waitSignal(chart.chart_shown, timeout=WAIT):
        chart.open_patient(patient_id)
    return chart


def problems(chart: ChartView) -> dict[str, ProblemLine]:
    return {p.code: p for p in chart.summary_tab.problems_model.records()}


def select_problem(chart: ChartView, code: str) -> None:
    model = chart.summary_tab.problems_model
    row = next(r for r in range(model.rowCount()) if model.record(r).code == code)
    chart.summary_tab.problems_view.selectRow(row)


def add_diagnosis(qtbot, actions: ChartActions, search: str, code: str) -> ProblemDialog:  # noqa: ANN001
    before = actions.dialog
    actions.diagnosis_button.click()
    qtbot.waitUntil(
        lambda: actions.dialog is not before and isinstance(actions.dialog, ProblemDialog),
        timeout=WAIT,
    )
    dialog = actions.dialog
    dialog.search_edit.setText(search)
    assert dialog.choose(code)
    return dialog


def test_diagnosis_found_by_code_or_words_added_resolved_and_voided(
    qtbot, controller, live_server, tmp_path
):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    chart = open_chart(qtbot, window, patient_id)
    actions = chart.actions
    assert isinstance(actions, ChartActions)
    assert problems(chart) == {}

    # found by the code and by words, in any order
    dialog = add_diagnosis(qtbot, actions, "E11", "E11.9")
    by_code = dialog.shown_codes()
    assert by_code and all(c.startswith("E11.") for c in by_code)
    dialog.search_edit.setText("diabetes type 2")
    assert "E11.9" in dialog.shown_codes()
    assert all(c.startswith("E11") for c in dialog.shown_codes())
    assert (
        "Type 2 diabetes mellitus without complications"
        in dialog.results.item(dialog.shown_codes().index("E11.9")).text()
    )

    # words that find nothing, and a code not in the catalogue: refused in the dialog, kept
    dialog.search_edit.setText("sugar trouble")
    assert dialog.results.count() == 0
    assert "Nothing in the ICD-10 catalogue" in dialog.hint_label.text()
    dialog.save_button.click()
    assert "Choose the diagnosis from the list" in dialog.error_label.text()
    dialog.search_edit.setText("X99.9")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "not a code in our ICD-10 catalogue" in dialog.error_label.text())
    assert dialog.isVisible() and dialog.search_edit.text() == "X99.9"
    assert dialog.save_button.isEnabled()
    assert not any(e["name"] == "add_problem" for e in window.ctx.sync.store.pending(100))

    # chosen from the list, with the onset and a note: shown active in the problem list
    dialog.search_edit.setText("diabetes type 2")
    assert dialog.error_label.text() == ""  # a new search: the refusal is gone
    assert dialog.choose("E11.9")
    dialog.onset_box.setChecked(True)
    dialog.onset_edit.setDate(QDate(2021, 5, 3))
    dialog.note_edit.setText("Diet-controlled until 2024")
    QApplication.processEvents()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "chart_add_diagnosis.png"))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "E11.9" in problems(chart), timeout=WAIT)
    added = problems(chart)["E11.9"]
    assert added.display == "Type 2 diabetes mellitus without complications"
    assert added.active and added.clinical_status == "active"
    assert added.onset == date(2021, 5, 3) and added.kind == "diagnosis"
    assert actions.message == "E11.9 added."

    def on_server(code: str) -> Problem | None:
        rows = server_rows(live_server.db, Problem, patient_id)
        return next((r for r in rows if r.code == code), None)

    qtbot.waitUntil(lambda: on_server("E11.9") is not None, timeout=WAIT)
    saved = on_server("E11.9")
    assert saved.code_system == ICD10 and saved.recorded_by == "test-doctor"
    assert saved.note == "Diet-controlled until 2024"
    assert on_server("X99.9") is None

    # a second one, added as a problem
    dialog = add_diagnosis(qtbot, actions, "I10", "I10")
    dialog.problem_radio.setChecked(True)
    assert dialog.save_button.text() == "Add problem"
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "I10" in problems(chart), timeout=WAIT)
    assert problems(chart)["I10"].kind == "problem"

    # nothing chosen: the buttons under the list say so
    chart.summary_tab.problems_view.clearSelection()
    chart.summary_tab.problems_view.setCurrentIndex(QModelIndex())
    actions.resolve_button.click()
    assert actions.message == "Choose a problem in the list first."

    # resolved today: shown as resolved, after the active ones
    select_problem(chart, "E11.9")
    actions.resolve_button.click()
    assert isinstance(actions.dialog, ProblemStatusDialog)
    resolve = actions.dialog
    assert resolve.record_label.text().startswith("E11.9 Type 2 diabetes mellitus")
    resolve.save_button.click()
    qtbot.waitUntil(lambda: not problems(chart)["E11.9"].active, timeout=WAIT)
    assert actions.message == "E11.9 resolved."
    resolved = problems(chart)["E11.9"]
    assert resolved.clinical_status == "resolved" and resolved.resolved is not None
    codes = [p.code for p in chart.summary_tab.problems_model.records()]
    assert codes == ["I10", "E11.9"]  # active first
    status = chart.summary_tab.problems_model.index(1, 2).data()
    assert status.startswith("resolved (")

    # recorded in error: a reason is required; then it leaves the list, the server keeps why
    select_problem(chart, "I10")
    actions.in_error_button.click()
    void = actions.dialog
    assert isinstance(void, ProblemStatusDialog) and void.in_error
    void.save_button.click()
    assert void.error_label.text() == "Say why this problem was recorded in error."
    assert void.isVisible()
    void.reason_edit.setText("Recorded on the wrong patient")
    void.save_button.click()
    qtbot.waitUntil(lambda: "I10" not in problems(chart), timeout=WAIT)
    assert actions.message == "I10 marked in error."
    chart.tabs.setCurrentWidget(chart.summary_tab)
    QApplication.processEvents()
    assert chart.grab().save(str(shots_dir(tmp_path) / "chart_problems.png"))

    qtbot.waitUntil(lambda: (on_server("I10") or Problem()).voided_at is not None, timeout=WAIT)
    assert on_server("I10").void_reason == "Recorded on the wrong patient"
    qtbot.waitUntil(lambda: on_server("E11.9").clinical_status == "resolved", timeout=WAIT)


def open_plan(qtbot, actions: ChartActions) -> PlanDialog:  # noqa: ANN001
    before = actions.dialog
    actions.plan_button.click()
    qtbot.waitUntil(
        lambda: actions.dialog is not before and isinstance(actions.dialog, PlanDialog),
        timeout=WAIT,
    )
    dialog = actions.dialog
    qtbot.waitUntil(lambda: dialog.versions is not None, timeout=WAIT)
    return dialog


def test_plan_is_rewritten_twice_and_keeps_its_history(qtbot, controller, live_server, tmp_path):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    chart = open_chart(qtbot, window, patient_id)
    actions = chart.actions
    assert isinstance(actions, ChartActions)
    assert chart.summary_tab.plan_label.toPlainText() == "No care plan written yet."

    # the first plan
    dialog = open_plan(qtbot, actions)
    assert dialog.versions == [] and dialog.current_label.text() == "No treatment plan written yet."
    dialog.save_button.click()
    assert dialog.error_label.text() == "Write the plan before saving."
    dialog.text_edit.setPlainText(FIRST_PLAN)
    dialog.reason_edit.setText("New diagnosis of type 2 diabetes")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: FIRST_PLAN in chart.summary_tab.plan_label.toPlainText(), timeout=WAIT)
    assert actions.message == "Treatment plan updated."

    # the second: starts from the first; unchanged is not a new version
    dialog = open_plan(qtbot, actions)
    assert dialog.text_edit.toPlainText() == FIRST_PLAN
    assert "New diagnosis of type 2 diabetes" in dialog.current_label.text()
    dialog.save_button.click()
    assert "change it before saving" in dialog.error_label.text()
    dialog.text_edit.setPlainText(SECOND_PLAN)
    dialog.reason_edit.setText("After the HbA1c result")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: SECOND_PLAN in chart.summary_tab.plan_label.toPlainText(), timeout=WAIT)
    shown = chart.summary_tab.plan_label.toPlainText()
    assert FIRST_PLAN not in shown and "After the HbA1c result" in shown

    # the history: both versions, the newest first, each readable
    dialog = open_plan(qtbot, actions)
    lines = [dialog.history_list.item(i).text() for i in range(dialog.history_list.count())]
    assert len(lines) == 2
    assert lines[0].endswith("After the HbA1c result") and "test-doctor" in lines[0]
    assert lines[1].endswith("New diagnosis of type 2 diabetes")
    assert dialog.version_text.toPlainText() == SECOND_PLAN
    dialog.history_list.setCurrentRow(1)
    assert dialog.version_text.toPlainText() == FIRST_PLAN
    QApplication.processEvents()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "chart_plan.png"))
    dialog.reject()

    def versions() -> list[CarePlan]:
        return sorted(server_rows(live_server.db, CarePlan, patient_id), key=lambda p: p.written_at)

    qtbot.waitUntil(lambda: len(versions()) == 2, timeout=WAIT)
    first, second = versions()
    assert (first.text, second.text) == (FIRST_PLAN, SECOND_PLAN)
    assert second.previous_id == first.id and second.reason == "After the HbA1c result"


def test_a_nurse_chart_has_no_diagnosis_or_plan_buttons(qtbot, controller, live_server):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    chart = open_chart(qtbot, window, patient_id)
    assert not chart.editable and chart.actions is None
    assert not {b.text() for b in chart.findChildren(QPushButton)} & BUTTONS
    assert not [d for d in chart.findChildren(ProblemDialog) if shiboken6.isValid(d)]
