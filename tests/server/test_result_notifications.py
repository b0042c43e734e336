"""A validated result rings the bell of the doctor who ordered it, in the transaction that
validates it: "Result ready: …", or "CRITICAL result: …" naming the critical value."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hms_core import catalogues
from hms_core.db.base import new_id
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import orders, results
from hms_core.services.patients import register_patient

DOCTOR = Actor(None, "test-doctor", "doctor")
LAB = Actor(None, "test-lab", "lab")
SECOND = Actor(None, "lab-second", "lab")


def potassium() -> tuple[catalogues.LabTest, catalogues.Analyte]:
    for test in catalogues.lab_tests():
        for analyte in test.analytes:
            if "potassium" in analyte.name.lower():
                return test, analyte
    raise AssertionError("no potassium in the lab catalogue")


def validated_result(db, value: Decimal, ordered_by: Actor = DOCTOR) -> uuid.UUID:  # noqa: ANN001
    """A potassium order of Ada Okafor's, through to its validation; returns the patient."""
    test, analyte = potassium()
    at = datetime.now(UTC)
    with db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Ada", family_name="Okafor", birth_date=date(1968, 3, 2), sex="female"
            ),
        )
        order = orders.place_order(
            session,
            ordered_by,
            wire.PlaceOrder(
                id=new_id(),
                patient_id=patient.id,
                kind="lab",
                test_code=test.code,
                indication="On furosemide, feels weak",
                priority="stat",
                at=at,
            ),
        )
        step = wire.OrderStep(order_id=order.id, at=at)
        orders.collect_specimen(session, LAB, step)
        orders.receive_specimen(session, LAB, step)
        results.enter_results(
            session,
            LAB,
            wire.EnterResults(
                order_id=order.id,
                results=[wire.ResultValue(id=new_id(), analyte=analyte.code, value=str(value))],
                at=at,
            ),
        )
        patient_id = patient.id
    with db.unit_of_work() as session:
        results.validate_results(session, SECOND, step)
    return patient_id


def bell(live_server, role: str) -> list[dict]:  # noqa: ANN001
    with live_server.client(role) as client:
        answer = client.get("/api/notifications")
    assert answer.status_code == 200
    return answer.json()["items"]


def test_a_validated_result_rings_the_ordering_doctor(live_server):  # noqa: ANN001
    test, analyte = potassium()
    ref = catalogues.reference_range(analyte, "female", 58 * 365)
    patient_id = validated_result(live_server.db, ref.high)
    [note] = bell(live_server, "doctor")
    assert note["kind"] == "result_ready"
    assert note["title"] == f"Result ready: {test.name} for Ada Okafor"
    assert "validated by lab-second" in note["body"]
    assert note["patient_id"] == str(patient_id)
    assert bell(live_server, "nurse") == []


def test_a_critical_result_is_marked_critical(live_server):  # noqa: ANN001
    test, analyte = potassium()
    ref = catalogues.reference_range(analyte, "female", 58 * 365)
    validated_result(live_server.db, ref.critical_high)
    [note] = bell(live_server, "doctor")
    assert note["kind"] == "result_critical"
    assert note["title"] == f"CRITICAL result: {test.name} for Ada Okafor"
    assert f"{analyte.name} {ref.critical_high} {analyte.unit} (HH)" in note["body"]


def test_a_doctor_without_an_account_here_gets_no_bell_and_the_result_still_counts(
    live_server,  # noqa: ANN001
):
    locum = Actor(None, "locum-who-left", "doctor")
    validated_result(live_server.db, Decimal("4.0"), ordered_by=locum)
    assert bell(live_server, "doctor") == []
    with live_server.db.unit_of_work() as session:
        [order] = results.unacknowledged(session, "locum-who-left")
        assert order.validated_by == "lab-second"
