"""Opening a patient's chart from the desk cache: a patient with 10 years of history (500
encounters, 5,000 observations of labs and vital signs, notes, prescriptions, problems).

Builds a desk cache (LocalStore on a temporary directory, rows inserted through the ORM) and
measures, over several runs:
- first paint: `chart_summary` read + the chart's top and Summary tab painted (QWidget.grab);
- full chart: `chart` read + every tab filled and painted;
against the baseline of a plain sqlite3 read of the same rows (SELECT * of every table of the
patient) in the same run. Prints absolute ms and the ratio to the baseline (DESIGN.md §7).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/chart_bench.py [--runs 7]
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from hms_core.db import Patient, PatientAllergy  # noqa: E402
from hms_core.db.base import new_id  # noqa: E402
from hms_core.db.clinical import (  # noqa: E402
    CarePlan,
    ClinicalDocument,
    ClinicalNote,
    ClinicalOrder,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    Problem,
    ProcedureRecord,
)
from hms_core.services import Actor  # noqa: E402
from hms_desktop.store.cache import LocalStore  # noqa: E402
from hms_desktop.store.chart import LocalChart  # noqa: E402

TARGET_MS = 300.0
YEARS, ENCOUNTERS, OBSERVATIONS = 10, 500, 5000
LABS = [  # LOINC, name, unit, low, high, mean, spread
    ("2345-7", "Glucose", "mmol/L", 3.9, 5.6, 5.8, 1.6),
    ("4548-4", "HbA1c", "%", 4.0, 5.6, 6.4, 0.9),
    ("2160-0", "Creatinine", "umol/L", 45, 90, 88, 20),
    ("2951-2", "Sodium", "mmol/L", 135, 145, 139, 4),
    ("2823-3", "Potassium", "mmol/L", 3.5, 5.1, 4.4, 0.6),
    ("718-7", "Haemoglobin", "g/L", 120, 160, 131, 14),
    ("6690-2", "White cells", "10*9/L", 4.0, 11.0, 7.5, 2.5),
    ("777-3", "Platelets", "10*9/L", 150, 400, 260, 60),
    ("2093-3", "Cholesterol", "mmol/L", 0, 5.2, 5.3, 0.9),
    ("1742-6", "ALT", "U/L", 7, 56, 35, 15),
]
VITALS = [  # LOINC, name, unit, mean, spread
    ("8867-4", "Heart rate", "/min", 76, 10),
    ("8480-6", "Systolic blood pressure", "mmHg", 132, 14),
    ("8462-4", "Diastolic blood pressure", "mmHg", 82, 9),
    ("9279-1", "Respiratory rate", "/min", 16, 2),
    ("59408-5", "Oxygen saturation", "%", 97, 1.5),
    ("8310-5", "Body temperature", "Cel", 36.9, 0.4),
    ("29463-7", "Body weight", "kg", 84, 3),
    ("39156-5", "BMI", "kg/m2", 28.1, 1.0),
]
PATIENT_TABLES = (
    "patient_allergy",
    "problem",
    "encounter",
    "clinical_note",
    "clinical_order",
    "medication_order",
    "observation",
    "procedure_record",
    "immunization",
    "clinical_document",
    "care_plan",
    "vitals_entry",
)


def build_history(store: LocalStore, rng: random.Random) -> uuid.UUID:
    """One patient with ten years of history in the cache; returns the patient's id."""
    patient_id = new_id()
    now = datetime.now(UTC)
    start = now - timedelta(days=365 * YEARS)
    step = (now - start) / ENCOUNTERS
    rows: list[Any] = [
        Patient(
            id=patient_id,
            mrn="1000007",
            given_name="Amina",
            family_name="Okafor",
            birth_date=date(1961, 3, 14),
            sex="female",
            sort_name="okafor amina",
        ),
        PatientAllergy(
            patient_id=patient_id, substance="Penicillin", reaction="anaphylaxis", severity="severe"
        ),
        PatientAllergy(
            patient_id=patient_id,
            substance="Codeine",
            reaction="nausea",
            severity="mild",
            kind="intolerance",
        ),
    ]
    encounters = [
        Encounter(
            id=new_id(),
            patient_id=patient_id,
            encounter_class="outpatient" if n % 10 else "inpatient",
            status="finished",
            started_at=start + step * n,
            ended_at=start + step * n + timedelta(minutes=30),
            reason_display=rng.choice(["Diabetes review", "Hypertension", "Cough", "Check-up"]),
            clinician="dr.house",
        )
        for n in range(ENCOUNTERS)
    ]
    rows += encounters
    for n, enc in enumerate(encounters):
        rows.append(_note(patient_id, enc, n))
    rows += _problems(patient_id, start)
    rows += _prescriptions(patient_id, encounters, rng)
    rows += _observations(patient_id, encounters, rng)
    rows += _others(patient_id, encounters)
    with Session(store.engine) as session, session.begin():  # no cache hooks: a plain load
        session.add_all(rows)
    return patient_id


