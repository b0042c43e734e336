"""Scheduling: doctors' profiles, weekly availability, leave and one-off exceptions,
appointments and follow-up requests.

No doctor is ever double-booked: on PostgreSQL an exclusion constraint (migration 0004) refuses
two live appointments of one doctor whose time ranges overlap, whatever the order in which
concurrent transactions commit. It works on the doctor's small integer `number` (core
PostgreSQL's GiST has range operators, not UUID equality), which the services copy onto each
appointment from the doctor's profile.
"""

import uuid
from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, ReplicatedMixin

# Appointment statuses; the last two free the slot again.
REQUESTED = "requested"
TENTATIVE = "tentative"
CONFIRMED = "confirmed"
CHECKED_IN = "checked_in"
IN_CONSULTATION = "in_consultation"
COMPLETED = "completed"
CANCELLED = "cancelled"
NO_SHOW = "no_show"
STATUSES = (
    REQUESTED,
    TENTATIVE,
    CONFIRMED,
    CHECKED_IN,
    IN_CONSULTATION,
    COMPLETED,
    CANCELLED,
    NO_SHOW,
)
SLOT_FREEING = (CANCELLED, NO_SHOW)


class DoctorProfile(ReplicatedMixin, Base):
    """A doctor who sees patients: who, which department, and the zone of their schedule."""

    __tablename__ = "doctor_profile"

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), unique=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    grade: Mapped[str] = mapped_column(String(40), default="consultant")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)


class AvailabilityRule(ReplicatedMixin, Base):
    """One weekly session of a doctor: a weekday, hours in the doctor's zone, slot length,
    an optional break, and the dates it is in force."""

    __tablename__ = "availability_rule"

    doctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("doctor_profile.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday ... 6 = Sunday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    break_start: Mapped[time | None] = mapped_column(Time)
    break_end: Mapped[time | None] = mapped_column(Time)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class AvailabilityException(ReplicatedMixin, Base):
    """Leave (no slots in the period) or an extra one-off session (slots added)."""

    __tablename__ = "availability_exception"

    doctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("doctor_profile.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # leave | extra
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    slot_minutes: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")


class Appointment(ReplicatedMixin, Base):
    __tablename__ = "appointment"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    doctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("doctor_profile.id"))
    doctor_number: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=CONFIRMED)
    reason: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(16), default="desk")  # desk | online | follow_up
    follow_up_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("follow_up.id"))
    booked_by: Mapped[str] = mapped_column(String(64), default="")
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    rescheduled_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointment.id"))
    confirmed_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_appointment_doctor_starts", "doctor_id", "starts_at"),
        Index("ix_appointment_department_starts", "department_id", "starts_at"),
    )


class FollowUp(ReplicatedMixin, Base):
    """A doctor's request to see a patient again around a date; reception books it."""

    __tablename__ = "follow_up"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    doctor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("doctor_profile.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    source_appointment_id: Mapped[uuid.UUID | None]  # the visit it was asked for in
    status: Mapped[str] = mapped_column(String(12), default="due")  # due | booked | cancelled
    appointment_id: Mapped[uuid.UUID | None]  # the appointment that books it
