"""Allocating human-facing numbers from named counters, safely under concurrency."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from hms_core.db.counters import NumberSequence
from hms_core.rules.mrn import make_mrn

MRN_COUNTER = "mrn"
FIRST_MRN_SERIAL = 1_000_000


def take_numbers(session: Session, name: str, count: int = 1, start: int = 1) -> range:
    """Reserve `count` consecutive values of counter `name` (row-locked until commit)."""
    stop = session.execute(
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(next_value=NumberSequence.next_value + count)
        .returning(NumberSequence.next_value)
    ).scalar_one_or_none()
    if stop is None:
        session.add(NumberSequence(name=name, next_value=start + count))
        session.flush()
        stop = start + count
    return range(stop - count, stop)


def next_mrn(session: Session) -> str:
    serial = take_numbers(session, MRN_COUNTER, 1, start=FIRST_MRN_SERIAL)[0]
    return make_mrn(serial)
