"""The sync wire contract.

A desktop records every write as a *mutation*: a named service call from
`hms_core.sync.registry` with JSON arguments, run at once against its SQLite cache and kept in
its outbox. It later pushes outbox entries to the server, which runs the same service against
PostgreSQL under the user's permissions.

Guarantees
- `POST /sync/push` applies a batch in order, each mutation in its own savepoint. A mutation
  id the server has seen before returns the stored outcome and is never applied twice.
- A business rejection (invalid data, a permission the role lacks, a conflict) is stored and
  returned with its reason; it never blocks the mutations after it.
- A transient failure (the database unavailable, a serialization failure) stops the batch:
  `results` holds the mutations before it, `stopped_at` names the first one not processed,
  and the client pushes it again later. Nothing after it was applied.
- The push answer's `seq` is the change-log position at which the batch's effects are visible:
  once a pull has passed it, the client's copy holds them (null when nothing changed).
- `GET /sync/pull?after=SEQ&limit=N[&wait=S]` returns changed rows in the client's scope in
  commit order (`seq` strictly increases, and no later-committed row has a smaller seq than
  one already served). Each change is a whole row (`upsert`), its tombstone (`delete`), or an
  `evict`: the row left the client's scope (an open conflict was resolved) and must be
  removed from the copy. With `wait`, an empty answer is held up to S seconds until a change
  commits (long poll). `tables` lists the tables in the client's scope now: a table the client
  holds but that is not listed left its scope (the user's role changed) and must be emptied.
- `410 Gone` answers a pull whose `after` is older than the change log keeps: take a snapshot.
- `GET /sync/snapshot` streams every row in scope as of one consistent moment, as JSON lines:
  a header `{"kind": "snapshot", "seq": S, "tables": [...]}`, then `{"kind": "row", ...}` lines,
  then `{"kind": "end", "rows": N}`. Continue with pulls after `S`.
- Every request carries the client's schema version; an older client is told to upgrade
  (`upgrade_required` in the push answer) but its pushes are still accepted.
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PUSH_BATCH = 500
MAX_PULL_LIMIT = 5000
MAX_PULL_WAIT_SECONDS = 30


class MutationEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mutation_id: uuid.UUID
    name: str = Field(max_length=64)
    args: dict[str, Any]
    args_version: int = 1
    created_at: datetime | None = None


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=64)
    schema_version: int
    mutations: list[MutationEnvelope] = Field(max_length=MAX_PUSH_BATCH)


class MutationError(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}
    detail: dict[str, Any] = {}


class MutationOutcome(BaseModel):
    mutation_id: uuid.UUID
    status: Literal["applied", "rejected"]
    result: dict[str, Any] = {}
    error: MutationError | None = None


class PushResponse(BaseModel):
    results: list[MutationOutcome]
    stopped_at: uuid.UUID | None = Field(
        default=None, description="First mutation not processed after a transient failure."
    )
    retry_reason: str | None = None
    upgrade_required: bool = False
    server_schema_version: int
    seq: int | None = Field(
        default=None, description="Change-log position where this batch's effects are visible."
    )


class Change(BaseModel):
    seq: int
    table: str
    id: uuid.UUID
    op: Literal["upsert", "delete", "evict"]
    row_version: int
    data: dict[str, Any]


class PullResponse(BaseModel):
    changes: list[Change]
    last_seq: int = Field(description="Pull again with after=last_seq.")
    has_more: bool
    tables: list[str] = Field(default_factory=list, description="Tables in the client's scope.")
