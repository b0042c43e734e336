"""Capture every change of a replicated row into `change_log`, numbered in commit order.

A bigserial would hand out numbers at insert time, and transactions commit in another order:
a client that pulled up to 11 would never see a 10 committed a moment later. So numbers are
assigned at the very end of the writing transaction, under a transaction-scoped advisory lock
that is held until commit: a later number is always committed after an earlier one.
Every ORM write through `hms_server.db.Database` sessions is captured, whatever its origin
(API, sync push, CLI, imports). Bulk Core statements on replicated tables are not; don't use them.
"""

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db.base import Base, utcnow
from hms_core.db.sync import ChangeLog
from hms_core.sync.rows import row_to_wire
from hms_core.sync.scopes import TABLE_SCOPES

CHANGE_LOG_LOCK = 0x686D73  # "hms"
_PENDING = "hms_changed_rows"


def install(factory: sessionmaker) -> None:
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", _write)


def _collect(session: Session, _context: object) -> None:
    pending: dict[tuple[str, object], tuple[Base, str]] = session.info.setdefault(_PENDING, {})
    for obj, op in _flushed(session):
        table = obj.__tablename__
        if table in TABLE_SCOPES:
            pending[(table, obj.id)] = (obj, op)


def _flushed(session: Session):  # noqa: ANN202 - yields (object, op)
    for obj in session.new:
        yield obj, "upsert"
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            yield obj, "upsert"
    for obj in session.deleted:
        yield obj, "delete"


def _write(session: Session) -> None:
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
    last = session.execute(select(func.coalesce(func.max(ChangeLog.seq), 0))).scalar_one()
    now = utcnow()
    rows = [
        {
            "seq": last + offset,
            "table_name": table,
            "row_id": row_id,
            "op": op,
            "scope": TABLE_SCOPES[table],
            "row_version": getattr(obj, "row_version", 0) or 0,
            "data": row_to_wire(obj) if op == "upsert" else {"id": str(row_id)},
            "changed_at": now,
        }
        for offset, ((table, row_id), (obj, op)) in enumerate(pending.items(), start=1)
    ]
    session.execute(insert(ChangeLog), rows)
