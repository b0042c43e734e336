"""An imaging result in the doctor's review panel shows the study's images: thumbnails with
their file names, fetched from the server; a double-click opens the picture (a DICOM file:
its thumbnail enlarged and the file to save). Offline the panel says the images need the
server, and nothing breaks."""

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pydicom.data
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

from hms_core import catalogues
from hms_core.db.base import new_id
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import orders, results
from hms_core.services.patients import register_patient
from hms_desktop.widgets.thumbnail_strip import DICOM_WORDS, OFFLINE_WORDS, ImageViewer
from hms_desktop.workspaces.chart.review_panel import ReviewPanel
from hms_server.app import create_app
from tests.conftest import RestartableServer, free_port
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
DOCTOR = Actor(None, "test-doctor", "doctor")
LAB_BEN = Actor(None, "lab-ben", "lab")
FINDINGS = "Consolidation in the right lower zone; no effusion."
IMPRESSION = "Right lower lobe pneumonia."


@pytest.fixture
def server(live_server) -> Iterator[RestartableServer]:  # noqa: ANN001
    """The test's database on a port the test may stop (offline) and start again."""
    running = RestartableServer(create_app(live_server.settings, live_server.db), free_port())
    running.start()
    yield running
    running.stop()


def chest_png() -> bytes:
    """A real PNG: a grey gradient with a dark square."""
    image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    image.paste((20, 20, 20), (40, 40, 200, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def dicom_file() -> bytes:
    return Path(str(pydicom.data.get_testdata_file("CT_small.dcm"))).read_bytes()


def reported_study(live_server) -> uuid.UUID:  # noqa: ANN001
    """A chest study ordered by the test doctor, received, two images uploaded by the lab,
    reported and validated by a second lab user."""
    lab_name = live_server.users["lab"][0]
    with live_server.db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Ngozi", family_name="Eze", birth_date=date(1975, 4, 9), sex="female"
            ),
        )
        placed = orders.place_order(
            session,
            DOCTOR,
            wire.PlaceOrder(
                id=new_id(),
                patient_id=patient.id,
                kind="imaging",
                test_code=catalogues.imaging_studies()[0].code,
                indication="Fever and cough for five days",
                at=datetime.now(UTC),
            ),
        )
        order_id = placed.id
    lab = Actor(None, lab_name, "lab")
    with live_server.db.unit_of_work() as session:
        orders.receive_specimen(
            session, lab, wire.OrderStep(order_id=order_id, at=datetime.now(UTC))
        )
    with live_server.client("lab") as client:
        for name, data, kind in (
            ("chest-pa.png", chest_png(), "image/png"),
            ("ct-slice.dcm", dicom_file(), "application/dicom"),
        ):
            sent = client.post(
                "/api/attachments",
                content=data,
                headers={"Content-Type": kind},
                params={"order_id": str(order_id), "file_name": name},
            )
            assert sent.status_code == 201, sent.text
    report = wire.ImagingReport(
        order_id=order_id, findings=FINDINGS, impression=IMPRESSION, at=datetime.now(UTC)
    )
    with live_server.db.unit_of_work() as session:
        results.enter_imaging_report(session, lab, report)
    with live_server.db.unit_of_work() as session:
        step = wire.OrderStep(order_id=order_id, at=datetime.now(UTC))
        results.validate_results(session, LAB_BEN, step)
    return order_id


def test_the_doctor_sees_the_studys_images_opens_them_and_is_told_when_offline(
    qtbot, controller, live_server, server, tmp_path
):
    order_id = reported_study(live_server)
    window = sign_in(qtbot, controller, server.url, server.users["doctor"])
    clinical = window.ctx.clinical
    panel = ReviewPanel(window.ctx)
    qtbot.addWidget(panel)
    panel.resize(1100, 900)
    panel.show()

    def arrived() -> bool:
        window.sync_indicator.sync_button.click()
        return bool(clinical.unacknowledged_results()) and bool(
            clinical.result(order_id).attachments
        )

    qtbot.waitUntil(arrived, timeout=WAIT)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.current is not None, timeout=WAIT)
    assert panel.current.order_id == order_id
    assert f"Findings: {FINDINGS}" in panel.report.text()
    assert f"Impression: {IMPRESSION}" in panel.report.text()
    strip = panel.images
    assert strip.names() == ["chest-pa.png", "ct-slice.dcm"]
    qtbot.waitUntil(lambda: all(not p.isNull() for p in strip.pixmaps()), timeout=WAIT)
    assert not panel.values_table.isVisible()
    QApplication.processEvents()
    shots = shots_dir(tmp_path)
    assert panel.grab().save(str(shots / "imaging_review.png"))

    # a double-click on the PNG opens it at its own size
    png_item = strip.list.item(0)
    with qtbot.waitSignal(strip.opened, timeout=WAIT) as opened:
        strip.list.itemDoubleClicked.emit(png_item)
    viewer = opened.args[0]
    assert isinstance(viewer, ImageViewer) and viewer.windowTitle() == "chest-pa.png"
    assert (viewer.picture.pixmap().width(), viewer.picture.pixmap().height()) == (640, 480)
    viewer.close()

    # the DICOM file: its thumbnail enlarged, the words, and the file saved whole
    with qtbot.waitSignal(strip.opened, timeout=WAIT) as opened:
        strip.list.itemDoubleClicked.emit(strip.list.item(1))
    viewer = opened.args[0]
    assert viewer.note.text() == DICOM_WORDS
    assert not viewer.picture.pixmap().isNull()
    assert viewer.picture.pixmap().width() > strip.pixmaps()[1].width()
    QApplication.processEvents()
    assert viewer.grab().save(str(shots / "imaging_dicom_viewer.png"))
    saved = tmp_path / "saved.dcm"
    viewer.save_to(str(saved))
    assert saved.read_bytes() == dicom_file()
    assert viewer.note.text() == f"Saved to {saved}."
    viewer.close()

    # offline: the result still reads from the cache; the images need the server
    server.stop()
    panel.current = None
    panel._open(panel.model.index(0, 0))
    qtbot.waitUntil(lambda: strip.message.text() == OFFLINE_WORDS, timeout=WAIT)
    assert f"Impression: {IMPRESSION}" in panel.report.text()
    assert strip.names() == ["chest-pa.png", "ct-slice.dcm"]
    strip.open_image(strip.list.item(0).data(0x0100))
    qtbot.waitUntil(lambda: strip.message.text() == OFFLINE_WORDS, timeout=WAIT)
    QApplication.processEvents()
    assert panel.grab().save(str(shots / "imaging_review_offline.png"))
