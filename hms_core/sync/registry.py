"""Named mutations: the only way a desktop writes. The server runs the same function."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from hms_core.schemas.patients import PatientCreate, PatientUpdate
from hms_core.services import patients
from hms_core.services.actor import Actor


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


def _register(session: Session, actor: Actor, args: RegisterPatientArgs) -> dict[str, Any]:
    patient = patients.register_patient(session, actor, args.patient, mrn=args.mrn)
    return {"patient_id": str(patient.id), "mrn": patient.mrn}


def _update(session: Session, actor: Actor, args: UpdatePatientArgs) -> dict[str, Any]:
    patient = patients.update_patient(session, actor, args.patient_id, args.changes)
    return {"patient_id": str(patient.id), "row_version": patient.row_version}


MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (
        Mutation("register_patient", RegisterPatientArgs, _register),
        Mutation("update_patient", UpdatePatientArgs, _update),
    )
}
