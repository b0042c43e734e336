"""Departments and doctors as the combo boxes of the appointments workspace offer them."""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hms_core.schemas.scheduling import DoctorOut
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.workspaces.appointments.models import zone_of

ANY_DOCTOR = "Any doctor (first available)"


@dataclass(frozen=True)
class Directory:
    """The hospital's departments and active doctors, read once from the cache."""

    departments: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    doctors: list[DoctorOut] = field(default_factory=list)

    @classmethod
    def load(cls, scheduling: LocalScheduling) -> "Directory":
        """Read both lists (blocking: run it off the UI thread)."""
        return cls(scheduling.departments(), scheduling.doctors())

    def doctors_in(self, department_id: uuid.UUID | None) -> list[DoctorOut]:
        return [d for d in self.doctors if department_id in (None, d.department_id)]

    def doctor(self, doctor_id: uuid.UUID | None) -> DoctorOut | None:
        return next((d for d in self.doctors if d.id == doctor_id), None)

    def department_name(self, department_id: Any) -> str:
        return next((name for key, name in self.departments if key == department_id), "")

    def zone(
        self, department_id: uuid.UUID | None = None, doctor_id: uuid.UUID | None = None
    ) -> ZoneInfo:
        """The zone times are shown in: the doctor's, else the one most doctors use."""
        doctor = self.doctor(doctor_id)
        if doctor is not None:
            return zone_of(doctor.timezone)
        zones = Counter(d.timezone for d in self.doctors_in(department_id)) or Counter(
            d.timezone for d in self.doctors
        )
        return zone_of(zones.most_common(1)[0][0] if zones else None)


def department_items(directory: Directory, everyone: str | None = None) -> list[tuple[Any, str]]:
    head = [(None, everyone)] if everyone else []
    return head + [(key, name) for key, name in directory.departments]


def doctor_items(
    directory: Directory, department_id: uuid.UUID | None, anyone: str = ANY_DOCTOR
) -> list[tuple[Any, str]]:
    return [(None, anyone)] + [(d.id, d.display_name) for d in directory.doctors_in(department_id)]
