"""What a unit of work carries besides rows: domain events, and whether it runs on a
desktop's copy (provisional) or on the server (authoritative).

Services emit events ("appointment.booked") instead of sending anything themselves: the server
turns them into notifications inside the same transaction (an outbox), and a desktop's cache
simply drops them. A savepoint that rolls back forgets the events emitted inside it.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

EVENTS = "hms_domain_events"
PROVISIONAL = "hms_provisional"


@dataclass(frozen=True)
class DomainEvent:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def emit(session: Session, kind: str, **data: Any) -> None:
    """Record that something happened, for whoever listens at commit (the server)."""
    session.info.setdefault(EVENTS, []).append(DomainEvent(kind, data))


def take_events(session: Session) -> list[DomainEvent]:
    """The events emitted so far, removed from the session."""
    return session.info.pop(EVENTS, None) or []


def is_provisional(session: Session) -> bool:
    """True on a desktop's copy: what is decided here the server may still refuse."""
    return bool(session.info.get(PROVISIONAL))
