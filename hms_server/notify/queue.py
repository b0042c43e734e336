"""Queuing patient messages: one `OutboundMessage` per channel the patient wants and can be
reached on, rendered in their language when queued, idempotent through its dedupe key.

Dedupe keys are `kind:appointment:starts_at:tag:channel`. The tag tells distinct occasions
apart: the appointment's row_version for a booking, move or cancellation (each user action
bumps it), the offset ("24h") for a reminder, so running the reminder job again queues nothing.
"""

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from hms_core.db.base import utcnow
from hms_core.db.hospital import Department
from hms_core.db.notifications import CANCELLED, PENDING, OutboundMessage
from hms_core.db.patients import Patient
from hms_core.db.scheduling import CONFIRMED, Appointment, DoctorProfile, FollowUp
from hms_core.services.availability import aware
from hms_server.notify import templates
from hms_server.settings import Settings

EMAIL, SMS = "email", "sms"
BOOKED, MOVED, CANCELLED_KIND = "appointment_booked", "appointment_moved", "appointment_cancelled"
REMINDER, FOLLOW_UP_DUE = "appointment_reminder", "follow_up_due"
# Messages that tell the patient the time of their appointment (a reminder after one of these,
# sent after the reminder's offset point, would repeat what they were just told).
TELLING_KINDS = (BOOKED, MOVED, REMINDER)
FOLLOW_UP_NOTICE_DAYS = 3
_REMINDER_LOCK = 0x686D7372  # "hmsr": one reminder run at a time across server instances


def channels_for(patient: Patient) -> list[tuple[str, str]]:
    """(channel, recipient) pairs the patient's preference and contact details allow."""
    email = (patient.email or "").strip()
    phone = _sms_number(patient.phone)
    wanted = {EMAIL: [EMAIL], SMS: [SMS], "both": [EMAIL, SMS], "none": []}.get(
        patient.notify_by or "", [SMS] if phone else [EMAIL]
    )
    address = {EMAIL: email, SMS: phone}
    return [(channel, address[channel]) for channel in wanted if address[channel]]


def queue_for_appointment(
    session: Session,
    appointment: Appointment,
    kind: str,
    settings: Settings,
    extra: Mapping[str, Any] | None = None,
) -> list[OutboundMessage]:
    """Queue message `kind` about `appointment` on every channel the patient allows.

    `extra` may hold `tag` (what makes this occasion distinct in the dedupe key),
    `previous_starts_at` (datetime or ISO text, for a move) and `queued_at` (the job's clock).
    """
    extra = extra or {}
    patient = session.get(Patient, appointment.patient_id)
    if patient is None or patient.deleted_at is not None:
        return []
    code = templates.language_code(patient.preferred_language)
    values = appointment_values(session, appointment, patient, code, settings)
    if extra.get("previous_starts_at") is not None:
        previous = moment_of(extra["previous_starts_at"])
        values["previous_when"] = templates.format_datetime(previous, code, settings.timezone)
    key = f"{kind}:{appointment.id}:{_iso(appointment.starts_at)}:{extra.get('tag', '')}"
    rendered = templates.render(kind, code, values)
    return _add(session, patient, kind, code, rendered, key, appointment.id, extra.get("queued_at"))


def appointment_values(
    session: Session, appointment: Appointment, patient: Patient, code: str, settings: Settings
) -> dict[str, str]:
    """The placeholders of an appointment message, in language `code`."""
    doctor = session.get(DoctorProfile, appointment.doctor_id)
    department = session.get(Department, appointment.department_id)
    return {
        "patient": patient.given_name,
        "doctor": doctor.display_name if doctor else "",
        "department": department.name if department else "",
        "hospital": settings.hospital_name,
        "when": templates.format_datetime(appointment.starts_at, code, settings.timezone),
        "reason": (appointment.cancel_reason or "").strip() or templates.no_reason(code),
    }


def cancel_pending(
    session: Session, appointment_id: uuid.UUID, kinds: tuple[str, ...], why: str
) -> int:
    """Withdraw the appointment's messages of `kinds` that have not gone out yet."""
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.appointment_id == appointment_id,
            OutboundMessage.status == PENDING,
            OutboundMessage.kind.in_(kinds),
        )
    ).all()
    for row in rows:
        row.status, row.last_error = CANCELLED, why
        row.bump_version()
    return len(rows)


