"""Allocating human-facing numbers from named counters, safely under concurrency."""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_core.db.counters import NumberSequence
from hms_core.rules.mrn import make_mrn

MRN_COUNTER = "mrn"
FIRST_MRN_SERIAL = 1_000_000


def take_numbers(session: Session, name: str, count: int = 1, start: int = 1) -> range:
    """Reserve `count` consecutive values of counter `name` (row-locked until commit, so a
    rollback gives them back). The first use creates the counter; when two transactions
    race to create it, the loser waits for the winner and then takes the next values."""
    stop = _advance(session, name, count)
    if stop is None:
        try:
            with session.begin_nested():
                session.add(NumberSequence(name=name, next_value=start + count))
                session.flush()
            stop = start + count
        except IntegrityError:
            stop = _advance(session, name, count)
            if stop is None:
                raise
    return range(stop - count, stop)


def _advance(session: Session, name: str, count: int) -> int | None:
    """Move the counter on by `count`; its new next value (None: no such counter yet)."""
    return session.execute(
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(next_value=NumberSequence.next_value + count)
        .returning(NumberSequence.next_value)
    ).scalar_one_or_none()


def next_mrn(session: Session) -> str:
    serial = take_numbers(session, MRN_COUNTER, 1, start=FIRST_MRN_SERIAL)[0]
    return make_mrn(serial)
