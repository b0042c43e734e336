"""Writing audit events: every read or write of patient data leaves one."""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from hms_core.db.audit import AuditEvent
from hms_core.services.actor import Actor


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    patient_id: uuid.UUID | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        actor_role=actor.role,
        client_id=actor.client_id,
        client_address=actor.address,
        patient_id=patient_id,
        action=action,
        outcome=outcome,
        detail=detail or {},
    )
    session.add(event)
    return event
