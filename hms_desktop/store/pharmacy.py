"""The pharmacy queue on the cache: prescriptions sent electronically by the prescriber, each
with its patient's allergies and any safety warnings the prescriber overrode (and why), and the
prescriptions stopped in the last day, kept apart so nobody dispenses them.

Reading the queue is audited once per session and patient ("patient.read", view
"pharmacy.queue"). Dispensing (the stock ledger) comes with a later issue.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import MedicationOrder, Patient, PatientAllergy
from hms_core.db.base import utcnow
from hms_core.db.clinical import RX_ACTIVE, RX_STOPPED
from hms_core.printing.prescription_pdf import (
    PrescribedDrug,
    PrescriptionDocument,
    render_prescription,
)
from hms_core.printing.records import hospital_from_profile
from hms_core.schemas.billing import HospitalProfile
from hms_core.services.audit import record_audit
from hms_core.services.clinical.prescriptions import QUEUED
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.chart import NO_KNOWN_CODES, NO_KNOWN_WORDS, age_text

QUEUE_READ = "patient.read"  # the access record of a patient seen in the queue
QUEUE_VIEW = "pharmacy.queue"
PROFILE_KEY = "hospital_profile"  # kept by the billing desk and the clinic alike
STOPPED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class OverrideLine:
    """A safety warning the prescriber overrode, and the reason given."""

    check: str
    severity: str
    message: str
    reason: str
    by: str = ""


@dataclass(frozen=True)
class QueueItem:
    """One prescription as the pharmacist reads it (a queued one, or a stop)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    age: str
    sex: str
    allergies: tuple[str, ...]
    drug_name: str
    strength: str
    form: str
    dose: str  # "500 mg"
    route: str
    frequency: str
    duration_days: int | None
    quantity: str
    instructions: str
    prescriber: str
    prescribed_at: datetime  # for a stop: when it was stopped
    overrides: tuple[OverrideLine, ...] = ()
    status: str = RX_ACTIVE
    change: str = "new"
    change_reason: str = ""
    allergies_asked: bool = True  # False: nothing recorded, not even "no known allergies"

    @property
    def product(self) -> str:
        """'Amoxicillin 500 mg capsule'."""
        return " ".join(p for p in (self.drug_name, self.strength, self.form) if p)

    @property
    def directions(self) -> str:
        """'500 mg oral TDS for 5 days'."""
        parts = [self.dose, self.route, self.frequency]
        if self.duration_days:
            days = self.duration_days
            parts.append(f"for {days} day{'s' if days != 1 else ''}")
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class PharmacyQueue:
    """The prescriptions to dispense (waiting longest first) and recent stops (newest first)."""

    queued: tuple[QueueItem, ...]
    stopped: tuple[QueueItem, ...]


class LocalPharmacy:
    """The pharmacy's queue of electronic prescriptions, read from the cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited: set[uuid.UUID] = set()  # patients already audited in this session

    def queue(self, now: datetime | None = None) -> PharmacyQueue:
        """Active prescriptions queued for the pharmacy, waiting longest first, and those
        stopped in the last 24 hours, newest first (each patient audited once a session)."""
        since = (now or utcnow()) - STOPPED_WINDOW

        def read(session: Session) -> PharmacyQueue:
            found = _queue(session, since)
            patients = {i.patient_id for i in (*found.queued, *found.stopped)}
            fresh = sorted(patients - self._audited, key=str)
            for patient_id in fresh:
                record_audit(
                    session,
                    self.store.actor,
                    QUEUE_READ,
                    patient_id=patient_id,
                    detail={"view": QUEUE_VIEW},
                )
            if fresh:
                session.flush()  # hands the records to the cache's access log
            return found

        found = self.store.read(read)
        self._audited.update(i.patient_id for i in (*found.queued, *found.stopped))
        return found

    def hospital_profile(self) -> HospitalProfile:
        """The hospital's name and address as last heard from the server."""
        kept = self.store.get_state(PROFILE_KEY)
        return HospitalProfile.model_validate(kept) if kept else HospitalProfile(name="Hospital")

    def refresh_profile(self, api: Any) -> HospitalProfile:  # noqa: ANN401 - an ApiClient
        """Ask the server for the hospital profile and keep it for printing offline."""
        profile: HospitalProfile = api.hospital_profile()
        self.store.set_state(PROFILE_KEY, profile.model_dump(mode="json"))
        return profile

    def prescription_pdf(self, item: QueueItem) -> tuple[bytes, str]:
        """The printed prescription of a queued item, and the preview's title."""
        profile = self.hospital_profile()
        written = item.prescribed_at.astimezone(ZoneInfo(profile.timezone)).date()
        document = PrescriptionDocument(
            hospital=hospital_from_profile(profile),
            prescription_id=str(item.id),
            written=written,
            patient_name=item.patient_name,
            mrn=item.mrn,
            age=item.age,
            sex=item.sex,
            allergies=item.allergies,
            drugs=(
                PrescribedDrug(
                    name=item.drug_name,
                    strength=item.strength,
                    form=item.form,
                    dose=item.dose,
                    route=item.route,
                    frequency=item.frequency,
                    duration_days=item.duration_days,
                    quantity=item.quantity,
                    instructions=item.instructions,
                ),
            ),
            prescriber=item.prescriber,
        )
        return render_prescription(document), f"Prescription {item.drug_name} MRN {item.mrn}"