def _note(patient_id: uuid.UUID, enc: Encounter, n: int) -> ClinicalNote:
    return ClinicalNote(
        patient_id=patient_id,
        encounter_id=enc.id,
        author="dr.house",
        complaint="Follow-up",
        assessment=f"Stable, visit {n}",
        plan="Continue",
        status="signed",
        signed_at=enc.started_at,
    )


def _problems(patient_id: uuid.UUID, start: datetime) -> list[Problem]:
    codes = [
        ("E11.9", "Type 2 diabetes"),
        ("I10", "Essential hypertension"),
        ("J20.9", "Acute bronchitis"),
    ]
    return [
        Problem(
            patient_id=patient_id,
            code_system="http://hl7.org/fhir/sid/icd-10",
            code=codes[n % 3][0],
            display=codes[n % 3][1],
            clinical_status="active" if n < 5 else "resolved",
            onset=(start + timedelta(days=120 * n)).date(),
            recorded_at=start + timedelta(days=120 * n),
        )
        for n in range(25)
    ]


def _prescriptions(
    patient_id: uuid.UUID, encounters: list[Encounter], rng: random.Random
) -> list[MedicationOrder]:
    """60 chains of 1-3 versions; the latest of each is current or stopped."""
    drugs = ["Metformin", "Ramipril", "Atorvastatin", "Amoxicillin", "Paracetamol", "Amlodipine"]
    found: list[MedicationOrder] = []
    for chain in range(60):
        previous: MedicationOrder | None = None
        enc = encounters[chain * 8]
        for version in range(rng.randint(1, 3)):
            order = MedicationOrder(
                id=new_id(),
                patient_id=patient_id,
                encounter_id=enc.id,
                drug_name=drugs[chain % len(drugs)],
                strength="500 mg",
                dose=Decimal(500),
                dose_unit="mg",
                route="oral",
                frequency="BD",
                status="superseded",
                prescriber="dr.house",
                prescribed_at=enc.started_at + timedelta(days=30 * version),
                previous_id=previous.id if previous else None,
                change="new" if previous is None else "update",
            )
            found.append(order)
            previous = order
        assert previous is not None
        previous.status = "active" if chain >= 54 else "stopped"
    return found


def _observations(
    patient_id: uuid.UUID, encounters: list[Encounter], rng: random.Random
) -> list[Observation]:
    """3,000 lab results (10 analytes on 300 days) and 2,000 vital signs (8 kinds, 250 sets)."""
    found = []
    lab_days = encounters[::5] + encounters[1::5] + encounters[2::5]  # 300 encounters
    for enc in lab_days:
        for code, name, unit, low, high, mean, spread in LABS:
            value = round(rng.gauss(mean, spread), 1)
            flag = "H" if value > high else "L" if value < low else "N"
            found.append(
                Observation(
                    patient_id=patient_id,
                    encounter_id=enc.id,
                    category="laboratory",
                    code_system="http://loinc.org",
                    code=code,
                    display=name,
                    effective_at=enc.started_at,
                    value_num=Decimal(str(value)),
                    unit=unit,
                    ref_low=Decimal(str(low)),
                    ref_high=Decimal(str(high)),
                    flag=flag,
                )
            )
    for enc in encounters[::2]:  # 250 sets
        for code, name, unit, mean, spread in VITALS:
            found.append(
                Observation(
                    patient_id=patient_id,
                    encounter_id=enc.id,
                    category="vital-signs",
                    code_system="http://loinc.org",
                    code=code,
                    display=name,
                    effective_at=enc.started_at,
                    value_num=Decimal(str(round(rng.gauss(mean, spread), 1))),
                    unit=unit,
                )
            )
    assert len(found) == OBSERVATIONS
    return found


def _others(patient_id: uuid.UUID, encounters: list[Encounter]) -> list[Any]:
    rows: list[Any] = []
    for n, enc in enumerate(encounters[::10]):
        rows.append(
            ClinicalOrder(
                number=f"ORD-{n:06d}",
                patient_id=patient_id,
                encounter_id=enc.id,
                kind="lab",
                test_code="BMP",
                test_name="Basic metabolic panel",
                status="validated",
                ordered_by="dr.house",
                ordered_at=enc.started_at,
            )
        )
        rows.append(
            ClinicalDocument(
                patient_id=patient_id,
                encounter_id=enc.id,
                title=f"Clinic letter {n + 1}",
                written_at=enc.started_at,
                author="dr.house",
                text="Dear colleague, " * 40,
            )
        )
    for n, enc in enumerate(encounters[::25]):
        rows.append(
            ProcedureRecord(
                patient_id=patient_id, display=f"Procedure {n}", performed_at=enc.started_at
            )
        )
        rows.append(
            Immunization(
                patient_id=patient_id, display="Influenza vaccine", given_at=enc.started_at
            )
        )
        rows.append(
            CarePlan(
                patient_id=patient_id,
                text=f"Plan version {n}",
                author="dr.house",
                written_at=enc.started_at,
            )
        )
    return rows


