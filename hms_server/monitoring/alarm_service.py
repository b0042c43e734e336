"""Bedside alarms on the server: one AlarmTracker per patient fed by the gateway, each alarm
persisted as an `alarm_event` row from start to end and sent live to the central stations.

Runtime state lives in this process (the gateway's): per patient the tracker, its limits (read
once, again after `limits_changed` or every `refresh_seconds`) and the ids of its open rows.
Open rows left by an earlier run are re-adopted on first use, so an alarm that is still there
keeps its row (and its acknowledgement) and one that is gone ends at the next reading; a
re-adopted alarm whose monitor stays silent turns into a no-data alarm after the usual wait.
Open no-data alarms are ended on start (whether the monitor is still silent is not known yet;
if it is, the alarm is raised again after the wait).
If a transaction that wrote alarm rows rolls back, the memory is rebuilt the same way (open
rows re-adopted), so no alarm is believed stored that is not. A patient who is no longer
admitted and has sent nothing for the no-data wait is dropped and their alarms end, so nothing
stays open forever.
"""

import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.base import new_id
from hms_core.db.inpatients import Admission
from hms_core.db.monitoring import AlarmEvent
from hms_core.rules.alarms import NO_DATA, AlarmTracker, Condition, Transition
from hms_core.services.alarms import alarm_event_payload, limits_for, ward_of_bed
from hms_server.monitoring.model import ObservedValue
from hms_server.monitoring.rollback import on_rollback

Key = tuple[str, str]


@dataclass
class _Patient:
    """One patient's alarm state in this process."""

    tracker: AlarmTracker
    loaded_at: datetime
    bed_id: uuid.UUID | None = None
    ward_id: uuid.UUID | None = None
    rows: dict[Key, uuid.UUID] = field(default_factory=dict)  # open alarm_event ids
    stale: bool = False  # limits must be read again
    last_reading: datetime | None = None


_SERVICES: "weakref.WeakSet[AlarmService]" = weakref.WeakSet()


def limits_changed(patient_ids: Iterable[uuid.UUID]) -> None:
    """Limits of these patients were committed: every alarm service here reads them again."""
    for service in list(_SERVICES):
        for patient_id in patient_ids:
            service.limits_changed(patient_id)


