"""Small helpers the billing services share: loading rows or refusing in plain words."""

import uuid
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from hms_core.db.base import ReplicatedMixin, utcnow
from hms_core.services.errors import NotFound

T = TypeVar("T", bound=ReplicatedMixin)


def get_row(session: Session, model: type[T], row_id: uuid.UUID, missing: str, field: str) -> T:
    """The live row with this id, or NotFound with `missing` as the sentence."""
    row = session.get(model, row_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(missing, fields={field: "Unknown"})
    return row


def touch(row: ReplicatedMixin) -> None:
    """Mark a replicated row changed (new row_version, updated_at)."""
    row.bump_version()
    row.updated_at = utcnow()


def day_of(moment: datetime) -> date:
    """The UTC date of a moment (naive values from the SQLite cache are UTC)."""
    return moment.date()


def receipt_number(payment_id: uuid.UUID, received_at: datetime) -> str:
    """'RC-20261206-3F9A0C1B': the day and the random tail of the payment's UUIDv7, so a desk
    prints it on the spot, offline too, and no two payments share one."""
    return f"RC-{received_at:%Y%m%d}-{payment_id.hex[-8:].upper()}"
