"""Allocating human-facing numbers from named counters, safely under concurrency."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.counters import NumberSequence
from hms_core.rules.mrn import make_mrn

MRN_COUNTER = "mrn"
FIRST_MRN_SERIAL = 1_000_000


def take_numbers(session: Session, name: str, count: int = 1, start: int = 1) -> range:
    """Reserve `count` consecutive values of counter `name` (row-locked until commit)."""
    row = session.execute(
        select(NumberSequence).where(NumberSequence.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = NumberSequence(name=name, next_value=start)
        session.add(row)
        session.flush()
    first = row.next_value
    row.next_value = first + count
    session.flush()
    return range(first, first + count)


def next_mrn(session: Session) -> str:
    serial = take_numbers(session, MRN_COUNTER, 1, start=FIRST_MRN_SERIAL)[0]
    return make_mrn(serial)
