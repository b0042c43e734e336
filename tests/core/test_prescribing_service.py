"""Prescribing against real PostgreSQL: each safety check fires at the moment of prescribing and
is overridden only with a reason (nothing saved until every warning has one); overrides are
stored and audited; updates, stops and renewals are new versions of the prescription."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from hms_core import SCHEMA_VERSION, catalogues
from hms_core.catalogues import Drug
from hms_core.db import AuditEvent, MedicationOrder
from hms_core.db.base import new_id
from hms_core.schemas import clinical as wire
from hms_core.schemas.errors import field_errors
from hms_core.schemas.patients import AllergyIn, PatientCreate
from hms_core.services import Conflict, InvalidData, PermissionDenied
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import prescriptions
from hms_core.services.clinical.prescriptions import SafetyCheck
from hms_core.services.patients import register_patient
from hms_core.services.unit import take_events
from hms_core.sync.clinical_mutations import CLINICAL_MUTATIONS
from hms_core.sync.protocol import MutationEnvelope, PushRequest
from hms_core.sync.registry import MUTATIONS
from hms_server import sync_service

DOCTOR = Actor(None, "dr-grey", "doctor")
NURSE = Actor(None, "nurse-joy", "nurse")
PHARMACIST = Actor(None, "pharm-lee", "pharmacy")
RUN = {name: run for name, _, run in CLINICAL_MUTATIONS}


def now() -> datetime:
    return datetime.now(UTC)


def drug(code: str) -> Drug:
    """The formulary's drug with this code."""
    found = catalogues.drug(code)
    assert found is not None, f"{code} is not in the formulary"
    return found


@dataclass
class Patients:
    plain: uuid.UUID
    penicillin_allergic: uuid.UUID


@pytest.fixture
def patients(db) -> Patients:  # noqa: ANN001
    with db.unit_of_work() as session:
        plain, allergic = (
            register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=name,
                    family_name="Roe",
                    birth_date=date(1950, 7, 1),
                    sex="female",
                    allergies=allergies,
                ),
            )
            for name, allergies in (
                ("Ann", []),
                ("Bea", [AllergyIn(substance="Penicillin", reaction="Hives", severity="severe")]),
            )
        )
        return Patients(plain.id, allergic.id)


def rx(patient: uuid.UUID, medicine: Drug, dose: Decimal | None = None, **extra) -> wire.Prescribe:  # noqa: ANN001, ANN003
    """A prescription at the lowest usual dose, once a day, by the drug's first route."""
    values = {
        "id": new_id(),
        "patient_id": patient,
        "drug_code": medicine.code,
        "dose": dose or medicine.usual_dose_min,
        "dose_unit": medicine.dose_unit,
        "route": medicine.routes[0],
        "frequency": "OD",
        "duration_days": 7,
        "at": now(),
    }
    return wire.Prescribe(**(values | extra))


def prescribe(db, args: wire.Prescribe, actor: Actor = DOCTOR) -> MedicationOrder:  # noqa: ANN001
    with db.unit_of_work() as session:
        return prescriptions.prescribe(session, actor, args)


def refused(db, args: wire.Prescribe) -> SafetyCheck:  # noqa: ANN001
    with pytest.raises(SafetyCheck) as caught:
        prescribe(db, args)
    return caught.value


def checks(exc: SafetyCheck) -> dict[str, dict]:
    return {w["check"]: w for w in exc.detail["warnings"]}


def orders(db) -> int:  # noqa: ANN001
    with db.unit_of_work() as session:
        return session.execute(select(func.count()).select_from(MedicationOrder)).scalar_one()


def audits(db, action: str) -> list[AuditEvent]:  # noqa: ANN001
    with db.unit_of_work() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.execute(query).scalars())


# --- a clean prescription -----------------------------------------------------------------------


