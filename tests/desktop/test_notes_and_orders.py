"""Notes, orders and results at the doctor's desk against a live server and a real desktop
cache: a note is written, signed (then read-only) and amended with a reason; a lab order placed
offline shows its number at once and reaches the server under it; the lab's validated result
appears in the doctor's review panel, flagged, and leaves it once acknowledged with an
interpretation and a new plan."""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import ClinicalNote
from hms_core.db.base import new_id
from hms_core.db.clinical import CarePlan, ClinicalOrder
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import orders, results
from hms_core.services.clinical.care_plans import update_care_plan
from hms_core.services.patients import register_patient
from hms_desktop.workspaces.chart.note_editor import NoteEditor
from hms_desktop.workspaces.chart.order_dialog import OrderDialog
from hms_desktop.workspaces.chart.review_panel import ReviewPanel
from hms_server.app import create_app
from tests.conftest import RestartableServer, free_port
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
DOCTOR = Actor(None, "test-doctor", "doctor")
LAB_ANNA = Actor(None, "lab-anna", "lab")
LAB_BEN = Actor(None, "lab-ben", "lab")
ORDER_NUMBER = re.compile(r"ORD-\d{8}-[0-9A-F]{6}")
FIRST_PLAN = "Ramipril 5 mg daily; review in 4 weeks."
NEW_PLAN = "Stop ramipril; repeat U&E in 1 week; low-potassium diet advice."


@pytest.fixture
def server(live_server) -> Iterator[RestartableServer]:  # noqa: ANN001
    """The test's database on a port the test may stop (offline) and start again."""
    running = RestartableServer(create_app(live_server.settings, live_server.db), free_port())
    running.start()
    yield running
    running.stop()


def seed_patient(db) -> uuid.UUID:  # noqa: ANN001
    """Amal Haddad, 64, with a treatment plan in force."""
    with db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Amal", family_name="Haddad", birth_date=date(1962, 8, 2), sex="female"
            ),
        )
        update_care_plan(
            session,
            DOCTOR,
            wire.UpdateCarePlan(
                id=new_id(), patient_id=patient.id, text=FIRST_PLAN, at=datetime.now(UTC)
            ),
        )
        return patient.id


def lab_work(db, order_id: uuid.UUID) -> None:  # noqa: ANN001
    """The lab collects, receives and enters the U&E (potassium high), another validates."""
    values = {"2951-2": "139", "2823-3": "5.9", "2075-0": "101", "1963-8": "24"}
    values |= {"3094-0": "6.1", "2160-0": "80", "62238-1": "71", "2345-7": "5.2"}
    for actor, service, args in (
        (LAB_ANNA, orders.collect_specimen, None),
        (LAB_ANNA, orders.receive_specimen, None),
        (LAB_ANNA, results.enter_results, "values"),
        (LAB_BEN, results.validate_results, None),
    ):
        with db.unit_of_work() as session:
            at = datetime.now(UTC)
            if args is None:
                service(session, actor, wire.OrderStep(order_id=order_id, at=at))
            else:
                entered = [
                    wire.ResultValue(id=new_id(), analyte=code, value=value)
                    for code, value in values.items()
                ]
                service(
                    session, actor, wire.EnterResults(order_id=order_id, results=entered, at=at)
                )


def server_rows(db, model, **where: object) -> list:  # noqa: ANN001
    with db.unit_of_work() as session:
        query = select(model).filter_by(**where)
        rows = list(session.execute(query).scalars())
        session.expunge_all()
        return rows


