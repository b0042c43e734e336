"""Read models of scheduling: the appointment lists reception and doctors work from."""

import uuid
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hms_core.db.notifications import OutboundMessage
from hms_core.db.patients import Patient
from hms_core.db.scheduling import Appointment, DoctorProfile, FollowUp
from hms_core.schemas.scheduling import AppointmentView, FollowUpView, MessageView
from hms_core.services.availability import aware


def appointments_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    doctor_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    statuses: tuple[str, ...] | None = None,
) -> list[AppointmentView]:
    """Appointments starting in [start, end), earliest first, optionally narrowed."""
    query = _joined().where(Appointment.starts_at >= start, Appointment.starts_at < end)
    if doctor_id is not None:
        query = query.where(Appointment.doctor_id == doctor_id)
    if department_id is not None:
        query = query.where(Appointment.department_id == department_id)
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if statuses is not None:
        query = query.where(Appointment.status.in_(statuses))
    return [_view(*row) for row in session.execute(query.order_by(Appointment.starts_at))]


def patient_appointments(session: Session, patient_id: uuid.UUID) -> list[AppointmentView]:
    """Every appointment of one patient, newest first."""
    query = _joined().where(Appointment.patient_id == patient_id)
    rows = session.execute(query.order_by(Appointment.starts_at.desc()))
    return [_view(*row) for row in rows]


def appointment_view(session: Session, appointment_id: uuid.UUID) -> AppointmentView | None:
    row = session.execute(_joined().where(Appointment.id == appointment_id)).first()
    return _view(*row) if row else None


def _joined() -> Select:
    return (
        select(Appointment, Patient, DoctorProfile)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(DoctorProfile, DoctorProfile.id == Appointment.doctor_id)
        .where(Appointment.deleted_at.is_(None))
    )


def _view(appointment: Appointment, patient: Patient, doctor: DoctorProfile) -> AppointmentView:
    return AppointmentView(
        id=appointment.id,
        patient_id=patient.id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        mrn=patient.mrn,
        patient_phone=patient.phone,
        doctor_id=doctor.id,
        doctor_name=doctor.display_name,
        department_id=appointment.department_id,
        starts_at=aware(appointment.starts_at),
        ends_at=aware(appointment.ends_at),
        status=appointment.status,
        reason=appointment.reason,
        source=appointment.source,
        cancel_reason=appointment.cancel_reason,
        checked_in_at=aware(appointment.checked_in_at) if appointment.checked_in_at else None,
        follow_up_id=appointment.follow_up_id,
    )


def follow_ups_due(session: Session, until: date) -> list[FollowUpView]:
    """Follow-ups not yet booked and due by `until`, soonest first."""
    query = (
        select(FollowUp, Patient, DoctorProfile)
        .join(Patient, Patient.id == FollowUp.patient_id)
        .outerjoin(DoctorProfile, DoctorProfile.id == FollowUp.doctor_id)
        .where(FollowUp.status == "due", FollowUp.due_date <= until, FollowUp.deleted_at.is_(None))
        .order_by(FollowUp.due_date)
    )
    return [
        FollowUpView(
            id=f.id,
            patient_id=p.id,
            patient_name=f"{p.given_name} {p.family_name}",
            mrn=p.mrn,
            doctor_id=d.id if d else None,
            doctor_name=d.display_name if d else None,
            department_id=f.department_id,
            due_date=f.due_date,
            reason=f.reason,
            requested_by=f.requested_by,
            status=f.status,
        )
        for f, p, d in session.execute(query)
    ]


def messages_for(session: Session, appointment_id: uuid.UUID) -> list[MessageView]:
    """The messages sent (or being sent) to the patient about one appointment."""
    rows = session.execute(
        select(OutboundMessage)
        .where(OutboundMessage.appointment_id == appointment_id)
        .order_by(OutboundMessage.created_at)
    ).scalars()
    return [MessageView.model_validate(m) for m in rows]
