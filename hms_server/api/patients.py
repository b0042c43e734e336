"""Patient registration, search, record and update: thin wrappers over hms_core.services."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from hms_core.rbac import Perm
from hms_core.schemas.errors import ErrorResponse
from hms_core.schemas.patients import (
    DuplicateCandidate,
    DuplicateCheck,
    PatientCreate,
    PatientOut,
    PatientSummary,
    PatientUpdate,
)
from hms_core.services import patients as svc
from hms_core.services.audit import record_audit
from hms_server.api.deps import Caller, UnitOfWork, require

router = APIRouter(prefix="/api/patients", tags=["patients"])
_ERRORS = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}

Reader = Annotated[Caller, Depends(require(Perm.PATIENT_READ))]
Registrar = Annotated[Caller, Depends(require(Perm.PATIENT_REGISTER))]
Editor = Annotated[Caller, Depends(require(Perm.PATIENT_UPDATE))]


@router.get("", response_model=list[PatientSummary])
def search(
    caller: Reader,
    session: UnitOfWork,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=svc.MAX_SEARCH_RESULTS)] = 25,
) -> list[PatientSummary]:
    """Search by MRN, phone digits, or name fragments in any order."""
    return svc.search_patients(session, caller.actor, q, limit)


@router.post("/duplicates", response_model=list[DuplicateCandidate], responses=_ERRORS)
def duplicates(
    caller: Registrar, session: UnitOfWork, body: DuplicateCheck
) -> list[DuplicateCandidate]:
    """Patients who may be the person about to be registered."""
    found = svc.find_duplicates(session, body)
    record_audit(
        session, caller.actor, "patient.duplicate_check", detail={"candidates": len(found)}
    )
    return found


@router.post("", response_model=PatientOut, status_code=201, responses=_ERRORS)
def register(caller: Registrar, session: UnitOfWork, body: PatientCreate) -> PatientOut:
    """Register a patient; 409 `duplicate_suspected` lists possible matches to review first."""
    return svc.patient_out(svc.register_patient(session, caller.actor, body))


@router.get("/{patient_id}", response_model=PatientOut, responses=_ERRORS)
def read(caller: Reader, session: UnitOfWork, patient_id: uuid.UUID) -> PatientOut:
    """Open a patient's record (audited)."""
    return svc.patient_out(svc.get_patient(session, caller.actor, patient_id))


@router.patch("/{patient_id}", response_model=PatientOut, responses=_ERRORS)
def update(
    caller: Editor, session: UnitOfWork, patient_id: uuid.UUID, body: PatientUpdate
) -> PatientOut:
    """Change the fields sent; 409 `conflict` when `expected_row_version` is stale."""
    return svc.patient_out(svc.update_patient(session, caller.actor, patient_id, body))


@router.post("/{patient_id}/duplicate-match", status_code=204, responses=_ERRORS)
def duplicate_match(caller: Registrar, session: UnitOfWork, patient_id: uuid.UUID) -> Response:
    """Record reception's answer "same patient" to the duplicate check (audited)."""
    svc.confirm_same_patient(session, caller.actor, patient_id)
    return Response(status_code=204)
