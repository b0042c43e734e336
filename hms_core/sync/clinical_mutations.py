"""The clinical record's named mutations: encounters, notes, problems, the treatment plan,
procedures and prescriptions. Each wraps a service and answers with the row's id, its version
and what the desk shows next (a status, the previous version, the overrides kept).

A prescription refused by its safety checks raises `SafetyCheck`; the push stores it as a
rejection whose detail carries the warnings, so the prescriber reads them and answers."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from hms_core.db.base import ReplicatedMixin
from hms_core.schemas import clinical as wire
from hms_core.services.actor import Actor
from hms_core.services.clinical import (
    care_plans,
    encounters,
    notes,
    prescriptions,
    problems,
    procedures,
)

Run = Callable[[Session, Actor, Any], dict[str, Any]]


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int | bool) else str(value)


def _ids(service: Callable[[Session, Actor, Any], ReplicatedMixin], *extra: str) -> Run:
    """A mutation returning the row's id, its version and the named attributes."""

    def run(session: Session, actor: Actor, args: BaseModel) -> dict[str, Any]:
        row = service(session, actor, args)
        result: dict[str, Any] = {"id": str(row.id), "row_version": row.row_version}
        result |= {name: _plain(getattr(row, name)) for name in extra}
        return result

    return run


def _problem(service: Callable[[Session, Actor, Any], Any]) -> Run:
    def run(session: Session, actor: Actor, args: BaseModel) -> dict[str, Any]:
        problem = service(session, actor, args)
        return {
            "id": str(problem.id),
            "row_version": problem.row_version,
            "clinical_status": problem.clinical_status,
            "code": problem.code,
            "voided": problem.voided_at is not None,
        }

    return run


def _prescription(service: Callable[[Session, Actor, Any], Any]) -> Run:
    def run(session: Session, actor: Actor, args: BaseModel) -> dict[str, Any]:
        order = service(session, actor, args)
        return {
            "id": str(order.id),
            "row_version": order.row_version,
            "status": order.status,
            "previous_id": _plain(order.previous_id),
            "overrides": len(order.overrides or []),
        }

    return run


CLINICAL_MUTATIONS: list[tuple[str, type[BaseModel], Run]] = [
    ("start_encounter", wire.StartEncounter, _ids(encounters.start_encounter, "status")),
    ("finish_encounter", wire.FinishEncounter, _ids(encounters.finish_encounter, "status")),
    ("save_note", wire.SaveNote, _ids(notes.save_note, "status")),
    ("sign_note", wire.SignNote, _ids(notes.sign_note, "status")),
    ("amend_note", wire.AmendNote, _ids(notes.amend_note, "status", "amends_id")),
    ("add_problem", wire.AddProblem, _problem(problems.add_problem)),
    ("update_problem", wire.UpdateProblem, _problem(problems.update_problem)),
    (
        "update_care_plan",
        wire.UpdateCarePlan,
        _ids(care_plans.update_care_plan, "previous_id"),
    ),
    ("record_procedure", wire.RecordProcedure, _ids(procedures.record_procedure)),
    ("prescribe", wire.Prescribe, _prescription(prescriptions.prescribe)),
    (
        "change_prescription",
        wire.ChangePrescription,
        _prescription(prescriptions.change_prescription),
    ),
]