def test_a_clean_prescription_is_saved_from_the_formulary_and_queued_for_pharmacy(
    db,  # noqa: ANN001
    patients,  # noqa: ANN001
) -> None:
    medicine = drug("paracetamol")
    args = rx(patients.plain, medicine, dose_unit=medicine.dose_unit.upper(), frequency="qds")
    with db.unit_of_work() as session:
        result = RUN["prescribe"](session, DOCTOR, args)
        events = take_events(session)
    assert (result["status"], result["overrides"]) == ("active", 0)
    assert [(e.kind, e.data) for e in events] == [
        ("prescription.queued", {"prescription_id": str(args.id)})
    ]
    with db.unit_of_work() as session:
        order = session.get(MedicationOrder, args.id)
        assert (order.drug_name, order.code, order.display) == (
            medicine.name,
            medicine.code,
            medicine.name,
        )
        assert order.code_system == "urn:hms:formulary"
        assert (order.dose_unit, order.frequency) == (medicine.dose_unit, "QDS")
        assert (order.pharmacy_status, order.prescriber, order.overrides) == (
            "queued",
            "dr-grey",
            [],
        )
    [event] = audits(db, "prescription.new")
    assert event.patient_id == patients.plain
    assert prescribe(db, args).id == args.id  # a replay returns the same prescription
    assert orders(db) == 1


def test_a_prescription_without_a_dose_or_with_dose_zero_is_refused_with_a_reason() -> None:
    medicine = drug("paracetamol")
    for dose in (None, Decimal(0), Decimal("-5")):
        values = rx(uuid.uuid4(), medicine).model_dump() | {"dose": dose}
        if dose is None:
            del values["dose"]
        with pytest.raises(ValidationError) as caught:
            wire.Prescribe(**values)
        [error] = field_errors(caught.value)
        assert error.field == "dose"
        assert error.message in ("This is required", "Must be more than 0")


def test_a_drug_outside_the_formulary_or_given_a_wrong_way_is_refused(db, patients) -> None:  # noqa: ANN001
    medicine = drug("paracetamol")
    with pytest.raises(InvalidData, match="not in the formulary"):
        prescribe(db, rx(patients.plain, medicine, drug_code="NOT-A-DRUG"))
    wrong = rx(patients.plain, medicine, route="intrathecal", frequency="hourly", dose_unit="kg")
    with pytest.raises(InvalidData, match=f"Check the prescription of {medicine.name}") as caught:
        prescribe(db, wrong)
    assert set(caught.value.fields) == {"route", "frequency", "dose_unit"}
    assert medicine.dose_unit in caught.value.fields["dose_unit"]
    assert orders(db) == 0


def test_only_a_prescriber_prescribes(db, patients) -> None:  # noqa: ANN001
    for actor in (NURSE, PHARMACIST):
        with pytest.raises(PermissionDenied):
            prescribe(db, rx(patients.plain, drug("paracetamol")), actor)
    assert orders(db) == 0


# --- each safety check --------------------------------------------------------------------------


def test_a_penicillin_allergy_stops_amoxicillin_until_overridden_with_a_reason(
    db, patients
) -> None:  # noqa: ANN001
    args = rx(patients.penicillin_allergic, drug("amoxicillin"))
    exc = refused(db, args)
    assert (exc.code, exc.http_status) == ("safety_check", 409)
    [warning] = [w for w in exc.detail["warnings"] if w["kind"] == "allergy"]
    assert warning["severity"] == "high" and "Penicillin" in warning["message"]
    assert exc.message == "1 safety warning needs a reason to override."
    json.dumps(exc.detail)  # it travels to the desk as it is
    assert orders(db) == 0 and audits(db, "prescription.new") == []

    with pytest.raises(ValidationError, match="at least 3 characters"):
        wire.Override(check=warning["check"], reason="ok")
    overridden = args.model_copy(
        update={"overrides": [wire.Override(check=warning["check"], reason="Tolerated it in 2019")]}
    )
    with db.unit_of_work() as session:
        result = RUN["prescribe"](session, DOCTOR, overridden)
    assert result["overrides"] == 1
    with db.unit_of_work() as session:
        [stored] = session.get(MedicationOrder, args.id).overrides
    assert stored == {
        "check": warning["check"],
        "kind": "allergy",
        "severity": "high",
        "message": warning["message"],
        "reason": "Tolerated it in 2019",
        "by": "dr-grey",
    }
    [event] = audits(db, "prescription.override")
    assert event.patient_id == patients.penicillin_allergic
    assert event.detail["reason"] == "Tolerated it in 2019"
    assert event.detail["prescription_id"] == str(args.id)


