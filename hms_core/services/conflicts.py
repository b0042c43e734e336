"""The conflict inbox: opening conflicts that sync found, and a person's audited resolution.

Resolutions:
- identity conflict: `keep_theirs` (the server's values stay), `keep_ours` (the offline edit's
  values win), or `merge` with the chosen value of each field;
- duplicate: `merge` (one record survives, the other is marked `merged_into` it; reversible
  with `unmerge_patient`), or `different` (two different people; both records stay).
"""

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.base import utcnow
from hms_core.db.conflicts import PatientConflict
from hms_core.db.patients import Patient
from hms_core.rbac import Perm
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import Conflict, InvalidData, NotFound

Resolution = Literal["keep_theirs", "keep_ours", "merge", "different"]


class ConflictResolution(BaseModel):
    """A person's decision on one open conflict."""

    model_config = ConfigDict(extra="forbid")

    conflict_id: uuid.UUID
    resolution: Resolution
    survivor_id: uuid.UUID | None = Field(
        default=None, description="duplicate + merge: the record that stays."
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="identity + merge: the chosen value of each field."
    )


def open_identity_conflict(
    session: Session, actor: Actor, patient: Patient, clashes: dict[str, dict[str, Any]]
) -> PatientConflict:
    """Record identity fields changed on two sides; the record keeps the server's values."""
    reasons = [f"{_label(f)} was changed on two computers" for f in clashes]
    return _open(session, actor, patient, "identity", fields=clashes, reasons=reasons)


def open_duplicate_conflict(
    session: Session, actor: Actor, patient: Patient, other_id: uuid.UUID, reasons: list[str]
) -> PatientConflict:
    """Record that `patient`, registered offline, may be the already registered `other_id`."""
    return _open(session, actor, patient, "duplicate", other_patient_id=other_id, reasons=reasons)


def _open(
    session: Session, actor: Actor, patient: Patient, kind: str, **values: Any
) -> PatientConflict:
    conflict = PatientConflict(
        kind=kind,
        patient_id=patient.id,
        source_client=actor.client_id,
        source_username=actor.username,
        **values,
    )
    session.add(conflict)
    session.flush()
    detail = {"kind": kind, "conflict_id": str(conflict.id)}
    if kind == "identity":
        detail["fields"] = sorted(conflict.fields)
    else:
        detail["other"] = str(conflict.other_patient_id)
    record_audit(session, actor, "conflict.open", patient_id=patient.id, detail=detail)
    return conflict


def open_conflicts(session: Session, actor: Actor) -> list[PatientConflict]:
    """Every open conflict, oldest first."""
    actor.require(Perm.PATIENT_MERGE)
    return list(
        session.execute(
            select(PatientConflict)
            .where(PatientConflict.status == "open", PatientConflict.deleted_at.is_(None))
            .order_by(PatientConflict.created_at, PatientConflict.id)
        ).scalars()
    )


def resolve_conflict(
    session: Session, actor: Actor, decision: ConflictResolution
) -> PatientConflict:
    """Apply a person's decision to an open conflict (audited)."""
    actor.require(Perm.PATIENT_MERGE)
    conflict = session.get(PatientConflict, decision.conflict_id, with_for_update=True)
    if conflict is None or conflict.deleted_at is not None:
        raise NotFound("This conflict no longer exists.")
    if conflict.status != "open":
        raise Conflict(
            f"This conflict was already resolved by {conflict.resolved_by or 'someone else'}.",
            detail={"resolution": conflict.resolution},
        )
    if conflict.kind == "identity":
        _resolve_identity(session, actor, conflict, decision)
    else:
        _resolve_duplicate(session, actor, conflict, decision)
    conflict.status = "resolved"
    conflict.resolution = decision.resolution
    conflict.resolved_by = actor.username
    conflict.resolved_at = utcnow()
    conflict.bump_version()
    session.flush()
    record_audit(
        session,
        actor,
        "conflict.resolve",
        patient_id=conflict.patient_id,
        detail={
            "conflict_id": str(conflict.id),
            "kind": conflict.kind,
            "resolution": decision.resolution,
            "survivor": str(decision.survivor_id) if decision.survivor_id else None,
        },
    )
    return conflict


def _resolve_identity(
    session: Session, actor: Actor, conflict: PatientConflict, decision: ConflictResolution
) -> None:
    from hms_core.schemas.patients import PatientUpdate
    from hms_core.services.patients import update_patient

    if decision.resolution == "keep_theirs":
        return
    if decision.resolution == "keep_ours":
        values = {f: v["ours"] for f, v in conflict.fields.items()}
    elif decision.resolution == "merge":
        unknown = set(decision.values) - set(conflict.fields)
        if unknown or not decision.values:
            raise InvalidData("Choose a value for each field in conflict, and only those.")
        values = decision.values
    else:
        raise InvalidData("A changed name, birth date or sex is resolved by keeping one version.")
    update_patient(session, actor, conflict.patient_id, PatientUpdate.model_validate(values))


def _resolve_duplicate(
    session: Session, actor: Actor, conflict: PatientConflict, decision: ConflictResolution
) -> None:
    if decision.resolution == "different":
        return
    if decision.resolution != "merge":
        raise InvalidData("Two registrations are resolved by merging them or keeping both.")
    pair = {conflict.patient_id, conflict.other_patient_id}
    if decision.survivor_id not in pair:
        raise InvalidData("Choose which of the two records stays.")
    (loser_id,) = pair - {decision.survivor_id}
    merge_patients(session, actor, loser_id, decision.survivor_id)  # type: ignore[arg-type]


def merge_patients(
    session: Session, actor: Actor, loser_id: uuid.UUID, survivor_id: uuid.UUID
) -> Patient:
    """Mark `loser_id` as merged into `survivor_id` (reversible: see unmerge_patient)."""
    actor.require(Perm.PATIENT_MERGE)
    loser = session.get(Patient, loser_id, with_for_update=True)
    survivor = session.get(Patient, survivor_id)
    if loser is None or survivor is None:
        raise NotFound("One of the two patients no longer exists.")
    if survivor.merged_into_id is not None:
        raise Conflict("The record chosen to stay was itself merged into another one.")
    loser.merged_into_id = survivor.id
    loser.bump_version()
    loser.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        actor,
        "patient.merge",
        patient_id=loser.id,
        detail={"merged_into": str(survivor.id), "mrn": loser.mrn, "survivor_mrn": survivor.mrn},
    )
    return loser


def unmerge_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """Undo a merge: the record is a patient of its own again (audited)."""
    actor.require(Perm.PATIENT_MERGE)
    patient = session.get(Patient, patient_id, with_for_update=True)
    if patient is None:
        raise NotFound("No patient with this identifier.")
    if patient.merged_into_id is None:
        raise Conflict("This record is not merged into another one.")
    previous = patient.merged_into_id
    patient.merged_into_id = None
    patient.bump_version()
    patient.updated_at = utcnow()
    session.flush()
    record_audit(
        session, actor, "patient.unmerge", patient_id=patient.id, detail={"was": str(previous)}
    )
    return patient


_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "birth_date": "Date of birth",
    "sex": "Sex",
}


def _label(field: str) -> str:
    return _LABELS.get(field, field.replace("_", " ").capitalize())