def queue_reminders(session: Session, now: datetime, settings: Settings) -> int:
    """Queue the reminders and follow-up notices due at `now`; returns how many messages."""
    locked = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _REMINDER_LOCK}
    )
    if not locked.scalar_one():
        return 0  # another server instance is doing it right now
    queued = 0
    for hours in sorted(set(settings.reminder_hours), reverse=True):
        extra = {"tag": f"{hours:g}h", "queued_at": now}
        for appointment in _due_for_reminder(session, now, timedelta(hours=hours)):
            queued += len(queue_for_appointment(session, appointment, REMINDER, settings, extra))
    return queued + _queue_follow_ups(session, now, settings)


def _due_for_reminder(session: Session, now: datetime, lead: timedelta) -> list[Appointment]:
    """Confirmed appointments within `lead` of now, booked (and last told) before their
    offset point: someone booked 3 h ahead gets no 24 h reminder."""
    point = Appointment.starts_at - lead
    told = exists().where(
        OutboundMessage.appointment_id == Appointment.id,
        OutboundMessage.kind.in_(TELLING_KINDS),
        OutboundMessage.created_at >= point,
    )
    return list(
        session.scalars(
            select(Appointment)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(
                Appointment.status == CONFIRMED,
                Appointment.deleted_at.is_(None),
                Appointment.starts_at > now,
                Appointment.starts_at <= now + lead,
                Appointment.created_at <= point,
                Patient.notify_by.is_distinct_from("none"),
                ~told,
            )
            .order_by(Appointment.starts_at)
        )
    )


def _queue_follow_ups(session: Session, now: datetime, settings: Settings) -> int:
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    due = session.scalars(
        select(FollowUp).where(
            FollowUp.status == "due",
            FollowUp.deleted_at.is_(None),
            FollowUp.due_date >= today,
            FollowUp.due_date <= today + timedelta(days=FOLLOW_UP_NOTICE_DAYS),
        )
    ).all()
    return sum(len(queue_follow_up(session, f, settings, now)) for f in due)


def queue_follow_up(
    session: Session, follow_up: FollowUp, settings: Settings, now: datetime | None = None
) -> list[OutboundMessage]:
    """Queue the "time to book your follow-up" message, once per follow-up and due date."""
    patient = session.get(Patient, follow_up.patient_id)
    if patient is None or patient.deleted_at is not None:
        return []
    code = templates.language_code(patient.preferred_language)
    values = _follow_up_values(session, follow_up, patient, code, settings)
    key = f"{FOLLOW_UP_DUE}:{follow_up.id}:{follow_up.due_date.isoformat()}"
    rendered = templates.render(FOLLOW_UP_DUE, code, values)
    return _add(session, patient, FOLLOW_UP_DUE, code, rendered, key, None, now)


def _follow_up_values(
    session: Session, follow_up: FollowUp, patient: Patient, code: str, settings: Settings
) -> dict[str, str]:
    department = session.get(Department, follow_up.department_id)
    doctor = session.get(DoctorProfile, follow_up.doctor_id) if follow_up.doctor_id else None
    return {
        "patient": patient.given_name,
        "doctor": doctor.display_name if doctor else "",
        "department": department.name if department else "",
        "hospital": settings.hospital_name,
        "due_date": templates.format_date(follow_up.due_date, code),
    }


def _add(
    session: Session,
    patient: Patient,
    kind: str,
    code: str,
    rendered: templates.Rendered,
    key: str,
    appointment_id: uuid.UUID | None,
    queued_at: datetime | None,
) -> list[OutboundMessage]:
    """Add one row per allowed channel whose dedupe key is new."""
    at = queued_at or utcnow()
    added = []
    for channel, recipient in channels_for(patient):
        dedupe_key = f"{key}:{channel}"
        if _exists(session, dedupe_key):
            continue
        row = OutboundMessage(
            kind=kind,
            channel=channel,
            recipient=recipient,
            patient_id=patient.id,
            appointment_id=appointment_id,
            language=code,
            subject=templates.shorten(rendered.subject, 300) if channel == EMAIL else "",
            body=rendered.body if channel == EMAIL else rendered.sms,
            status=PENDING,
            attempts=0,
            next_attempt_at=at,
            created_at=at,
            dedupe_key=dedupe_key,
            row_version=1,
        )
        session.add(row)
        added.append(row)
    return added


def _exists(session: Session, dedupe_key: str) -> bool:
    query = select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key)
    return session.execute(query).first() is not None


def _sms_number(phone: str | None) -> str:
    """A phone number as gateways take it: digits, with a leading + kept."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    return f"+{digits}" if phone.strip().startswith("+") and digits else digits


def moment_of(value: datetime | str) -> datetime:
    """A moment, or its ISO text (as event data carries it), as aware UTC."""
    return aware(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _iso(moment: datetime) -> str:
    return aware(moment).isoformat()
