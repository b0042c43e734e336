"""A small clinic for scheduling tests: departments, doctors with weekly hours, patients.

Every doctor works every day 08:00–18:00 UTC with a break 12:00–13:00 in 15-minute slots, so
tests book "tomorrow at 09:00" whatever day and hour they run.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from hms_core.db import AvailabilityRule, Department, DoctorProfile, User
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_server.db import Database


@dataclass
class Clinic:
    departments: dict[str, uuid.UUID] = field(default_factory=dict)
    doctors: dict[str, uuid.UUID] = field(default_factory=dict)  # name -> doctor_profile.id
    patients: list[uuid.UUID] = field(default_factory=list)

    @property
    def doctor(self) -> uuid.UUID:
        """The profile of the `test-doctor` user."""
        return self.doctors["Dr. Test Doctor"]


def tomorrow() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A UTC moment on `day`."""
    return datetime.combine(day, time(hour, minute), UTC)


def make_clinic(db: Database, patients: int = 3, extra_doctors: int = 2) -> Clinic:
    """Departments GEN and CAR, `test-doctor` plus `extra_doctors` in GEN, and patients."""
    clinic = Clinic()
    with db.unit_of_work() as session:
        for code, name in (("GEN", "General Medicine"), ("CAR", "Cardiology")):
            department = Department(code=code, name=name, specialty=name)
            session.add(department)
            session.flush()
            clinic.departments[code] = department.id
        user = session.execute(select(User).where(User.username == "test-doctor")).scalar_one()
        names = [("Dr. Test Doctor", user.id)] + [
            (f"Dr. Extra {n}", None) for n in range(1, extra_doctors + 1)
        ]
        for number, (name, user_id) in enumerate(names, start=1):
            doctor = DoctorProfile(
                user_id=user_id,
                number=number,
                display_name=name,
                department_id=clinic.departments["GEN"],
                timezone="UTC",
            )
            session.add(doctor)
            session.flush()
            clinic.doctors[name] = doctor.id
            add_daily_hours(session, doctor.id)
    with db.unit_of_work() as session:
        for n in range(patients):
            patient = register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=f"Patient{chr(65 + n)}",
                    family_name="Tester",
                    birth_date=date(1980, 1, 1 + n),
                    sex="female",
                    phone=f"+1 555 010 {1000 + n}",
                    email=f"patient{n}@example.org",
                ),
            )
            clinic.patients.append(patient.id)
    return clinic


def add_daily_hours(session, doctor_id: uuid.UUID) -> None:  # noqa: ANN001
    for weekday in range(7):
        session.add(
            AvailabilityRule(
                doctor_id=doctor_id,
                weekday=weekday,
                start_time=time(8),
                end_time=time(18),
                slot_minutes=15,
                break_start=time(12),
                break_end=time(13),
            )
        )
