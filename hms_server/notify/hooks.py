"""At commit, turn the unit of work's domain events into patient messages (the outbox) and
in-app notifications for the doctor, inside the same transaction.

Appointment events go to `HANDLERS` (each gets the appointment the event names); payment events
go to `PAYMENT_HANDLERS` (each gets the event's data: the receipt and refund messages), and so
do validated results (the ordering doctor's bell).

The listener goes to the front of the session factory's `before_commit` listeners, so the rows
it adds are flushed before `hms_server.changelog` writes the change log of the commit.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db.base import utcnow
from hms_core.db.patients import Patient
from hms_core.db.scheduling import (
    CHECKED_IN,
    CONFIRMED,
    REQUESTED,
    TENTATIVE,
    Appointment,
    DoctorProfile,
)
from hms_core.services.availability import aware
from hms_core.services.unit import take_events
from hms_server.notify import receipts, results, templates
from hms_server.notify.bell import ring
from hms_server.notify.queue import (
    BOOKED,
    CANCELLED_KIND,
    MOVED,
    REMINDER,
    cancel_pending,
    moment_of,
    queue_for_appointment,
)
from hms_server.settings import Settings

Handler = Callable[[Session, Appointment, dict[str, Any], Settings], None]
DataHandler = Callable[[Session, dict[str, Any], Settings], None]
STAFF_LANGUAGE = "en"


def install(factory: sessionmaker, settings: Settings) -> None:
    """Handle each outermost commit's domain events, before the change log is written."""

    def before_commit(session: Session) -> None:
        handle_events(session, settings)

    event.listen(factory, "before_commit", before_commit, insert=True)


def handle_events(session: Session, settings: Settings) -> None:
    """Queue messages and notifications for the events this unit of work emitted."""
    if session.in_nested_transaction():
        return  # a savepoint is released: the outermost commit handles the events, once
    events = take_events(session)
    if not events:
        return
    session.flush()  # the rows the events name are loadable, with their defaults applied
    for domain_event in events:
        _dispatch(session, domain_event.kind, domain_event.data, settings)
    session.flush()


def _dispatch(session: Session, kind: str, data: dict[str, Any], settings: Settings) -> None:
    """Hand one event to its handler, if any."""
    data_handler = PAYMENT_HANDLERS.get(kind)
    if data_handler is not None:
        data_handler(session, data, settings)
        return
    handler = HANDLERS.get(kind)
    appointment = _appointment(session, data) if handler is not None else None
    if handler is not None and appointment is not None:
        handler(session, appointment, data, settings)


def _booked(session: Session, appointment: Appointment, _data: dict, settings: Settings) -> None:
    if appointment.status == CONFIRMED:
        _tell_patient(session, appointment, BOOKED, settings)
    title = "Request to confirm" if appointment.status == REQUESTED else None
    title = f"{title or 'New appointment'}: {_patient_name(session, appointment)}"
    _tell_doctor(session, appointment, "appointment_booked", title, settings)


def _moved(session: Session, appointment: Appointment, data: dict, settings: Settings) -> None:
    cancel_pending(session, appointment.id, (BOOKED, MOVED, REMINDER), "The appointment moved")
    previous = data.get("previous_starts_at")
    if appointment.status == CONFIRMED:
        extra = {"previous_starts_at": previous}
        _tell_patient(session, appointment, MOVED, settings, extra)
    was = f"It was {_when(moment_of(previous), settings)}" if previous else ""
    title = f"Appointment moved: {_patient_name(session, appointment)}"
    _tell_doctor(session, appointment, "appointment_moved", title, settings, was)


def _cancelled(session: Session, appointment: Appointment, _data: dict, settings: Settings) -> None:
    why = "The appointment was cancelled"
    cancel_pending(session, appointment.id, (BOOKED, MOVED, REMINDER), why)
    _tell_patient(session, appointment, CANCELLED_KIND, settings)
    reason = f"Reason: {appointment.cancel_reason}" if appointment.cancel_reason else ""
    title = f"Appointment cancelled: {_patient_name(session, appointment)}"
    _tell_doctor(session, appointment, "appointment_cancelled", title, settings, reason)


def _status(session: Session, appointment: Appointment, data: dict, settings: Settings) -> None:
    status, previous = data.get("status"), data.get("previous")
    if status == CHECKED_IN:
        title = f"{_patient_name(session, appointment)} has arrived"
        _tell_doctor(session, appointment, "patient_arrived", title, settings)
    elif status == CONFIRMED and previous in (REQUESTED, TENTATIVE):
        _tell_patient(session, appointment, BOOKED, settings)  # the request is confirmed


HANDLERS: dict[str, Handler] = {
    "appointment.booked": _booked,
    "appointment.moved": _moved,
    "appointment.cancelled": _cancelled,
    "appointment.status": _status,
}
PAYMENT_HANDLERS: dict[str, DataHandler] = dict.fromkeys(
    receipts.PAYMENT_EVENTS, receipts.on_payment
) | dict.fromkeys(results.RESULT_EVENTS, results.on_result_validated)


def _tell_patient(
    session: Session,
    appointment: Appointment,
    kind: str,
    settings: Settings,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queue a message to the patient, unless the appointment time has already passed."""
    if aware(appointment.starts_at) <= utcnow():
        return
    extra = {**(extra or {}), "tag": f"v{appointment.row_version}"}
    queue_for_appointment(session, appointment, kind, settings, extra)


def _tell_doctor(
    session: Session,
    appointment: Appointment,
    kind: str,
    title: str,
    settings: Settings,
    detail: str = "",
) -> None:
    """Notify the appointment's doctor in the desktop's bell, live if they are online."""
    doctor = session.get(DoctorProfile, appointment.doctor_id)
    if doctor is None or doctor.user_id is None:
        return
    body = " ".join(part for part in (_when(appointment.starts_at, settings), detail) if part)
    ring(
        session,
        doctor.user_id,
        kind,
        title,
        body,
        patient_id=appointment.patient_id,
        appointment_id=appointment.id,
    )


def _appointment(session: Session, data: dict[str, Any]) -> Appointment | None:
    raw = data.get("appointment_id")
    return session.get(Appointment, uuid.UUID(str(raw))) if raw else None


def _patient_name(session: Session, appointment: Appointment) -> str:
    patient = session.get(Patient, appointment.patient_id)
    return f"{patient.given_name} {patient.family_name}" if patient else "A patient"


def _when(moment: datetime, settings: Settings) -> str:
    return templates.format_datetime(moment, STAFF_LANGUAGE, settings.timezone) + "."
