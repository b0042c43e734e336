"""Wire model of an audit event."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_user_id: uuid.UUID | None
    actor_username: str
    actor_role: str
    client_id: str
    client_address: str
    patient_id: uuid.UUID | None
    action: str
    outcome: str
    detail: dict[str, Any]
