"""Declarative base and the column mixins every replicated table shares."""

import os
import threading
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid6 import uuid7

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7, safe to mint on any client without coordination."""
    return uuid.UUID(bytes=uuid7().bytes)


_UUID7_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)
_RAND_A_SHIFT, _RAND_B_MASK = 64, (1 << 62) - 1
_batch_lock = threading.Lock()
_batch_last_ms = 0


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7 at once, ascending (for bulk inserts): one clock read and one call for
    random bits for the whole batch, where `new_id` costs both per id. Successive batches are
    ascending too (a batch in the same millisecond as the last one takes the next one)."""
    global _batch_last_ms
    if count <= 0:
        return []
    with _batch_lock:
        ms = max(time.time_ns() // 1_000_000, _batch_last_ms + 1)
        _batch_last_ms = ms
    prefix = (ms & 0xFFFFFFFFFFFF) << 80 | _UUID7_VERSION_VARIANT
    noise = os.urandom(10 * count)  # 74 random bits per id: 12 in rand_a, 62 in rand_b
    randoms = sorted(set(int.from_bytes(noise[i : i + 10]) >> 6 for i in range(0, 10 * count, 10)))
    while len(randoms) < count:  # a repeat among 74-bit randoms: practically never
        randoms = sorted({*randoms, int.from_bytes(os.urandom(10)) >> 6})
    return [
        uuid.UUID(int=prefix | (r >> 62) << _RAND_A_SHIFT | (r & _RAND_B_MASK)) for r in randoms
    ]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReplicatedMixin(IdMixin, TimestampMixin):
    """A row the sync protocol replicates: versioned, soft-deleted, never hard-deleted."""

    row_version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    def bump_version(self) -> None:
        self.row_version = (self.row_version or 0) + 1
