"""Session hooks of the cache: remember the server's version of every row a local mutation
touches (so it can be put back before newer server rows are applied), and turn the audit
events the domain services write into access records for the server.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db import AuditEvent
from hms_core.db.base import utcnow
from hms_core.sync.rows import wire_value
from hms_desktop.store.schema import CACHE_TABLES, pristine

STORED = "stored"  # pristine data holding a row as SQLite stores it (not wire JSON)
READS = "hms_reads"  # session.info: collect read events here (None: drop audit events)
_CAPTURED = "hms_captured"
ACCESS_ACTIONS = (
    "patient.read",
    "patient.search",
    "appointment.list",
    "ward.list",
    "vitals.read",
    "billing.account",
    "billing.cashdesk",
    "lab.worklist",
)
REPLICATED = {name for name in CACHE_TABLES if name != "patient_name_token"}


def install(factory: sessionmaker) -> None:
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_flush", _after_flush)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    reads: list[dict[str, Any]] | None = session.info.get(READS)
    for obj in list(session.new):
        if isinstance(obj, AuditEvent):
            session.expunge(obj)  # the server audits the mutation when it runs it
            if reads is not None and obj.action in ACCESS_ACTIONS:
                reads.append(_access_event(obj))
    rows = [
        {"table_name": t, "row_id": i, "data": _stored_row(session, t, i)}
        for t, i in _untracked(session, [*session.dirty, *session.deleted])
    ]
    _remember(session, rows)


def _after_flush(session: Session, _context: object) -> None:
    rows = [
        {"table_name": t, "row_id": i, "data": None} for t, i in _untracked(session, session.new)
    ]
    _remember(session, rows)


def _untracked(session: Session, objects: list[Any] | Any) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = session.info.setdefault(_CAPTURED, set())
    keys = []
    for obj in objects:
        table = getattr(obj, "__tablename__", None)
        if table in REPLICATED and obj.id is not None:
            key = (table, str(obj.id))
            if key not in seen:
                seen.add(key)
                keys.append(key)
    return keys


def _stored_row(session: Session, table: str, row_id: str) -> dict[str, Any] | None:
    """The row as the database holds it now (before this flush writes it), as stored."""
    cursor = session.connection().exec_driver_sql(
        f"SELECT * FROM {table} WHERE id = ?",  # noqa: S608 - one of our table names
        (uuid.UUID(row_id).hex,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return {STORED: dict(zip(row._fields, row, strict=True))}


def _remember(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:  # OR IGNORE: an earlier capture is the server's version, keep it
        session.connection().execute(insert(pristine).prefix_with("OR IGNORE"), rows)


def _access_event(obj: AuditEvent) -> dict[str, Any]:
    return {
        "action": obj.action,
        "at": wire_value(obj.at or utcnow()),
        "patient_id": wire_value(obj.patient_id),
        "detail": obj.detail or {},
    }


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint whose rollback also forgets the rows captured inside it."""
    captured = set(session.info.get(_CAPTURED, set()))
    try:
        with session.begin_nested():
            yield
    except BaseException:
        session.info[_CAPTURED] = captured
        raise


def forget_captures(session: Session) -> None:
    """Start capturing afresh (after the pristine table was emptied)."""
    session.info.pop(_CAPTURED, None)
