"""The nurse's Ward workspace against a live server and a real desktop cache: the ward's beds
with NEWS2 colours, admitting to a free bed, and charting a set scored live as it is typed."""

from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from hms_core.db import Admission, Bed, VitalsEntry, Ward
from hms_core.db.base import new_id
from hms_core.schemas.patients import PatientCreate
from hms_core.schemas.ward import AdmitPatient, RecordVitals
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.inpatients import admit_patient
from hms_core.services.patients import register_patient
from hms_core.services.vitals import record_vitals
from hms_desktop.workspaces.ward import beds_model
from hms_desktop.workspaces.ward.workspace import WardWorkspace
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
NURSE = Actor(None, "test-nurse", "nurse")
# patient -> (bed, the set charted an hour ago); scores 0, 3 (low), 5 (medium), 11 (high)
INPATIENTS = {
    ("Ada", "Obi"): ("ICU-01", dict(respiration_rate=16, spo2=98, on_oxygen=False,
                                    systolic_bp=125, diastolic_bp=80, pulse=72,
                                    consciousness="A", temperature_c=36.8)),
    ("Ben", "Kato"): ("ICU-02", dict(respiration_rate=22, spo2=95, on_oxygen=False,
                                     systolic_bp=125, diastolic_bp=80, pulse=72,
                                     consciousness="A", temperature_c=36.8)),
    ("Cleo", "Ruiz"): ("ICU-03", dict(respiration_rate=22, spo2=94, on_oxygen=True,
                                      systolic_bp=125, diastolic_bp=80, pulse=72,
                                      consciousness="A", temperature_c=36.8)),
    ("Dan", "Moss"): ("ICU-04", dict(respiration_rate=24, spo2=93, on_oxygen=False,
                                     systolic_bp=105, diastolic_bp=70, pulse=115,
                                     consciousness="V", temperature_c=38.5)),
}  # fmt: skip


def make_icu(db) -> None:  # noqa: ANN001
    """ICU-01..06; four patients admitted with a charted set each, Omar Ward not admitted."""
    with db.unit_of_work() as session:
        ward = Ward(code="ICU", name="Intensive Care Unit", ward_class="icu")
        session.add(ward)
        session.flush()
        beds = {f"ICU-{n:02d}": Bed(ward_id=ward.id, label=f"ICU-{n:02d}") for n in range(1, 7)}
        session.add_all(beds.values())
        session.flush()
        taken = datetime.now(UTC) - timedelta(hours=1)
        for (given, family), (label, values) in INPATIENTS.items():
            patient = _patient(session, given, family)
            args = AdmitPatient(
                id=new_id(), patient_id=patient.id, bed_id=beds[label].id, admitted_at=taken
            )
            admit_patient(session, SYSTEM, args)
            record_vitals(
                session,
                NURSE,
                RecordVitals(id=new_id(), patient_id=patient.id, taken_at=taken, **values),
            )
        _patient(session, "Omar", "Ward")


def _patient(session, given: str, family: str):  # noqa: ANN001, ANN202
    data = PatientCreate(
        given_name=given, family_name=family, birth_date=date(1970, 3, 3), sex="male"
    )
    return register_patient(session, SYSTEM, data)


def open_ward(qtbot, controller, live_server) -> WardWorkspace:  # noqa: ANN001
    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    workspace = window.workspaces.get("ward")
    if workspace is None:  # until the main window's rail has the entry
        workspace = WardWorkspace(window.ctx)
        qtbot.addWidget(workspace)
    assert isinstance(workspace, WardWorkspace)
    workspace.resize(1400, 860)
    workspace.show()
    qtbot.waitUntil(lambda: workspace.beds_model.rowCount() == 6, timeout=WAIT)
    return workspace


def bed(workspace: WardWorkspace, label: str):  # noqa: ANN201
    return next(b for b in workspace.beds_model.beds() if b.label == label)


def cell(workspace: WardWorkspace, label: str, column: int, role=Qt.ItemDataRole.DisplayRole):  # noqa: ANN001, ANN201
    model = workspace.beds_model
    return model.data(model.index(model.row_of(bed(workspace, label).bed_id), column), role)


