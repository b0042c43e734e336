"""Which messages reach the outbox: templates per language, patient preferences, the commit
hook (bookings, moves, cancellations, the doctor's bell) and the reminder job's clock."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import select

from hms_core.db.auth import User
from hms_core.db.hospital import Department
from hms_core.db.notifications import CANCELLED, PENDING, OutboundMessage, UserNotification
from hms_core.db.patients import Patient
from hms_core.db.scheduling import Appointment, DoctorProfile, FollowUp
from hms_core.db.sync import ChangeLog
from hms_core.services.unit import emit
from hms_server.db import Database
from hms_server.notify import hooks, templates
from hms_server.notify.queue import channels_for, queue_reminders
from hms_server.settings import Settings

HOSPITAL_ZONE = "Africa/Nairobi"  # UTC+3 all year: 06:30 UTC is 09:30 at the hospital
DOCTOR = "Dr Amina Otieno"


@dataclass(frozen=True)
class Clinic:
    doctor_id: uuid.UUID
    doctor_user_id: uuid.UUID
    department_id: uuid.UUID


# --- helpers shared with test_notify_delivery -------------------------------------------------


def notify_settings(server_settings: Settings, **changes: object) -> Settings:
    """Server settings for a hospital in Nairobi, with `changes`."""
    base = {"timezone": HOSPITAL_ZONE, "hospital_name": "Riverside Hospital"}
    return server_settings.model_copy(update={**base, **changes})


def hooked(db: Database, settings: Settings) -> Database:
    """`db`, its commits now using these settings for messages (this hook runs first and
    takes the events, so the one the Database installed finds none)."""
    hooks.install(db.sessions, settings)
    return db


def make_clinic(db: Database) -> Clinic:
    """A cardiology department and Dr Otieno, who signs in as test-doctor."""
    with db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == "test-doctor")).one()
        department = Department(code="CARD", name="Cardiology", specialty="cardiology")
        session.add(department)
        session.flush()
        doctor = DoctorProfile(
            number=1, display_name=DOCTOR, department_id=department.id, user_id=user.id
        )
        session.add(doctor)
        session.flush()
        return Clinic(doctor.id, user.id, department.id)


def add_patient(
    db: Database,
    given: str = "Grace",
    family: str = "Wanjiru",
    *,
    phone: str | None = "+254 712 345 678",
    email: str | None = "grace@example.org",
    language: str | None = None,
    notify_by: str | None = None,
) -> uuid.UUID:
    with db.unit_of_work() as session:
        patient = Patient(
            mrn=str(uuid.uuid4().int)[:9],
            given_name=given,
            family_name=family,
            birth_date=date(1985, 3, 14),
            sex="female",
            phone=phone,
            email=email,
            preferred_language=language,
            notify_by=notify_by,
            sort_name=f"{family} {given}".lower(),
        )
        session.add(patient)
        session.flush()
        return patient.id


def local_start(days: int, hour: int = 9, minute: int = 30) -> datetime:
    """`days` from today at hour:minute on the hospital's clock, in UTC."""
    zone = ZoneInfo(HOSPITAL_ZONE)
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def book(
    db: Database,
    clinic: Clinic,
    patient_id: uuid.UUID,
    starts_at: datetime,
    *,
    status: str = "confirmed",
    created_at: datetime | None = None,
    emit_event: bool = True,
) -> uuid.UUID:
    """An appointment row, announced as booked the way the booking service does."""
    with db.unit_of_work() as session:
        appointment = Appointment(
            patient_id=patient_id,
            doctor_id=clinic.doctor_id,
            doctor_number=1,
            department_id=clinic.department_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20),
            status=status,
            row_version=1,
        )
        if created_at is not None:
            appointment.created_at = created_at
        session.add(appointment)
        session.flush()
        if emit_event:
            emit(session, "appointment.booked", appointment_id=str(appointment.id))
        return appointment.id


def messages(db: Database, kind: str | None = None) -> list[OutboundMessage]:
    with db.unit_of_work() as session:
        query = select(OutboundMessage).order_by(OutboundMessage.created_at)
        if kind is not None:
            query = query.where(OutboundMessage.kind == kind)
        return list(session.scalars(query))


def bell(db: Database, user_id: uuid.UUID) -> list[UserNotification]:
    with db.unit_of_work() as session:
        query = select(UserNotification).where(UserNotification.user_id == user_id)
        return list(session.scalars(query.order_by(UserNotification.created_at)))


