"""An order through to the doctor's acknowledgement across desktops and the server: the
doctor's PC orders offline, the lab PC works the specimen and enters the results, a second lab
user validates, the doctor's bell rings on the server, and the doctor's PC sees the result and
acknowledges it with an interpretation."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from hms_core import catalogues
from hms_core.db.auth import User
from hms_core.db.clinical import ClinicalOrder
from hms_core.db.notifications import UserNotification
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_desktop.store.clinical import LocalClinical
from hms_desktop.store.lab import LocalLab
from hms_server.auth import create_user
from tests.sync.helpers import make_pc, open_pc

SECOND_LAB = ("lab-validator", "lab-validator-password-1")
BORN = date(1958, 9, 14)


def a_test_with_a_range() -> tuple[str, catalogues.Analyte, Decimal]:
    """A lab test and one analyte of it, with a value just above its adult female range."""
    age = (date.today() - BORN).days
    for test in catalogues.lab_tests():
        for analyte in test.analytes:
            ref = catalogues.reference_range(analyte, "female", age)
            if analyte.unit and ref is not None and ref.high is not None:
                above = ref.high + (Decimal(1).scaleb(-analyte.decimals))
                if ref.critical_high is None or above < ref.critical_high:
                    return test.code, analyte, above
    raise AssertionError("the lab catalogue has no analyte with a high limit")


def setup_server(db) -> uuid.UUID:  # noqa: ANN001
    """A patient, and a second lab user to validate."""
    with db.unit_of_work() as session:
        create_user(session, SECOND_LAB[0], "lab", SECOND_LAB[1], full_name="Lab Validator")
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(given_name="Grace", family_name="Mensah", birth_date=BORN, sex="female"),
        )
        return patient.id


def test_an_order_placed_offline_reaches_the_lab_and_its_result_the_doctor(live_server, tmp_path):
    test_code, analyte, value = a_test_with_a_range()
    patient_id = setup_server(live_server.db)
    doctor = make_pc(live_server, tmp_path, role="doctor", name="clinic-pc")
    bench = make_pc(live_server, tmp_path, role="lab", name="lab-bench")
    doctor.engine.sync_once()
    bench.engine.sync_once()

    # the doctor orders while the network is down: the number is made on the doctor's PC
    clinic = LocalClinical(doctor.store)
    placed = clinic.place_order(
        patient_id, "lab", test_code, "Tired for weeks; check the bloods", priority="urgent"
    )
    number = placed["number"]
    assert number.startswith("ORD-")
    doctor.engine.sync_once()

    # the lab bench sees it on its worklist and works it
    bench.engine.sync_once()
    lab = LocalLab(bench.store)
    [item] = lab.worklist()
    assert (item.number, item.priority, item.patient_name) == (number, "urgent", "MENSAH, Grace")
    lines = {line.code: line for line in lab.order(item.order_id).analytes}
    assert lines[analyte.code].unit == analyte.unit
    lab.collect_specimen(item.order_id)
    lab.receive_specimen(item.order_id)
    lab.enter_results(item.order_id, [(analyte.code, str(value), analyte.unit)])
    bench.engine.sync_once()
    assert bench.store.counts()["pending"] == 0 and not bench.store.rejections()

    # a second lab user validates on their own PC
    validator = open_pc(live_server.url, SECOND_LAB, tmp_path / "lab-two", "lab-two")
    validator.engine.sync_once()
    second = LocalLab(validator.store)
    assert [i.status for i in second.worklist()] == ["resulted"]
    second.validate_results(item.order_id)
    validator.engine.sync_once()
    assert not validator.store.rejections()
    with live_server.db.unit_of_work() as session:
        order = session.execute(
            select(ClinicalOrder).where(ClinicalOrder.number == number)
        ).scalar_one()
        assert (order.status, order.resulted_by, order.validated_by) == (
            "validated",
            "test-lab",
            SECOND_LAB[0],
        )
        doctor_id = session.execute(
            select(User.id).where(User.username == "test-doctor")
        ).scalar_one()
        bells = session.execute(
            select(UserNotification).where(UserNotification.user_id == doctor_id)
        ).scalars()
        assert [(b.kind, b.patient_id) for b in bells] == [("result_ready", patient_id)]

    # the doctor's PC shows the result as not yet acknowledged, with its flag
    doctor.engine.sync_once()
    [result] = clinic.unacknowledged_results()
    assert (result.number, result.critical) == (number, False)
    shown = clinic.result(item.order_id).values
    assert [(v.value, v.flag) for v in shown if v.name == analyte.name] == [(str(value), "H")]
    clinic.acknowledge_result(item.order_id, "Mildly raised; repeat in three months.")
    assert clinic.unacknowledged_results() == []
    doctor.engine.sync_once()
    assert not doctor.store.rejections()
    with live_server.db.unit_of_work() as session:
        order = session.execute(
            select(ClinicalOrder).where(ClinicalOrder.number == number)
        ).scalar_one()
        assert order.acknowledged_by == "test-doctor"
        assert order.interpretation == "Mildly raised; repeat in three months."
    for pc in (doctor, bench, validator):
        pc.close()
