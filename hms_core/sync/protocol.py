"""The sync wire contract: everything a third party needs to write an hms client.

Transport
- JSON over HTTP. Every request carries `Authorization: Bearer <token>` (from
  `POST /api/auth/login {"username", "password"}` -> `{"token", "expires_at", "user"}`) and
  `X-HMS-Client: <client id>`, a stable id of the installed client (at most 64 characters).
  The role behind the token needs `sync.use`. Errors are `{"error": {"code", "message",
  "fields": [{"field", "message"}], "detail"}}` with the HTTP status: 401 `session_expired`
  (sign in again), 403 `forbidden`, 410 `snapshot_required`, 413 `too_large`, 422
  `validation_error`.

Writes are mutations
A client records every write as a *mutation*: a named service call from
`hms_core.sync.registry.MUTATIONS` with JSON arguments (the pydantic `args_model` of each one
is the schema; `/openapi.json` has none of them, read the registry). The client runs it at once
against its own copy and keeps it in an outbox; later it pushes outbox entries and the server
runs the same function against PostgreSQL under the user's permissions. Arguments carry every
identifier the mutation creates (UUIDv7 ids of new rows, the MRN from the client's leased
block), so running one twice, or on two machines, makes the same rows.
    register_patient {"patient": PatientCreate, "mrn": "10000016"}
    update_patient   {"patient_id", "changes": PatientUpdate (only the fields changed, with
                      expected_row_version), "base": {field: value the edit started from,
                      "allergy_ids": [...]}}
    confirm_same_patient {"patient_id"}        resolve_conflict ConflictResolution
    unmerge_patient {"patient_id"}             record_access {"events": [{"action":
                      "patient.read" | "patient.search", "at", "patient_id", "detail"}]}

POST /sync/push
    request  {"client_id", "schema_version", "mutations": [{"mutation_id": uuid, "name",
              "args", "args_version": 1}]}                       (at most MAX_PUSH_BATCH)
    answer   {"results": [{"mutation_id", "status": "applied" | "rejected", "result",
              "error": {"code", "message", "fields", "detail"} | null}], "stopped_at",
              "retry_reason", "upgrade_required", "server_schema_version", "seq"}
- Mutations are applied in order, each in its own savepoint. A mutation id the server has seen
  before returns the stored outcome and is never applied twice: after a lost answer, push the
  same ids again.
- A business rejection (invalid data, a permission the role lacks, an unknown mutation) is
  stored and returned with its reason; it never blocks the mutations after it. The client
  removes the rejected mutation's effects from its copy and shows the reason to a person.
- A transient failure (the database unavailable, a serialization failure) stops the batch:
  `results` is empty, `stopped_at` names the first mutation not processed, nothing in the
  batch was applied, and the client pushes the same batch again later.
- `seq` is the change-log position at which the batch's effects are visible: once a pull has
  passed it, the client's copy holds them (null when nothing replicated changed).
- Edits merge instead of failing: with `base`, an `update_patient` whose
  `expected_row_version` is stale keeps fields changed only elsewhere, applies fields changed
  only here, lets the later arrival win a low-risk field changed on both sides, and keeps the
  server's value of an identity field (names, date of birth, sex) changed on both sides while
  opening a `patient_conflict` for a person. A registration that looks like a patient
  registered elsewhere meanwhile is kept, and a `duplicate` conflict is opened.

GET /sync/pull?after=SEQ&limit=N&wait=S
    answer   {"changes": [{"seq", "table", "id", "op": "upsert" | "delete" | "evict",
              "row_version", "data": {column: value}}], "last_seq", "has_more", "tables"}
- Changed rows in the client's scope after `after`, in commit order: `seq` strictly increases
  and no later-committed row has a smaller seq than one already served. `upsert` carries the
  whole row (UUIDs and dates as strings, datetimes ISO 8601 with offset); `delete` its
  tombstone; `evict` says the row left the client's scope (a resolved conflict) and must be
  removed from the copy. `tables` lists the tables in the client's scope now: a table the
  client holds but that is not listed left its scope (the user's role changed): empty it.
- Pull again with `after=last_seq` while `has_more`. With `wait` (at most
  MAX_PULL_WAIT_SECONDS), an empty answer is held until a change commits: a long poll that
  brings a change made on another client within milliseconds.
- `410 snapshot_required`: `after` is older than the change log keeps; take a snapshot.

GET /sync/snapshot  (application/x-ndjson)
    {"kind": "snapshot", "seq": S, "tables": [...]}
    {"kind": "row", "table": "patient", "data": {...}}          (one line per row)
    {"kind": "end", "rows": N}
- Every row in scope as of one consistent moment (REPEATABLE READ); a column that is null
  is left out of `data`. A stream without its
  `end` line was cut off: discard it. Load it into a new copy, keep the outbox, then pull
  after S and run the pending mutations again on top.

POST /sync/mrn-block  -> {"start", "stop"}
- Reserves MRN serials [start, stop) for registrations made offline; the MRN is
  `hms_core.rules.mrn.make_mrn(serial)`. Lease another block when 20% of one remain.

The client's loop (what hms_desktop does)
1. First contact: snapshot. 2. Push the outbox in order, in batches; record each answer:
rejected -> needs-attention list; applied -> kept until a pull passes the answer's `seq`.
3. Pull until `has_more` is false (long-poll when idle). 4. After applying pulled rows, put
every row the client's own pending mutations touched back to the server's version and run
those mutations again on top, so the copy is always "server + what is not yet confirmed".
Every request also carries the client's schema version; an older client is told to upgrade
(`upgrade_required`) but its pushes are still accepted.
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
