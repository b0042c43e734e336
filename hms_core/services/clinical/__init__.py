"""Clinical record services (named mutations): encounters, notes, problems, the treatment plan,
procedures, prescriptions, orders and results.

The small helpers below are shared by the modules of this package: loading a live row or
refusing in plain words, marking a row changed, and judging a recorded moment.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from hms_core.db.base import ReplicatedMixin, utcnow
from hms_core.services.errors import InvalidData, NotFound

T = TypeVar("T", bound=ReplicatedMixin)

CLOCK_SKEW = timedelta(minutes=10)  # how far a desk's clock may run ahead of the server's


def get_row(
    session: Session,
    model: type[T],
    row_id: uuid.UUID,
    missing: str,
    field: str,
    *,
    for_update: bool = False,
) -> T:
    """The live row with this id (locked when `for_update`), or NotFound saying `missing`."""
    row = session.get(model, row_id, with_for_update=for_update or None)
    if row is None or row.deleted_at is not None:
        raise NotFound(missing, fields={field: "Unknown"})
    return row


def touch(row: ReplicatedMixin) -> None:
    """Mark a replicated row changed (new row_version, updated_at)."""
    row.bump_version()
    row.updated_at = utcnow()


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_not_ahead(at: datetime, field: str, what: str) -> None:
    """Refuse a moment in the future (beyond a desk clock's usual drift)."""
    if aware(at) > utcnow() + CLOCK_SKEW:
        raise InvalidData(
            f"{what} is in the future. Check the time (and this computer's clock).",
            fields={field: "In the future"},
        )
