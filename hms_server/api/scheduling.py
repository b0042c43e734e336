"""Scheduling reads for online clients (the portal later, integrations): doctors, free slots
and appointment lists. Writes go through sync mutations (hms_core.sync.registry)."""

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, TypeAdapter

from hms_core.rbac import Perm
from hms_core.schemas.errors import ErrorResponse
from hms_core.schemas.scheduling import AppointmentView, DoctorOut, FreeSlot, SlotQuery
from hms_core.services import availability, schedule_views
from hms_core.services.audit import record_audit
from hms_server.api.deps import Caller, UnitOfWork, require
from hms_server.api.errors import ApiError

router = APIRouter(prefix="/api/scheduling", tags=["scheduling"])
_ERRORS = {404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}
MAX_LIST_DAYS = 31
_SLOT_LIST = TypeAdapter(list[FreeSlot])

Reader = Annotated[Caller, Depends(require(Perm.APPOINTMENT_READ))]
Directory = Annotated[Caller, Depends(require(Perm.HOSPITAL_READ))]


@router.get("/doctors", response_model=list[DoctorOut])
def doctors(
    caller: Directory, session: UnitOfWork, department_id: uuid.UUID | None = None
) -> list[DoctorOut]:
    """Doctors taking appointments, by name."""
    return [DoctorOut.model_validate(d) for d in availability.list_doctors(session, department_id)]


@router.get("/slots", response_model=list[FreeSlot], responses=_ERRORS)
def slots(
    caller: Reader,
    session: UnitOfWork,
    first_day: date,
    department_id: uuid.UUID | None = None,
    doctor_id: uuid.UUID | None = None,
    days: Annotated[int, Query(ge=1, le=62)] = 7,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    """Free slots of a doctor, or of every doctor of a department, earliest first."""
    if department_id is None and doctor_id is None:
        raise ApiError(422, "validation_error", "Choose a department or a doctor.")
    query = SlotQuery(
        department_id=department_id,
        doctor_id=doctor_id,
        first_day=first_day,
        days=days,
        limit=limit,
    )
    # Thousands of slots: serialised once, straight to JSON (the service built them checked).
    found = availability.free_slots(session, query)
    return Response(_SLOT_LIST.dump_json(found), media_type="application/json")


@router.get("/appointments", response_model=list[AppointmentView], responses=_ERRORS)
def appointments(
    caller: Reader,
    session: UnitOfWork,
    start: AwareDatetime,
    end: AwareDatetime,
    doctor_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
) -> list[AppointmentView]:
    """Appointments starting in [start, end) (at most a month), earliest first (audited)."""
    if end <= start or end - start > timedelta(days=MAX_LIST_DAYS):
        raise ApiError(422, "validation_error", "Give a period of at most 31 days.")
    found = schedule_views.appointments_between(
        session,
        availability.aware(start),
        availability.aware(end),
        doctor_id=doctor_id,
        department_id=department_id,
        patient_id=patient_id,
    )
    record_audit(
        session,
        caller.actor,
        "appointment.list",
        patient_id=patient_id,
        detail={"rows": len(found), "start": start.isoformat()},
    )
    return found
