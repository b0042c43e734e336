"""The tables of a desktop's SQLite cache: replicated rows, and the client's own bookkeeping.

Replicated tables are copies of hms_core's definitions without unique constraints or foreign
keys: the server is the authority on those, and rows arrive one change at a time, so a copy
may be briefly inconsistent in ways the server never is. Their column types are hms_core's, so
the domain services read them through the ORM exactly as they were written (SQLite keeps
their datetimes as naive UTC).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from hms_core.db import Base
from hms_core.sync.scopes import TABLE_SCOPES

CACHE_SCHEMA_VERSION = 5
LOCAL_ONLY_TABLES = ("patient_name_token",)  # derived on the client, never replicated


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes in SQLite (which has no such type) as ISO text."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()

    def process_result_value(self, value: str | None, dialect: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)


def _copy(table: Table, metadata: MetaData) -> Table:
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in table.columns
    ]
    copy = Table(table.name, metadata, *columns)
    for index in table.indexes:
        Index(index.name, *[copy.c[c.name] for c in index.columns])  # never unique here
    for column in table.columns:
        if column.unique:  # looked up by value (an MRN, a code): indexed, not enforced
            Index(f"ix_{table.name}_{column.name}", copy.c[column.name])
    return copy


cache_metadata = MetaData()
CACHE_TABLES: dict[str, Table] = {
    name: _copy(Base.metadata.tables[name], cache_metadata)
    for name in (*TABLE_SCOPES, *LOCAL_ONLY_TABLES)
}

outbox = Table(
    "outbox",
    cache_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("mutation_id", String(36), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("args", JSON, nullable=False),
    Column("args_version", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("status", String(12), nullable=False, default="pending"),  # pending | applied
    Column("visible_seq", BigInteger),  # applied: pulls past this hold its effects
    Column("result", JSON),
)

attention = Table(
    "attention",
    cache_metadata,
    Column("mutation_id", String(36), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("args", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("rejected_at", UtcDateTime, nullable=False),
    Column("code", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("error", JSON, nullable=False),
    Column("dismissed_at", UtcDateTime),
)

pristine = Table(
    "pristine",
    cache_metadata,
    Column("table_name", String(64), primary_key=True),
    Column("row_id", String(36), primary_key=True),
    Column("data", JSON),  # the server's version of the row; null = the server has no such row
)

sync_state = Table(
    "sync_state",
    cache_metadata,
    Column("key", String(40), primary_key=True),
    Column("value", JSON),
)

mrn_block = Table(
    "mrn_block",
    cache_metadata,
    Column("start", BigInteger, primary_key=True),
    Column("stop", BigInteger, nullable=False),
    Column("next", BigInteger, nullable=False),
)

local_login = Table(
    "local_login",
    cache_metadata,
    Column("username", String(64), primary_key=True),
    Column("verifier", String(255), nullable=False),  # argon2id hash of the password
    Column("user", JSON, nullable=False),  # UserOut with the permission snapshot
    Column("online_at", UtcDateTime, nullable=False),
)

# Survive a rebuild from a snapshot: what the client has not yet handed to the server.
KEPT_ON_REBUILD = ("outbox", "attention", "mrn_block", "local_login")
STATE_KEPT_ON_REBUILD = ("hospital_profile",)  # sync_state keys the server does not resend
