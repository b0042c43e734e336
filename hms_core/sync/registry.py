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
from hms_core.schemas.scheduling import (
    AddAvailabilityChange,
    BookAppointment,
    CancelAppointment,
    CancelFollowUp,
    RemoveAvailabilityChange,
    RequestFollowUp,
    RescheduleAppointment,
    SetAppointmentStatus,
    SetWeeklyAvailability,
)
from hms_core.schemas.ward import AdmitPatient, DischargePatient, RecordVitals, TransferPatient
from hms_core.services import (
    appointments,
    availability,
    conflicts,
    follow_ups,
    inpatients,
    patients,
    vitals,
)
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import DuplicateSuspected
from hms_core.sync.billing_mutations import BILLING_MUTATIONS
from hms_core.sync.clinical_mutations import CLINICAL_MUTATIONS
from hms_core.sync.order_mutations import ORDER_MUTATIONS


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

    action: str = Field(
        pattern=r"^(patient\.(read|search)|appointment\.list|ward\.list|vitals\.read"
        r"|billing\.(account|cashdesk)|lab\.worklist)$"
    )
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


def _appointment_result(appointment: Any) -> dict[str, Any]:
    return {
        "appointment_id": str(appointment.id),
        "status": appointment.status,
        "doctor_id": str(appointment.doctor_id),
        "starts_at": appointment.starts_at.isoformat(),
    }


def _book(session: Session, actor: Actor, args: BookAppointment) -> dict[str, Any]:
    return _appointment_result(appointments.book(session, actor, args))


def _reschedule(session: Session, actor: Actor, args: RescheduleAppointment) -> dict[str, Any]:
    return _appointment_result(appointments.reschedule(session, actor, args))


def _cancel(session: Session, actor: Actor, args: CancelAppointment) -> dict[str, Any]:
    return _appointment_result(appointments.cancel(session, actor, args))


def _set_status(session: Session, actor: Actor, args: SetAppointmentStatus) -> dict[str, Any]:
    return _appointment_result(appointments.set_status(session, actor, args))


def _follow_up(session: Session, actor: Actor, args: RequestFollowUp) -> dict[str, Any]:
    follow_up = follow_ups.request_follow_up(session, actor, args)
    return {"follow_up_id": str(follow_up.id), "due_date": follow_up.due_date.isoformat()}


def _cancel_follow_up(session: Session, actor: Actor, args: CancelFollowUp) -> dict[str, Any]:
    follow_up = follow_ups.cancel_follow_up(session, actor, args)
    return {"follow_up_id": str(follow_up.id)}


def _weekly(session: Session, actor: Actor, args: SetWeeklyAvailability) -> dict[str, Any]:
    rules = availability.set_weekly_availability(session, actor, args)
    return {"rule_ids": [str(r.id) for r in rules]}


def _add_change(session: Session, actor: Actor, args: AddAvailabilityChange) -> dict[str, Any]:
    return {"change_id": str(availability.add_availability_change(session, actor, args).id)}


def _remove_change(
    session: Session, actor: Actor, args: RemoveAvailabilityChange
) -> dict[str, Any]:
    availability.remove_availability_change(session, actor, args.change_id)
    return {}


def _admission_result(admission: Any) -> dict[str, Any]:
    return {
        "admission_id": str(admission.id),
        "patient_id": str(admission.patient_id),
        "bed_id": str(admission.bed_id),
        "discharged": admission.discharged_at is not None,
    }


def _admit(session: Session, actor: Actor, args: AdmitPatient) -> dict[str, Any]:
    return _admission_result(inpatients.admit_patient(session, actor, args))


def _discharge(session: Session, actor: Actor, args: DischargePatient) -> dict[str, Any]:
    return _admission_result(inpatients.discharge_patient(session, actor, args))


def _transfer(session: Session, actor: Actor, args: TransferPatient) -> dict[str, Any]:
    return _admission_result(inpatients.transfer_patient(session, actor, args))


def _record_vitals(session: Session, actor: Actor, args: RecordVitals) -> dict[str, Any]:
    entry = vitals.record_vitals(session, actor, args)
    return {
        "entry_id": str(entry.id),
        "patient_id": str(entry.patient_id),
        "news2_total": entry.news2_total,
        "news2_band": entry.news2_band,
    }


MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (
        Mutation("register_patient", RegisterPatientArgs, _register),
        Mutation("update_patient", UpdatePatientArgs, _update),
        Mutation("confirm_same_patient", PatientRef, _same_patient),
        Mutation("resolve_conflict", conflicts.ConflictResolution, _resolve),
        Mutation("unmerge_patient", PatientRef, _unmerge),
        Mutation("record_access", RecordAccessArgs, _record_access),
        Mutation("book_appointment", BookAppointment, _book),
        Mutation("reschedule_appointment", RescheduleAppointment, _reschedule),
        Mutation("cancel_appointment", CancelAppointment, _cancel),
        Mutation("set_appointment_status", SetAppointmentStatus, _set_status),
        Mutation("request_follow_up", RequestFollowUp, _follow_up),
        Mutation("cancel_follow_up", CancelFollowUp, _cancel_follow_up),
        Mutation("set_weekly_availability", SetWeeklyAvailability, _weekly),
        Mutation("add_availability_change", AddAvailabilityChange, _add_change),
        Mutation("remove_availability_change", RemoveAvailabilityChange, _remove_change),
        Mutation("admit_patient", AdmitPatient, _admit),
        Mutation("discharge_patient", DischargePatient, _discharge),
        Mutation("transfer_patient", TransferPatient, _transfer),
        Mutation("record_vitals", RecordVitals, _record_vitals),
        *(Mutation(name, model, run) for name, model, run in BILLING_MUTATIONS),
        *(Mutation(name, model, run) for name, model, run in CLINICAL_MUTATIONS),
        *(Mutation(name, model, run) for name, model, run in ORDER_MUTATIONS),
    )
}
