"""Patients: demographics, contact, next of kin, insurance, allergies and history summary."""

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hms_core.db.base import Base, ReplicatedMixin


class Patient(ReplicatedMixin, Base):
    __tablename__ = "patient"

    mrn: Mapped[str] = mapped_column(String(20), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    birth_date_estimated: Mapped[bool] = mapped_column(default=False)
    sex: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_digits: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address_line: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(100))
    preferred_language: Mapped[str | None] = mapped_column(String(40))
    notify_by: Mapped[str | None] = mapped_column(String(8))  # email | sms | both | none
    next_of_kin_name: Mapped[str | None] = mapped_column(String(200))
    next_of_kin_relationship: Mapped[str | None] = mapped_column(String(60))
    next_of_kin_phone: Mapped[str | None] = mapped_column(String(32))
    insurance_payer: Mapped[str | None] = mapped_column(String(120))
    insurance_policy_number: Mapped[str | None] = mapped_column(String(60))
    insurance_valid_until: Mapped[date | None] = mapped_column(Date)
    past_conditions: Mapped[str | None] = mapped_column(Text)
    past_surgeries: Mapped[str | None] = mapped_column(Text)
    sort_name: Mapped[str] = mapped_column(String(210), index=True)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))

    allergies: Mapped[list["PatientAllergy"]] = relationship(
        back_populates="patient",
        order_by="PatientAllergy.created_at",
        cascade="all, delete-orphan",
        lazy="select",
    )


class PatientAllergy(ReplicatedMixin, Base):
    __tablename__ = "patient_allergy"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    substance: Mapped[str] = mapped_column(String(120))
    reaction: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12), default="allergy")  # allergy | intolerance
    category: Mapped[str] = mapped_column(String(20), default="")  # medication|food|environment
    code_system: Mapped[str] = mapped_column(String(200), default="")
    code: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(12), default="hms")
    external_id: Mapped[str | None] = mapped_column(String(128), default=None)

    patient: Mapped[Patient] = relationship(back_populates="allergies")


class PatientNameToken(Base):
    """One normalised word of a patient's names: the index behind type-ahead search.

    Carries the patient's sort key so a search can pick its first page from this index alone.
    """

    __tablename__ = "patient_name_token"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    sort_name: Mapped[str] = mapped_column(String(210))
    birth_date: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        Index("ix_patient_name_token_token", "token", "sort_name", "birth_date", "patient_id"),
    )
