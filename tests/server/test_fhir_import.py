"""Importing Synthea's FHIR R4 bundles: every resource lands once, a second import changes
nothing, unknown codes are kept, and a bad file is reported while the good ones import."""

import gzip
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from hms_core.db.audit import AuditEvent
from hms_core.db.clinical import (
    ClinicalDocument,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    Problem,
    ProcedureRecord,
)
from hms_core.db.patients import Patient, PatientAllergy
from hms_core.db.sync import ChangeLog
from hms_server.db import Database
from hms_server.fhir_import.bundle import read_bundle, resources
from hms_server.fhir_import.importer import import_paths
from hms_server.fhir_import.patients import patient_uuid
from tests.conftest import ROOT, SHARED_DATA

HMS_SERVER = str(Path(sys.executable).parent / "hms-server")
SNOMED = "http://snomed.info/sct"
TABLES = {
    Encounter: ("Encounter",),
    Problem: ("Condition",),
    Immunization: ("Immunization",),
    PatientAllergy: ("AllergyIntolerance",),
    MedicationOrder: ("MedicationRequest",),
    ProcedureRecord: ("Procedure",),
}


def synthea_dir() -> Path:
    """The shared Synthea bundles, or the repository's gzip copies of them."""
    shared = SHARED_DATA / "synthea"
    return shared if shared.is_dir() else ROOT / "resources" / "demo" / "synthea"


def patient_bundles() -> list[Path]:
    return sorted(p for p in synthea_dir().iterdir() if "_" in p.name and ".json" in p.name)


