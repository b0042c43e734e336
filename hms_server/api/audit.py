"""Reading the audit trail (administrators only). There is no route that changes it."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from hms_core.db import AuditEvent
from hms_core.rbac import Perm
from hms_core.schemas.audit import AuditEventOut
from hms_server.api.deps import Caller, UnitOfWork, require

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=list[AuditEventOut])
def list_events(
    caller: Annotated[Caller, Depends(require(Perm.AUDIT_READ))],
    session: UnitOfWork,
    patient_id: uuid.UUID | None = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEventOut]:
    """Audit events, newest first, filtered by patient, user, action and period."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if patient_id:
        stmt = stmt.where(AuditEvent.patient_id == patient_id)
    if username:
        stmt = stmt.where(AuditEvent.actor_username == username)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return [AuditEventOut.model_validate(e) for e in session.execute(stmt).scalars()]
