"""Build a cache from a snapshot stream in a new file, then swap it in keeping the outbox."""

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert, text

from hms_desktop.store import rows
from hms_desktop.store.cache import LocalStore, open_engine
from hms_desktop.store.schema import (
    CACHE_SCHEMA_VERSION,
    CACHE_TABLES,
    KEPT_ON_REBUILD,
    STATE_KEPT_ON_REBUILD,
    cache_metadata,
    sync_state,
)

log = logging.getLogger(__name__)
BATCH = 5000


class SnapshotBroken(Exception):
    """The snapshot stream ended early or was not a snapshot."""


def rebuild_from_snapshot(store: LocalStore, lines: Iterable[str | bytes]) -> int:
    """Load a snapshot into a fresh file and swap it in; returns the number of rows loaded."""
    fresh = store.path.with_name(store.path.name + ".rebuild")
    _remove(fresh)
    try:
        seq, tables, count = _load(fresh, lines)
        with store.lock:  # nothing reaches the outbox between the copy and the swap
            _carry_over(fresh, store.path, seq, tables)
            store.replace_file(fresh)
    finally:
        _remove(fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm"))
    log.info("cache rebuilt from a snapshot at seq %s: %s rows", seq, count)
    return count


def _load(path: Path, lines: Iterable[str | bytes]) -> tuple[int, list[str], int]:
    """Load into a new file, fast: no journal (a failed load is thrown away), indexes last."""
    engine = open_engine(path, bulk=True)
    try:
        cache_metadata.create_all(engine)
        indexes = [i for t in cache_metadata.tables.values() for i in t.indexes]
        with engine.begin() as conn:
            for index in indexes:
                index.drop(conn)
        with engine.begin() as conn:
            header: dict[str, Any] | None = None
            batches: dict[str, list[dict[str, Any]]] = {}
            count = 0
            for raw in lines:
                if not raw.strip():
                    continue
                item = orjson.loads(raw)
                kind = item.get("kind")
                if kind == "snapshot":
                    header = item
                elif kind == "row" and header is not None:
                    batch = batches.setdefault(item["table"], [])
                    batch.append(item["data"])
                    if len(batch) >= BATCH:
                        _flush(conn, item["table"], batch)
                elif kind == "end" and header is not None:
                    for table, batch in batches.items():
                        _flush(conn, table, batch)
                    for index in indexes:
                        index.create(conn)
                    count = int(item["rows"])
                    return int(header["seq"]), list(header["tables"]), count
            raise SnapshotBroken("The copy from the server was cut off; it will be fetched again.")
    finally:
        engine.dispose()


def _flush(conn: Any, table: str, batch: list[dict[str, Any]]) -> None:
    if table in CACHE_TABLES:
        rows.insert_rows(conn, table, batch)
    batch.clear()


def _carry_over(fresh: Path, current: Path, seq: int, tables: list[str]) -> None:
    """Copy the client's own tables from the current file and record the snapshot position."""
    engine = open_engine(fresh)
    try:
        with engine.begin() as conn:
            conn.execute(text("ATTACH DATABASE :path AS old"), {"path": str(current)})
            for table in KEPT_ON_REBUILD:
                names = ", ".join(c.name for c in cache_metadata.tables[table].columns)
                conn.execute(
                    text(f"INSERT INTO {table} ({names}) SELECT {names} FROM old.{table}")  # noqa: S608
                )
            keys = ", ".join(f"'{key}'" for key in STATE_KEPT_ON_REBUILD)  # constants
            copy_state = "INSERT INTO sync_state (key, value) SELECT key, value FROM old.sync_state"
            conn.execute(text(f"{copy_state} WHERE key IN ({keys})"))  # noqa: S608
            conn.execute(
                insert(sync_state),
                [
                    {"key": "last_seq", "value": seq},
                    {"key": "tables", "value": sorted(tables)},
                    {"key": "cache_schema", "value": CACHE_SCHEMA_VERSION},
                ],
            )
    finally:
        engine.dispose()


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