# --- measuring ------------------------------------------------------------------------------


def plain_read(path: Path, patient_id: uuid.UUID) -> int:
    """The baseline: every row of the patient, every column, with sqlite3 (no ORM, no views)."""
    connection = sqlite3.connect(path)
    try:
        count = 0
        key = patient_id.hex
        for table in PATIENT_TABLES:
            count += len(
                connection.execute(f"SELECT * FROM {table} WHERE patient_id = ?", (key,)).fetchall()  # noqa: S608
            )
        count += len(connection.execute("SELECT * FROM patient WHERE id = ?", (key,)).fetchall())
        return count
    finally:
        connection.close()


class BenchContext:
    """What ChartView needs of an AppContext: the chart reader and `run` (queued here, so the
    two reads can be timed one by one as the worker thread would deliver them)."""

    def __init__(self, chart: LocalChart) -> None:
        self.chart = chart
        self.sync = None
        self.queued: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []

    def run(self, _owner: Any, fn: Callable[[], Any], on_done: Any, _on_error: Any = None) -> int:  # noqa: ANN401
        self.queued.append((fn, on_done))
        return len(self.queued)

    def deliver_next(self) -> None:
        fn, on_done = self.queued.pop(0)
        on_done(fn())


def time_open(view: Any, ctx: BenchContext, patient_id: uuid.UUID) -> tuple[float, float, float]:  # noqa: ANN401
    """ms to first paint, to the full chart (every tab filled, the shown one drawn), and to
    every tab drawn once (as if the user went through all of them, the trend included)."""
    view.patient_id = None
    view.tabs.setCurrentIndex(0)
    start = time.perf_counter()
    view.open_patient(patient_id)
    ctx.deliver_next()  # chart_summary -> banner, header, Summary tab
    view.grab()
    first = time.perf_counter()
    ctx.deliver_next()  # chart -> every tab filled
    view.grab()
    full = time.perf_counter()
    for index in range(1, view.tabs.count()):
        view.tabs.setCurrentIndex(index)
        view.grab()
    view.results_tab.show_trend(0)
    view.tabs.setCurrentWidget(view.results_tab)
    view.grab()
    every = time.perf_counter()
    return tuple((t - start) * 1000 for t in (first, full, every))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    from hms_desktop.app import apply_style  # noqa: PLC0415
    from hms_desktop.workspaces.chart.view import ChartView  # noqa: PLC0415

    apply_style(app)
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp), Actor(None, "bench-doctor", "doctor", "chart_bench"))
        built = time.perf_counter()
        patient_id = build_history(store, random.Random(5))
        print(f"cache built in {time.perf_counter() - built:.1f} s: {store.path}")
        chart = LocalChart(store)
        ctx = BenchContext(chart)
        view = ChartView(ctx, editable=False)  # type: ignore[arg-type]
        view.resize(1280, 820)
        data = chart.chart(patient_id)  # warm: first open of the file, the audit record
        rows = plain_read(store.path, patient_id)
        plain, summary, whole, first, full, every = [], [], [], [], [], []
        for _ in range(args.runs):
            plain.append(_ms(lambda: plain_read(store.path, patient_id)))
            summary.append(_ms(lambda: chart.chart_summary(patient_id)))
            whole.append(_ms(lambda: chart.chart(patient_id)))
            paint, done, all_tabs = time_open(view, ctx, patient_id)
            first.append(paint)
            full.append(done)
            every.append(all_tabs)
        _report(rows, data, plain, summary, whole, first, full, every)
        store.close()


def _ms(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _report(rows: int, data: Any, *series: list[float]) -> None:  # noqa: ANN401
    plain, summary, whole, first, full, every = (statistics.median(s) for s in series)
    labs = sum(len(a.points) for a in data.labs.analytes)
    vitals = sum(len(s.values) for s in data.vitals)
    print(
        f"patient: {len(data.encounters)} encounters, {labs} lab results in "
        f"{len(data.labs.analytes)} analytes x {len(data.labs.days)} days, {vitals} vital signs, "
        f"{len(data.medications)} prescriptions (latest versions); {rows} rows in all"
    )
    print(f"{'figure (median of runs)':34} | {'ms':>7} | {'ratio to plain SQL':>18} | target")
    base = f"{plain:7.1f}"
    print(f"{'plain sqlite3 read (baseline)':34} | {base} | {'1.00x':>18} |")
    for name, value, target in (
        ("chart_summary() read", summary, ""),
        ("chart() read", whole, ""),
        ("first paint (summary + top drawn)", first, f"< {TARGET_MS:.0f} ms"),
        ("full chart (all tabs filled)", full, f"< {TARGET_MS:.0f} ms"),
        ("every tab drawn once (+ a trend)", every, ""),
    ):
        met = "" if not target else ("  met" if value < TARGET_MS else "  NOT met")
        print(f"{name:34} | {value:7.1f} | {value / plain:17.2f}x | {target}{met}")


if __name__ == "__main__":
    main()
