"""A desktop's local cache: one SQLite file per server and user (WAL, synchronous=FULL).

Every write is a named mutation from hms_core run against the cache together with its outbox
row, in one transaction: after a crash the cache holds both or neither. Reads come from the
cache, so the desktop works the same with the server down. After each pull the cache is
*rebased*: rows local mutations touched go back to the server's version, the pulled rows are
applied, and the mutations the server has not yet shown us are run again on top.
"""

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db.base import utcnow
from hms_core.services import Actor, DomainError
from hms_core.services.unit import PROVISIONAL
from hms_core.sync.protocol import Change
from hms_core.sync.registry import MUTATIONS
from hms_desktop.store import rows, tracking
from hms_desktop.store.schema import (
    CACHE_SCHEMA_VERSION,
    CACHE_TABLES,
    attention,
    cache_metadata,
    outbox,
    pristine,
    sync_state,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
CACHE_FILE = "cache.sqlite3"


def open_engine(path: Path, bulk: bool = False) -> Engine:
    """A SQLite engine on `path` in WAL mode with synchronous=FULL.

    `bulk`: for building a new file that is thrown away if anything fails (no journal).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 60}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if bulk:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB while loading
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    return engine


class LocalStore:
    """The cache file of one user on one server, safe to use from several threads."""

    def __init__(self, directory: Path, actor: Actor) -> None:
        self.directory = directory
        self.actor = actor  # the signed-in user: pending mutations are run again as them
        self.path = directory / CACHE_FILE
        self.lock = threading.RLock()
        self._open()

    def _open(self) -> None:
        self.engine = open_engine(self.path)
        cache_metadata.create_all(self.engine)
        # Provisional: what a mutation decides here (a booked slot) the server may still refuse.
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={PROVISIONAL: True})
        tracking.install(self.sessions)
        if self.get_state("cache_schema") != CACHE_SCHEMA_VERSION:
            # A new file, or one an older program wrote: its rows are taken again from a
            # snapshot (the outbox and the MRN blocks are kept, see snapshot.py).
            with self.writing() as session:
                session.execute(delete(sync_state).where(sync_state.c.key == "last_seq"))
                self.set_state("cache_schema", CACHE_SCHEMA_VERSION, session)

    def close(self) -> None:
        with self.lock:
            self.engine.dispose()

    def replace_file(self, fresh: Path) -> None:
        """Take `fresh` as this cache's file, then run the pending mutations on top of it."""
        with self.lock:
            self.engine.dispose()
            for stale in (Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                stale.unlink(missing_ok=True)
            os.replace(fresh, self.path)
            self._open()
            with self.writing() as session:
                self._rebase(session, reverted=True)

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction at a time: committed on success, rolled back on any error."""
        with self.lock, self.sessions() as session, session.begin():
            yield session

    def read(self, fn: Callable[[Session], T]) -> T:
        """Run a read; the patient reads it makes are queued for the server's audit trail."""
        with self.lock, self.sessions() as session:
            session.info[tracking.READS] = events = []
            try:
                return fn(session)
            finally:
                session.rollback()
                if events:
                    self._queue_access(events)

    # --- state ------------------------------------------------------------------------------

    def get_state(self, key: str, default: Any = None, session: Session | None = None) -> Any:
        query = select(sync_state.c.value).where(sync_state.c.key == key)
        if session is not None:
            row = session.execute(query).first()
        else:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        return default if row is None else row[0]

    def set_state(self, key: str, value: Any, session: Session | None = None) -> None:
        statement = insert(sync_state).prefix_with("OR REPLACE").values(key=key, value=value)
        if session is not None:
            session.execute(statement)
            return
        with self.writing() as own:
            own.execute(statement)

    # --- mutations --------------------------------------------------------------------------

    def mutate(
        self,
        name: str,
        args: dict[str, Any],
        prepare: Callable[[Session, dict[str, Any]], dict[str, Any]] | None = None,
        then: Callable[[Session, dict[str, Any]], Any] | None = None,
    ) -> Any:
        """Run mutation `name` on the cache and queue it for the server, atomically.

        `prepare` may complete the arguments inside the transaction (an MRN from the leased
        block); `then(session, result)`, if given, reads what the mutation wrote in the same
        transaction and its answer is returned instead of the mutation's result. A rejection
        (DomainError, or pydantic's ValidationError for bad arguments) leaves nothing behind.
        """
        mutation = MUTATIONS[name]
        with self.writing() as session:
            if prepare is not None:
                args = prepare(session, args)
            parsed = mutation.args_model.model_validate(args)
            payload = parsed.model_dump(mode="json", exclude_unset=True)
            result = mutation.run(session, self.actor, parsed)
            self._enqueue(session, name, payload)
            return then(session, result) if then is not None else result

    def _queue_access(self, events: list[dict[str, Any]]) -> None:
        with self.writing() as session:
            self._enqueue(session, "record_access", {"events": events})

    def _enqueue(self, session: Session, name: str, args: dict[str, Any]) -> None:
        """Append a mutation to the outbox, inside the caller's transaction."""
        session.execute(
            insert(outbox).values(
                mutation_id=str(uuid.uuid4()),
                name=name,
                args=args,
                args_version=1,
                created_at=utcnow(),
                username=self.actor.username,
                status="pending",
            )
        )

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """The oldest outbox entries the server has not acknowledged, in order."""
        with self.engine.connect() as conn:
            result = conn.execute(
                select(outbox)
                .where(outbox.c.status == "pending")
                .order_by(outbox.c.seq)
                .limit(limit)
            )
            return [dict(r) for r in result.mappings()]

    def counts(self) -> dict[str, int]:
        """Pending changes (reads not counted), open conflicts, rejections needing attention."""
        with self.engine.connect() as conn:
            waiting = conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.status == "pending", outbox.c.name != "record_access")
            ).scalar_one()
            conflicts_table = CACHE_TABLES["patient_conflict"]
            conflicts = conn.execute(
                select(func.count())
                .select_from(conflicts_table)
                .where(conflicts_table.c.status == "open")
            ).scalar_one()
            rejected = conn.execute(
                select(func.count())
                .select_from(attention)
                .where(attention.c.dismissed_at.is_(None))
            ).scalar_one()
        return {"pending": waiting, "conflicts": conflicts, "attention": rejected}

    def acknowledge(self, outcomes: list[dict[str, Any]], visible_seq: int | None) -> None:
        """Record the server's answers: applied ones wait for the pull that shows them,
        rejected ones move to the needs-attention list."""
        now = utcnow()
        rejected = False
        with self.writing() as session:
            for outcome in outcomes:
                mid = str(outcome["mutation_id"])
                if outcome["status"] == "applied":
                    session.execute(
                        update(outbox)
                        .where(outbox.c.mutation_id == mid)
                        .values(status="applied", visible_seq=visible_seq, result=outcome["result"])
                    )
                    continue
                entry = session.execute(select(outbox).where(outbox.c.mutation_id == mid)).first()
                if entry is None:
                    continue
                error = outcome.get("error") or {}
                if entry.name == "record_access":  # not a change of the user's: nothing to redo
                    log.warning("the server refused access records: %s", error.get("message"))
                    session.execute(delete(outbox).where(outbox.c.mutation_id == mid))
                    continue
                session.execute(
                    insert(attention)
                    .prefix_with("OR REPLACE")
                    .values(
                        mutation_id=mid,
                        name=entry.name,
                        args=entry.args,
                        created_at=entry.created_at,
                        rejected_at=now,
                        code=error.get("code", "rejected"),
                        message=error.get("message", "The server refused this change."),
                        error=error,
                    )
                )
                session.execute(delete(outbox).where(outbox.c.mutation_id == mid))
                rejected = True
            if rejected:  # take its effects out of the cache
                self._revert(session)
            self._rebase(session, reverted=rejected)
            self.set_state("last_sync_at", now.isoformat(), session)

    def rejections(self) -> list[dict[str, Any]]:
        """Changes the server refused, newest first, until the user dismisses them."""
        with self.engine.connect() as conn:
            result = conn.execute(
                select(attention)
                .where(attention.c.dismissed_at.is_(None))
                .order_by(attention.c.rejected_at.desc())
            )
            return [dict(r) for r in result.mappings()]

    def dismiss(self, mutation_id: str) -> None:
        """The user has seen a refused change and dealt with it."""
        with self.writing() as session:
            session.execute(
                update(attention)
                .where(attention.c.mutation_id == mutation_id)
                .values(dismissed_at=utcnow())
            )

    # --- applying the server's changes ------------------------------------------------------

    def apply_pull(
        self,
        after: int,
        changes: list[Change],
        last_seq: int,
        tables: list[str] | None,
    ) -> bool:
        """Apply a pulled page on top of position `after`; False if another pull came first.

        An empty page with the scope unchanged (an idle long poll) only records the sync time.
        """
        with self.writing() as session:
            if self.last_seq(session) != after:
                return False
            self.set_state("last_sync_at", utcnow().isoformat(), session)
            held = self.get_state("tables", None, session)
            scope_changed = tables is not None and sorted(tables) != held
            if not changes and last_seq == after and not scope_changed:
                return True
            self._revert(session)
            if scope_changed:
                self._evict_tables(session, held, tables)
            conn = session.connection()
            rows.apply_rows(conn, ((c.table, str(c.id), c.op, c.data) for c in changes))
            self.set_state("last_seq", last_seq, session)
            self._rebase(session, reverted=True)
        return True

    def last_seq(self, session: Session | None = None) -> int:
        """The change-log position this copy holds everything up to (0 before the first)."""
        return int(self.get_state("last_seq", 0, session) or 0)

    def _evict_tables(self, session: Session, held: list[str] | None, tables: list[str]) -> None:
        for table in set(held or ()) - set(tables):
            rows.clear_table(session.connection(), table)
        self.set_state("tables", sorted(tables), session)

    def _revert(self, session: Session) -> None:
        """Put every row a local mutation touched back to the server's version."""
        conn = session.connection()
        saved = conn.execute(select(pristine)).all()
        if not saved:
            return
        rows.restore_rows(conn, [(r.table_name, r.row_id, r.data) for r in saved])
        conn.execute(delete(pristine))
        tracking.forget_captures(session)
        session.expire_all()

    def _rebase(self, session: Session, reverted: bool = False) -> None:
        """Forget acknowledged entries the cache now shows; run the others again on top."""
        last_seq = self.last_seq(session)
        session.execute(
            delete(outbox).where(
                outbox.c.status == "applied",
                (outbox.c.visible_seq.is_(None)) | (outbox.c.visible_seq <= last_seq),
            )
        )
        if not reverted:
            return  # rows unchanged: the local effects still stand
        replay = session.execute(
            select(outbox).where(outbox.c.name != "record_access").order_by(outbox.c.seq)
        ).all()
        for entry in replay:
            self._replay(session, entry)

    def _replay(self, session: Session, entry: Any) -> None:
        mutation = MUTATIONS.get(entry.name)
        if mutation is None:
            return
        try:
            parsed = mutation.args_model.model_validate(entry.args)
            with tracking.savepoint(session):
                mutation.run(session, self.actor, parsed)
        except (DomainError, ValidationError) as exc:
            log.info("pending %s no longer applies locally: %s", entry.name, exc)
