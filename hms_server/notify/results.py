"""Validated results in the ordering doctor's bell: "Result ready: …", or "CRITICAL result: …"
(kind `result_critical`, naming the critical values) when any value is critical.

The bell rings in the transaction that validates the result, so the doctor's desktop hears
of it the moment the validation commits.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.auth import User
from hms_core.db.clinical import CRITICAL_HIGH, CRITICAL_LOW, ClinicalOrder
from hms_core.db.patients import Patient
from hms_core.services.clinical.results import current_observations
from hms_server.notify.bell import ring
from hms_server.settings import Settings

RESULT_EVENTS = ("result.validated",)
READY, CRITICAL = "result_ready", "result_critical"  # user_notification kinds


def on_result_validated(session: Session, data: dict[str, Any], _settings: Settings) -> None:
    """The domain event of a validation: ring the bell of the doctor who ordered the test."""
    raw = data.get("order_id")
    order = session.get(ClinicalOrder, uuid.UUID(str(raw))) if raw else None
    if order is None:
        return
    doctor = session.scalars(select(User).where(User.username == order.ordered_by)).first()
    if doctor is None or not doctor.is_active:
        return
    critical = bool(data.get("critical")) or order.critical
    what = f"{order.test_name} for {_patient_name(session, order.patient_id)}"
    title = f"CRITICAL result: {what}" if critical else f"Result ready: {what}"
    body = f"Order {order.number}, validated by {order.validated_by}."
    if critical:
        body = f"{_critical_values(session, order)} {body}".strip()
    ring(
        session,
        doctor.id,
        CRITICAL if critical else READY,
        title,
        body,
        patient_id=order.patient_id,
    )


def _critical_values(session: Session, order: ClinicalOrder) -> str:
    """'Potassium 6.9 mmol/L (HH).' for each critical value of the order."""
    shown = [
        f"{o.display} {o.value_num} {o.unit} ({o.flag})".replace("  ", " ")
        for o in current_observations(session, order.id)
        if o.flag in (CRITICAL_LOW, CRITICAL_HIGH)
    ]
    return f"{'; '.join(shown)}." if shown else ""


def _patient_name(session: Session, patient_id: uuid.UUID) -> str:
    patient = session.get(Patient, patient_id)
    return f"{patient.given_name} {patient.family_name}" if patient else "a patient"
