"""Imaging files over HTTP: real PNG, JPEG and DICOM files uploaded to an order, kept by the
server, shown as small PNG thumbnails; files that are not what they claim, and files too
large, refused in plain words; who may look at them."""

import hashlib
import io
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from sqlalchemy import select

from hms_core import catalogues
from hms_core.db import AuditEvent
from hms_core.db.base import new_id
from hms_core.db.clinical import Attachment
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import orders
from hms_core.services.patients import register_patient
from hms_server.api.attachments import MAX_BYTES


def picture(fmt: str, size: tuple[int, int]) -> bytes:
    """A real image file: a gradient with a dark square, as Pillow writes it."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((20, 20, 20), (10, 10, 60, 60))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def order(live_server) -> tuple[uuid.UUID, uuid.UUID]:  # noqa: ANN001
    """A chest X-ray ordered for a patient: (order id, patient id)."""
    study = catalogues.imaging_studies()[0]
    with live_server.db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Obi", family_name="Okafor", birth_date=date(1980, 5, 1), sex="male"
            ),
        )
        placed = orders.place_order(
            session,
            Actor(None, "test-doctor", "doctor"),
            wire.PlaceOrder(
                id=new_id(),
                patient_id=patient.id,
                kind="imaging",
                test_code=study.code,
                indication="Cough and fever for a week",
                at=datetime.now(UTC),
            ),
        )
        return placed.id, patient.id


def upload(live_server, order_id, data, content_type: str, name: str = "image", role="lab"):  # noqa: ANN001, ANN201
    with live_server.client(role) as client:
        return client.post(
            "/api/attachments",
            content=data,
            headers={"Content-Type": content_type},
            params={"order_id": str(order_id), "file_name": name, "description": "PA view"},
        )


def thumbnail_size(live_server, attachment_id: str, role: str = "doctor") -> tuple[int, int]:  # noqa: ANN001
    with live_server.client(role) as client:
        answer = client.get(f"/api/attachments/{attachment_id}/thumbnail")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG"
    return image.size


def test_png_jpeg_and_dicom_are_kept_and_shown_small(live_server, order):  # noqa: ANN001
    order_id, patient_id = order
    dicom = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    files = [
        (picture("PNG", (600, 300)), "image/png", "chest.png", (256, 128)),
        (picture("JPEG", (300, 900)), "image/jpeg", "chest.jpg", (85, 256)),
        (dicom, "application/dicom", "ct.dcm", (128, 128)),  # small already: kept as it is
    ]
    for data, content_type, name, expected in files:
        answer = upload(live_server, order_id, data, content_type, name)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert (body["content_type"], body["file_name"], body["size"]) == (
            content_type,
            name,
            len(data),
        )
        assert body["sha256"] == hashlib.sha256(data).hexdigest()
        assert body["patient_id"] == str(patient_id) and body["uploaded_by"] == "test-lab"
        kept = live_server.settings.data_dir / "attachments" / body["sha256"]
        assert kept.read_bytes() == data
        with live_server.client("doctor") as client:
            content = client.get(f"/api/attachments/{body['id']}/content")
        assert content.status_code == 200 and content.content == data
        assert content.headers["content-type"] == content_type
        assert thumbnail_size(live_server, body["id"]) == expected
    with live_server.db.unit_of_work() as session:
        rows = session.scalars(select(Attachment).where(Attachment.order_id == order_id)).all()
        assert len(rows) == 3
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("attachment.%"))
        ).all()
        assert {e.action for e in audited} == {
            "attachment.upload",
            "attachment.view",
            "attachment.thumbnail",
        }
        assert {e.patient_id for e in audited} == {patient_id}


def test_the_dicom_thumbnail_shows_the_scan(live_server, order):  # noqa: ANN001
    """The CT slice is windowed to grey levels: a body in the middle, not a blank square."""
    dicom = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    body = upload(live_server, order[0], dicom, "application/octet-stream", "ct.dcm").json()
    assert body["content_type"] == "application/dicom"  # known from its DICM preamble
    with live_server.client("nurse") as client:
        png = client.get(f"/api/attachments/{body['id']}/thumbnail").content
    image = Image.open(io.BytesIO(png))
    low, high = image.convert("L").getextrema()
    assert high - low > 100


def test_files_that_are_not_what_they_claim_are_refused(live_server, order):  # noqa: ANN001
    order_id, _ = order
    text = upload(live_server, order_id, b"this is not a picture\n" * 20, "image/png", "x.png")
    assert text.status_code == 415
    assert text.json()["error"]["code"] == "unsupported_file"
    assert "not a PNG or JPEG image" in text.json()["error"]["message"]
    disguised = upload(live_server, order_id, picture("JPEG", (50, 50)), "image/png", "y.png")
    assert disguised.status_code == 415
    assert (
        disguised.json()["error"]["message"]
        == "This file is not a PNG image: its contents are a JPEG image."
    )
    empty = upload(live_server, order_id, b"", "image/png", "z.png")
    assert empty.status_code == 422
    with live_server.db.unit_of_work() as session:
        assert session.scalars(select(Attachment)).all() == []
    assert not (live_server.settings.data_dir / "attachments").exists()


def test_a_file_over_the_limit_is_refused(live_server, order):  # noqa: ANN001
    too_big = b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES)
    answer = upload(live_server, order[0], too_big, "image/png", "huge.png")
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "too_large" and "50 MB" in error["message"]


def test_an_upload_to_an_unknown_order_is_refused(live_server):  # noqa: ANN001
    answer = upload(live_server, uuid.uuid4(), picture("PNG", (20, 20)), "image/png")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "This order does not exist."


def test_who_may_upload_and_look(live_server, order):  # noqa: ANN001
    order_id, _ = order
    png = picture("PNG", (40, 40))
    assert upload(live_server, order_id, png, "image/png", role="nurse").status_code == 403
    attachment_id = upload(live_server, order_id, png, "image/png").json()["id"]
    for role, allowed in (("nurse", True), ("doctor", True), ("lab", True), ("reception", False)):
        with live_server.client(role) as client:
            content = client.get(f"/api/attachments/{attachment_id}/content")
            small = client.get(f"/api/attachments/{attachment_id}/thumbnail")
        assert (content.status_code == 200) is allowed, role
        assert (small.status_code == 200) is allowed, role
        if not allowed:
            assert content.status_code == 403
            assert content.json()["error"]["code"] == "forbidden"
