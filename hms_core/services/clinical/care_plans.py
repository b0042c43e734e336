"""The treatment plan: every update is a new version pointing at the one it replaces, so the
plan's history is kept; the latest version is the plan."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import CarePlan
from hms_core.rbac import Perm
from hms_core.schemas.clinical import UpdateCarePlan
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import check_not_ahead
from hms_core.services.clinical.encounters import check_encounter
from hms_core.services.patients import active_patient


def update_care_plan(session: Session, actor: Actor, args: UpdateCarePlan) -> CarePlan:
    """Write a new version of the patient's plan after the latest one (audited)."""
    actor.require(Perm.NOTE_WRITE)
    existing = session.get(CarePlan, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    check_encounter(session, args.encounter_id, patient)
    check_not_ahead(args.at, "at", "The time of the plan")
    latest = current_care_plan(session, patient.id)
    plan = CarePlan(
        id=args.id,
        patient_id=patient.id,
        encounter_id=args.encounter_id,
        text=args.text,
        author=actor.username,
        written_at=args.at,
        previous_id=latest.id if latest else None,
        reason=args.reason,
    )
    session.add(plan)
    session.flush()
    record_audit(
        session,
        actor,
        "care_plan.update",
        patient_id=patient.id,
        detail={"care_plan_id": str(plan.id), "reason": args.reason},
    )
    return plan


def current_care_plan(session: Session, patient_id: uuid.UUID) -> CarePlan | None:
    """The plan in force: the latest version written (None when there is none yet)."""
    with session.no_autoflush:
        return (
            session.execute(
                select(CarePlan)
                .where(CarePlan.patient_id == patient_id, CarePlan.deleted_at.is_(None))
                .order_by(CarePlan.written_at.desc(), CarePlan.id.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )


def care_plan_history(session: Session, patient_id: uuid.UUID) -> list[CarePlan]:
    """Every version of the patient's plan, the latest first."""
    return list(
        session.execute(
            select(CarePlan)
            .where(CarePlan.patient_id == patient_id, CarePlan.deleted_at.is_(None))
            .order_by(CarePlan.written_at.desc(), CarePlan.id.desc())
        ).scalars()
    )