def bundle_bytes(path: Path) -> bytes:
    """The bundle's JSON, whether the file is the shared .json or the repository's .json.gz."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def expected_rows(bundle: dict) -> dict[type, int]:
    """How many rows each table should hold for the bundle's patient, by the mapping's rules."""
    found = [res for _, res in resources(bundle)]
    kinds = Counter(res["resourceType"] for res in found)
    expected = {table: sum(kinds[k] for k in types) for table, types in TABLES.items()}
    expected[Observation] = sum(_observation_rows(r) for r in found if _is(r, "Observation"))
    carried = {
        i["value"].removeprefix("urn:uuid:")
        for r in found
        if _is(r, "DocumentReference")
        for i in r.get("identifier", [])
    }
    reports = [r for r in found if _is(r, "DiagnosticReport") and r["id"] not in carried]
    expected[ClinicalDocument] = kinds["DocumentReference"] + len(reports)
    return expected


def _is(resource: dict, kind: str) -> bool:
    return resource["resourceType"] == kind


def _observation_rows(resource: dict) -> int:
    components = len(resource.get("component", []))
    has_value = any(k.startswith("value") for k in resource)
    return components + (1 if has_value or not components else 0)


def table_counts(db: Database, patient_id) -> dict[type, int]:
    with db.sessions() as session:
        return {
            table: session.scalar(
                select(func.count()).select_from(table).where(table.patient_id == patient_id)
            )
            for table in [*TABLES, Observation, ClinicalDocument]
        }


def test_every_resource_of_every_bundle_lands_once_and_a_second_import_changes_nothing(db):
    summary = import_paths(db, [synthea_dir()])

    assert summary.failures == []
    assert summary.bundles == 9
    assert summary.counts["Patient"].imported == 9
    assert summary.counts["Claim"].skipped == {"billing claims are not imported": 401}
    assert "not stored as rows: 1191 Location, 1191 Organization" in "\n".join(summary.lines())
    for path in patient_bundles():
        bundle = read_bundle(path)
        patient_key = next(r["id"] for _, r in resources(bundle) if _is(r, "Patient"))
        counts = table_counts(db, patient_uuid(patient_key))
        assert counts == expected_rows(bundle), path.name
    first_rows = {path.name: table_counts(db, _patient_of(path)) for path in patient_bundles()}

    again = import_paths(db, [synthea_dir()])

    assert again.failures == []
    assert all(count.imported == 0 for count in again.counts.values())
    assert again.counts["Observation"].present == summary.counts["Observation"].imported
    assert "  Observation: 0 imported, 1777 already present" in again.lines()
    assert {p.name: table_counts(db, _patient_of(p)) for p in patient_bundles()} == first_rows
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 9
        imports = session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.import"))
        assert len(imports.all()) == 18  # one per bundle and run


def _patient_of(path: Path):
    bundle = read_bundle(path)
    return patient_uuid(next(r["id"] for _, r in resources(bundle) if _is(r, "Patient")))


def test_imported_rows_link_their_encounter_name_the_clinician_and_replicate(db):
    alva = next(p for p in patient_bundles() if p.name.startswith("Alva958"))
    import_paths(db, [alva])

    with db.sessions() as session:
        weight = session.scalars(
            select(Observation).where(Observation.display == "Weight").limit(1)
        ).one()
        visit = session.get(Encounter, weight.encounter_id)
        first = session.scalars(
            select(Encounter).where(Encounter.external_id == "27693cab-a4e6-7e79-507f-cbdfe2b82e56")
        ).one()
        note = session.scalars(select(ClinicalDocument).limit(1)).one()
        replicated = session.scalar(
            select(func.count()).where(ChangeLog.table_name == "observation")
        )
    assert (weight.source, weight.unit, weight.category) == ("fhir", "kg", "survey")
    assert weight.value_num is not None
    assert visit is not None and visit.patient_id == weight.patient_id
    assert first.clinician == "Dr. Karl184 Bailey598"
    assert first.location == "PCP42414"
    assert (first.encounter_class, first.status) == ("outpatient", "finished")
    assert "# Chief Complaint" in note.text  # the base64 attachment, decoded
    assert replicated == 156


def test_a_condition_code_unknown_to_the_icd10_catalogue_keeps_its_snomed_coding(db):
    from hms_core.catalogues import icd10

    alva = next(p for p in patient_bundles() if p.name.startswith("Alva958"))
    import_paths(db, [alva])

    with db.sessions() as session:
        problem = session.scalars(select(Problem)).one()
    assert icd10(problem.code) is None
    assert (problem.code_system, problem.code, problem.display) == (
        SNOMED,
        "112141AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Tuberculosis",
    )
    assert (problem.source, problem.external_id) == ("fhir", "c6b5c2a0-5bbb-d511-6384-b552997eaf07")


def test_a_bundle_that_fails_half_way_imports_nothing(db, tmp_path):
    levi = read_bundle(next(p for p in patient_bundles() if p.name.startswith("Levi940")))
    broken = {"resourceType": "Patient", "id": "x-1", "name": [{"family": "Doe", "given": ["J"]}]}
    broken |= {"gender": "female", "birthDate": "2999-01-01"}  # born in the future
    levi["entry"].append({"fullUrl": "urn:uuid:x-1", "resource": broken})
    path = tmp_path / "levi-and-a-broken-patient.json"
    path.write_text(json.dumps(levi))

    summary = import_paths(db, [path])

    assert summary.bundles == 0
    [(name, reason)] = summary.failures
    assert name == str(path) and "cannot be registered" in reason and "future" in reason
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
        assert session.scalar(select(func.count()).select_from(Encounter)) == 0


def test_the_cli_imports_the_good_files_and_names_the_bad_ones(database_url, tmp_path):
    folder = tmp_path / "bundles"
    folder.mkdir()
    levi = next(p for p in patient_bundles() if p.name.startswith("Levi940"))
    (folder / "levi.json.gz").write_bytes(gzip.compress(bundle_bytes(levi)))
    (folder / "garbled.json").write_text("{ this is not json")
    (folder / "lonely-patient.json").write_text('{"resourceType": "Patient", "id": "p"}')
    extra = tmp_path / "kanisha.json"
    extra.write_bytes(bundle_bytes(next(p for p in patient_bundles() if "Kanisha187" in p.name)))

    done = subprocess.run(
        [HMS_SERVER, "import-fhir", str(folder), str(extra)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HMS_DATABASE_URL": database_url},
    )

    assert done.returncode == 1, done.stderr
    assert f"error: {folder / 'garbled.json'}: not a JSON file" in done.stderr
    assert f"error: {folder / 'lonely-patient.json'}: not a FHIR Bundle" in done.stderr
    assert "FHIR import: 2 bundle(s) imported, 2 failed" in done.stdout
    assert "  Patient: 2 imported, 0 already present" in done.stdout
    assert "Claim: 79 skipped (billing claims are not imported)" in done.stdout


def small_bundle() -> dict:
    """A hand-made bundle with what the Synthea samples lack: components, a prescription, an
    allergy, a procedure, a report with results, and plain Type/id references."""
    patient = {"resourceType": "Patient", "id": "pat-1", "gender": "female"}
    patient |= {"birthDate": "1970-05-01", "name": [{"family": "Okafor", "given": ["Ada"]}]}
    visit = {"resourceType": "Encounter", "id": "enc-1", "status": "in-progress"}
    visit |= {"class": {"code": "EMER"}, "subject": {"reference": "Patient/pat-1"}}
    visit |= {"period": {"start": "2026-11-30T08:00:00Z"}}
    on = {"subject": {"reference": "Patient/pat-1"}, "encounter": {"reference": "Encounter/enc-1"}}
    loinc = "http://loinc.org"
    pressure = {
        "resourceType": "Observation",
        "id": "bp-1",
        "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"system": loinc, "code": "85354-9", "display": "Blood pressure"}]},
        "effectiveDateTime": "2026-11-30T08:10:00Z",
        "component": [
            {
                "code": {"coding": [{"system": loinc, "code": code, "display": name}]},
                "valueQuantity": {"value": value, "unit": "mm[Hg]"},
            }
            for code, name, value in (("8480-6", "Systolic", 142), ("8462-4", "Diastolic", 91))
        ],
    } | on
    smoking = {"resourceType": "Observation", "id": "obs-2", "valueString": "never smoked"}
    smoking |= {"code": {"text": "Smoking status"}, "effectiveDateTime": "2026-11-30"} | on
    rx = {"resourceType": "MedicationRequest", "id": "rx-1", "status": "active"}
    rx |= {"authoredOn": "2026-11-30T09:00:00Z", "requester": {"display": "Dr. N. Mensah"}}
    rx |= {
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197361"}],
            "text": "Amlodipine 5 MG Oral Tablet",
        },
        "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}]}],
    } | on
    allergy = {"resourceType": "AllergyIntolerance", "id": "al-1", "type": "allergy"}
    allergy |= {"category": ["medication"], "criticality": "high", "patient": on["subject"]}
    allergy |= {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "373270004"}]}}
    allergy["code"]["text"] = "Penicillin"
    allergy["reaction"] = [{"manifestation": [{"text": "Hives"}], "severity": "moderate"}]
    surgery = {"resourceType": "Procedure", "id": "pr-1", "performedDateTime": "2026-11-30"}
    surgery |= {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "80146002"}]}}
    surgery |= on
    report = {"resourceType": "DiagnosticReport", "id": "dr-1", "conclusion": "Hypertensive."}
    report |= {"code": {"text": "Vital signs panel"}, "issued": "2026-11-30T10:00:00Z"}
    report |= {"result": [{"reference": "Observation/bp-1", "display": "BP 142/91"}]} | on
    claim = {"resourceType": "Claim", "id": "c-1"}
    every = [patient, visit, pressure, smoking, rx, allergy, surgery, report, claim]
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in every]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_components_prescriptions_allergies_procedures_and_reports_map_as_received(db, tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small_bundle()))

    summary = import_paths(db, [path])

    assert summary.failures == []
    assert summary.counts["Claim"].skipped == {"billing claims are not imported": 1}
    with db.sessions() as session:
        visit = session.scalars(select(Encounter)).one()
        values = session.scalars(select(Observation).order_by(Observation.external_id)).all()
        rx = session.scalars(select(MedicationOrder)).one()
        allergy = session.scalars(select(PatientAllergy)).one()
        surgery = session.scalars(select(ProcedureRecord)).one()
        report = session.scalars(select(ClinicalDocument)).one()
    assert (visit.encounter_class, visit.status) == ("emergency", "in_progress")
    assert [(o.external_id, o.code, o.value_num, o.unit, o.value_text) for o in values] == [
        ("bp-1#1", "8480-6", 142, "mm[Hg]", ""),
        ("bp-1#2", "8462-4", 91, "mm[Hg]", ""),
        ("obs-2", "", None, "", "never smoked"),
    ]
    assert {o.encounter_id for o in values} == {visit.id}
    assert values[0].category == "vital-signs" and values[2].display == "Smoking status"
    assert (rx.drug_name, rx.code, rx.dose, rx.dose_unit, rx.source) == (
        "Amlodipine 5 MG Oral Tablet",
        "197361",
        5,
        "mg",
        "fhir",
    )
    assert (rx.prescriber, rx.pharmacy_status, rx.encounter_id) == (
        "Dr. N. Mensah",
        "imported",
        visit.id,
    )
    assert (allergy.substance, allergy.kind, allergy.category, allergy.code) == (
        "Penicillin",
        "allergy",
        "medication",
        "373270004",
    )
    assert (allergy.reaction, allergy.severity) == ("Hives", "moderate")
    assert (surgery.code, surgery.performed_at.date().isoformat()) == ("80146002", "2026-11-30")
    assert report.text == "Hypertensive.\n\nResults: BP 142/91"