def test_nurse_sees_the_ward_admits_and_charts_a_set_scored_as_typed(
    qtbot, controller, live_server, tmp_path
):
    make_icu(live_server.db)
    workspace = open_ward(qtbot, controller, live_server)
    assert workspace.ward_combo.currentText().startswith("ICU ·")
    assert [cell(workspace, f"ICU-0{n}", beds_model.NEWS2) for n in range(1, 5)] == [
        "0",
        "3 · low",
        "5 · medium",
        "11 · high",
    ]
    high = cell(workspace, "ICU-04", beds_model.NEWS2, Qt.ItemDataRole.BackgroundRole)
    low = cell(workspace, "ICU-02", beds_model.NEWS2, Qt.ItemDataRole.BackgroundRole)
    assert high.color().name() != low.color().name()
    assert cell(workspace, "ICU-04", beds_model.DUE) == "Continuous monitoring"
    assert "(hourly)" in cell(workspace, "ICU-03", beds_model.DUE)
    assert "(12-hourly)" in cell(workspace, "ICU-01", beds_model.DUE)
    assert cell(workspace, "ICU-05", beds_model.PATIENT) == "Free"
    assert "4 of 6 beds occupied" in workspace.summary_label.text()
    shots = shots_dir(tmp_path)
    workspace.grab().save(str(shots / "ward_list.png"))

    # admit Omar to the free bed ICU-05
    workspace.select_bed("ICU-05")
    assert not workspace.form.isEnabled()
    workspace.admit_button.click()
    dialog = workspace.admit_dialog
    assert dialog is not None and dialog.bed_combo.currentText() == "ICU-05"
    dialog.search_edit.setText("Omar")
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=WAIT)
    assert "WARD, Omar" in dialog.results.item(0).text()
    dialog.reason_edit.setText("Pneumonia")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: bed(workspace, "ICU-05").patient_name == "WARD, Omar", timeout=WAIT)
    assert "Admitted to ICU-05" in workspace.notice.text()
    qtbot.waitUntil(lambda: workspace.form.isEnabled(), timeout=WAIT)
    assert "ICU-05 · WARD, Omar" in workspace.form.patient_label.text()

    # type a set: the score follows each value
    form = workspace.form
    assert form.score_label.text() == "NEWS2 —"
    form.set_value("respiration_rate", 24)
    assert form.score_label.text() == "NEWS2 — (so far 2)"
    assert "missing" in form.advice_label.text()
    form.set_value("spo2", 93)
    form.oxygen_combo.setCurrentIndex(form.oxygen_combo.findData(False))
    form.set_value("systolic_bp", 105)
    form.set_value("diastolic_bp", 70)
    form.set_value("pulse", 115)
    form.acvpu_combo.setCurrentIndex(form.acvpu_combo.findData("V"))
    assert form.score_label.text() == "NEWS2 — (so far 10)"
    form.set_value("temperature_c", 38.5)
    assert form.score_label.text() == "NEWS2 11 · high"
    assert "continuous monitoring" in form.advice_label.text()
    workspace.grab().save(str(shots / "ward_vitals_form.png"))
    form.save_button.click()
    qtbot.waitUntil(lambda: workspace.sets_model.rowCount() == 1, timeout=WAIT)
    assert workspace.sets_model.record(0)["news2"] == "11 · high"
    assert workspace.sets_model.record(0)["bp"] == "105/70"
    qtbot.waitUntil(lambda: bed(workspace, "ICU-05").news2_total == 11, timeout=WAIT)
    assert "NEWS2 11 · high" in workspace.notice.text()
    assert form.score_label.text() == "NEWS2 —"  # a fresh form for the next set

    # it reaches the server through sync
    def on_server() -> bool:
        with live_server.db.unit_of_work() as session:
            entries = session.execute(select(VitalsEntry.news2_total)).scalars().all()
            admitted = session.execute(select(Admission)).scalars().all()
        return sorted(e for e in entries if e is not None) == [0, 3, 5, 11, 11] and (
            len(admitted) == 5
        )

    qtbot.waitUntil(on_server, timeout=WAIT)


def test_an_impossible_value_is_explained_and_nothing_typed_is_lost(
    qtbot, controller, live_server, tmp_path
):
    make_icu(live_server.db)
    workspace = open_ward(qtbot, controller, live_server)
    workspace.select_bed("ICU-02")
    qtbot.waitUntil(lambda: workspace.sets_model.rowCount() == 1, timeout=WAIT)
    form = workspace.form
    form.set_value("pulse", 88)
    form.set_value("temperature_c", 20)
    form.set_value("systolic_bp", 90)
    form.set_value("diastolic_bp", 120)
    form.save_button.click()
    qtbot.waitUntil(lambda: form.error_label.isVisible(), timeout=WAIT)
    assert "Temperature must be between 25 and 45" in form.errors["temperature_c"].text()
    assert "lower than systolic" in form.errors["diastolic_bp"].text()
    assert "cannot be charted" in form.error_label.text()
    assert form.values()["pulse"] == 88 and form.values()["temperature_c"] == 20
    workspace.grab().save(str(shots_dir(tmp_path) / "ward_vitals_error.png"))
    assert workspace.sets_model.rowCount() == 1  # nothing charted

    # discharge, after the nurse confirms
    workspace.discharge_button.click()
    box = workspace.confirm_box
    assert box is not None and "Discharge KATO, Ben" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: bed(workspace, "ICU-02").patient_id is None, timeout=WAIT)
    assert "discharged from ICU-02" in workspace.notice.text()
    assert not workspace.form.isEnabled()
