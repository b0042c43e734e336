"""The Lab workspace against a live server and real desktop caches: the worklist by priority,
the specimen label carrying the order number, results checked and flagged as they are typed,
and validation by a second person only."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pypdf
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core import catalogues
from hms_core.db.base import new_id
from hms_core.db.clinical import ClinicalOrder
from hms_core.schemas.clinical import PlaceOrder
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical.orders import place_order
from hms_core.services.patients import register_patient
from hms_desktop.workspaces.lab import worklist_model
from hms_desktop.workspaces.lab.workspace import LabWorkspace
from hms_server.auth import create_user
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
DOCTOR = Actor(None, "test-doctor", "doctor")
SECOND_LAB = ("lab-second", "lab-second-password-1")
BORN = date(1970, 3, 3)


def flagged_analyte() -> tuple[str, catalogues.Analyte, catalogues.RefRange]:
    """A lab test with an analyte whose adult male range has a high and a critical-high limit."""
    age = (date.today() - BORN).days
    for test in catalogues.lab_tests():
        for analyte in test.analytes:
            ref = catalogues.reference_range(analyte, "male", age)
            if analyte.unit and ref and ref.high is not None and ref.critical_high is not None:
                return test.code, analyte, ref
    raise AssertionError("the lab catalogue has no analyte with a critical-high limit")


def a_study() -> str:
    return catalogues.imaging_studies()[0].code


def make_orders(db, test_code: str) -> dict[str, str]:  # noqa: ANN001
    """Three open orders: routine (waiting 90 min), stat (10 min), an urgent study (30 min);
    and the second lab user."""
    now = datetime.now(UTC)
    numbers = {}
    with db.unit_of_work() as session:
        create_user(session, SECOND_LAB[0], "lab", SECOND_LAB[1], full_name="Second Lab")
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(given_name="Musa", family_name="Bello", birth_date=BORN, sex="male"),
        )
        for key, kind, code, priority, minutes in (
            ("routine", "lab", test_code, "routine", 90),
            ("stat", "lab", test_code, "stat", 10),
            ("study", "imaging", a_study(), "urgent", 30),
        ):
            args = PlaceOrder(
                id=new_id(),
                patient_id=patient.id,
                kind=kind,
                test_code=code,
                indication="Weakness and palpitations",
                priority=priority,
                at=now - timedelta(minutes=minutes),
            )
            numbers[key] = place_order(session, DOCTOR, args).number
    return numbers


def open_lab(qtbot, controller, live_server, credentials, rows: int) -> LabWorkspace:  # noqa: ANN001
    window = sign_in(qtbot, controller, live_server.url, credentials)
    workspace = window.workspaces["lab"]
    assert isinstance(workspace, LabWorkspace)
    window.show_workspace("lab")
    workspace.resize(1500, 860)
    qtbot.waitUntil(lambda: workspace.model.rowCount() == rows, timeout=WAIT)
    return workspace


def status_of(workspace: LabWorkspace, number: str) -> str:
    item = next(i for i in workspace.model.items() if i.number == number)
    return worklist_model.status_text(item)


def server_order(db, number: str) -> ClinicalOrder:  # noqa: ANN001
    with db.unit_of_work() as session:
        order = session.execute(select(ClinicalOrder).where(ClinicalOrder.number == number))
        return order.scalar_one()


def step(decimals: int) -> Decimal:
    """The smallest change the analyte is reported in."""
    return Decimal(1).scaleb(-decimals) if decimals else Decimal(1)


def test_lab_works_the_list_by_priority_labels_flags_and_a_second_person_validates(
    qtbot, controller, live_server, tmp_path
):
    test_code, analyte, ref = flagged_analyte()
    numbers = make_orders(live_server.db, test_code)
    lab = open_lab(qtbot, controller, live_server, live_server.users["lab"], 3)
    model = lab.model
    column = [model.text(i, worklist_model.ORDER) for i in model.items()]
    assert column == [numbers["stat"], numbers["study"], numbers["routine"]]
    stat_bg = model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole).color()
    routine_bg = model.data(model.index(2, 0), Qt.ItemDataRole.BackgroundRole).color()
    assert stat_bg.name() != routine_bg.name()
    assert model.text(model.item(2), worklist_model.WAITING).startswith("1 h 3")
    shots = shots_dir(tmp_path)
    lab.grab().save(str(shots / "lab_worklist.png"))

    # the specimen is collected: its label carries the order number
    stat = numbers["stat"]
    lab.select_order(stat)
    assert lab.collect_button.isEnabled() and not lab.results_button.isEnabled()
    lab.collect_button.click()
    qtbot.waitUntil(lambda: lab.label_preview is not None, timeout=WAIT)
    text = pypdf.PdfReader(io.BytesIO(lab.label_preview.pdf)).pages[0].extract_text()
    assert stat in text and "BELLO, Musa" in text
    lab.label_preview.close()
    qtbot.waitUntil(lambda: status_of(lab, stat) == "Specimen collected", timeout=WAIT)
    lab.select_order(stat)
    lab.receive_button.click()
    qtbot.waitUntil(lambda: status_of(lab, stat) == "In the lab", timeout=WAIT)
    qtbot.waitUntil(lambda: lab.panel.isVisible(), timeout=WAIT)
    form = lab.result_form
    assert analyte.code in form.rows

    # a wrong unit is refused in words, by the form and by the service
    form.set_value(analyte.code, str(ref.high), unit="mg/dL")
    assert (
        form.problem_of(analyte.code) == f"{analyte.name} is reported in {analyte.unit}, not mg/dL."
    )
    form.save_button.click()
    assert "cannot be saved" in form.error_label.text()
    form.error_label.clear()  # the service says it too, should the form let it through
    lab.save_results([(analyte.code, str(ref.high), "mg/dL")])
    qtbot.waitUntil(lambda: "not mg/dL" in form.error_label.text(), timeout=WAIT)
    assert status_of(lab, stat) == "In the lab"

    # flags at the boundaries, as typed
    form.set_value(analyte.code, "abc", unit=analyte.unit)
    assert form.problem_of(analyte.code) == "“abc” is not a number."
    form.set_value(analyte.code, str(ref.high))
    assert form.flag_of(analyte.code) == "Normal"
    form.set_value(analyte.code, str(ref.high + step(analyte.decimals)))
    assert form.flag_of(analyte.code) == "H · high"
    assert not form.critical_label.isVisible()
    form.set_value(analyte.code, str(ref.critical_high))
    assert form.flag_of(analyte.code) == "CRITICAL · high"
    assert form.critical_label.isVisible() and "CRITICAL" in form.critical_label.text()
    QApplication.processEvents()  # lay the form out again before the picture
    lab.grab().save(str(shots / "lab_result_entry.png"))
    form.save_button.click()
    qtbot.waitUntil(lambda: "Awaiting validation" in status_of(lab, stat), timeout=WAIT)
    assert status_of(lab, stat) == "Awaiting validation · CRITICAL"

    # the one who entered the results cannot validate them
    lab.select_order(stat)
    assert lab.validate_button.isEnabled()
    lab.validate_button.click()
    qtbot.waitUntil(lambda: "you entered" in lab.notice.text(), timeout=WAIT)
    assert lab.notice.text() == "A second person validates: you entered these results."
    store = lab._ctx.sync.store
    qtbot.waitUntil(lambda: store.counts()["pending"] == 0, timeout=WAIT)
    assert server_order(live_server.db, stat).status == "resulted"

    # a second lab user validates
    other = open_lab(qtbot, controller, live_server, SECOND_LAB, 3)
    other.select_order(stat)
    qtbot.waitUntil(lambda: other.validate_button.isEnabled(), timeout=WAIT)
    other.validate_button.click()
    qtbot.waitUntil(lambda: other.model.rowCount() == 2, timeout=WAIT)
    assert "validated" in other.notice.text() and "CRITICAL" in other.notice.text()
    second_store = other._ctx.sync.store
    qtbot.waitUntil(lambda: second_store.counts()["pending"] == 0, timeout=WAIT)
    order = server_order(live_server.db, stat)
    assert (order.status, order.validated_by, order.critical) == ("validated", SECOND_LAB[0], True)

    # the imaging study: the patient arrives, the report gets an image
    study = numbers["study"]
    other.select_order(study)
    assert not other.collect_button.isEnabled()
    assert other.receive_button.text() == "Patient arrived"
    other.receive_button.click()
    qtbot.waitUntil(lambda: other.panel.currentWidget() is other.imaging_form, timeout=WAIT)
    image = tmp_path / "chest.png"
    _chest_picture().save(str(image))
    other.attach([str(image)])
    imaging = other.imaging_form
    qtbot.waitUntil(lambda: imaging.thumbnail_count() == 1, timeout=WAIT)
    imaging.findings_edit.setPlainText(
        "Heart size normal. Lungs clear. No pleural effusion or pneumothorax."
    )
    imaging.impression_edit.setPlainText("Normal chest radiograph.")
    QApplication.processEvents()
    other.grab().save(str(shots / "imaging_report.png"))
    imaging.save_button.click()
    qtbot.waitUntil(lambda: "Report saved" in other.notice.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: status_of(other, study) == "Reported", timeout=WAIT)


def _chest_picture() -> QImage:
    """A grey picture with two lighter ovals, standing in for a radiograph."""
    image = QImage(400, 480, QImage.Format.Format_RGB32)
    image.fill(QColor("#202020"))
    painter = QPainter(image)
    painter.setBrush(QColor("#9a9a9a"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(60, 60, 120, 320)
    painter.drawEllipse(220, 60, 120, 320)
    painter.setBrush(QColor("#d0d0d0"))
    painter.drawEllipse(170, 200, 90, 140)
    painter.end()
    return image