class AlarmService:
    """Turns monitor readings into alarms; a processor and a ticker of the gateway's ingest."""

    def __init__(self, *, refresh_seconds: float = 30.0) -> None:
        self.refresh = timedelta(seconds=refresh_seconds)
        self.patients: dict[uuid.UUID, _Patient] = {}
        self._adopted = False
        self._lock = threading.Lock()  # the ingest may call from more than one thread
        _SERVICES.add(self)

    # ------------------------------------------------------------------ processor / ticker

    def observe(self, session: Session, values: list[ObservedValue], now: datetime) -> list[dict]:
        """Feed matched readings (artefact zeros too) to the trackers; return `alarm` events."""
        with self._lock, self._undone_on_failure(session):
            return self._observe(session, values, now)

    def _observe(self, session: Session, values: list[ObservedValue], now: datetime) -> list[dict]:
        events = self._adopt(session, now)
        seen: dict[uuid.UUID, _Patient] = {}  # each patient's state looked up once per call
        for value in values:
            reading, place = value.reading, value.placement
            if place.patient_id is None or reading.value is None:
                continue
            if reading.artefact and reading.value != 0:
                continue
            state = seen.get(place.patient_id)
            if state is None:
                state = seen[place.patient_id] = self._state(session, place.patient_id, now)
                state.last_reading = now
            if place.bed_id is not None and place.bed_id != state.bed_id:
                state.bed_id, state.ward_id = place.bed_id, place.ward_id
            # server time, as tick() uses: a monitor's clock may be off
            found = state.tracker.observe(reading.parameter, reading.value, now)
            events += self._persist(session, place.patient_id, state, found)
        return events

    def tick(self, session: Session, now: datetime) -> list[dict]:
        """Time passes: delays run out, silent monitors raise no-data alarms."""
        with self._lock, self._undone_on_failure(session):
            return self._tick(session, now)

    def _tick(self, session: Session, now: datetime) -> list[dict]:
        events = self._adopt(session, now)
        for patient_id, state in list(self.patients.items()):
            if self._gone(session, patient_id, state, now):
                events += self._drop(session, patient_id, state, now)
                continue
            self._refresh(session, patient_id, state, now)
            events += self._persist(session, patient_id, state, state.tracker.tick(now))
        return events

    def limits_changed(self, patient_id: uuid.UUID) -> None:
        """The patient's limits were edited: read them again before the next reading."""
        state = self.patients.get(patient_id)
        if state is not None:
            state.stale = True

    def reset(self) -> None:
        """Forget everything; the next call re-adopts the open alarms from the database."""
        self.patients = {}
        self._adopted = False

    @contextmanager
    def _undone_on_failure(self, session: Session) -> Iterator[None]:
        """Rows written here may be rolled back (by our failure or the whole transaction):
        then the memory is rebuilt from what the database really holds."""
        on_rollback(session, self, self.reset)
        try:
            yield
        except BaseException:
            self.reset()
            raise

    def active(self, patient_id: uuid.UUID) -> list[Condition]:
        """The conditions alarming now for a patient (for diagnostics and tests)."""
        state = self.patients.get(patient_id)
        return list(state.tracker.active.values()) if state else []

    # ------------------------------------------------------------------ state

    def _state(self, session: Session, patient_id: uuid.UUID, now: datetime) -> _Patient:
        state = self.patients.get(patient_id)
        if state is None:
            state = _Patient(AlarmTracker(limits_for(session, patient_id)), now)
            self.patients[patient_id] = state
        else:
            self._refresh(session, patient_id, state, now)
        return state

    def _refresh(self, session: Session, patient_id: uuid.UUID, state: _Patient, now: datetime):
        if state.stale or now - state.loaded_at >= self.refresh:
            state.tracker.limits = limits_for(session, patient_id)
            state.loaded_at, state.stale = now, False

    def _gone(self, session: Session, patient_id: uuid.UUID, state: _Patient, now: datetime):
        """Discharged and silent: nobody is at this monitor any more."""
        quiet = timedelta(seconds=state.tracker.limits.no_data_seconds)
        if state.last_reading is not None and now - state.last_reading < quiet:
            return False
        if now - state.loaded_at < self.refresh:
            return False  # checked with the limits, not every tick
        stmt = select(Admission.id).where(
            Admission.patient_id == patient_id, Admission.discharged_at.is_(None)
        )
        return session.execute(stmt.limit(1)).first() is None

    def _drop(self, session: Session, patient_id: uuid.UUID, state: _Patient, now: datetime):
        del self.patients[patient_id]
        ended = [Transition(False, c, now) for c in state.tracker.active.values()]
        return self._persist(session, patient_id, state, ended)

    # ------------------------------------------------------------------ rows and events

    def _persist(
        self, session: Session, patient_id: uuid.UUID, state: _Patient, found: list[Transition]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for transition in found:
            row = (
                self._start(session, patient_id, state, transition)
                if transition.started
                else self._end(session, state, transition)
            )
            if row is not None:
                events.append(alarm_event_payload(row, state.ward_id))
        if events:
            session.flush()
        return events

    def _start(
        self, session: Session, patient_id: uuid.UUID, state: _Patient, transition: Transition
    ) -> AlarmEvent:
        c = transition.condition
        row = AlarmEvent(
            id=new_id(),
            patient_id=patient_id,
            bed_id=state.bed_id,
            kind=c.kind,
            priority=c.priority,
            parameter=c.parameter,
            condition=c.condition,
            message=c.message[:200],
            value=c.value,
            limit=c.limit,
            started_at=transition.at,
        )
        session.add(row)
        state.rows[c.key] = row.id
        return row

    def _end(self, session: Session, state: _Patient, transition: Transition) -> AlarmEvent | None:
        row_id = state.rows.pop(transition.condition.key, None)
        row = session.get(AlarmEvent, row_id) if row_id is not None else None
        if row is None or row.ended_at is not None:
            return None  # its insert was rolled back, or someone ended it already
        row.ended_at = transition.at
        return row

    def _adopt(self, session: Session, now: datetime) -> list[dict[str, Any]]:
        """Once per process: take over the alarms a previous run left open."""
        if self._adopted:
            return []
        self._adopted = True
        events: list[dict[str, Any]] = []
        stmt = select(AlarmEvent).where(AlarmEvent.ended_at.is_(None))
        for row in session.execute(stmt.order_by(AlarmEvent.started_at)).scalars():
            key = (row.parameter, row.kind)
            state = self._state(session, row.patient_id, now) if row.patient_id else None
            if state is None or key in state.rows or row.condition == NO_DATA:
                row.ended_at = now  # unplaceable, a duplicate, or about silence now unknown
                events.append(alarm_event_payload(row, ward_of_bed(session, row.bed_id)))
                continue
            if state.bed_id is None and row.bed_id is not None:
                state.bed_id, state.ward_id = row.bed_id, ward_of_bed(session, row.bed_id)
            state.tracker.active[key] = _condition(row)
            state.tracker.last_seen.setdefault(row.parameter, now)
            state.rows[key] = row.id
        if events:
            session.flush()
        return events


def _condition(row: AlarmEvent) -> Condition:
    return Condition(
        row.parameter, row.condition, row.priority, row.kind, row.message, row.value, row.limit
    )
