"""In-memory monitoring state (alarm trackers, NEWS2 scorers) must not believe in rows whose
transaction rolled back: `on_rollback` calls the owner back when that happens."""

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction


def on_rollback(session: Session, owner: object, callback: Callable[[], None]) -> None:
    """Call `callback` if `session`'s outermost transaction rolls back (once per owner)."""
    key = ("hms_rollback_watch", id(owner))
    if key in session.info:
        return
    session.info[key] = True

    def rolled_back(_session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            callback()

    event.listen(session, "after_soft_rollback", rolled_back)
