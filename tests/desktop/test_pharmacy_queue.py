"""The pharmacy queue against a live server and a real desktop cache: a prescription sent by a
doctor arrives with the patient's penicillin allergy in red and the doctor's reason for
overriding the warning; a stopped prescription is listed apart, not to be dispensed; the
queue is the pharmacist's, not the nurse's."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import AuditEvent
from hms_core.db.base import new_id
from hms_core.schemas import clinical as wire
from hms_core.schemas.patients import AllergyIn, PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.clinical import prescriptions
from hms_core.services.patients import register_patient
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog
from hms_desktop.workspaces.pharmacy import queue_model
from hms_desktop.workspaces.pharmacy.workspace import PharmacyWorkspace
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
DOCTOR = Actor(None, "test-doctor", "doctor")
REASON = "Tolerated amoxicillin in 2024 without reaction"


def _prescribe(
    session,  # noqa: ANN001
    patient_id: uuid.UUID,
    code: str,
    dose: str,
    ago: timedelta = timedelta(minutes=30),
    **fields,  # noqa: ANN003
) -> uuid.UUID:
    """Prescribe as the doctor would, overriding any warning with REASON."""
    drug = prescriptions.formulary_drug(code)
    args = wire.Prescribe(
        id=new_id(),
        patient_id=patient_id,
        drug_code=code,
        dose=Decimal(dose),
        dose_unit=drug.dose_unit,
        route=drug.routes[0],
        at=datetime.now(UTC) - ago,
        **fields,
    )
    try:
        return prescriptions.prescribe(session, DOCTOR, args).id
    except prescriptions.SafetyCheck as check:
        answers = [wire.Override(check=w["check"], reason=REASON) for w in check.detail["warnings"]]
        return prescriptions.prescribe(
            session, DOCTOR, args.model_copy(update={"overrides": answers})
        ).id


def seed(db) -> dict[str, uuid.UUID]:  # noqa: ANN001
    """Grace Okoro (penicillin allergy) prescribed amoxicillin over the warning, and
    paracetamol, which the doctor then stopped; Omar Ward, never asked about allergies,
    prescribed omeprazole two hours ago."""
    with db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Grace",
                family_name="Okoro",
                birth_date=date(1961, 3, 14),
                sex="female",
                allergies=[
                    AllergyIn(substance="Penicillin", reaction="Anaphylaxis", severity="severe")
                ],
            ),
        )
        amoxicillin = _prescribe(
            session,
            patient.id,
            "amoxicillin",
            "500",
            strength="500 mg",
            form="capsule",
            frequency="TDS",
            duration_days=5,
            quantity=Decimal(15),
            instructions="Take with water",
        )
        paracetamol = _prescribe(session, patient.id, "paracetamol", "1000", frequency="QDS")
        stop = wire.ChangePrescription(
            id=new_id(),
            prescription_id=paracetamol,
            change="stop",
            reason="Pain settled",
            at=datetime.now(UTC) - timedelta(minutes=5),
        )
        prescriptions.change_prescription(session, DOCTOR, stop)
        omar = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Omar", family_name="Ward", birth_date=date(1980, 1, 2), sex="male"
            ),
        )
        omeprazole = _prescribe(
            session, omar.id, "omeprazole", "20", timedelta(hours=2), frequency="OD"
        )
        return {
            "patient": patient.id,
            "amoxicillin": amoxicillin,
            "paracetamol": paracetamol,
            "omeprazole": omeprazole,
        }


def cell(model, row: int, column: int, role=Qt.ItemDataRole.DisplayRole):  # noqa: ANN001, ANN201
    return model.data(model.index(row, column), role)


def test_pharmacist_sees_the_prescription_with_allergy_and_override_and_stops_apart(
    qtbot, controller, live_server, tmp_path
):
    seeded = seed(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["pharmacy"])
    assert window.rail_titles() == ["Patients", "Pharmacy"]
    workspace = window.workspaces["pharmacy"]
    assert isinstance(workspace, PharmacyWorkspace)
    window.resize(1500, 900)
    window.show_workspace("pharmacy")
    qtbot.waitUntil(lambda: workspace.queue_model.rowCount() == 2, timeout=WAIT)

    # the queue, waiting longest first: Omar's omeprazole (allergies never asked), then
    # Grace's amoxicillin, flagged; the stopped paracetamol is not in it
    model = workspace.queue_model
    assert [i.id for i in model.records()] == [seeded["omeprazole"], seeded["amoxicillin"]]
    assert cell(model, 0, queue_model.FLAGS) == "Allergies not recorded"
    detail = workspace.detail
    qtbot.waitUntil(lambda: detail.item is not None, timeout=WAIT)
    assert detail.allergy_strip.property("kind") == "warning"
    assert "ask the patient" in detail.allergy_strip.label.text()
    assert cell(model, 1, queue_model.PATIENT) == "OKORO, Grace"
    assert cell(model, 1, queue_model.MEDICINE) == "Amoxicillin 500 mg capsule"
    assert cell(model, 1, queue_model.DIRECTIONS) == "500 mg oral TDS for 5 days"
    assert cell(model, 1, queue_model.QUANTITY) == "15 capsule"
    assert cell(model, 1, queue_model.FLAGS) == "Allergy · 1 override"
    ink = cell(model, 1, queue_model.FLAGS, Qt.ItemDataRole.ForegroundRole)
    assert ink.color().name() == queue_model.ALERT_INK
    assert "2 prescriptions waiting" in workspace.summary_label.text()

    # Grace's in full: the allergy in the red strip, the doctor's override with its reason
    workspace.select(seeded["amoxicillin"])
    assert detail.item is not None and detail.item.id == seeded["amoxicillin"]
    assert detail.allergy_strip.property("kind") == "severe"
    assert "Penicillin (Anaphylaxis, severe)" in detail.allergy_strip.label.text()
    overrides = detail.overrides_label.text()
    assert REASON in overrides and "test-doctor" in overrides
    assert "penicillin" in overrides.lower()
    assert "Take with water" in detail.directions_label.text()
    assert detail.dispensing_hint.isVisible() and "later release" in detail.dispensing_hint.text()

    # stopped in the last day: listed apart, with who stopped it and why
    stopped = workspace.stopped_model
    assert stopped.rowCount() == 1 and workspace.stopped_view.isVisible()
    assert stopped.record(0).drug_name == "Paracetamol"
    assert cell(stopped, 0, 5) == "Pain settled"
    assert "do not dispense" in workspace.stopped_title.text()
    QApplication.processEvents()  # the panel lays out Grace's longer text
    shots = shots_dir(tmp_path)
    assert window.grab().save(str(shots / "pharmacy_queue.png"))

    # the printed prescription carries the allergy
    detail.print_button.click()
    qtbot.waitUntil(lambda: workspace.preview is not None, timeout=WAIT)
    preview = workspace.preview
    assert isinstance(preview, PdfPreviewDialog)
    assert preview.pdf.startswith(b"%PDF") and "Amoxicillin" in preview.name
    preview.close()

    # the pharmacist's look at Grace's prescriptions is on the server's audit trail
    def audited() -> list[AuditEvent]:
        with live_server.db.unit_of_work() as session:
            found = select(AuditEvent).where(
                AuditEvent.patient_id == seeded["patient"], AuditEvent.action == "patient.read"
            )
            return list(session.execute(found).scalars())

    def queue_reads() -> list[AuditEvent]:
        return [e for e in audited() if e.detail.get("view") == "pharmacy.queue"]

    qtbot.waitUntil(lambda: bool(queue_reads()), timeout=WAIT)
    assert len(queue_reads()) == 1 and queue_reads()[0].detail["from_cache"] is True


def test_the_nurse_has_no_pharmacy_queue(qtbot, controller, live_server):
    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    assert "Pharmacy" not in window.rail_titles()
    assert "pharmacy" not in window.workspaces
