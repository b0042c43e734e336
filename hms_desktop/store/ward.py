"""The ward as the desktop sees it: beds, admissions and charted vital signs read from the
cache, admissions and charted sets written as queued mutations (they work offline).

An admission made here is tentative until the server confirms it: another ward PC may have
filled the bed meanwhile, and the server's refusal lands in the needs-attention list.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Admission, Bed, Patient, VitalsEntry, Ward
from hms_core.db.base import new_id, utcnow
from hms_core.schemas.ward import BedView, VitalsView, WardChoice
from hms_core.services.audit import record_audit
from hms_desktop.store.cache import LocalStore

RECENT_SETS = 20


class LocalWard:
    """Wards, their beds with patients and latest NEWS2, and the ward's changes, on the cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited: set[tuple[str, Any]] = set()  # lists already audited in this session

    # --- reads ------------------------------------------------------------------------------

    def wards(self) -> list[WardChoice]:
        """Every ward, by code."""
        query = select(Ward).where(Ward.deleted_at.is_(None)).order_by(Ward.code)
        return self.store.read(
            lambda s: [
                WardChoice(id=w.id, code=w.code, name=w.name) for w in s.execute(query).scalars()
            ]
        )

    def beds(self, ward_id: uuid.UUID) -> list[BedView]:
        """The ward's beds in label order, each with its patient and latest charted NEWS2
        (audited the first time this session looks at the ward)."""
        key = ("ward.list", ward_id)

        def read(session: Session) -> list[BedView]:
            views = _bed_views(session, ward_id)
            if key not in self._audited:
                occupied = [v for v in views if v.patient_id is not None]
                record_audit(
                    session,
                    self.store.actor,
                    "ward.list",
                    detail={"ward_id": str(ward_id), "rows": len(occupied)},
                )
                session.flush()  # hands the record to the cache's access log
            return views

        views = self.store.read(read)
        self._audited.add(key)
        return views

    def vitals(self, patient_id: uuid.UUID, limit: int = RECENT_SETS) -> list[VitalsView]:
        """A patient's charted sets, newest first (audited once per session and patient)."""
        key = ("vitals.read", patient_id)

        def read(session: Session) -> list[VitalsView]:
            found = session.execute(
                select(VitalsEntry)
                .where(VitalsEntry.patient_id == patient_id, VitalsEntry.deleted_at.is_(None))
                .order_by(VitalsEntry.taken_at.desc(), VitalsEntry.id.desc())
                .limit(limit)
            ).scalars()
            views = [VitalsView.model_validate(e) for e in found]
            if key not in self._audited:
                record_audit(
                    session,
                    self.store.actor,
                    "vitals.read",
                    patient_id=patient_id,
                    detail={"rows": len(views)},
                )
                session.flush()
            return views

        views = self.store.read(read)
        self._audited.add(key)
        return views

    # --- changes ----------------------------------------------------------------------------

    def admit(self, patient_id: uuid.UUID, bed_id: uuid.UUID, reason: str = "") -> dict[str, Any]:
        """Put a patient in a free bed (tentative until the server confirms it)."""
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "bed_id": str(bed_id),
            "admitted_at": utcnow().isoformat(),
            "reason": reason,
        }
        return self.store.mutate("admit_patient", args)

    def discharge(self, admission_id: uuid.UUID, note: str = "") -> dict[str, Any]:
        """Discharge: the bed is free again."""
        args = {
            "admission_id": str(admission_id),
            "discharged_at": utcnow().isoformat(),
            "note": note,
        }
        return self.store.mutate("discharge_patient", args)

    def transfer(self, admission_id: uuid.UUID, bed_id: uuid.UUID) -> dict[str, Any]:
        """Move an admitted patient to another free bed."""
        args = {"admission_id": str(admission_id), "bed_id": str(bed_id), "at": _now()}
        return self.store.mutate("transfer_patient", args)

    def record_vitals(
        self, patient_id: uuid.UUID, values: dict[str, Any], taken_at: datetime | None = None
    ) -> VitalsView:
        """Chart a set: `values` holds the RecordVitals value fields (None = not measured)."""
        now = _now()
        args = {
            **values,
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "taken_at": taken_at.isoformat() if taken_at else now,
            "recorded_at": now,
        }
        return self.store.mutate("record_vitals", args, then=_entry_view)


def _bed_views(session: Session, ward_id: uuid.UUID) -> list[BedView]:
    ward = session.get(Ward, ward_id)
    code = ward.code if ward else ""
    rows = session.execute(
        select(Bed, Admission, Patient)
        .outerjoin(
            Admission,
            (Admission.bed_id == Bed.id)
            & Admission.discharged_at.is_(None)
            & Admission.deleted_at.is_(None),
        )
        .outerjoin(Patient, Patient.id == Admission.patient_id)
        .where(Bed.ward_id == ward_id, Bed.deleted_at.is_(None))
        .order_by(Bed.label)
    ).all()
    latest = _latest_sets(session, [p.id for _, _, p in rows if p is not None])
    views: dict[uuid.UUID, BedView] = {}
    for bed, admission, patient in rows:
        if bed.id in views and admission is None:
            continue  # a bed shown once, with its patient when it has one
        fields: dict[str, Any] = {"bed_id": bed.id, "label": bed.label, "ward_code": code}
        if admission is not None and patient is not None:
            entry = latest.get(patient.id)
            fields |= {
                "admission_id": admission.id,
                "patient_id": patient.id,
                "patient_name": f"{patient.family_name.upper()}, {patient.given_name}",
                "mrn": patient.mrn,
                "admitted_at": admission.admitted_at,
            }
            if entry is not None:
                fields |= {
                    "news2_total": entry.news2_total,
                    "news2_band": entry.news2_band,
                    "last_taken_at": entry.taken_at,
                    "has_vitals": True,
                }
        view = BedView.model_validate(fields)  # validated: times come back with their zone
        views[bed.id] = view
    return list(views.values())


def _latest_sets(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, VitalsEntry]:
    """Each patient's most recently taken set."""
    if not patient_ids:
        return {}
    found = session.execute(
        select(VitalsEntry)
        .where(VitalsEntry.patient_id.in_(patient_ids), VitalsEntry.deleted_at.is_(None))
        .order_by(VitalsEntry.patient_id, VitalsEntry.taken_at.desc())
    ).scalars()
    latest: dict[uuid.UUID, VitalsEntry] = {}
    for entry in found:
        latest.setdefault(entry.patient_id, entry)
    return latest


def _entry_view(session: Session, result: dict[str, Any]) -> VitalsView:
    """The set a mutation just wrote, read in the same transaction."""
    entry = session.get(VitalsEntry, uuid.UUID(result["entry_id"]))
    assert entry is not None
    return VitalsView.model_validate(entry)


def _now() -> str:
    return utcnow().isoformat()
