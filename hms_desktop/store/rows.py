"""Writing server rows into the cache: upserts, deletions and the derived name index."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from hms_core.rules.names import name_tokens
from hms_core.sync.rows import wire_to_values
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
            upserts.append(wire_to_values(CACHE_TABLES[table], data))
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
    if upserts:
        conn.execute(insert(columns), upserts)
        if table == "patient":
            insert_tokens(conn, upserts)


def insert_tokens(conn: Connection, patients: list[dict[str, Any]]) -> None:
    """The name-search index rows of these patients (as hms_core's register_patient makes them)."""
    tokens = [
        {
            "patient_id": p["id"],
            "token": token[:100],
            "sort_name": p["sort_name"],
            "birth_date": p["birth_date"],
        }
        for p in patients
        for token in name_tokens(p["given_name"], p["family_name"])
    ]
    if tokens:
        conn.execute(insert(TOKENS), tokens)


def clear_table(conn: Connection, table: str) -> None:
    """Empty a table that left this client's scope."""
    conn.execute(delete(CACHE_TABLES[table]))
    if table == "patient":
        conn.execute(delete(TOKENS))


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
