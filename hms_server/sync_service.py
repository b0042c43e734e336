"""The server side of sync: apply pushed mutations exactly once, serve changes and snapshots."""

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError
from sqlalchemy import TextClause, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hms_core import SCHEMA_VERSION
from hms_core.db import AppliedMutation, ChangeLog, SyncClient
from hms_core.db.base import utcnow
from hms_core.schemas.errors import field_errors
from hms_core.services import Actor, DomainError
from hms_core.services.counters import MRN_COUNTER, take_numbers
from hms_core.sync.protocol import (
    Change,
    MutationEnvelope,
    MutationError,
    MutationOutcome,
    PullResponse,
    PushRequest,
    PushResponse,
)
from hms_core.sync.registry import MUTATIONS
from hms_core.sync.scopes import ROW_FILTERS, replicated_tables, scopes_for
from hms_server import changelog
from hms_server.changelog import LAST_SEQ
from hms_server.db import Database

log = logging.getLogger(__name__)
MRN_BLOCK_SIZE = 1000


class ChangesCompacted(Exception):
    """The requested position is older than the change log keeps."""


def push(db: Database, actor: Actor, request: PushRequest) -> PushResponse:
    """Apply a batch in order, in one transaction, each mutation in a savepoint."""
    results: list[MutationOutcome] = []
    try:
        with db.unit_of_work() as session:
            _touch_client(session, actor, request.client_id, request.schema_version)
            seen = _stored_outcomes(session, [m.mutation_id for m in request.mutations])
            replayed = any(o.status == "applied" for o in seen.values())
            for envelope in request.mutations:
                outcome = seen.get(envelope.mutation_id) or _apply_once(session, actor, envelope)
                seen[envelope.mutation_id] = outcome
                results.append(outcome)
            # Replayed answers: their effects committed earlier, at or below the newest seq.
            visible_by = changelog.newest_seq(session) if replayed else None
            if request.mutations:
                client = session.get(SyncClient, request.client_id)
                client.last_mutation_id = request.mutations[-1].mutation_id
    except (OperationalError, DBAPIError) as exc:
        if not _is_transient(exc):
            raise
        log.warning("push from %s stopped by a transient failure: %s", request.client_id, exc)
        first = request.mutations[0].mutation_id if request.mutations else None
        return PushResponse(
            results=[],
            stopped_at=first,
            retry_reason="The database was briefly unavailable; nothing in this batch was applied.",
            upgrade_required=request.schema_version < SCHEMA_VERSION,
            server_schema_version=SCHEMA_VERSION,
        )
    return PushResponse(
        results=results,
        upgrade_required=request.schema_version < SCHEMA_VERSION,
        server_schema_version=SCHEMA_VERSION,
        seq=session.info.get(LAST_SEQ) or visible_by,
    )


def _is_transient(exc: DBAPIError) -> bool:
    """Connection losses, serialization failures and deadlocks are worth retrying."""
    code = getattr(exc.orig, "sqlstate", None) or ""
    if isinstance(exc, OperationalError) and not code:
        return True  # the database could not be reached at all
    return exc.connection_invalidated or code.startswith(("08", "40", "57P"))


def _touch_client(
    session: Session, actor: Actor, client_id: str, schema_version: int | None = None
) -> SyncClient:
    client = session.get(SyncClient, client_id, with_for_update=True)
    if client is None:
        client = SyncClient(id=client_id, last_pulled_seq=0)
        session.add(client)
    client.user_id, client.username = actor.user_id, actor.username
    if schema_version is not None:
        client.schema_version = schema_version
    client.last_seen_at = utcnow()
    session.flush()
    return client


def _stored_outcomes(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, MutationOutcome]:
    """The outcomes already stored for any of these mutation ids (one query per batch)."""
    if not ids:
        return {}
    stored = session.execute(select(AppliedMutation).where(AppliedMutation.mutation_id.in_(ids)))
    return {r.mutation_id: _outcome(r) for r in stored.scalars()}


def _apply_once(session: Session, actor: Actor, envelope: MutationEnvelope) -> MutationOutcome:
    """Run a mutation the server has not seen and store its outcome."""
    status, result, error = _run(session, actor, envelope)
    record = AppliedMutation(
        mutation_id=envelope.mutation_id,
        client_id=actor.client_id,
        name=envelope.name,
        status=status,
        result=result,
        error=error.model_dump() if error else None,
    )
    session.add(record)
    session.flush()
    outcome = _outcome(record)
    session.expunge_all()  # a batch of 500 must not make every later flush scan 500 mutations
    return outcome


