"""Capture every change of a replicated row into `change_log`, numbered in commit order.

A bigserial would hand out numbers at insert time, and transactions commit in another order:
a client that pulled up to 11 would never see a 10 committed a moment later. So numbers are
assigned at the very end of the writing transaction, under a transaction-scoped advisory lock
that is held until commit: a later number is always committed after an earlier one.
Every ORM write through `hms_server.db.Database` sessions is captured, whatever its origin
(API, sync push, CLI, imports). Bulk Core statements on replicated tables are not; don't use them.
At commit, `pg_notify` tells every server instance listening (hms_server.live) the new last seq.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db.base import Base, utcnow
from hms_core.db.sync import ChangeLog
from hms_core.services.unit import EVENTS
from hms_core.sync.rows import row_to_wire
from hms_core.sync.scopes import TABLE_SCOPES, row_in_scope

CHANGE_LOG_LOCK = 0x686D73  # "hms"
CHANNEL = "hms_changes"
LAST_SEQ = "hms_last_seq"  # session.info key: the last seq this session's commit wrote
_PENDING = "hms_changed_rows"


def install(factory: sessionmaker) -> None:
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", _write)


def _collect(session: Session, _context: object) -> None:
    """Note each replicated row this flush wrote, as it now is (so objects may be expunged)."""
    pending: dict[tuple[str, object], dict[str, Any]] = session.info.setdefault(_PENDING, {})
    for obj, op in _flushed(session):
        table = obj.__tablename__
        if table in TABLE_SCOPES:
            op = _op(table, obj, op)
            pending[(table, obj.id)] = {
                "table_name": table,
                "row_id": obj.id,
                "op": op,
                "scope": TABLE_SCOPES[table],
                "row_version": getattr(obj, "row_version", 0) or 0,
                "data": row_to_wire(obj) if op == "upsert" else {"id": str(obj.id)},
            }


def _flushed(session: Session):  # noqa: ANN202 - yields (object, op)
    for obj in session.new:
        yield obj, "upsert"
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            yield obj, "upsert"
    for obj in session.deleted:
        yield obj, "delete"


def newest_seq(session: Session) -> int:
    """The last change-log position (0 when empty)."""
    return session.execute(select(func.coalesce(func.max(ChangeLog.seq), 0))).scalar_one()


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint whose rollback also forgets the changes and events noted inside it."""
    noted = dict(session.info.get(_PENDING, {}))
    events = list(session.info.get(EVENTS, []))
    try:
        with session.begin_nested():
            yield
    except BaseException:
        session.info[_PENDING] = noted
        session.info[EVENTS] = events
        raise


def _op(table: str, obj: Base, op: str) -> str:
    return "evict" if op == "upsert" and not row_in_scope(table, obj) else op


def _write(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: the outermost commit writes the log, once
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
    last = newest_seq(session)
    now = utcnow()
    rows = [
        {**change, "seq": last + offset, "changed_at": now}
        for offset, change in enumerate(pending.values(), start=1)
    ]
    session.execute(insert(ChangeLog), rows)
    newest = last + len(rows)
    session.execute(
        text("SELECT pg_notify(:channel, :seq)"), {"channel": CHANNEL, "seq": str(newest)}
    )
    session.info[LAST_SEQ] = newest
