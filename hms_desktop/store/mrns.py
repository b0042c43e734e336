"""MRN serials leased from the server, so a patient registered offline keeps the printed MRN."""

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from hms_core.rules.mrn import make_mrn
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.schema import mrn_block

BLOCK_SIZE = 1000
REFILL_BELOW = BLOCK_SIZE // 5  # lease another block when 20% remain


class NoMrnLeft(Exception):
    """This PC has handed out every MRN it may give while offline."""


def remaining(store: LocalStore) -> int:
    with store.engine.connect() as conn:
        left = conn.execute(select(func.sum(mrn_block.c.stop - mrn_block.c.next))).scalar()
    return int(left or 0)


def add_block(store: LocalStore, start: int, stop: int) -> None:
    with store.writing() as session:
        session.execute(
            insert(mrn_block).prefix_with("OR IGNORE").values(start=start, stop=stop, next=start)
        )


def take_mrn(session: Session) -> str:
    """The next leased MRN, taken inside the caller's transaction (returned on rollback)."""
    block = session.execute(
        select(mrn_block).where(mrn_block.c.next < mrn_block.c.stop).order_by(mrn_block.c.start)
    ).first()
    if block is None:
        raise NoMrnLeft(
            "This computer has used all the patient numbers it may give out while the server "
            "is unreachable. Reconnect to the server to register more patients."
        )
    session.execute(
        update(mrn_block).where(mrn_block.c.start == block.start).values(next=block.next + 1)
    )
    return make_mrn(block.next)