def english_when(moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(HOSPITAL_ZONE))
    return f"{local:%A} {local.day} {local:%B} {local.year} at {local:%H:%M}"


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def settings(server_settings: Settings) -> Settings:
    return notify_settings(server_settings)


@pytest.fixture
def hdb(db: Database, settings: Settings) -> Database:
    return hooked(db, settings)


@pytest.fixture
def clinic(hdb: Database) -> Clinic:
    return make_clinic(hdb)


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preference", "code"),
    [
        ("English", "en"),
        ("Spanish", "es"),
        ("español", "es"),
        ("French", "fr"),
        ("Français", "fr"),
        ("Swahili", "sw"),
        ("Kiswahili", "sw"),
        ("es-MX", "es"),
        ("Yoruba", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_code_understands_free_text(preference: str | None, code: str) -> None:
    assert templates.language_code(preference) == code


def test_dates_and_times_read_naturally_in_each_language() -> None:
    moment = datetime(2026, 12, 8, 6, 30, tzinfo=UTC)  # 09:30 in Nairobi, a Tuesday
    written = {
        code: templates.format_datetime(moment, code, HOSPITAL_ZONE) for code in templates.LANGUAGES
    }
    assert written == {
        "en": "Tuesday 8 December 2026 at 09:30",
        "es": "martes 8 de diciembre de 2026 a las 09:30",
        "fr": "mardi 8 décembre 2026 à 9 h 30",
        "sw": "Jumanne, 8 Desemba 2026, saa 3:30 asubuhi (09:30)",
    }
    first = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert (
        templates.format_datetime(first, "fr", HOSPITAL_ZONE) == "mardi 1er décembre 2026 à 18 h 00"
    )
    assert templates.format_datetime(first, "sw", HOSPITAL_ZONE).endswith("saa 12:00 jioni (18:00)")


@pytest.mark.parametrize("code", templates.LANGUAGES)
@pytest.mark.parametrize("kind", templates.KINDS)
def test_every_message_fills_in_and_its_sms_fits(kind: str, code: str) -> None:
    values = {
        "patient": "Bartholomew-Alexander",
        "doctor": "Dr Christabel Nakamura-Oyelaran",
        "department": "Paediatric Cardiothoracic Surgery",
        "hospital": "St Bartholomew's Regional Referral Hospital",
        "when": templates.format_datetime(datetime(2026, 9, 30, 14, 45, tzinfo=UTC), code, "UTC"),
        "previous_when": templates.format_datetime(
            datetime(2026, 9, 2, 8, 5, tzinfo=UTC), code, "UTC"
        ),
        "reason": "The clinic is closed for a public holiday. " * 3,
        "due_date": templates.format_date(date(2026, 11, 23), code),
    }
    message = templates.render(kind, code, values)
    for text in (message.subject, message.body, message.sms):
        assert text and "{" not in text and "}" not in text
    assert len(message.sms) <= templates.SMS_MAX_CHARS
    assert values["hospital"] in message.body


def test_a_missing_placeholder_names_itself() -> None:
    with pytest.raises(templates.TemplateError, match=r"es/appointment_booked.*\{doctor\}"):
        templates.render(
            "appointment_booked", "es", {"patient": "Ana", "hospital": "H", "when": "hoy"}
        )


# --- preferences ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notify_by", "email", "phone", "expected"),
    [
        (None, "a@example.org", "+254 700 000001", [("sms", "+254700000001")]),
        (None, "a@example.org", None, [("email", "a@example.org")]),
        (None, None, None, []),
        ("none", "a@example.org", "+254 700 000001", []),
        ("email", "a@example.org", "+254 700 000001", [("email", "a@example.org")]),
        ("email", None, "+254 700 000001", []),
        ("sms", "a@example.org", "0700-000 001", [("sms", "0700000001")]),
        ("both", None, "+254 700 000001", [("sms", "+254700000001")]),
        (
            "both",
            "a@example.org",
            "+254 700 000001",
            [("email", "a@example.org"), ("sms", "+254700000001")],
        ),
    ],
)
def test_channels_follow_the_patients_preference_and_details(notify_by, email, phone, expected):
    patient = Patient(notify_by=notify_by, email=email, phone=phone)
    assert channels_for(patient) == expected


# --- the commit hook -----------------------------------------------------------------------------


def test_booking_texts_the_patient_and_rings_the_doctors_bell(hdb, clinic, database_url):
    patient = add_patient(hdb)
    starts = local_start(days=10)
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as listener:
        listener.execute("LISTEN hms_live")
        appointment = book(hdb, clinic, patient, starts)
        live = [json.loads(n.payload) for n in listener.notifies(timeout=5, stop_after=1)]

    [sms] = messages(hdb)
    assert (sms.kind, sms.channel, sms.recipient, sms.status) == (
        "appointment_booked",
        "sms",
        "+254712345678",
        PENDING,
    )
    assert "Grace" in sms.body and DOCTOR in sms.body and english_when(starts) in sms.body
    assert "Riverside Hospital" in sms.body and sms.appointment_id == appointment

    [note] = bell(hdb, clinic.doctor_user_id)
    assert note.title == "New appointment: Grace Wanjiru"
    assert english_when(starts) in note.body
    assert live[0]["users"] == [str(clinic.doctor_user_id)]
    assert live[0]["event"] == {"type": "notification", "id": str(note.id), "title": note.title}

    with hdb.unit_of_work() as session:  # the desktops hear of the queued message too
        logged = session.scalars(
            select(ChangeLog.row_id).where(ChangeLog.table_name == "outbound_message")
        ).all()
    assert logged == [sms.id]


def test_an_opted_out_patient_gets_nothing_but_the_doctor_still_hears(hdb, clinic, settings):
    patient = add_patient(hdb, notify_by="none")
    book(hdb, clinic, patient, local_start(days=3))
    with hdb.unit_of_work() as session:
        assert queue_reminders(session, local_start(days=3) - timedelta(hours=1), settings) == 0
    assert messages(hdb) == []
    assert len(bell(hdb, clinic.doctor_user_id)) == 1


def test_email_only_patient_gets_only_an_email_in_their_language(hdb, clinic):
    patient = add_patient(hdb, "Lucía", "Pérez", language="Spanish", notify_by="email")
    book(hdb, clinic, patient, local_start(days=5))
    [message] = messages(hdb)
    assert (message.channel, message.recipient, message.language) == (
        "email",
        "grace@example.org",
        "es",
    )
    assert message.subject.startswith("Su cita en Riverside Hospital")
    assert message.body.startswith("Estimado/a Lucía:")


def test_a_request_waits_for_confirmation_before_the_patient_hears(hdb, clinic):
    patient = add_patient(hdb)
    appointment = book(hdb, clinic, patient, local_start(days=4), status="requested")
    assert messages(hdb) == []
    [note] = bell(hdb, clinic.doctor_user_id)
    assert note.title == "Request to confirm: Grace Wanjiru"

    set_status(hdb, appointment, "confirmed", "requested")
    [confirmation] = messages(hdb)
    assert confirmation.kind == "appointment_booked"


def test_check_in_tells_the_doctor_the_patient_has_arrived(hdb, clinic):
    appointment = book(hdb, clinic, add_patient(hdb), local_start(days=1))
    set_status(hdb, appointment, "checked_in", "confirmed")
    titles = [n.title for n in bell(hdb, clinic.doctor_user_id)]
    assert titles == ["New appointment: Grace Wanjiru", "Grace Wanjiru has arrived"]
    assert len(messages(hdb)) == 1  # the booking message only; arrival tells the patient nothing


def set_status(db: Database, appointment_id: uuid.UUID, status: str, previous: str) -> None:
    with db.unit_of_work() as session:
        appointment = session.get(Appointment, appointment_id)
        appointment.status = status
        appointment.bump_version()
        emit(
            session,
            "appointment.status",
            appointment_id=str(appointment_id),
            status=status,
            previous=previous,
        )


def move(db: Database, appointment_id: uuid.UUID, to: datetime) -> None:
    with db.unit_of_work() as session:
        appointment = session.get(Appointment, appointment_id)
        previous = appointment.starts_at
        appointment.starts_at, appointment.ends_at = to, to + timedelta(minutes=20)
        appointment.bump_version()
        emit(
            session,
            "appointment.moved",
            appointment_id=str(appointment_id),
            previous_starts_at=previous.isoformat(),
        )


def cancel(db: Database, appointment_id: uuid.UUID, reason: str) -> None:
    with db.unit_of_work() as session:
        appointment = session.get(Appointment, appointment_id)
        appointment.status, appointment.cancel_reason = "cancelled", reason
        appointment.bump_version()
        emit(session, "appointment.cancelled", appointment_id=str(appointment_id))


# --- reminders ---------------------------------------------------------------------------------


def remind(db: Database, settings: Settings, now: datetime) -> int:
    with db.unit_of_work() as session:
        return queue_reminders(session, now, settings)


def test_one_reminder_a_day_before_and_one_two_hours_before(db, settings):
    clinic = make_clinic(db)
    starts = local_start(days=10)
    book(db, clinic, add_patient(db), starts, created_at=starts - timedelta(days=7))
    minute = timedelta(minutes=1)
    queued = {
        offset: remind(db, settings, starts - offset)
        for offset in (
            timedelta(hours=25),
            timedelta(hours=24) - minute,
            timedelta(hours=24) - 2 * minute,
            timedelta(hours=20),
            timedelta(hours=2) - minute,
            timedelta(hours=2) - 2 * minute,
            timedelta(hours=1),
        )
    }
    assert list(queued.values()) == [0, 1, 0, 0, 1, 0, 0]
    reminders = messages(db, "appointment_reminder")
    assert [m.dedupe_key.rsplit(":", 2)[1] for m in reminders] == ["24h", "2h"]
    assert all(english_when(starts) in m.body for m in reminders)
    assert remind(db, settings, starts - timedelta(hours=2) + minute) == 0  # running again: nothing


def test_booked_three_hours_ahead_gets_only_the_two_hour_reminder(db, settings):
    clinic = make_clinic(db)
    starts = local_start(days=10)
    book(db, clinic, add_patient(db), starts, created_at=starts - timedelta(hours=3))
    assert remind(db, settings, starts - timedelta(hours=3) + timedelta(minutes=1)) == 0
    assert remind(db, settings, starts - timedelta(hours=2) + timedelta(minutes=1)) == 1
    [reminder] = messages(db, "appointment_reminder")
    assert reminder.dedupe_key.endswith(":2h:sms")


def test_a_cancelled_appointment_is_not_reminded_and_the_patient_hears_why(hdb, clinic, settings):
    starts = local_start(days=10)
    appointment = book(hdb, clinic, add_patient(hdb), starts)
    cancel(hdb, appointment, "Dr Otieno is away at a conference")
    assert remind(hdb, settings, starts - timedelta(hours=23)) == 0
    assert remind(hdb, settings, starts - timedelta(hours=1)) == 0

    booked, cancelled = messages(hdb)
    assert booked.status == CANCELLED  # not yet sent: no point any more
    assert cancelled.kind == "appointment_cancelled" and cancelled.status == PENDING
    assert "Dr Otieno is away at a conference" in cancelled.body
    titles = [n.title for n in bell(hdb, clinic.doctor_user_id)]
    assert titles[-1] == "Appointment cancelled: Grace Wanjiru"


def test_moving_withdraws_reminders_for_the_old_time_and_tells_the_patient(hdb, clinic, settings):
    starts, later = local_start(days=10), local_start(days=11, hour=14)
    appointment = book(hdb, clinic, add_patient(hdb), starts)
    assert remind(hdb, settings, starts - timedelta(hours=23)) == 1

    move(hdb, appointment, later)
    by_kind = {m.kind: m for m in messages(hdb)}
    assert by_kind["appointment_reminder"].status == CANCELLED
    assert by_kind["appointment_reminder"].last_error == "The appointment moved"
    moved = by_kind["appointment_moved"]
    assert moved.status == PENDING
    assert english_when(starts) in moved.body and english_when(later) in moved.body
    assert bell(hdb, clinic.doctor_user_id)[-1].title == "Appointment moved: Grace Wanjiru"

    assert remind(hdb, settings, later - timedelta(hours=23)) == 1  # the new time is reminded
    move(hdb, appointment, starts)  # back and forth: each move is news, never a duplicate
    move(hdb, appointment, later)
    moves = messages(hdb, "appointment_moved")
    assert [m.status for m in moves] == [CANCELLED, CANCELLED, PENDING]


def test_a_follow_up_due_within_three_days_is_announced_once(db, settings):
    clinic = make_clinic(db)
    patient = add_patient(db, "Jean", "Mugisha", language="French", notify_by="sms")
    today = datetime.now(ZoneInfo(HOSPITAL_ZONE)).date()
    with db.unit_of_work() as session:
        for days in (2, 9):
            session.add(
                FollowUp(
                    patient_id=patient,
                    doctor_id=clinic.doctor_id,
                    department_id=clinic.department_id,
                    due_date=today + timedelta(days=days),
                )
            )
    now = datetime.now(UTC)
    assert remind(db, settings, now) == 1
    assert remind(db, settings, now) == 0
    [notice] = messages(db, "follow_up_due")
    due = templates.format_date(today + timedelta(days=2), "fr")
    assert notice.body.startswith("Riverside Hospital : Bonjour Jean") and due in notice.body
