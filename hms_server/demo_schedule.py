"""The demo hospital's clinics: doctors' weekly hours and a realistic week of appointments.

Today's clinic is under way whenever the demo starts: earlier patients seen (a few did not
come), the one whose slot is now with the doctor, the next ones checked in and waiting, the rest
of the week partly booked, and a few requests for the doctors to confirm.
"""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Appointment, AvailabilityRule, DoctorProfile, Patient
from hms_core.db.scheduling import (
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    IN_CONSULTATION,
    NO_SHOW,
    REQUESTED,
)

SESSIONS = ((time(8, 30), time(12, 30)), (time(13, 30), time(16, 30)))  # local, with lunch
DAYS_BOOKED = 6
REASONS = [
    "Follow-up of blood pressure", "Chest pain on exertion", "Knee pain after a fall",
    "Child with fever and cough", "Antenatal check", "Recurring headaches", "Skin rash",
    "Earache", "Review of test results", "Repeat prescription",
]  # fmt: skip


def add_weekly_hours(session: Session, doctor: DoctorProfile, department_code: str) -> int:
    """Weekdays 08:30–16:30 with a lunch break; cardiology in 20-minute slots; emergency
    also on Saturday mornings. Returns the slot length in minutes."""
    slot = 20 if department_code == "CAR" else 15
    (morning_start, break_start), (break_end, evening_end) = SESSIONS
    for weekday in range(5):
        session.add(
            AvailabilityRule(
                doctor_id=doctor.id, weekday=weekday, start_time=morning_start,
                end_time=evening_end, slot_minutes=slot, break_start=break_start,
                break_end=break_end,
            )
        )  # fmt: skip
    if department_code == "EMR":
        session.add(
            AvailabilityRule(
                doctor_id=doctor.id, weekday=5, start_time=time(9), end_time=time(12),
                slot_minutes=slot,
            )
        )  # fmt: skip
    return slot


def add_appointments(
    session: Session, doctors: list[tuple[DoctorProfile, int]], rng: random.Random
) -> int:
    """Book the demo week for every (doctor, slot minutes); returns how many were made."""
    patients = list(session.execute(select(Patient.id).order_by(Patient.mrn)).scalars())
    now = datetime.now(UTC)
    made = 0
    for doctor, minutes in doctors:
        slot = timedelta(minutes=minutes)
        for start in _booked_starts(doctor, slot, now, rng):
            appointment = _appointment(doctor, start, slot, now, rng)
            appointment.patient_id = rng.choice(patients)
            session.add(appointment)
            made += 1
    session.flush()
    return made


def _booked_starts(
    doctor: DoctorProfile, slot: timedelta, now: datetime, rng: random.Random
) -> list[datetime]:
    """Slot starts to book: today about half (always the ones around now), later days fewer."""
    zone = ZoneInfo(doctor.timezone)
    today = now.astimezone(zone).date()
    starts = []
    for offset in range(DAYS_BOOKED):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for start in _day_starts(day, zone, slot):
            around_now = offset == 0 and -2 * slot <= start - now <= 2 * slot
            if around_now or rng.random() < (0.55 if offset == 0 else 0.3):
                starts.append(start)
    return starts


def _day_starts(day: date, zone: ZoneInfo, slot: timedelta) -> list[datetime]:
    """Every slot start of a demo day, in UTC."""
    starts = []
    for begin, end in SESSIONS:
        moment, stop = datetime.combine(day, begin, zone), datetime.combine(day, end, zone)
        while moment + slot <= stop:
            starts.append(moment.astimezone(UTC))
            moment += slot
    return starts


def _appointment(
    doctor: DoctorProfile, start: datetime, slot: timedelta, now: datetime, rng: random.Random
) -> Appointment:
    """An appointment whose status fits its time: seen, with the doctor, waiting, or ahead."""
    appointment = Appointment(
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        doctor_id=doctor.id,
        doctor_number=doctor.number,
        department_id=doctor.department_id,
        starts_at=start,
        ends_at=start + slot,
        reason=rng.choice(REASONS),
        booked_by="reception",
        status=CONFIRMED,
        confirmed_at=now - timedelta(days=3),
    )
    if start + slot <= now:
        seen = rng.random() >= 0.08
        appointment.status = COMPLETED if seen else NO_SHOW
        if seen:
            appointment.checked_in_at = start - timedelta(minutes=rng.randint(3, 20))
            appointment.started_at, appointment.completed_at = start, start + slot
    elif start <= now:
        appointment.status, appointment.started_at = IN_CONSULTATION, start
        appointment.checked_in_at = start - timedelta(minutes=rng.randint(3, 20))
    elif start - now <= 2 * slot:
        appointment.status = CHECKED_IN
        appointment.checked_in_at = now - timedelta(minutes=rng.randint(2, 25))
    elif rng.random() < 0.08:
        appointment.status, appointment.confirmed_at = REQUESTED, None
    return appointment