def _run(
    session: Session, actor: Actor, envelope: MutationEnvelope
) -> tuple[str, dict[str, Any], MutationError | None]:
    mutation = MUTATIONS.get(envelope.name)
    if mutation is None:
        return (
            "rejected",
            {},
            MutationError(
                code="unknown_mutation", message=f"This server does not know {envelope.name!r}."
            ),
        )
    try:
        args = mutation.args_model.model_validate(envelope.args)
    except ValidationError as exc:
        fields = {e.field: e.message for e in field_errors(exc)}
        return (
            "rejected",
            {},
            MutationError(
                code="validation_error", message="The data was not valid.", fields=fields
            ),
        )
    try:
        with changelog.savepoint(session):
            return "applied", mutation.run(session, actor, args), None
    except DomainError as exc:
        return (
            "rejected",
            {},
            MutationError(code=exc.code, message=exc.message, fields=exc.fields, detail=exc.detail),
        )
    except IntegrityError as exc:
        log.info(
            "mutation %s rejected by a database constraint: %s", envelope.mutation_id, exc.orig
        )
        return (
            "rejected",
            {},
            MutationError(
                code="conflict", message="This change clashes with data already on the server."
            ),
        )


def _outcome(record: AppliedMutation) -> MutationOutcome:
    return MutationOutcome(
        mutation_id=record.mutation_id,
        status=record.status,  # type: ignore[arg-type]
        result=record.result or {},
        error=MutationError.model_validate(record.error) if record.error else None,
    )


def compaction_horizon(session: Session) -> int:
    """Changes at or below this seq may have been compacted away."""
    oldest = session.execute(select(func.min(ChangeLog.seq))).scalar_one_or_none()
    return 0 if oldest is None else oldest - 1


def pull(session: Session, actor: Actor, client_id: str, after: int, limit: int) -> PullResponse:
    """Changes after `after` in the actor's scopes, in commit order."""
    if after < compaction_horizon(session):
        raise ChangesCompacted
    scopes = sorted(scopes_for(actor.role))
    # Read the newest position first: seqs are given in commit order, so every change up to it
    # is committed; once this client has all of ITS changes up to it, it is caught up to it, even
    # when the newest changes are out of its scope (else its applied outbox entries, whose
    # visible position is a commit's last seq, would wait for an unrelated change to clear).
    high = changelog.newest_seq(session)
    rows = (
        session.execute(
            select(ChangeLog)
            .where(ChangeLog.seq > after, ChangeLog.seq <= high, ChangeLog.scope.in_(scopes))
            .order_by(ChangeLog.seq)
            .limit(limit + 1)
        )
        .scalars()
        .all()
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    changes = [
        Change(
            seq=r.seq,
            table=r.table_name,
            id=r.row_id,
            op=r.op,
            row_version=r.row_version,
            data=r.data,
        )
        for r in rows
    ]
    last_seq = rows[-1].seq if has_more else max(high, after)
    client = session.get(SyncClient, client_id)
    if client is not None:
        client.last_pulled_seq, client.last_seen_at = last_seq, utcnow()
    return PullResponse(
        changes=changes,
        last_seq=last_seq,
        has_more=has_more,
        tables=replicated_tables(actor.role),
    )


def snapshot_lines(db: Database, actor: Actor) -> Iterator[bytes]:
    """Every row in scope as of one consistent moment, as JSON lines (see the protocol).

    PostgreSQL renders each row as JSON itself (`row_to_json`), so a snapshot of 100,000
    patients streams without building a Python object per row.
    """
    tables = replicated_tables(actor.role)
    with db.sessions() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        watermark = changelog.newest_seq(session)
        yield _line({"kind": "snapshot", "seq": watermark, "tables": tables})
        count = 0
        for table in tables:
            prefix = b'{"kind":"row","table":"' + table.encode() + b'","data":'
            result = session.execute(_rows_as_json(table), execution_options={"yield_per": 5000})
            for partition in result.partitions():
                count += len(partition)
                yield b"".join(prefix + row[0].encode() + b"}\n" for row in partition)
        yield _line({"kind": "end", "rows": count})
        session.rollback()


def _rows_as_json(table: str) -> TextClause:
    """SELECT each in-scope row of `table` as JSON text (table and column names are ours)."""
    where = ""
    rule = ROW_FILTERS.get(table)
    if rule is not None:
        where = f" WHERE t.{rule[0]} = :value"
    # Null columns are left out (a client reads them as null): half the bytes for patients.
    statement = text(f"SELECT json_strip_nulls(row_to_json(t))::text FROM {table} AS t{where}")  # noqa: S608
    return statement.bindparams(value=rule[1]) if rule else statement


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def lease_mrn_block(session: Session, actor: Actor, client_id: str) -> tuple[int, int]:
    """Reserve a block of MRN serials for a client to hand out while offline."""
    block = take_numbers(session, MRN_COUNTER, MRN_BLOCK_SIZE)
    client = _touch_client(session, actor, client_id)
    client.mrn_block_start, client.mrn_block_end = block.start, block.stop
    return block.start, block.stop
