"""The hospital's structure: departments (specialties), wards and beds."""

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, ReplicatedMixin


class Department(ReplicatedMixin, Base):
    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    specialty: Mapped[str] = mapped_column(String(120))


class Ward(ReplicatedMixin, Base):
    __tablename__ = "ward"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    ward_class: Mapped[str] = mapped_column(String(20), default="general")
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"))


class Bed(ReplicatedMixin, Base):
    __tablename__ = "bed"

    ward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ward.id"), index=True)
    label: Mapped[str] = mapped_column(String(20))
