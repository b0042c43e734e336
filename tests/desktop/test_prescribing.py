"""Prescribing at the desk against a live server and a real desktop cache: the safety checks
answer in the dialog (a penicillin allergy, duplicate therapy, an interaction), "Prescribe
anyway" waits for a reason for every warning, the override reaches the server with the
prescription, and a dose of zero is refused in plain words with nothing saved."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import shiboken6
from pypdf import PdfReader
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import MedicationOrder
from hms_core.db.base import new_id
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import AllergyIn, PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import prescriptions
from hms_core.services.patients import register_patient
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog
from hms_desktop.widgets.reason_dialog import ReasonDialog
from hms_desktop.workspaces.chart.actions import ChartActions
from hms_desktop.workspaces.chart.prescribe_dialog import PrescribeDialog
from hms_desktop.workspaces.chart.view import ChartView
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
DOCTOR = Actor(None, "test-doctor", "doctor")
REASON = "Tolerated amoxicillin in 2024 without reaction"


def seed_patient(db) -> uuid.UUID:  # noqa: ANN001
    """Grace Okoro, severely allergic to penicillin, on warfarin and naproxen."""
    with db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Grace",
                family_name="Okoro",
                birth_date=date(1961, 3, 14),
                sex="female",
                allergies=[
                    AllergyIn(substance="Penicillin", reaction="Anaphylaxis", severity="severe")
                ],
            ),
        )
        for code, dose, frequency in (("warfarin", "3", "OD"), ("naproxen", "250", "BD")):
            drug = prescriptions.formulary_drug(code)
            args = wire.Prescribe(
                id=new_id(),
                patient_id=patient.id,
                drug_code=code,
                dose=Decimal(dose),
                dose_unit=drug.dose_unit,
                route=drug.routes[0],
                frequency=frequency,
                at=datetime.now(UTC),
            )
            try:
                prescriptions.prescribe(session, DOCTOR, args)
            except prescriptions.SafetyCheck as check:  # naproxen with warfarin, known
                answers = [
                    wire.Override(check=w["check"], reason="Known, INR watched weekly")
                    for w in check.detail["warnings"]
                ]
                prescriptions.prescribe(
                    session, DOCTOR, args.model_copy(update={"overrides": answers})
                )
        return patient.id


def open_dialog(qtbot, window, patient_id: uuid.UUID) -> PrescribeDialog:  # noqa: ANN001
    dialog = PrescribeDialog(window.ctx, patient_id, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill(dialog: PrescribeDialog, search: str, name: str, dose: str, frequency: str) -> None:
    dialog.search_edit.setText(search)
    names = [dialog.results.item(i).text() for i in range(dialog.results.count())]
    row = next(i for i, text in enumerate(names) if text.startswith(name))
    dialog.results.itemClicked.emit(dialog.results.item(row))
    dialog.dose_edit.setText(dose)
    dialog.frequency_combo.setCurrentIndex(dialog.frequency_combo.findText(frequency))


def checks(dialog: PrescribeDialog) -> list[str]:
    return [row.check for row in dialog.rows]


def on_server(db, patient_id: uuid.UUID) -> list[MedicationOrder]:  # noqa: ANN001
    with db.unit_of_work() as session:
        rows = session.execute(
            select(MedicationOrder).where(MedicationOrder.patient_id == patient_id)
        ).scalars()
        found = list(rows)
        session.expunge_all()
        return found


def test_allergy_warning_needs_a_reason_and_the_override_reaches_the_server(
    qtbot, controller, live_server, tmp_path
):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    dialog = open_dialog(qtbot, window, patient_id)

    fill(dialog, "amox", "Amoxicillin", "500", "TDS")
    dialog.strength_combo.setCurrentIndex(dialog.strength_combo.findText("500 mg"))
    dialog.days_edit.setText("7")
    assert dialog.quantity_edit.text() == "21"  # one capsule three times a day for a week
    assert "Suggested: 21" in dialog.quantity_hint.text()
    dialog.instructions_edit.setText("Finish the course")
    dialog.prescribe_button.click()
    qtbot.waitUntil(lambda: bool(dialog.rows), timeout=WAIT)

    # the allergy is shown, in red, and nothing is saved until it is answered
    assert checks(dialog) == ["allergy:penicillin"]
    allergy = dialog.rows[0]
    assert allergy.severity == "high"
    assert "allergy to Penicillin" in allergy.message_label.text()
    assert "#912018" in allergy.styleSheet()
    assert dialog.override_button.isVisible() and not dialog.override_button.isEnabled()
    assert not dialog.prescribe_button.isVisible()
    allergy.reason_edit.setText("ok")  # too short
    assert not dialog.override_button.isEnabled()
    allergy.reason_edit.setText(REASON)
    assert dialog.override_button.isEnabled()
    assert dialog.isVisible() and dialog.quantity_edit.text() == "21"  # nothing typed is lost
    QApplication.processEvents()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "prescribing_safety_warning.png"))
    assert not [p for p in on_server(live_server.db, patient_id) if p.drug_code == "amoxicillin"]

    # prescribed anyway: the dialog closes, the cache and then the server hold it with the reason
    with qtbot.waitSignal(dialog.prescribed, timeout=WAIT):
        dialog.override_button.click()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    clinical = window.ctx.clinical
    active = {p.drug_code: p for p in clinical.active_prescriptions(patient_id)}
    assert active["amoxicillin"].quantity == Decimal(21)
    assert active["amoxicillin"].overrides[0]["reason"] == REASON

    def amoxicillin() -> MedicationOrder | None:
        rows = on_server(live_server.db, patient_id)
        return next((r for r in rows if r.drug_code == "amoxicillin"), None)

    qtbot.waitUntil(lambda: amoxicillin() is not None, timeout=WAIT)
    saved = amoxicillin()
    assert saved is not None
    assert (saved.dose, saved.frequency, saved.duration_days) == (Decimal(500), "TDS", 7)
    assert saved.prescriber == "test-doctor" and saved.instructions == "Finish the course"
    assert [(o["check"], o["reason"]) for o in saved.overrides] == [("allergy:penicillin", REASON)]


def test_duplicate_and_interaction_are_shown_and_dose_zero_is_refused(
    qtbot, controller, live_server, tmp_path
):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    dialog = open_dialog(qtbot, window, patient_id)
    store = window.ctx.sync.store

    # a dose of zero: refused in words before anything is sent, the form kept
    fill(dialog, "ibu", "Ibuprofen", "0", "TDS")
    dialog.prescribe_button.click()
    assert dialog.error_label.text() == "The dose must be more than zero."
    assert dialog.isVisible() and dialog.search_edit.text() == "ibu"
    dialog.dose_edit.setText("four hundred")
    dialog.prescribe_button.click()
    assert "is not a dose" in dialog.error_label.text()
    assert not any(e["name"] == "prescribe" for e in store.pending(100))

    # ibuprofen on top of naproxen and warfarin: a duplicate NSAID and a bleeding interaction
    dialog.dose_edit.setText("400")
    dialog.prescribe_button.click()
    qtbot.waitUntil(lambda: bool(dialog.rows), timeout=WAIT)
    assert sorted(checks(dialog)) == ["duplicate:M01AE", "interaction:B01AA03+M01AE01"]
    by_check = {row.check: row for row in dialog.rows}
    interaction = by_check["interaction:B01AA03+M01AE01"]
    assert interaction.severity == "high" and "Warfarin" in interaction.message_label.text()
    assert interaction.source_label.text().startswith("Source: ")
    duplicate = by_check["duplicate:M01AE"]
    assert duplicate.severity == "moderate" and "Naproxen" in duplicate.message_label.text()
    assert "2 safety warnings" in dialog.warnings_title.text()

    # one reason is not enough; with both it goes
    interaction.reason_edit.setText("Short course, INR checked on Friday")
    assert not dialog.override_button.isEnabled()
    duplicate.reason_edit.setText("Naproxen stopped today")
    assert dialog.override_button.isEnabled()
    QApplication.processEvents()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "prescribing_two_warnings.png"))
    with qtbot.waitSignal(dialog.prescribed, timeout=WAIT):
        dialog.override_button.click()
    codes = sorted(p.drug_code for p in window.ctx.clinical.active_prescriptions(patient_id))
    assert codes == ["ibuprofen", "naproxen", "warfarin"]


def select_medicine(chart: ChartView, name: str) -> None:
    model = chart.medications_tab.current_model
    row = next(r for r in range(model.rowCount()) if model.record(r).drug_name == name)
    chart.medications_tab.current_view.selectRow(row)


def current_names(chart: ChartView) -> list[str]:
    return sorted(m.drug_name for m in chart.medications_tab.current_model.records())


def test_from_the_chart_prescribe_print_change_and_stop(qtbot, controller, live_server, tmp_path):
    patient_id = seed_patient(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    chart = ChartView(window.ctx, True)
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    with qtbot.waitSignal(chart.chart_shown, timeout=WAIT):
        chart.open_patient(patient_id)
    actions = chart.actions
    assert isinstance(actions, ChartActions)
    assert current_names(chart) == ["Naproxen", "Warfarin"]

    # prescribed from the chart: no warning, the medication list follows
    actions.prescribe_button.click()
    qtbot.waitUntil(lambda: isinstance(actions.dialog, PrescribeDialog), timeout=WAIT)
    dialog = actions.dialog
    fill(dialog, "parac", "Paracetamol", "1000", "QDS")
    dialog.strength_combo.setCurrentIndex(dialog.strength_combo.findText("500 mg"))
    dialog.days_edit.setText("3")
    assert dialog.quantity_edit.text() == "24"  # two tablets four times a day for three days
    dialog.prescribe_button.click()
    qtbot.waitUntil(lambda: "Paracetamol" in current_names(chart), timeout=WAIT)
    assert actions.message == "Prescribed."

    # printed: the prescription names the patient, the allergy, the drug and the prescriber
    select_medicine(chart, "Paracetamol")
    actions.print_button.click()
    qtbot.waitUntil(lambda: isinstance(actions.dialog, PdfPreviewDialog), timeout=WAIT)
    preview = actions.dialog
    text = " ".join(PdfReader(BytesIO(preview.pdf)).pages[0].extract_text().split())
    for fact in ("OKORO, Grace", "Penicillin (Anaphylaxis, severe)", "Paracetamol 500 mg tablet",
                 "Dose 1000 mg · oral · QDS · for 3 days", "24 tablet", "Test Doctor"):  # fmt: skip
        assert fact in text, fact
    assert "Warfarin" not in text  # only the chosen medicine
    preview.close()

    # changed: a reason is required; the new dose replaces the old version
    select_medicine(chart, "Warfarin")
    actions.change_button.click()
    qtbot.waitUntil(lambda: actions.dialog is not preview and actions.dialog.isVisible())
    change = actions.dialog
    assert isinstance(change, PrescribeDialog) and change.dose_edit.text() == "3"
    change.dose_edit.setText("5")
    change.prescribe_button.click()
    assert change.error_label.text() == "Give the reason for the change."
    change.reason_edit.setText("INR 1.6, below target")
    change.prescribe_button.click()
    qtbot.waitUntil(lambda: bool(change.rows), timeout=WAIT)  # naproxen is still taken
    assert [row.kind for row in change.rows] == ["interaction"]
    change.rows[0].reason_edit.setText("Naproxen is being stopped")
    change.override_button.click()
    qtbot.waitUntil(
        lambda: any("5 mg" in m.dosage for m in chart.medications_tab.current_model.records()),
        timeout=WAIT,
    )

    warfarin = next(
        m for m in chart.medications_tab.current_model.records() if m.drug_name == "Warfarin"
    )
    assert (warfarin.strength, warfarin.change) == ("", "update")  # nothing made up

    # stopped with a reason: it leaves the current list; the server keeps why
    select_medicine(chart, "Naproxen")
    actions.stop_button.click()
    qtbot.waitUntil(lambda: isinstance(actions.dialog, ReasonDialog), timeout=WAIT)
    stop = actions.dialog
    stop.reason_edit.setText("Bleeding risk with warfarin")
    stop.confirm_button.click()
    qtbot.waitUntil(lambda: "Naproxen" not in current_names(chart), timeout=WAIT)
    assert current_names(chart) == ["Paracetamol", "Warfarin"]
    chart.tabs.setCurrentWidget(chart.medications_tab)
    QApplication.processEvents()
    assert chart.grab().save(str(shots_dir(tmp_path) / "chart_medications.png"))

    def stopped() -> MedicationOrder | None:
        rows = on_server(live_server.db, patient_id)
        return next((r for r in rows if r.drug_code == "naproxen" and r.change == "stop"), None)

    qtbot.waitUntil(lambda: stopped() is not None, timeout=WAIT)
    assert stopped().change_reason == "Bleeding risk with warfarin"
