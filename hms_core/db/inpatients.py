"""Inpatients: which patient lies in which bed (the minimal admit-to-bed step the ward and the
ICU station need; the full admissions workflow builds on it).

One bed holds one admitted patient and one patient lies in one bed: on PostgreSQL two partial
unique indexes (migration 0005) refuse a second open admission whatever the commit order.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, ReplicatedMixin


class Admission(ReplicatedMixin, Base):
    __tablename__ = "admission"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    bed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bed.id"), index=True)
    admitted_at: Mapped[datetime]
    admitted_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(500), default="")
    discharged_at: Mapped[datetime | None] = mapped_column(default=None)
    discharged_by: Mapped[str | None] = mapped_column(String(80), default=None)

    __table_args__ = (
        Index(
            "uq_admission_open_bed",
            "bed_id",
            unique=True,
            postgresql_where=text("discharged_at IS NULL"),
            sqlite_where=text("discharged_at IS NULL"),
        ),
        Index(
            "uq_admission_open_patient",
            "patient_id",
            unique=True,
            postgresql_where=text("discharged_at IS NULL"),
            sqlite_where=text("discharged_at IS NULL"),
        ),
    )
