"""Server-side sync bookkeeping: installed clients, applied mutations, the change log."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, utcnow


class SyncClient(Base):
    """One installed desktop."""

    __tablename__ = "sync_client"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID | None]
    username: Mapped[str] = mapped_column(String(64), default="")
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_pulled_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_mutation_id: Mapped[uuid.UUID | None]
    schema_version: Mapped[int] = mapped_column(Integer, default=0)
    mrn_block_start: Mapped[int | None] = mapped_column(BigInteger)
    mrn_block_end: Mapped[int | None] = mapped_column(BigInteger)


class AppliedMutation(Base):
    """The stored outcome of every pushed mutation, so a replay returns the same answer."""

    __tablename__ = "applied_mutation"

    mutation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # applied | rejected
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[dict | None] = mapped_column(JSON)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeLog(Base):
    """Every change of a replicated row, numbered in commit order (see hms_server.changelog)."""

    __tablename__ = "change_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[uuid.UUID]
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete
    scope: Mapped[str] = mapped_column(String(32))
    row_version: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_change_log_scope_seq", "scope", "seq"),)
