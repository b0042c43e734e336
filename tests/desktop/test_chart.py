"""The patient chart against a live server and a real desktop cache: a doctor finds a patient
with the global search in the Clinic and reads the chart — allergies in red at the top,
problems active first, the cumulative lab table with its flags and a trend, vital-sign plots,
documents read on demand; the opening is audited on the server. The banner tells "no known
allergies" from "never asked". A nurse reads the same chart from the ward, without actions."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sqlalchemy import select

from hms_core.db import Admission, AuditEvent, Bed, Patient, PatientAllergy, VitalsEntry, Ward
from hms_core.db.clinical import (
    CarePlan,
    ClinicalDocument,
    ClinicalNote,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    Problem,
    ProcedureRecord,
)
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_desktop.workspaces.chart.view import ChartView
from hms_desktop.workspaces.clinic.workspace import ClinicWorkspace
from hms_desktop.workspaces.ward.workspace import WardWorkspace
from hms_server.fhir_import.importer import import_paths
from hms_server.seed import DEMO_HISTORIES
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
NOW = datetime.now(UTC).replace(microsecond=0)
LOINC = "http://loinc.org"
GLUCOSE = "2345-7"


@dataclass
class Seeded:
    amina: uuid.UUID  # a full record, severe penicillin allergy, in bed MED-01
    nka: uuid.UUID  # "no known allergies" recorded
    unasked: uuid.UUID  # nothing recorded about allergies


def _patient(session, given: str, family: str):  # noqa: ANN001, ANN202
    data = PatientCreate(
        given_name=given, family_name=family, birth_date=date(1961, 3, 14), sex="female"
    )
    return register_patient(session, SYSTEM, data)


def _lab(patient_id: uuid.UUID, code: str, name: str, days_ago: int, value: str, flag: str,
         unit: str, low: str, high: str) -> Observation:  # fmt: skip
    return Observation(
        patient_id=patient_id,
        category="laboratory",
        code_system=LOINC,
        code=code,
        display=name,
        effective_at=NOW - timedelta(days=days_ago),
        value_num=Decimal(value),
        unit=unit,
        ref_low=Decimal(low),
        ref_high=Decimal(high),
        flag=flag,
    )


def _vital(patient_id: uuid.UUID, code: str, name: str, days_ago: int, value: str) -> Observation:
    return Observation(
        patient_id=patient_id,
        category="vital-signs",
        code_system=LOINC,
        code=code,
        display=name,
        effective_at=NOW - timedelta(days=days_ago),
        value_num=Decimal(value),
    )


def seed_chart(db) -> Seeded:  # noqa: ANN001
    """Amina Okafor's record (two visits, problems, medicines, labs, vitals, documents) and
    her bed on the medical ward; two more patients for the allergy banner."""
    with db.unit_of_work() as session:
        amina = _patient(session, "Amina", "Okafor")
        nka = _patient(session, "Nora", "Kaya")
        unasked = _patient(session, "Ugo", "Nwosu")
        pid = amina.id
        session.add_all(
            [
                PatientAllergy(patient_id=pid, substance="Penicillin", reaction="anaphylaxis",
                               severity="severe", category="medication"),
                PatientAllergy(patient_id=pid, substance="Codeine", reaction="nausea",
                               severity="mild", kind="intolerance", category="medication"),
                PatientAllergy(patient_id=nka.id, substance="No known allergies",
                               severity="mild", code="716186003"),
            ]
        )  # fmt: skip
        old = Encounter(
            id=uuid.uuid4(),
            patient_id=pid,
            encounter_class="outpatient",
            status="finished",
            started_at=NOW - timedelta(days=400),
            reason_display="Diabetes review",
            clinician="Dr Test Doctor",
        )
        new = Encounter(id=uuid.uuid4(), patient_id=pid, encounter_class="inpatient",
                        status="in_progress", started_at=NOW - timedelta(days=2),
                        reason_display="Hyperglycaemia", clinician="Dr Test Doctor")  # fmt: skip
        session.add_all([old, new])
        session.flush()
        session.add_all(
            [
                ClinicalNote(patient_id=pid, encounter_id=new.id, author="test-doctor",
                             complaint="Thirst and polyuria", assessment="Hyperglycaemia",
                             plan="Insulin sliding scale", status="signed", signed_at=NOW),
                Problem(patient_id=pid, code="E11.9", display="Type 2 diabetes mellitus",
                        clinical_status="active", recorded_at=NOW - timedelta(days=400)),
                Problem(patient_id=pid, code="J20.9", display="Acute bronchitis",
                        clinical_status="resolved", recorded_at=NOW - timedelta(days=30)),
                MedicationOrder(patient_id=pid, encounter_id=new.id, drug_name="Metformin",
                                strength="500 mg", dose=Decimal(500), dose_unit="mg",
                                route="oral", frequency="BD", prescriber="test-doctor",
                                prescribed_at=NOW - timedelta(days=2)),
                MedicationOrder(patient_id=pid, encounter_id=old.id, drug_name="Amoxicillin",
                                strength="250 mg", status="stopped", prescriber="test-doctor",
                                prescribed_at=NOW - timedelta(days=400)),
                CarePlan(patient_id=pid, text="Start insulin; HbA1c in 3 months.",
                         author="test-doctor", written_at=NOW - timedelta(days=1)),
                ProcedureRecord(patient_id=pid, display="Appendicectomy",
                                performed_at=NOW - timedelta(days=3000)),
                Immunization(patient_id=pid, display="Influenza vaccine",
                             given_at=NOW - timedelta(days=60)),
                ClinicalDocument(patient_id=pid, title="Discharge letter 2025",
                                 written_at=NOW - timedelta(days=390), author="Dr Test Doctor",
                                 text="Discharged well on metformin."),
                _lab(pid, GLUCOSE, "Glucose", 400, "5.1", "N", "mmol/L", "3.9", "5.6"),
                _lab(pid, GLUCOSE, "Glucose", 30, "7.9", "H", "mmol/L", "3.9", "5.6"),
                _lab(pid, GLUCOSE, "Glucose", 2, "22.4", "HH", "mmol/L", "3.9", "5.6"),
                _lab(pid, "2823-3", "Potassium", 2, "3.2", "L", "mmol/L", "3.5", "5.1"),
                _vital(pid, "8867-4", "Heart rate", 30, "88"),
                _vital(pid, "8867-4", "Heart rate", 2, "104"),
                _vital(pid, "8480-6", "Systolic blood pressure", 2, "142"),
            ]
        )  # fmt: skip
        ward = Ward(code="MED", name="Medical ward", ward_class="general")
        session.add(ward)
        session.flush()
        bed = Bed(ward_id=ward.id, label="MED-01")
        session.add(bed)
        session.flush()
        session.add(Admission(patient_id=pid, bed_id=bed.id, admitted_by="test-nurse",
                              admitted_at=NOW - timedelta(days=2)))  # fmt: skip
        session.add(VitalsEntry(patient_id=pid, taken_at=NOW - timedelta(hours=3),
                                recorded_by="test-nurse", pulse=98, spo2=95, respiration_rate=20,
                                systolic_bp=138, diastolic_bp=84, temperature_c=37.9))  # fmt: skip
        return Seeded(pid, nka.id, unasked.id)


def _wait_chart(qtbot, chart: ChartView, patient_id: uuid.UUID) -> None:  # noqa: ANN001
    qtbot.waitUntil(
        lambda: chart.data is not None and chart.data.summary.header.id == patient_id,
        timeout=WAIT,
    )


def test_doctor_reads_the_whole_chart_from_the_search_and_the_opening_is_audited(
    qtbot,
    controller,
    live_server,
    tmp_path,  # noqa: ANN001
) -> None:
    seeded = seed_chart(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    workspace = window.workspaces["clinic"]
    assert isinstance(workspace, ClinicWorkspace)
    window.show_workspace("clinic")
    window.resize(1440, 900)

    # the global search opens the chart while the clinic is in front
    box = window.search_box
    with qtbot.waitSignal(box.results_shown, timeout=WAIT):
        box.setText("okafor ami")
        box.search_now()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    chart = workspace.chart
    _wait_chart(qtbot, chart, seeded.amina)
    assert workspace.tabs.currentWidget() is chart

    # allergies at the top, in red; header; problems active first; the plan
    assert chart.banner.kind == "severe"
    banner = chart.banner.label.text()
    assert "Penicillin (severe, anaphylaxis)" in banner and "Codeine (intolerance" in banner
    assert "OKAFOR, Amina" in chart.header.name_label.text()
    assert "MRN" in chart.header.details_label.text()
    problems = chart.summary_tab.problems_model.records()
    assert [p.display for p in problems] == ["Type 2 diabetes mellitus", "Acute bronchitis"]
    assert [m.drug_name for m in chart.summary_tab.meds_model.records()] == ["Metformin"]
    assert [m.drug_name for m in chart.medications_tab.past_model.records()] == ["Amoxicillin"]
    assert "Start insulin" in chart.summary_tab.plan_label.toPlainText()
    assert chart.editable and chart.action_bar.count() > 0  # the doctor's actions are there
    shots = shots_dir(tmp_path)
    assert window.grab().save(str(shots / "chart_summary.png"))

    # the timeline, newest first, says what happened in each visit
    timeline = chart.timeline_tab
    assert [e.reason for e in timeline.model.records()] == ["Hyperglycaemia", "Diabetes review"]
    assert timeline.model.record(0).happened == "1 note · 1 prescription"
    assert "Insulin sliding scale" in timeline.detail.toPlainText()
    chart.tabs.setCurrentWidget(timeline)
    assert window.grab().save(str(shots / "chart_timeline.png"))

    # the cumulative lab table keeps the flags; the trend has every glucose value
    results = chart.results_tab
    model = results.model
    row = model.row_of(GLUCOSE)
    cells = [model.index(row, c).data() for c in range(model.columnCount())]
    assert [c for c in cells if c] == ["22.4 HH!", "7.9 H", "5.1"]  # newest first
    critical = model.index(row, 0)
    assert critical.data(Qt.ItemDataRole.BackgroundRole) is not None  # filled red
    potassium = model.row_of("2823-3")
    assert model.index(potassium, 0).data() == "3.2 L"
    chart.tabs.setCurrentWidget(results)
    assert results.choose(GLUCOSE)
    assert results.trend.point_count() == 3 and results.trend.band.isVisible()
    assert window.grab().save(str(shots / "chart_results.png"))

    # vital signs from coded observations and the ward's charted set
    chart.tabs.setCurrentWidget(chart.vitals_tab)
    assert chart.vitals_tab.plots.point_count() >= 3 + 6
    assert window.grab().save(str(shots / "chart_vitals.png"))

    # procedures, immunizations, documents (text read when chosen)
    assert chart.procedures_tab.procedures_model.records()[0].display == "Appendicectomy"
    assert chart.procedures_tab.immunizations_model.rowCount() == 1
    documents = chart.documents_tab
    assert [d.title for d in documents.model.records()] == ["Discharge letter 2025"]
    documents.view.selectRow(0)
    qtbot.waitUntil(lambda: "Discharged well" in documents.text.toPlainText(), timeout=WAIT)

    # the opening was audited on the server, once, as a chart read from this PC's cache
    def audited() -> list[AuditEvent]:
        with live_server.db.unit_of_work() as session:
            return list(
                session.execute(
                    select(AuditEvent).where(
                        AuditEvent.patient_id == seeded.amina, AuditEvent.action == "patient.read"
                    )
                ).scalars()
            )

    qtbot.waitUntil(lambda: any(e.detail.get("view") == "chart" for e in audited()), timeout=WAIT)
    charts = [e for e in audited() if e.detail.get("view") == "chart"]
    assert len(charts) == 1 and charts[0].detail["from_cache"] is True
    assert charts[0].actor_username == live_server.users["doctor"][0]

    # the day's list is one tab away, with its "Open chart" button
    workspace.tabs.setCurrentIndex(0)
    assert workspace.chart_button.isVisible() and not workspace.chart_button.isEnabled()
    assert window.grab().save(str(shots / "chart_clinic_day.png"))

    # the banner tells "no known allergies" from "never asked"
    workspace.open_patient(seeded.nka)
    _wait_chart(qtbot, chart, seeded.nka)
    assert (chart.banner.label.text(), chart.banner.kind) == ("No known allergies", "none")
    workspace.open_patient(seeded.unasked)
    _wait_chart(qtbot, chart, seeded.unasked)
    assert chart.banner.label.text().startswith("Allergies not recorded")
    assert chart.banner.kind == "warning"
    assert "No laboratory results" in chart.results_tab.empty_label.text()
    assert chart.results_tab.empty_label.isVisibleTo(chart.results_tab)


def test_nurse_reads_the_chart_from_the_ward_without_actions(
    qtbot,
    controller,
    live_server,
    tmp_path,  # noqa: ANN001
) -> None:
    seeded = seed_chart(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    workspace = window.workspaces["ward"]
    assert isinstance(workspace, WardWorkspace)
    window.show_workspace("ward")
    window.resize(1440, 900)
    qtbot.waitUntil(lambda: workspace.ward_combo.findText("MED · Medical ward") >= 0, timeout=WAIT)
    workspace.choose_ward("MED")
    qtbot.waitUntil(lambda: workspace.beds_model.rowCount() == 1, timeout=WAIT)
    workspace.select_bed("MED-01")
    assert workspace.chart_button.isEnabled()
    workspace.chart_button.click()
    chart = workspace.chart
    _wait_chart(qtbot, chart, seeded.amina)
    assert workspace.pages.currentWidget() is chart
    assert chart.banner.kind == "severe"
    assert not chart.editable and chart.actions is None and chart.action_bar.count() == 0
    texts = {b.text() for b in chart.findChildren(QPushButton)}
    assert not texts & {"Prescribe…", "Order test…", "Note"}
    chart.tabs.setCurrentWidget(chart.vitals_tab)
    assert chart.vitals_tab.plots.point_count() > 0
    shots = shots_dir(tmp_path)
    assert window.grab().save(str(shots / "chart_ward_nurse.png"))
    workspace.chart_button.click()
    assert workspace.pages.currentIndex() == 0  # back to the beds


def test_an_imported_patient_s_history_shows_in_the_chart(
    qtbot,
    controller,
    live_server,
    tmp_path,  # noqa: ANN001
) -> None:
    """A Synthea patient imported with `import-fhir` reaches the doctor's desk through sync
    and the chart shows the years of history as the bundle has it."""
    bundle = next(DEMO_HISTORIES.glob("Byron202_*.json.gz"))
    practitioners = next(DEMO_HISTORIES.glob("practitionerInformation*.json.gz"))
    summary = import_paths(live_server.db, [practitioners, bundle])
    assert not summary.failures
    with live_server.db.unit_of_work() as session:
        byron = session.execute(
            select(Patient).where(Patient.family_name == "Sauer652")
        ).scalar_one()
        byron_id = byron.id
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    workspace = window.workspaces["clinic"]
    window.show_workspace("clinic")
    window.resize(1440, 900)
    box = window.search_box
    with qtbot.waitSignal(box.results_shown, timeout=WAIT):
        box.setText("byron sauer")
        box.search_now()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    chart = workspace.chart
    _wait_chart(qtbot, chart, byron_id)
    data = chart.data
    assert len(data.encounters) == 66  # as many as the bundle has
    assert len(data.immunizations) == 49
    assert len(data.documents) == 66
    # its observations carry local codes: the results and vital signs are found by their names
    assert "HIV viral load" in [a.name for a in data.labs.analytes]
    plotted = {series.kind.key: len(series.times) for series in data.vitals}
    assert plotted["temp"] == 10 and plotted["hr"] == 10 and plotted["spo2"] == 10
    assert data.encounters[0].started_at >= data.encounters[-1].started_at  # newest first
    chart.tabs.setCurrentWidget(chart.timeline_tab)
    qtbot.wait(50)
    assert window.grab().save(str(shots_dir(tmp_path) / "chart_imported_fhir.png"))