def test_the_same_drug_twice_is_duplicate_therapy(db, patients) -> None:  # noqa: ANN001
    amoxicillin = drug("amoxicillin")
    prescribe(db, rx(patients.plain, amoxicillin))
    exc = refused(db, rx(patients.plain, amoxicillin))
    assert [w["kind"] for w in exc.detail["warnings"]] == ["duplicate"]
    assert orders(db) == 1


def test_warfarin_with_ibuprofen_is_an_interaction_with_its_source(db, patients) -> None:  # noqa: ANN001
    warfarin = drug("warfarin")
    prescribe(db, rx(patients.plain, warfarin))
    exc = refused(db, rx(patients.plain, drug("ibuprofen")))
    [warning] = [w for w in exc.detail["warnings"] if w["kind"] == "interaction"]
    assert warning["check"].startswith("interaction:")
    assert warfarin.name in warning["message"] and warning["source"]
    assert orders(db) == 1


def test_a_dose_above_the_usual_range_and_above_the_daily_maximum(db, patients) -> None:  # noqa: ANN001
    medicine = drug("paracetamol")
    high = rx(patients.plain, medicine, dose=medicine.usual_dose_max * 2, frequency="Q4H")
    exc = refused(db, high)
    assert {"dose:high", "dose:high-daily"} <= set(checks(exc))
    assert exc.detail["missing"] == [w["check"] for w in exc.detail["warnings"]]


def test_every_warning_needs_its_own_reason_and_nothing_is_saved_until_then(db, patients) -> None:  # noqa: ANN001
    medicine = drug("amoxicillin")
    args = rx(patients.penicillin_allergic, medicine, dose=medicine.usual_dose_max * 2)
    found = checks(refused(db, args))
    assert len(found) >= 2
    allergy = next(c for c, w in found.items() if w["kind"] == "allergy")
    partly = args.model_copy(
        update={"overrides": [wire.Override(check=allergy, reason="Tested negative")]}
    )
    exc = refused(db, partly)
    assert allergy not in exc.detail["missing"] and len(exc.detail["missing"]) == len(found) - 1
    assert orders(db) == 0 and audits(db, "prescription.override") == []

    every = [wire.Override(check=c, reason="Discussed with microbiology") for c in found]
    saved = prescribe(db, args.model_copy(update={"overrides": every}))
    assert {o["check"] for o in saved.overrides} == set(found)
    assert len(audits(db, "prescription.override")) == len(found)


# --- versions -----------------------------------------------------------------------------------


def change(db, previous: uuid.UUID, kind: str, **extra) -> MedicationOrder:  # noqa: ANN001, ANN003
    args = wire.ChangePrescription(
        id=new_id(),
        prescription_id=previous,
        change=kind,
        reason="Reviewed on the ward round",
        at=now(),
        **extra,
    )
    with db.unit_of_work() as session:
        return prescriptions.change_prescription(session, DOCTOR, args)


def test_update_stop_and_renew_are_versions_and_the_old_one_is_superseded(db, patients) -> None:  # noqa: ANN001
    medicine = drug("amoxicillin")
    first = prescribe(db, rx(patients.plain, medicine, at=now() - timedelta(days=2)))
    fields = wire.PrescriptionFields(
        drug_code=medicine.code,
        dose=medicine.usual_dose_min,
        dose_unit=medicine.dose_unit,
        route=medicine.routes[0],
        frequency="BD",
        duration_days=5,
    )
    updated = change(db, first.id, "update", fields=fields)  # no duplicate with its own old self
    assert (updated.previous_id, updated.change, updated.status) == (first.id, "update", "active")
    assert (updated.dose, updated.frequency, updated.duration_days) == (fields.dose, "BD", 5)

    stopped = change(db, updated.id, "stop")
    assert (stopped.status, stopped.dose, stopped.frequency) == ("stopped", updated.dose, "BD")
    assert stopped.change_reason == "Reviewed on the ward round"
    with pytest.raises(Conflict, match="changed since; open its latest version"):
        change(db, updated.id, "renew")
    with pytest.raises(Conflict, match="changed since"):
        change(db, stopped.id, "renew")

    second = prescribe(db, rx(patients.plain, medicine, at=now() - timedelta(days=1)))
    renewed = change(db, second.id, "renew")
    assert renewed.status == "active" and renewed.prescribed_at > second.prescribed_at
    assert (renewed.dose, renewed.route, renewed.drug_code) == (
        second.dose,
        second.route,
        medicine.code,
    )
    with db.unit_of_work() as session:
        statuses = {o.id: o.status for o in session.execute(select(MedicationOrder)).scalars()}
    assert statuses == {
        first.id: "superseded",
        updated.id: "superseded",
        stopped.id: "stopped",
        second.id: "superseded",
        renewed.id: "active",
    }
    assert [len(audits(db, f"prescription.{k}")) for k in ("update", "stop", "renew")] == [1, 1, 1]