def test_note_is_written_signed_read_only_then_amended_with_a_reason(
    qtbot, controller, live_server, tmp_path
):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    editor = NoteEditor(window.ctx, patient_id, None, window)
    qtbot.addWidget(editor)
    editor.show()
    assert "A new note" in editor.state_label.text()
    assert not editor.amend_button.isVisible()

    # nothing written: nothing to sign
    editor.sign_button.click()
    assert editor.error_label.text() == "Write the note before signing it."

    typed = {
        "complaint": "Palpitations for two days",
        "history": "Hypertension on ramipril. No chest pain.",
        "examination": "Pulse 92 regular, BP 148/90.",
        "assessment": "Palpitations, likely benign; check electrolytes.",
        "plan": "U&E today; review with the result.",
    }
    for name, text in typed.items():
        editor.edits[name].setPlainText(text)
    editor.save_button.click()
    qtbot.waitUntil(lambda: editor.note is not None, timeout=WAIT)
    assert editor.note is not None and not editor.note.signed
    assert "Draft saved" in editor.state_label.text()
    assert editor.encounter_id is not None  # today's encounter started with the first save

    # signed after a confirmation: read-only from then on
    editor.edits["plan"].setPlainText("U&E today; review with the result tomorrow.")
    editor.sign_button.click()
    assert editor.confirm is not None
    editor.confirm.confirm_button.click()
    qtbot.waitUntil(lambda: editor.note is not None and editor.note.signed, timeout=WAIT)
    assert all(edit.isReadOnly() for edit in editor.edits.values())
    assert not editor.save_button.isVisible() and not editor.sign_button.isVisible()
    assert editor.amend_button.isVisible()
    assert "It can no longer be changed" in editor.state_label.text()
    assert editor.note.fields["plan"] == "U&E today; review with the result tomorrow."
    QApplication.processEvents()
    assert editor.grab().save(str(shots_dir(tmp_path) / "note_editor.png"))

    # an amendment needs a reason; the signed note stays as it was
    signed_id = editor.note.id
    editor.amend_button.click()
    assert not editor.edits["assessment"].isReadOnly() and editor.reason_edit.isVisible()
    editor.edits["assessment"].setPlainText("Palpitations with a high potassium suspected.")
    editor.sign_button.click()
    assert editor.error_label.text() == "Give the reason for the amendment."
    assert editor.edits["assessment"].toPlainText().endswith("suspected.")  # nothing lost
    editor.reason_edit.setText("Potassium came back high on the bedside test")
    editor.sign_button.click()
    editor.confirm.confirm_button.click()
    qtbot.waitUntil(
        lambda: editor.note is not None and editor.note.amends_id is not None, timeout=WAIT
    )
    assert editor.note.amends_id == signed_id and editor.read_only
    assert "Amendment signed" in editor.state_label.text()
    QApplication.processEvents()
    assert editor.grab().save(str(shots_dir(tmp_path) / "note_editor_amended.png"))

    # reopened: the amendment is the note, read-only; the server holds both versions
    again = NoteEditor(window.ctx, patient_id, editor.encounter_id, window)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.note is not None, timeout=WAIT)
    assert again.read_only and again.edits["assessment"].toPlainText().endswith("suspected.")

    def on_server() -> list[ClinicalNote]:
        return server_rows(live_server.db, ClinicalNote, patient_id=patient_id)

    qtbot.waitUntil(lambda: len(on_server()) == 2, timeout=WAIT)
    original, amendment = sorted(on_server(), key=lambda n: n.amends_id is not None)
    assert original.status == "signed" and original.assessment.endswith("check electrolytes.")
    assert amendment.amends_id == original.id
    assert amendment.amend_reason == "Potassium came back high on the bedside test"


