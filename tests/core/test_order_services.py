"""Orders and results against real PostgreSQL: a lab test from the doctor's order through the
specimen, the values, a second person's validation and the doctor's acknowledgement; flags by
sex at the catalogue's limits; every bad value refused in plain words with nothing saved."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hms_core import catalogues
from hms_core.db import AuditEvent
from hms_core.db.base import new_id
from hms_core.db.clinical import CarePlan, ClinicalOrder, Observation
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import orders, results
from hms_core.services.errors import Conflict, InvalidData, PermissionDenied
from hms_core.services.patients import register_patient
from hms_core.services.unit import EVENTS

DOCTOR = Actor(None, "test-doctor", "doctor")
OTHER_DOCTOR = Actor(None, "dr-other", "doctor")
LAB_ANNA = Actor(None, "lab-anna", "lab")
LAB_BEN = Actor(None, "lab-ben", "lab")
NURSE = Actor(None, "test-nurse", "nurse")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Pick:
    """A lab test from the catalogue and one of its numeric analytes."""

    test: catalogues.LabTest
    analyte: catalogues.Analyte


def pick(name: str) -> Pick:
    """The first catalogue test with a numeric analyte whose name contains `name`."""
    for test in catalogues.lab_tests():
        for analyte in test.analytes:
            if analyte.value_type == "numeric" and name in analyte.name.lower():
                return Pick(test, analyte)
    raise AssertionError(f"no {name} in the lab catalogue")


def sex_specific() -> Pick:
    """A numeric analyte whose adult range differs between women and men (haemoglobin...)."""
    adult = 40 * 365
    for test in catalogues.lab_tests():
        for analyte in test.analytes:
            female = catalogues.reference_range(analyte, "female", adult)
            male = catalogues.reference_range(analyte, "male", adult)
            lows = (female.low, male.low) if female and male else (None, None)
            if None not in lows and lows[0] < lows[1]:
                return Pick(test, analyte)
    raise AssertionError("no analyte with different ranges for women and men")


@pytest.fixture
def people(db) -> dict[str, uuid.UUID]:  # noqa: ANN001
    """A woman and a man of forty."""
    born = date.today().replace(year=date.today().year - 40) - timedelta(days=10)
    with db.unit_of_work() as session:
        made = {
            sex: register_patient(
                session,
                SYSTEM,
                PatientCreate(given_name=name, family_name="Okafor", birth_date=born, sex=sex),
            ).id
            for sex, name in (("female", "Ada"), ("male", "Obi"))
        }
    return made


def place(db, patient: uuid.UUID, test_code: str, actor: Actor = DOCTOR) -> uuid.UUID:  # noqa: ANN001
    with db.unit_of_work() as session:
        args = wire.PlaceOrder(
            id=new_id(),
            patient_id=patient,
            kind="lab",
            test_code=test_code,
            indication="Tired and pale for a month",
            priority="urgent",
            at=now(),
        )
        return orders.place_order(session, actor, args).id


def step(db, service, order_id: uuid.UUID, actor: Actor) -> ClinicalOrder:  # noqa: ANN001
    with db.unit_of_work() as session:
        order = service(session, actor, wire.OrderStep(order_id=order_id, at=now()))
        session.flush()
        session.expunge(order)
        return order


def received(db, patient: uuid.UUID, test_code: str) -> uuid.UUID:  # noqa: ANN001
    order_id = place(db, patient, test_code)
    step(db, orders.collect_specimen, order_id, LAB_ANNA)
    step(db, orders.receive_specimen, order_id, LAB_ANNA)
    return order_id


def enter(db, order_id: uuid.UUID, *values: tuple[str, str, str], actor: Actor = LAB_ANNA):  # noqa: ANN001, ANN201
    """Enter (analyte code, value, unit) triples; returns the order as it then stands."""
    with db.unit_of_work() as session:
        args = wire.EnterResults(
            order_id=order_id,
            results=[
                wire.ResultValue(id=new_id(), analyte=code, value=value, unit=unit)
                for code, value, unit in values
            ],
            at=now(),
        )
        order = results.enter_results(session, actor, args)
        session.flush()
        session.expunge(order)
        return order


def observations(db, order_id: uuid.UUID) -> list[Observation]:  # noqa: ANN001
    with db.unit_of_work() as session:
        rows = session.scalars(
            select(Observation).where(Observation.order_id == order_id).order_by(Observation.id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_order_to_acknowledgement(db, people):  # noqa: ANN001
    k = pick("potassium")
    ref = catalogues.reference_range(k.analyte, "female", 40 * 365)
    order_id = place(db, people["female"], k.test.code)
    with db.unit_of_work() as session:
        order = session.get(ClinicalOrder, order_id)
        assert re.fullmatch(r"ORD-\d{8}-[0-9A-F]{6}", order.number)
        assert order.number == orders.order_number(order.id, order.ordered_at)
        assert order.number.endswith(order.id.hex[-6:].upper())
        assert (order.test_name, order.loinc, order.specimen) == (
            k.test.name,
            k.test.loinc,
            k.test.specimen,
        )
        assert order.status == "ordered" and order.ordered_by == "test-doctor"

    assert step(db, orders.collect_specimen, order_id, LAB_ANNA).status == "collected"
    assert step(db, orders.receive_specimen, order_id, LAB_ANNA).status == "received"
    normal = (ref.low + ref.high) / 2
    order = enter(db, order_id, (k.analyte.code, str(normal), ""))  # empty unit: the catalogue's
    assert order.status == "resulted" and order.resulted_by == "lab-anna"
    assert not order.critical
    [row] = observations(db, order_id)
    assert (row.code_system, row.code, row.display) == (
        "http://loinc.org",
        k.analyte.code,
        k.analyte.name,
    )
    assert (row.value_num, row.unit, row.flag, row.status) == (
        normal,
        k.analyte.unit,
        "N",
        "preliminary",
    )
    assert (row.ref_low, row.ref_high) == (ref.low, ref.high)

    with db.unit_of_work() as session:
        validated = results.validate_results(
            session, LAB_BEN, wire.OrderStep(order_id=order_id, at=now())
        )
        [event] = [e for e in session.info[EVENTS] if e.kind == "result.validated"]
        assert event.data == {"order_id": str(order_id), "critical": False}
        assert validated.validated_by == "lab-ben"
    assert [o.status for o in observations(db, order_id)] == ["final"]
    with db.unit_of_work() as session:
        assert [o.id for o in results.unacknowledged(session, "test-doctor")] == [order_id]

    plan_id = new_id()
    with db.unit_of_work() as session:
        results.acknowledge_result(
            session,
            DOCTOR,
            wire.AcknowledgeResult(
                order_id=order_id,
                interpretation="Potassium normal; no change to diuretic.",
                plan_id=plan_id,
                plan="Continue furosemide 40 mg OD; repeat electrolytes in 3 months.",
                at=now(),
            ),
        )
    with db.unit_of_work() as session:
        order = session.get(ClinicalOrder, order_id)
        assert order.acknowledged_by == "test-doctor" and order.acknowledged_at is not None
        assert order.interpretation == "Potassium normal; no change to diuretic."
        plan = session.get(CarePlan, plan_id)
        assert plan.patient_id == people["female"] and "furosemide" in plan.text
        assert order.number in plan.reason
        assert results.unacknowledged(session) == []
        actions = session.execute(
            select(AuditEvent.action, AuditEvent.patient_id).where(
                AuditEvent.action.like("order.%") | AuditEvent.action.like("result.%")
            )
        ).all()
        assert {a for a, _ in actions} == {
            "order.place",
            "order.collect",
            "order.receive",
            "result.enter",
            "result.validate",
            "result.acknowledge",
        }
        assert {p for _, p in actions} == {people["female"]}


def test_flags_at_the_limits_for_a_woman_and_a_man(db, people):  # noqa: ANN001
    hb = sex_specific()
    adult = 40 * 365 + 10
    female = catalogues.reference_range(hb.analyte, "female", adult)
    male = catalogues.reference_range(hb.analyte, "male", adult)
    between = (female.low + male.low) / 2  # normal for her, low for him
    cases = [
        ("female", female.low, "N"),  # on the limit is normal
        ("female", between, "N"),
        ("male", between, "L"),
        ("male", male.high, "N"),
        ("male", male.high + Decimal("0.1"), "H"),
    ]
    if male.critical_low is not None:
        cases.append(("male", male.critical_low, "LL"))  # on a critical limit is critical
    flags = []
    for sex, value, _ in cases:
        order_id = received(db, people[sex], hb.test.code)
        order = enter(db, order_id, (hb.analyte.code, str(value), hb.analyte.unit))
        [row] = observations(db, order_id)
        flags.append(row.flag)
        assert order.critical == (row.flag in ("LL", "HH"))
        expected_ref = female if sex == "female" else male
        assert (row.ref_low, row.ref_high) == (expected_ref.low, expected_ref.high)
    assert flags == [flag for _, _, flag in cases]


def refused(db, order_id: uuid.UUID, *values: tuple[str, str, str]) -> InvalidData:  # noqa: ANN001
    """Enter values that must be refused, and check nothing of them was written."""
    with db.unit_of_work() as session:
        args = wire.EnterResults(
            order_id=order_id,
            results=[
                wire.ResultValue(id=new_id(), analyte=code, value=value, unit=unit)
                for code, value, unit in values
            ],
            at=now(),
        )
        with pytest.raises(InvalidData) as caught:
            results.enter_results(session, LAB_ANNA, args)
        session.flush()
        count = session.scalar(select(func.count()).select_from(Observation))
        assert count == 0
        assert session.get(ClinicalOrder, order_id).status == "received"
    return caught.value


def middle(analyte: catalogues.Analyte) -> str:
    """A normal value of an analyte (text for a text result)."""
    if analyte.value_type != "numeric":
        return "No growth"
    ref = catalogues.reference_range(analyte, "male", 40 * 365)
    if ref is None or ref.low is None or ref.high is None:
        return str(analyte.plausible_low)
    return str((ref.low + ref.high) / 2)


def test_bad_results_are_refused_and_nothing_is_saved(db, people):  # noqa: ANN001
    k = pick("potassium")
    other = next(a for a in k.test.analytes if a.code != k.analyte.code)
    order_id = received(db, people["male"], k.test.code)
    good = (other.code, middle(other), other.unit)

    wrong_unit = refused(db, order_id, good, (k.analyte.code, "4.1", "mg/dL"))
    assert wrong_unit.message == f"{k.analyte.name} is reported in {k.analyte.unit}, not mg/dL."
    assert "results.1.unit" in wrong_unit.fields

    stranger = refused(db, order_id, (k.analyte.code, "4.1", ""), ("99999-9", "5.0", "mmol/L"))
    assert "99999-9" in stranger.message and k.test.name in stranger.message

    word = refused(db, order_id, (k.analyte.code, "abc", ""))
    assert word.message == f"“abc” is not a number for {k.analyte.name}."

    negative = refused(db, order_id, (k.analyte.code, "-3", ""))
    assert "not possible" in negative.message and k.analyte.name in negative.message
    absurd = refused(db, order_id, (k.analyte.code, str(k.analyte.plausible_high * 10), ""))
    assert "not possible" in absurd.message
    refused(db, order_id, (k.analyte.code, "NaN", ""))
    assert observations(db, order_id) == []


def test_the_person_who_entered_cannot_validate(db, people):  # noqa: ANN001
    k = pick("potassium")
    order_id = received(db, people["male"], k.test.code)
    enter(db, order_id, (k.analyte.code, "4.2", ""))
    with db.unit_of_work() as session:
        with pytest.raises(Conflict) as caught:
            results.validate_results(session, LAB_ANNA, wire.OrderStep(order_id=order_id, at=now()))
        assert caught.value.message == "A second person validates: you entered these results."
    with db.unit_of_work() as session, pytest.raises(PermissionDenied):
        results.validate_results(session, NURSE, wire.OrderStep(order_id=order_id, at=now()))
    assert step(db, results.validate_results, order_id, LAB_BEN).status == "validated"
    # validating again (a replayed push) changes nothing
    assert step(db, results.validate_results, order_id, LAB_BEN).validated_by == "lab-ben"


def test_reentry_before_validation_replaces_the_value(db, people):  # noqa: ANN001
    k = pick("potassium")
    ref = catalogues.reference_range(k.analyte, "male", 40 * 365)
    order_id = received(db, people["male"], k.test.code)
    enter(db, order_id, (k.analyte.code, str(ref.critical_high), ""))  # a typing slip: critical
    order = enter(db, order_id, (k.analyte.code, str(ref.high), ""), actor=LAB_BEN)
    assert not order.critical
    old, new = sorted(observations(db, order_id), key=lambda o: o.status)
    assert (old.status, new.status, new.amends_id) == ("cancelled", "preliminary", old.id)
    # both entered a value, so a third person validates
    with db.unit_of_work() as session, pytest.raises(Conflict):
        results.validate_results(session, LAB_BEN, wire.OrderStep(order_id=order_id, at=now()))
    step(db, results.validate_results, order_id, Actor(None, "lab-cleo", "lab"))
    assert sorted(o.status for o in observations(db, order_id)) == ["cancelled", "final"]


def test_critical_results_and_the_doctors_unacknowledged_list(db, people):  # noqa: ANN001
    k = pick("potassium")
    ref = catalogues.reference_range(k.analyte, "female", 40 * 365)
    mine = received(db, people["female"], k.test.code)
    critical = received(db, people["female"], k.test.code)
    with db.unit_of_work() as session:
        theirs = orders.place_order(
            session,
            OTHER_DOCTOR,
            wire.PlaceOrder(
                id=new_id(),
                patient_id=people["male"],
                kind="lab",
                test_code=k.test.code,
                indication="Weakness",
                at=now(),
            ),
        ).id
    step(db, orders.collect_specimen, theirs, LAB_ANNA)
    step(db, orders.receive_specimen, theirs, LAB_ANNA)
    for order_id, value in ((mine, ref.high), (critical, ref.critical_high), (theirs, ref.low)):
        enter(db, order_id, (k.analyte.code, str(value), ""))
        validated = step(db, results.validate_results, order_id, LAB_BEN)
        assert validated.critical == (order_id == critical)
    with db.unit_of_work() as session:
        listed = [o.id for o in results.unacknowledged(session, "test-doctor")]
        assert listed == [critical, mine]  # critical first
        assert {o.id for o in results.unacknowledged(session)} == {mine, critical, theirs}
        results.acknowledge_result(
            session,
            DOCTOR,
            wire.AcknowledgeResult(order_id=critical, interpretation="Repeat now", at=now()),
        )
    with db.unit_of_work() as session:
        assert [o.id for o in results.unacknowledged(session, "test-doctor")] == [mine]


def test_a_result_is_acknowledged_only_once_validated(db, people):  # noqa: ANN001
    k = pick("potassium")
    order_id = received(db, people["female"], k.test.code)
    enter(db, order_id, (k.analyte.code, "4.0", ""))
    with db.unit_of_work() as session, pytest.raises(Conflict, match="not validated yet"):
        results.acknowledge_result(
            session, DOCTOR, wire.AcknowledgeResult(order_id=order_id, at=now())
        )


def test_orders_for_unknown_tests_and_out_of_turn_steps(db, people):  # noqa: ANN001
    with db.unit_of_work() as session:
        with pytest.raises(InvalidData) as caught:
            orders.place_order(
                session,
                DOCTOR,
                wire.PlaceOrder(
                    id=new_id(),
                    patient_id=people["male"],
                    kind="lab",
                    test_code="NOPE-42",
                    indication="Screening",
                    at=now(),
                ),
            )
        assert (
            caught.value.message == "There is no lab test with the code NOPE-42 in the catalogue."
        )
        assert caught.value.fields == {"test_code": "Unknown test"}
        assert session.scalar(select(func.count()).select_from(ClinicalOrder)) == 0
    with db.unit_of_work() as session, pytest.raises(PermissionDenied):
        orders.place_order(
            session,
            LAB_ANNA,
            wire.PlaceOrder(
                id=new_id(),
                patient_id=people["male"],
                kind="lab",
                test_code=pick("potassium").test.code,
                indication="Screening",
                at=now(),
            ),
        )

    k = pick("potassium")
    order_id = place(db, people["male"], k.test.code)
    with db.unit_of_work() as session:
        with pytest.raises(Conflict, match="cannot be received now"):
            orders.receive_specimen(session, LAB_ANNA, wire.OrderStep(order_id=order_id, at=now()))
        with pytest.raises(Conflict, match="not reached us yet"):
            results.enter_results(
                session,
                LAB_ANNA,
                wire.EnterResults(
                    order_id=order_id,
                    results=[wire.ResultValue(id=new_id(), analyte=k.analyte.code, value="4")],
                    at=now(),
                ),
            )
    step(db, orders.collect_specimen, order_id, LAB_ANNA)
    step(db, orders.collect_specimen, order_id, LAB_ANNA)  # a replay: still collected once
    step(db, orders.receive_specimen, order_id, LAB_ANNA)
    enter(db, order_id, (k.analyte.code, "4.4", ""))
    with db.unit_of_work() as session, pytest.raises(Conflict, match="already has results"):
        orders.cancel_order(
            session,
            DOCTOR,
            wire.CancelOrder(order_id=order_id, reason="Ordered twice", at=now()),
        )


def test_cancelled_orders_stop(db, people):  # noqa: ANN001
    k = pick("potassium")
    order_id = place(db, people["male"], k.test.code)
    with db.unit_of_work() as session:
        orders.cancel_order(
            session, DOCTOR, wire.CancelOrder(order_id=order_id, reason="Ordered twice", at=now())
        )
    cancelled = pytest.raises(Conflict, match="was cancelled \\(Ordered twice\\)")
    with db.unit_of_work() as session, cancelled:
        orders.collect_specimen(session, LAB_ANNA, wire.OrderStep(order_id=order_id, at=now()))


def test_imaging_study_from_order_to_report(db, people):  # noqa: ANN001
    study = catalogues.imaging_studies()[0]
    with db.unit_of_work() as session:
        order = orders.place_order(
            session,
            DOCTOR,
            wire.PlaceOrder(
                id=new_id(),
                patient_id=people["male"],
                kind="imaging",
                test_code=study.code,
                indication="Cough and fever for a week",
                at=now(),
            ),
        )
        assert (order.modality, order.body_site) == (study.modality, study.body_site)
        order_id = order.id
    no_specimen = pytest.raises(InvalidData, match="no specimen to collect")
    with db.unit_of_work() as session, no_specimen:
        orders.collect_specimen(session, LAB_ANNA, wire.OrderStep(order_id=order_id, at=now()))
    assert step(db, orders.receive_specimen, order_id, LAB_ANNA).status == "received"
    with db.unit_of_work() as session:
        results.enter_imaging_report(
            session,
            LAB_ANNA,
            wire.ImagingReport(
                order_id=order_id,
                findings="Consolidation in the right lower lobe.",
                impression="Right lower lobe pneumonia.",
                at=now(),
            ),
        )
    assert step(db, results.validate_results, order_id, LAB_BEN).status == "validated"
    with db.unit_of_work() as session:
        order = session.get(ClinicalOrder, order_id)
        assert order.impression == "Right lower lobe pneumonia." and order.resulted_by == "lab-anna"


def test_replayed_steps_change_nothing(db, people):  # noqa: ANN001
    """A desktop pushing its outbox twice: every step returns the order as it already is."""
    k = pick("potassium")
    at = now()
    place_args = wire.PlaceOrder(
        id=new_id(),
        patient_id=people["female"],
        kind="lab",
        test_code=k.test.code,
        indication="Palpitations",
        at=at,
    )
    step_args = wire.OrderStep(order_id=place_args.id, at=at)
    enter_args = wire.EnterResults(
        order_id=place_args.id,
        results=[wire.ResultValue(id=new_id(), analyte=k.analyte.code, value="4.1")],
        at=at,
    )
    ack_args = wire.AcknowledgeResult(order_id=place_args.id, interpretation="Normal", at=at)
    steps = [
        (orders.place_order, DOCTOR, place_args),
        (orders.collect_specimen, LAB_ANNA, step_args),
        (orders.receive_specimen, LAB_ANNA, step_args),
        (results.enter_results, LAB_ANNA, enter_args),
        (results.validate_results, LAB_BEN, step_args),
        (results.acknowledge_result, DOCTOR, ack_args),
    ]
    for service, actor, args in steps:
        versions = []
        for _ in range(2):
            with db.unit_of_work() as session:
                versions.append(service(session, actor, args).row_version)
        assert versions[0] == versions[1], service.__name__
    assert len(observations(db, place_args.id)) == 1
    with db.unit_of_work() as session:
        count = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "order.place")
        )
        assert count == 1
