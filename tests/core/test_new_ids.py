"""Batch UUIDv7 ids for bulk inserts: valid version-7 UUIDs, unique, ascending within and
across batches, and in the millisecond they were made."""

import time
import uuid

from hms_core.db.base import new_ids


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def test_a_batch_is_unique_ascending_version_7_ids_of_now():
    before = time.time_ns() // 1_000_000
    ids = new_ids(1000)
    after = time.time_ns() // 1_000_000
    assert len(ids) == len(set(ids)) == 1000
    assert ids == sorted(ids)
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    assert before <= _millis(ids[0]) <= after + 1


def test_batches_made_back_to_back_keep_ascending():
    batches = [new_ids(50) for _ in range(200)]
    flat = [i for batch in batches for i in batch]
    assert flat == sorted(flat) and len(set(flat)) == len(flat)


def test_an_empty_batch_is_empty():
    assert new_ids(0) == []