def test_an_update_is_checked_again_and_needs_its_fields(db, patients) -> None:  # noqa: ANN001
    amoxicillin = drug("amoxicillin")
    first = prescribe(db, rx(patients.plain, amoxicillin))
    with pytest.raises(InvalidData, match="Give the new dose"):
        change(db, first.id, "update")
    other = drug("paracetamol")
    switch = wire.PrescriptionFields(
        drug_code=other.code,
        dose=other.usual_dose_min,
        dose_unit="mg",
        route="oral",
        frequency="OD",
    )
    with pytest.raises(InvalidData, match="To change the drug, stop this prescription"):
        change(db, first.id, "update", fields=switch)
    fields = wire.PrescriptionFields(
        drug_code=amoxicillin.code,
        dose=amoxicillin.usual_dose_max * 2,
        dose_unit=amoxicillin.dose_unit,
        route=amoxicillin.routes[0],
        frequency="OD",
    )
    with pytest.raises(SafetyCheck) as caught:
        change(db, first.id, "update", fields=fields)
    assert "dose:high" in checks(caught.value)
    assert "duplicate" not in {w["kind"] for w in caught.value.detail["warnings"]}
    with db.unit_of_work() as session:
        assert session.get(MedicationOrder, first.id).status == "active"
    assert orders(db) == 1
    with pytest.raises(PermissionDenied), db.unit_of_work() as session:
        prescriptions.change_prescription(
            session,
            NURSE,
            wire.ChangePrescription(
                id=new_id(), prescription_id=first.id, change="stop", reason="Nausea", at=now()
            ),
        )


# --- through the server's push ------------------------------------------------------------------


def test_a_push_refused_by_the_safety_checks_reaches_the_desk_with_its_warnings(
    db,  # noqa: ANN001
    patients,  # noqa: ANN001
) -> None:
    assert {name for name, _, _ in CLINICAL_MUTATIONS} <= set(MUTATIONS)  # the server runs them
    args = rx(patients.penicillin_allergic, drug("amoxicillin"))
    desk = Actor(None, "dr-grey", "doctor", client_id="ward-pc-7")

    def push(payload: wire.Prescribe) -> dict:
        envelope = MutationEnvelope(
            mutation_id=uuid.uuid4(), name="prescribe", args=payload.model_dump(mode="json")
        )
        request = PushRequest(
            client_id="ward-pc-7", schema_version=SCHEMA_VERSION, mutations=[envelope]
        )
        [outcome] = sync_service.push(db, desk, request).results
        return outcome.model_dump(mode="json")

    rejected = push(args)
    assert rejected["status"] == "rejected"
    assert rejected["error"]["code"] == "safety_check"
    [warning] = rejected["error"]["detail"]["warnings"]
    assert (
        warning["kind"] == "allergy" and warning["check"] in rejected["error"]["detail"]["missing"]
    )
    assert orders(db) == 0

    reason = [wire.Override(check=warning["check"], reason="Skin test negative last week")]
    applied = push(args.model_copy(update={"overrides": reason}))
    assert applied["status"] == "applied"
    assert (applied["result"]["status"], applied["result"]["overrides"]) == ("active", 1)
    assert orders(db) == 1
