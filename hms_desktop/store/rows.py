"""Writing server rows into the cache: upserts, deletions and the derived name index.

Rows arrive as JSON (hms_core.sync.rows.row_to_wire). They are written with the DB-API
directly, converted straight to the text SQLAlchemy itself stores in SQLite for each column
type (UUIDs as 32 hex digits, datetimes as naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'), so the
ORM reads them back exactly as if it had written them: 100,000 patients load in seconds.
"""

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, DateTime, Table, Time, Uuid, delete
from sqlalchemy.engine import Connection

from hms_core.rules.names import name_tokens
from hms_desktop.store.schema import CACHE_TABLES

TOKENS = CACHE_TABLES["patient_name_token"]


def apply_rows(
    conn: Connection, changes: Iterable[tuple[str, str, str, dict[str, Any] | None]]
) -> None:
    """Apply (table, id, op, data) changes in order; op is upsert, delete or evict.

    Only the last change of each row matters, so rows are written once, table by table.
    """
    last: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {}
    for table, row_id, op, data in changes:
        if table in CACHE_TABLES:
            last.pop((table, row_id), None)
            last[(table, row_id)] = (op, data)
    by_table: dict[str, tuple[list[dict[str, Any]], list[uuid.UUID]]] = {}
    for (table, row_id), (op, data) in last.items():
        upserts, removals = by_table.setdefault(table, ([], []))
        removals.append(uuid.UUID(row_id))  # an upsert replaces the row: remove it first
        if op == "upsert" and data is not None:
            upserts.append(data)
    for table, (upserts, removals) in by_table.items():
        _write_table(conn, table, upserts, removals)


def _write_table(
    conn: Connection, table: str, upserts: list[dict[str, Any]], removals: list[uuid.UUID]
) -> None:
    columns = CACHE_TABLES[table]
    for chunk in _chunks(removals, 500):
        conn.execute(delete(columns).where(columns.c.id.in_(chunk)))
        if table == "patient":
            conn.execute(delete(TOKENS).where(TOKENS.c.patient_id.in_(chunk)))
    insert_rows(conn, table, upserts)


def restore_rows(conn: Connection, saved: list[tuple[str, str, dict[str, Any] | None]]) -> None:
    """Put rows back as they were stored: (table, id, {"stored": row} or None = remove)."""
    by_table: dict[str, tuple[list[dict[str, Any]], list[uuid.UUID]]] = {}
    for table, row_id, data in saved:
        stored, removals = by_table.setdefault(table, ([], []))
        removals.append(uuid.UUID(row_id))
        if data is not None:
            stored.append(data["stored"])
    for table, (stored, removals) in by_table.items():
        _write_table(conn, table, [], removals)
        if stored:
            names = list(stored[0])
            marks = ", ".join("?" * len(names))
            conn.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",  # noqa: S608
                [tuple(row[n] for n in names) for row in stored],
            )
            if table == "patient":
                _insert_tokens(conn, stored)


def insert_rows(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert JSON rows of `table` (and, for patients, their name-index rows)."""
    if not rows:
        return
    names, convert = _converters(table)
    marks = ", ".join("?" * len(names))
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",  # noqa: S608 - our names
        [_stored(row, names, convert) for row in rows],
    )
    if table == "patient":
        _insert_tokens(conn, rows)


def _insert_tokens(conn: Connection, patients: list[dict[str, Any]]) -> None:
    """The name-search index rows of these patients (as hms_core's register_patient makes them)."""
    tokens = [
        (_uuid_hex(p["id"]), token[:100], p["sort_name"], p["birth_date"])
        for p in patients
        for token in _tokens(p["given_name"], p["family_name"])
    ]
    if tokens:
        conn.exec_driver_sql(
            "INSERT INTO patient_name_token (patient_id, token, sort_name, birth_date) "
            "VALUES (?, ?, ?, ?)",
            tokens,
        )


@cache
def _tokens_of(name: str) -> frozenset[str]:
    return frozenset(name_tokens(name))


def _tokens(given: str, family: str) -> frozenset[str]:
    return _tokens_of(given) | _tokens_of(family)


def _stored(
    row: dict[str, Any], names: list[str], convert: list[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    values = list(map(row.get, names))
    for position, fn in convert:
        values[position] = fn(values[position])
    return tuple(values)


@cache
def _converters(table: str) -> tuple[list[str], list[tuple[int, Callable[[Any], Any]]]]:
    """The column names of `table`, and (position, converter) of those needing conversion."""
    columns: Table = CACHE_TABLES[table]
    names = [c.name for c in columns.columns]
    convert = [(i, _converter(c.type)) for i, c in enumerate(columns.columns)]
    return names, [(i, fn) for i, fn in convert if fn is not None]


def _converter(kind: Any) -> Callable[[Any], Any] | None:
    if isinstance(kind, Uuid):
        return _uuid_hex
    if isinstance(kind, DateTime):
        return _sqlite_datetime
    if isinstance(kind, Time):
        return _sqlite_time
    if isinstance(kind, JSON):
        return _json_text
    return None


def _uuid_hex(value: str | None) -> str | None:
    return None if value is None else value.replace("-", "")


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _sqlite_datetime(value: str | None) -> str | None:
    """ISO 8601 with an offset -> SQLAlchemy's SQLite text: naive UTC, six fraction digits."""
    if value is None:
        return None
    if not value.endswith(("+00:00", "Z")):
        moment = datetime.fromisoformat(value).astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    body = value[:-1] if value.endswith("Z") else value[:-6]
    day, _, clock = body.replace(" ", "T").partition("T")
    whole, _, fraction = clock.partition(".")
    return f"{day} {whole}.{fraction[:6].ljust(6, '0')}"


def _sqlite_time(value: str | None) -> str | None:
    """ISO 8601 time -> SQLAlchemy's SQLite text: six fraction digits."""
    if value is None:
        return None
    whole, _, fraction = value.partition(".")
    return f"{whole}.{fraction[:6].ljust(6, '0')}"


def clear_table(conn: Connection, table: str) -> None:
    """Empty a table that left this client's scope."""
    conn.execute(delete(CACHE_TABLES[table]))
    if table == "patient":
        conn.execute(delete(TOKENS))


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