def _queue(session: Session, since: datetime) -> PharmacyQueue:
    m = MedicationOrder
    queued_filter = (m.status == RX_ACTIVE) & (m.pharmacy_status == QUEUED)
    stopped_filter = (m.status == RX_STOPPED) & (m.prescribed_at >= _naive(since))
    rows = session.execute(
        select(MedicationOrder, Patient)
        .join(Patient, Patient.id == MedicationOrder.patient_id)
        .where(m.deleted_at.is_(None), queued_filter | stopped_filter)
    ).all()
    allergies = _allergies(session, {p.id for _, p in rows})
    today = utcnow().date()
    items = [_item(o, p, allergies.get(p.id), today) for o, p in rows]
    queued = sorted((i for i in items if i.status == RX_ACTIVE), key=_waiting_longest)
    stopped = sorted((i for i in items if i.status == RX_STOPPED), key=_newest, reverse=True)
    return PharmacyQueue(tuple(queued), tuple(stopped))


def _waiting_longest(item: QueueItem) -> tuple[datetime, str]:
    return item.prescribed_at, str(item.id)


def _newest(item: QueueItem) -> tuple[datetime, str]:
    return item.prescribed_at, str(item.id)


def _allergies(session: Session, patient_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, ...]]:
    """Each patient's recorded allergies as text ('Penicillin (anaphylaxis, severe)'); a patient
    recorded as having none known has an empty entry, one never asked has none."""
    if not patient_ids:
        return {}
    t = PatientAllergy
    rows = session.execute(
        select(t.patient_id, t.substance, t.reaction, t.severity, t.kind, t.code)
        .where(t.patient_id.in_(patient_ids), t.deleted_at.is_(None))
        .order_by(t.patient_id, t.created_at)
    ).all()
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    for row in rows:
        if row.code in NO_KNOWN_CODES or _plain(row.substance) in NO_KNOWN_WORDS:
            found.setdefault(row.patient_id, [])
            continue
        details = [d for d in (row.reaction or "", row.severity) if d]
        if row.kind == "intolerance":
            details.insert(0, "intolerance")
        text = f"{row.substance} ({', '.join(details)})" if details else row.substance
        found[row.patient_id].append(text)
    return {patient_id: tuple(texts) for patient_id, texts in found.items()}


def _item(
    order: MedicationOrder, patient: Patient, allergies: tuple[str, ...] | None, today: date
) -> QueueItem:
    return QueueItem(
        id=order.id,
        patient_id=patient.id,
        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        age=age_text(patient.birth_date, today),
        sex=patient.sex,
        allergies=allergies or (),
        allergies_asked=allergies is not None,
        drug_name=order.drug_name,
        strength=order.strength,
        form=order.form,
        dose=f"{_num(order.dose)} {order.dose_unit}".strip() if order.dose is not None else "",
        route=order.route,
        frequency=order.frequency,
        duration_days=order.duration_days,
        quantity=f"{_num(order.quantity)} {order.form}".strip() if order.quantity else "",
        instructions=order.instructions,
        prescriber=order.prescriber,
        prescribed_at=_aware(order.prescribed_at),
        overrides=tuple(_override(o) for o in order.overrides or ()),
        status=order.status,
        change=order.change,
        change_reason=order.change_reason,
    )


def _override(stored: dict[str, Any]) -> OverrideLine:
    return OverrideLine(
        check=str(stored.get("check", "")),
        severity=str(stored.get("severity", "")),
        message=str(stored.get("message", "")),
        reason=str(stored.get("reason", "")),
        by=str(stored.get("by", "")),
    )


def _plain(text: str) -> str:
    return text.strip().lower().rstrip(".")


def _num(value: Decimal | None) -> str:
    """2.500 -> '2.5', 100 -> '100'."""
    return "" if value is None else format(Decimal(value).normalize(), "f")


def _aware(moment: datetime) -> datetime:
    """The cache hands back naive UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _naive(moment: datetime) -> datetime:
    """The cache compares naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
