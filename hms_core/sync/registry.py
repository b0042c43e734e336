"""Named mutations: the only way a desktop writes. The server runs the same function.

Each mutation takes validated arguments and returns a small JSON result. It must be
deterministic given its arguments and the database it runs on: the desktop runs it against its
cache (and again after every pull, on top of the server's newer rows) before the server runs it.
So arguments carry every identifier and number the mutation creates (patient id, MRN, allergy
ids); nothing is drawn from a local counter.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hms_core.rbac import Perm
from hms_core.schemas.patients import DuplicateReview, PatientCreate, PatientUpdate
from hms_core.services import conflicts, patients
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import DuplicateSuspected


@dataclass(frozen=True)
class Mutation:
    name: str
    args_model: type[BaseModel]
    run: Callable[[Session, Actor, Any], dict[str, Any]]


class RegisterPatientArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient: PatientCreate
    mrn: str | None = None


class UpdatePatientArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    changes: PatientUpdate
    base: dict[str, Any] | None = Field(
        default=None,
        description="The values of the changed fields (and `allergy_ids`) the edit started from; "
        "with it a stale edit merges field by field instead of being refused.",
    )


class PatientRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID


class AccessEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^patient\.(read|search)$")
    at: datetime
    patient_id: uuid.UUID | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class RecordAccessArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[AccessEvent] = Field(min_length=1, max_length=200)


def _register(session: Session, actor: Actor, args: RegisterPatientArgs) -> dict[str, Any]:
    """Register; a look-alike registered elsewhere meanwhile goes to the conflict inbox."""
    try:
        patient = patients.register_patient(session, actor, args.patient, mrn=args.mrn)
        return {"patient_id": str(patient.id), "mrn": patient.mrn}
    except DuplicateSuspected as exc:
        found = exc.detail["candidates"]
    earlier = args.patient.duplicate_review.candidate_ids if args.patient.duplicate_review else []
    ids = [*earlier, *(uuid.UUID(c["patient"]["id"]) for c in found)]
    data = args.patient.model_copy(update={"duplicate_review": DuplicateReview(candidate_ids=ids)})
    patient = patients.register_patient(session, actor, data, mrn=args.mrn)
    for candidate in found:
        conflicts.open_duplicate_conflict(
            session, actor, patient, uuid.UUID(candidate["patient"]["id"]), candidate["reasons"]
        )
    return {"patient_id": str(patient.id), "mrn": patient.mrn, "possible_duplicates": len(found)}


def _update(session: Session, actor: Actor, args: UpdatePatientArgs) -> dict[str, Any]:
    patient = patients.update_patient(session, actor, args.patient_id, args.changes, base=args.base)
    return {"patient_id": str(patient.id), "row_version": patient.row_version}


def _same_patient(session: Session, actor: Actor, args: PatientRef) -> dict[str, Any]:
    patients.confirm_same_patient(session, actor, args.patient_id)
    return {}


def _resolve(session: Session, actor: Actor, args: conflicts.ConflictResolution) -> dict[str, Any]:
    conflict = conflicts.resolve_conflict(session, actor, args)
    return {"conflict_id": str(conflict.id), "resolution": conflict.resolution}


def _unmerge(session: Session, actor: Actor, args: PatientRef) -> dict[str, Any]:
    patient = conflicts.unmerge_patient(session, actor, args.patient_id)
    return {"patient_id": str(patient.id)}


def _record_access(session: Session, actor: Actor, args: RecordAccessArgs) -> dict[str, Any]:
    """Reads made from a desktop's cache, audited on the server as if made online."""
    actor.require(Perm.PATIENT_READ)
    for event in args.events:
        detail = {**event.detail, "read_at": event.at.isoformat(), "from_cache": True}
        record_audit(session, actor, event.action, patient_id=event.patient_id, detail=detail)
    return {"recorded": len(args.events)}


MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (
        Mutation("register_patient", RegisterPatientArgs, _register),
        Mutation("update_patient", UpdatePatientArgs, _update),
        Mutation("confirm_same_patient", PatientRef, _same_patient),
        Mutation("resolve_conflict", conflicts.ConflictResolution, _resolve),
        Mutation("unmerge_patient", PatientRef, _unmerge),
        Mutation("record_access", RecordAccessArgs, _record_access),
    )
}
