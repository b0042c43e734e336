"""Placement: which bed and which admitted patient a monitor message belongs to.

In order: the device id (MSH-3 / OBR-3) -> its bed (`MonitorDevice.bed_id`); else the bed named
in PV1-3 (ward code ^ room ^ bed label). The bed's open admission gives the patient. Without
one, the MRN in PID-3 names a registered patient. When the bed's patient and the message's MRN
disagree the gateway does not guess: the readings are kept unmatched, with a hint for a nurse.

The bed directory (devices, beds, open admissions) is read in a few queries and kept for a
couple of seconds, so hundreds of messages a second do not each query placement.
"""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.hospital import Bed, Ward
from hms_core.db.inpatients import Admission
from hms_core.db.monitoring import MonitorDevice
from hms_core.db.patients import Patient
from hms_server.monitoring.hl7_codec import MonitorMessage
from hms_server.monitoring.model import Placement

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class BedInfo:
    bed_id: uuid.UUID
    ward_id: uuid.UUID
    label: str


@dataclass(frozen=True)
class Occupant:
    patient_id: uuid.UUID
    mrn: str
    bed_id: uuid.UUID


@dataclass
class Directory:
    """A snapshot of where monitors, beds and admitted patients are."""

    device_bed: dict[str, uuid.UUID | None] = field(default_factory=dict)
    beds: dict[uuid.UUID, BedInfo] = field(default_factory=dict)
    bed_by_place: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    occupant_of_bed: dict[uuid.UUID, Occupant] = field(default_factory=dict)
    occupant_by_mrn: dict[str, Occupant] = field(default_factory=dict)


def load_directory(session: Session) -> Directory:
    """Read devices, beds and open admissions (three queries)."""
    directory = Directory()
    for device_id, bed_id in session.execute(
        select(MonitorDevice.device_id, MonitorDevice.bed_id).where(
            MonitorDevice.deleted_at.is_(None)
        )
    ):
        directory.device_bed[device_id] = bed_id
    beds = select(Bed.id, Bed.ward_id, Bed.label, Ward.code).join(Ward, Ward.id == Bed.ward_id)
    for bed_id, ward_id, label, ward_code in session.execute(beds.where(Bed.deleted_at.is_(None))):
        directory.beds[bed_id] = BedInfo(bed_id, ward_id, label)
        directory.bed_by_place[(ward_code.upper(), label.upper())] = bed_id
    admitted = (
        select(Admission.patient_id, Admission.bed_id, Patient.mrn)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(Admission.discharged_at.is_(None), Admission.deleted_at.is_(None))
    )
    for patient_id, bed_id, mrn in session.execute(admitted):
        occupant = Occupant(patient_id, mrn, bed_id)
        directory.occupant_of_bed[bed_id] = occupant
        directory.occupant_by_mrn[mrn] = occupant
    return directory


class Resolver:
    """Places monitor messages, from a directory refreshed at most every `ttl` seconds."""

    def __init__(
        self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._directory: Directory | None = None
        self._loaded_at = 0.0
        self._patients: dict[str, tuple[float, uuid.UUID | None]] = {}

    def invalidate(self) -> None:
        """Forget what is cached (a bed, device or admission changed)."""
        with self._lock:
            self._directory = None
            self._patients.clear()

    def _current(self, session: Session) -> Directory:
        with self._lock:
            now = self._clock()
            if self._directory is None or now - self._loaded_at > self.ttl:
                self._directory = load_directory(session)
                self._loaded_at = now
                self._patients.clear()
            return self._directory

    def _registered(self, session: Session, mrn: str) -> uuid.UUID | None:
        """A registered (not admitted) patient by MRN, cached like the directory."""
        now = self._clock()
        cached = self._patients.get(mrn)
        if cached is not None and now - cached[0] <= self.ttl:
            return cached[1]
        patient_id = session.scalar(
            select(Patient.id).where(Patient.mrn == mrn, Patient.deleted_at.is_(None))
        )
        self._patients[mrn] = (now, patient_id)
        return patient_id

    def resolve(self, session: Session, message: MonitorMessage) -> Placement:
        """Where `message` belongs; an unmatched placement carries a hint for the nurse."""
        directory = self._current(session)
        device, mrn = message.device_id, message.mrn
        said = [f"device {device}" if device else "no device id"]
        bed_id = directory.device_bed.get(device) if device else None
        if device and device not in directory.device_bed:
            said[0] += " (not registered)"
        if bed_id is None and message.location is not None:
            ward_code, _room, label = message.location
            bed_id = directory.bed_by_place.get((ward_code.upper(), label.upper()))
            if bed_id is None:
                said.append(f"location {ward_code} {label} (not a known bed)".strip())
        bed = directory.beds.get(bed_id) if bed_id is not None else None
        if bed is not None:
            said.append(f"bed {bed.label}")
        ward_id = bed.ward_id if bed is not None else None
        occupant = directory.occupant_of_bed.get(bed_id) if bed_id is not None else None

        def unmatched(reason: str) -> Placement:
            hint = ", ".join([*said, reason])[:200]
            return Placement(None, bed_id, ward_id, device, hint)

        if occupant is not None:
            if mrn and mrn != occupant.mrn:
                return unmatched(
                    f"message names MRN {mrn} but the bed's patient is MRN {occupant.mrn}"
                )
            return Placement(occupant.patient_id, bed_id, ward_id, device)
        if not mrn:
            return unmatched("no patient admitted" if bed is not None else "no patient named")
        admitted = directory.occupant_by_mrn.get(mrn)
        if admitted is not None:
            if bed is not None:
                return unmatched(f"MRN {mrn} is admitted to another bed")
            elsewhere = directory.beds.get(admitted.bed_id)
            ward = elsewhere.ward_id if elsewhere is not None else None
            return Placement(admitted.patient_id, admitted.bed_id, ward, device)
        patient_id = self._registered(session, mrn)
        if patient_id is None:
            return unmatched(f"MRN {mrn} is not registered")
        return Placement(patient_id, bed_id, ward_id, device)