def test_order_placed_offline_then_its_result_is_reviewed_and_acknowledged(
    qtbot, controller, live_server, server, tmp_path
):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, server.url, server.users["doctor"])
    window.resize(1280, 860)

    # offline: the order gets its number on this computer
    server.stop()
    window.sync_indicator.sync_button.click()
    qtbot.waitUntil(lambda: window.server_status.online is False, timeout=WAIT)
    dialog = OrderDialog(window.ctx, patient_id, window)
    qtbot.addWidget(dialog)
    dialog.show()
    # imaging asks for the body site (the study's own to start with); a lab test does not
    dialog.imaging_radio.setChecked(True)
    assert dialog.form.isRowVisible(dialog.body_site_edit)
    assert dialog.choose("XR-LOWER-LIMB")
    assert dialog.body_site_edit.text() == "lower limb"
    dialog.lab_radio.setChecked(True)
    assert not dialog.form.isRowVisible(dialog.body_site_edit)
    dialog.search_edit.setText("electrolytes")
    assert dialog.choose("UE")
    dialog.order_button.click()
    assert dialog.error_label.text() == "Give the indication: why the test is needed."
    dialog.indication_edit.setText("Palpitations on ramipril")
    dialog.priority_combo.setCurrentIndex(dialog.priority_combo.findData("urgent"))
    with qtbot.waitSignal(dialog.placed, timeout=WAIT):
        dialog.order_button.click()
    number = dialog.number
    assert ORDER_NUMBER.fullmatch(number)
    assert f"Order number <b>{number}</b>" in dialog.placed_label.text()
    assert dialog.isVisible() and dialog.close_button.text() == "Close"
    QApplication.processEvents()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "order_placed.png"))
    dialog.close_button.click()

    # back online: the server has it under the same number; the lab does its work
    server.start()
    window.sync_indicator.sync_button.click()
    qtbot.waitUntil(
        lambda: bool(server_rows(live_server.db, ClinicalOrder, number=number)), timeout=WAIT
    )
    (placed,) = server_rows(live_server.db, ClinicalOrder, number=number)
    assert (placed.priority, placed.ordered_by) == ("urgent", "test-doctor")
    lab_work(live_server.db, placed.id)

    # the validated result reaches the doctor's review panel, potassium flagged high
    clinical = window.ctx.clinical
    panel = ReviewPanel(window.ctx)
    qtbot.addWidget(panel)
    panel.resize(1000, 760)
    panel.show()

    def arrived() -> bool:
        window.sync_indicator.sync_button.click()
        return bool(clinical.unacknowledged_results())

    qtbot.waitUntil(arrived, timeout=WAIT)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.current is not None, timeout=WAIT)
    listed = panel.model.record(0)
    assert listed.number == number and listed.flags == ("Potassium H",)
    assert "HADDAD, Amal" in panel.model.data(panel.model.index(0, 2))
    values = {v.name: v for v in panel.values_model.records()}
    assert values["Potassium"].value == "5.9" and values["Potassium"].flag == "H"
    assert values["Potassium"].range_text() == "3.5–5.3"
    row = [v.name for v in panel.values_model.records()].index("Potassium")
    assert panel.values_model.data(panel.values_model.index(row, 2)) == "High"
    assert panel.plan_edit.toPlainText() == FIRST_PLAN
    assert "Results to review (1)" in panel.list_title.text()

    panel.interpretation_edit.setPlainText("Mild hyperkalaemia, likely ramipril.")
    panel.plan_edit.setPlainText(NEW_PLAN)
    # the same result read again (a sync refresh while the doctor types) keeps the typing
    panel._show_detail(panel.clinical.result(listed.order_id))
    assert panel.plan_edit.toPlainText() == NEW_PLAN
    assert panel.interpretation_edit.toPlainText() == "Mild hyperkalaemia, likely ramipril."
    QApplication.processEvents()
    assert panel.grab().save(str(shots_dir(tmp_path) / "results_review.png"))

    # acknowledged: the row leaves the list; the server has the interpretation and new plan
    with qtbot.waitSignal(panel.acknowledged, timeout=WAIT):
        panel.acknowledge_button.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT)
    assert "acknowledged and the plan updated" in panel.notice.text()
    assert clinical.care_plan(patient_id) == NEW_PLAN

    def acknowledged() -> ClinicalOrder | None:
        (row,) = server_rows(live_server.db, ClinicalOrder, number=number)
        return row if row.acknowledged_at is not None else None

    qtbot.waitUntil(lambda: acknowledged() is not None, timeout=WAIT)
    done = acknowledged()
    assert done is not None and done.acknowledged_by == "test-doctor"
    assert done.interpretation == "Mild hyperkalaemia, likely ramipril."
    plans = server_rows(live_server.db, CarePlan, patient_id=patient_id)
    assert sorted(p.text for p in plans) == sorted([FIRST_PLAN, NEW_PLAN])
    assert shiboken6.isValid(panel)
