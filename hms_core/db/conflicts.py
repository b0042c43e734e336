"""The conflict inbox: what sync could not decide alone and a person must resolve."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, ReplicatedMixin


class PatientConflict(ReplicatedMixin, Base):
    """Two versions of one person that sync could not reconcile.

    kind `identity`: the same identity field (name, date of birth, sex) was changed on two PCs;
    `fields` maps each field to {"base", "ours", "theirs"} and the server kept "theirs".
    kind `duplicate`: `patient_id` was registered offline while `other_patient_id`, who looks
    like the same person, was registered elsewhere.
    """

    __tablename__ = "patient_conflict"

    kind: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    other_patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    source_client: Mapped[str] = mapped_column(String(64), default="")
    source_username: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
