"""A tiny ICU for monitoring tests: one ward, a few beds, patients admitted to them, and the
observed values a gateway would hand to its processors."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from hms_core.db import Admission, Bed, User, Ward
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.patients import register_patient
from hms_server.db import Database
from hms_server.monitoring.model import ObservedValue, Placement, Reading


@dataclass
class Icu:
    ward_id: uuid.UUID
    beds: dict[str, uuid.UUID]  # label -> bed id
    patients: dict[str, uuid.UUID]  # bed label -> admitted patient id

    def place(self, label: str) -> Placement:
        bed = self.beds[label]
        return Placement(self.patients[label], bed, self.ward_id, f"MON-{label}")


def make_icu(db: Database, admitted: dict[str, tuple[str, str]]) -> Icu:
    """Ward ICU with beds ICU-01..ICU-04; `admitted` maps bed label -> (given, family) name."""
    with db.unit_of_work() as session:
        ward = Ward(code="ICU", name="Intensive Care", ward_class="icu")
        session.add(ward)
        session.flush()
        beds = {f"ICU-0{n}": Bed(ward_id=ward.id, label=f"ICU-0{n}") for n in range(1, 5)}
        session.add_all(beds.values())
        session.flush()
        patients: dict[str, uuid.UUID] = {}
        for n, (label, (given, family)) in enumerate(sorted(admitted.items())):
            patient = register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=given,
                    family_name=family,
                    birth_date=date(1950 + n, 3, 1 + n),
                    sex="female",
                ),
            )
            session.add(
                Admission(
                    patient_id=patient.id,
                    bed_id=beds[label].id,
                    admitted_at=datetime.now(UTC) - timedelta(days=1),
                    admitted_by="test-nurse",
                )
            )
            patients[label] = patient.id
        return Icu(ward.id, {k: b.id for k, b in beds.items()}, patients)


def actor(db: Database, role: str) -> Actor:
    """The test user of `role` as an actor."""
    with db.unit_of_work() as session:
        user = session.execute(select(User).where(User.username == f"test-{role}")).scalar_one()
        return Actor(user.id, user.username, user.role, "pytest")


def reading(
    place: Placement, parameter: str, value: float, at: datetime, *, artefact: bool = False
) -> ObservedValue:
    """One monitor value as the gateway hands it to processors (0 is an artefact)."""
    artefact = artefact or value == 0
    return ObservedValue(place, Reading(parameter, value, at, artefact=artefact), at)


def readings(place: Placement, at: datetime, **values: float) -> list[ObservedValue]:
    return [reading(place, name, value, at) for name, value in values.items()]
