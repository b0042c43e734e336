"""Patients as the desktop sees them: read from the cache, written as queued mutations."""

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Patient, PatientConflict, new_id
from hms_core.schemas.patients import (
    DuplicateCandidate,
    DuplicateCheck,
    PatientCreate,
    PatientOut,
    PatientSummary,
    PatientUpdate,
)
from hms_core.services import conflicts as conflict_svc
from hms_core.services import patients as svc
from hms_core.services.errors import DomainError, DuplicateSuspected, NotFound
from hms_core.sync.rows import wire_value
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.mrns import take_mrn


def duplicate_candidates(exc: DomainError) -> list[DuplicateCandidate]:
    """The look-alikes of a 'duplicate_suspected' refusal (empty for any other refusal)."""
    if exc.code != DuplicateSuspected.code:
        return []
    try:
        return TypeAdapter(list[DuplicateCandidate]).validate_python(exc.detail["candidates"])
    except (KeyError, ValidationError):
        return []


class CacheNotReady(DomainError):
    """The first copy from the server has not arrived yet."""

    code = "not_ready"


@dataclass(frozen=True)
class ConflictView:
    """One open conflict with both versions of the patient, for the conflict inbox."""

    id: uuid.UUID
    kind: str
    reasons: list[str]
    fields: dict[str, dict[str, Any]]
    patient: PatientOut
    other: PatientOut | None
    source_username: str
    created_at: Any


class LocalPatients:
    """The patient operations of the desktop, all against the local cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store

    def search_patients(self, q: str, limit: int = 25) -> list[PatientSummary]:
        """Patients matching an MRN, a phone number or name fragments in any order (audited)."""
        self._require_copy()
        return self.store.read(lambda s: svc.search_patients(s, self.store.actor, q, limit))

    def _require_copy(self) -> None:
        """Refuse to answer "no such patient" before this PC holds the patient list at all."""
        if self.store.get_state("last_seq") is None:
            raise CacheNotReady(
                "This computer is still copying the patient list from the server. "
                "Search again in a few seconds."
            )

    def check_duplicates(self, check: DuplicateCheck) -> list[DuplicateCandidate]:
        """Patients in the cache who may be the person about to be registered."""
        self._require_copy()
        return self.store.read(lambda s: svc.find_duplicates(s, check))

    def get_patient(self, patient_id: uuid.UUID) -> PatientOut:
        """One patient's full record (audited)."""
        patient_id = uuid.UUID(str(patient_id))
        return self.store.read(
            lambda s: svc.patient_out(svc.get_patient(s, self.store.actor, patient_id))
        )

    def register_patient(self, data: PatientCreate) -> PatientOut:
        """Register with an MRN from this PC's leased block; queued for the server."""
        data = _with_ids(data)
        args = {"patient": data.model_dump(mode="json", exclude_unset=True)}
        return self.store.mutate(
            "register_patient", args, prepare=_prepare_registration, then=_written
        )

    def update_patient(
        self, patient_id: uuid.UUID, changes: PatientUpdate, original: PatientOut
    ) -> PatientOut:
        """Change the fields set in `changes`; merged with edits made elsewhere meanwhile."""
        changes = _with_allergy_ids(changes)
        sent = changes.model_dump(mode="json", exclude_unset=True)
        base = {
            k: wire_value(getattr(original, k))
            for k in sent
            if k not in ("allergies", "expected_row_version")
        }
        base["allergy_ids"] = [str(a.id) for a in original.allergies]
        args = {"patient_id": str(patient_id), "changes": sent, "base": base}
        return self.store.mutate("update_patient", args, then=_written)

    def confirm_duplicate_match(self, patient_id: uuid.UUID) -> None:
        """Record reception's answer "same patient" (audited on the server)."""
        self.store.mutate("confirm_same_patient", {"patient_id": str(patient_id)})

    def open_conflicts(self) -> list[ConflictView]:
        """The conflict inbox, oldest first, each with both versions of the patient."""
        return self.store.read(self._conflicts)

    def resolve_conflict(
        self,
        conflict_id: uuid.UUID,
        resolution: str,
        survivor_id: uuid.UUID | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Queue a person's decision on a conflict."""
        args: dict[str, Any] = {"conflict_id": str(conflict_id), "resolution": resolution}
        if survivor_id is not None:
            args["survivor_id"] = str(survivor_id)
        if values:
            args["values"] = values
        self.store.mutate("resolve_conflict", args)

    def unmerge_patient(self, patient_id: uuid.UUID) -> None:
        """Undo a merge."""
        self.store.mutate("unmerge_patient", {"patient_id": str(patient_id)})

    def _conflicts(self, session: Session) -> list[ConflictView]:
        found = conflict_svc.open_conflicts(session, self.store.actor)
        return [_view(session, c) for c in found]


def _view(session: Session, conflict: PatientConflict) -> ConflictView:
    other = _patient_out(session, conflict.other_patient_id) if conflict.other_patient_id else None
    return ConflictView(
        id=conflict.id,
        kind=conflict.kind,
        reasons=list(conflict.reasons or []),
        fields=dict(conflict.fields or {}),
        patient=_patient_out(session, conflict.patient_id),
        other=other,
        source_username=conflict.source_username,
        created_at=conflict.created_at,
    )


def _patient_out(session: Session, patient_id: uuid.UUID) -> PatientOut:
    patient = session.execute(select(Patient).where(Patient.id == patient_id)).scalar_one_or_none()
    if patient is None:
        raise NotFound("A patient of this conflict is not on this computer yet.")
    return svc.patient_out(patient)


def _written(session: Session, result: dict[str, Any]) -> PatientOut:
    """The record a mutation just wrote, to show it (the write is audited, not this read)."""
    patient = session.get(Patient, uuid.UUID(result["patient_id"]))
    if patient is None:
        raise NotFound("The record just saved could not be read back.")
    return svc.patient_out(patient)


def _prepare_registration(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Ask about look-alikes the person at the desk has not reviewed; then give an MRN.

    (The mutation itself accepts them, for registrations that meet on the server.)
    """
    data = PatientCreate.model_validate(args["patient"])
    reviewed = set(data.duplicate_review.candidate_ids) if data.duplicate_review else set()
    found = svc.find_duplicates(session, DuplicateCheck.model_validate(data.model_dump()))
    unreviewed = [c for c in found if c.patient.id not in reviewed]
    if unreviewed:
        raise DuplicateSuspected(
            "This patient may already be registered. Check the possible matches.",
            detail={"candidates": [c.model_dump(mode="json") for c in unreviewed]},
        )
    return {**args, "mrn": take_mrn(session)}


def _with_ids(data: PatientCreate) -> PatientCreate:
    """Identifiers for the patient and each allergy, so every replay makes the same rows."""
    allergies = [a if a.id else a.model_copy(update={"id": new_id()}) for a in data.allergies]
    update: dict[str, Any] = {"allergies": allergies}
    if data.id is None:
        update["id"] = new_id()
    return data.model_copy(update=update)


def _with_allergy_ids(changes: PatientUpdate) -> PatientUpdate:
    if changes.allergies is None:
        return changes
    allergies = [a if a.id else a.model_copy(update={"id": new_id()}) for a in changes.allergies]
    return changes.model_copy(update={"allergies": allergies})
