"""Storing monitor messages: one writer thread, group commit, then the acknowledgement.

The MLLP connections hand every parsed message to `Ingest.submit`, which returns a future of
the ACK. One writer thread takes what is queued (up to 500 messages; with `linger` set it also
waits that long for each next one, at most `max_wait` in all) and handles the whole group in
ONE transaction on its own connection: placement, the `vital_sign` rows in one COPY, the
registered processors (alarms, NEWS2), the live events (NOTIFY `hms_monitor`, one statement),
commit. While a group is being written the next one queues up, so groups grow with the load
without making a monitor wait for company (monitors wait for their ACK before sending again).
Only then is each message acknowledged AA; if the transaction fails every message of the group
gets AE ("could not be stored, resend") and the monitors send it again. About once a second
the tickers run in a transaction of their own (alarms for monitors that stopped sending).
"""

import contextlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from hms_core.db.base import new_ids
from hms_core.db.monitoring import MONITOR
from hms_core.schemas.monitoring import VITALS, WAVE, event
from hms_server.db import Database
from hms_server.monitoring.hl7_codec import (
    ACCEPT,
    ERROR,
    INTERNAL_ERROR,
    MonitorMessage,
    WaveChunk,
    build_ack,
)
from hms_server.monitoring.model import ObservedValue, Placement
from hms_server.monitoring.publish import publish_monitor
from hms_server.monitoring.resolve import Resolver

log = logging.getLogger(__name__)

Processor = Callable[[Session, list[ObservedValue], datetime], list[dict[str, Any]]]
Ticker = Callable[[Session, datetime], list[dict[str, Any]]]

MAX_BATCH = 500
MAX_WAIT_SECONDS = 0.010
LINGER_SECONDS = 0.0  # waiting for more after the queue is empty only delays the ACKs
TICK_SECONDS = 1.0
WAVE_EVENT_SAMPLES = 500  # a longer chunk goes out as several events (NOTIFY payload limit)
REMEMBERED_MESSAGES = 50_000  # control ids kept to recognise a resent, already stored message
NOT_STORED = "the values could not be stored, resend"
STOPPING = "the gateway is shutting down, resend"


@dataclass
class _Pending:
    message: MonitorMessage
    received: float  # server wall clock (epoch seconds) when the frame was read
    ack: Future = field(default_factory=Future)


_STOP = object()


def wave_lead(chunk: WaveChunk) -> str:
    """A short lead name for the screen: MDC_ECG_ELEC_POTL_II -> II."""
    prefix = "MDC_ECG_ELEC_POTL_"
    return chunk.lead[len(prefix) :] if chunk.lead.startswith(prefix) else chunk.lead or chunk.code


def _ids(placement: Placement) -> dict[str, Any]:
    return {
        "bed_id": str(placement.bed_id) if placement.bed_id else None,
        "patient_id": str(placement.patient_id) if placement.patient_id else None,
        "device_id": placement.device_id,
    }


def vitals_event(item: _Pending, placement: Placement) -> dict[str, Any] | None:
    """The `vitals` live event of one message (None when it carried no numerics)."""
    readings = item.message.readings
    if not readings:
        return None
    return event(
        VITALS,
        placement.ward_id,
        **_ids(placement),
        at=max(r.observed_at for r in readings).isoformat(),
        received=item.received,
        values={r.parameter: r.value for r in readings},
        artefacts=sorted({r.parameter for r in readings if r.artefact}),
    )


def wave_events(item: _Pending, placement: Placement) -> list[dict[str, Any]]:
    """The `wave` live events of one message (samples rounded to 3 decimals)."""
    events = []
    for chunk in item.message.waves:
        for start in range(0, len(chunk.samples), WAVE_EVENT_SAMPLES):
            samples = chunk.samples[start : start + WAVE_EVENT_SAMPLES]
            at = chunk.at + timedelta(seconds=start / chunk.hz)
            events.append(
                event(
                    WAVE,
                    placement.ward_id,
                    **_ids(placement),
                    lead=wave_lead(chunk),
                    hz=chunk.hz,
                    at=at.isoformat(),
                    received=item.received,
                    samples=[round(s, 3) for s in samples],
                )
            )
    return events


COLUMNS = (
    "id patient_id bed_id device_id parameter value value_code unit code_system code artefact "
    "source observed_at received_at message_id unmatched_hint"
).split()
COPY_SQL = f"COPY vital_sign ({', '.join(COLUMNS)}) FROM STDIN"


def _rows(item: _Pending, placement: Placement, received_at: datetime) -> list[tuple]:
    """The `vital_sign` rows (COLUMNS, without the id) of one message."""
    message_id = item.message.header.control_id[:80]
    hint = None if placement.matched else (placement.hint or "unmatched")[:200]
    patient, bed, device = placement.patient_id, placement.bed_id, placement.device_id
    return [
        (patient, bed, device, r.parameter, r.value, r.value_code, r.unit[:40])
        + (r.code_system[:20], r.code[:40], r.artefact, MONITOR, r.observed_at, received_at)
        + (message_id, hint)
        for r in item.message.readings
    ]


def insert_vital_signs(session: Session, rows: list[tuple]) -> None:
    """Store `rows` (COLUMNS without the id) in `session`'s transaction with ONE statement
    (COPY: no per-row statement, no per-row id from the clock and the random source)."""
    if not rows:
        return
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
        for row_id, row in zip(new_ids(len(rows)), rows, strict=True):
            copy.write_row((row_id, *row))


class Ingest:
    """The single writer: `submit` messages from any thread, `start` and `stop` the writer."""

    def __init__(
        self,
        db: Database,
        processors: Sequence[Processor] = (),
        tickers: Sequence[Ticker] = (),
        *,
        resolver: Resolver | None = None,
        max_batch: int = MAX_BATCH,
        max_wait: float = MAX_WAIT_SECONDS,
        linger: float = LINGER_SECONDS,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.db = db
        self.processors = list(processors)
        self.tickers = list(tickers)
        self.resolver = resolver or Resolver()
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.linger = linger
        self.tick_seconds = tick_seconds
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stored: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._connection: Connection | None = None  # the writer thread's own

    def start(self) -> None:
        """Start the writer thread."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hl7-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Store what was already submitted, then end the writer thread."""
        self._stopping = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, message: MonitorMessage, received: float) -> Future:
        """Queue a parsed message; the future's result is the ACK text (AA or AE)."""
        item = _Pending(message, received)
        if self._stopping or self._thread is None:
            item.ack.set_result(build_ack(message.header, ERROR, STOPPING, INTERNAL_ERROR))
        else:
            self._queue.put(item)
        return item.ack

    def _run(self) -> None:
        next_tick = time.monotonic() + self.tick_seconds
        running = True
        try:
            while running:
                batch, running = self._gather(max(0.0, next_tick - time.monotonic()))
                if batch:
                    self._store_safely(batch)
                if self.tickers and time.monotonic() >= next_tick:
                    self._tick()
                    next_tick = time.monotonic() + self.tick_seconds
                elif not self.tickers:
                    next_tick = time.monotonic() + self.tick_seconds
        finally:
            self._disconnect()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A transaction on the writer's own connection: checked out of the pool once (no
        pre-ping per batch), given back after any failure (the next batch takes a fresh one)."""
        if self._connection is None:
            self._connection = self.db.engine.connect()
        try:
            with self.db.sessions(bind=self._connection) as session, session.begin():
                yield session
        except BaseException:
            self._disconnect()
            raise

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _store_safely(self, batch: list[_Pending]) -> None:
        """Store; whatever goes wrong, every message still gets an answer."""
        try:
            self._store(batch)
        except Exception as exc:  # noqa: BLE001 - the writer thread must keep running
            log.error("monitor batch failed unexpectedly (%s)", type(exc).__name__)
            for item in batch:
                if not item.ack.done():
                    ack = build_ack(item.message.header, ERROR, NOT_STORED, INTERNAL_ERROR)
                    item.ack.set_result(ack)

    def _gather(self, wait: float) -> tuple[list[_Pending], bool]:
        """Up to max_batch messages: the first waited for (at most `wait`), the rest for at
        most max_wait, each for at most `linger`. The flag is False once stop was asked."""
        try:
            first = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return [], True
        if first is _STOP:
            return self._drain(), False
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            try:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                item = self._queue.get(timeout=min(self.linger, left))
            except queue.Empty:
                break
            if item is _STOP:
                return batch + self._drain(), False
            batch.append(item)
        return batch, True

    def _drain(self) -> list[_Pending]:
        items = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return items
            if item is not _STOP:
                items.append(item)

    def _key(self, item: _Pending) -> tuple[str, str]:
        header = item.message.header
        return (header.sending_application, header.control_id)

    def _store(self, batch: list[_Pending]) -> None:
        """Write `batch` in one transaction and acknowledge each message after the commit."""
        fresh, seen = [], set()
        for item in batch:
            key = self._key(item)
            if key in self._stored or key in seen:
                # A resend of a message already stored (its ACK was lost): accept, store once.
                item.ack.set_result(build_ack(item.message.header, ACCEPT))
            else:
                seen.add(key)
                fresh.append(item)
        if not fresh:
            return
        try:
            with self._session() as session:
                self._write(session, fresh, datetime.now(UTC))
        except Exception as exc:  # noqa: BLE001 - every failure becomes an AE, never a crash
            if len(fresh) > 1:
                # One bad message must not hold up the others: store them one by one.
                for item in fresh:
                    self._store([item])
                return
            log.error("a monitor message could not be stored (%s)", type(exc).__name__)
            item = fresh[0]
            item.ack.set_result(build_ack(item.message.header, ERROR, NOT_STORED, INTERNAL_ERROR))
            return
        for item in fresh:
            self._remember(self._key(item))
            item.ack.set_result(build_ack(item.message.header, ACCEPT))

    def _remember(self, key: tuple[str, str]) -> None:
        self._stored[key] = None
        if len(self._stored) > REMEMBERED_MESSAGES:
            self._stored.popitem(last=False)

    def _write(self, session: Session, batch: list[_Pending], now: datetime) -> None:
        rows: list[tuple] = []
        observed: list[ObservedValue] = []
        events: list[dict[str, Any]] = []
        for item in batch:
            placement = self.resolver.resolve(session, item.message)
            received_at = datetime.fromtimestamp(item.received, UTC)
            rows += _rows(item, placement, received_at)
            observed += [ObservedValue(placement, r, received_at) for r in item.message.readings]
            if (vitals := vitals_event(item, placement)) is not None:
                events.append(vitals)
            events.extend(wave_events(item, placement))
        insert_vital_signs(session, rows)
        for processor in self.processors:
            events.extend(self._guarded(session, processor, observed, now))
        publish_monitor(session, events)

    def _guarded(self, session: Session, work: Callable, *args: Any) -> list[dict[str, Any]]:
        """Run a processor or ticker in a savepoint: its failure is logged and undone, and the
        stored values stay stored (alarms must not stop the recording)."""
        name = getattr(work, "__qualname__", type(work).__name__)
        try:
            with session.begin_nested():
                return list(work(session, *args) or [])
        except Exception as exc:  # noqa: BLE001 - a processor bug must not lose vital signs
            log.error("monitor processor %s failed (%s)", name, type(exc).__name__)
            return []

    def _tick(self) -> None:
        try:
            with self._session() as session:
                events: list[dict[str, Any]] = []
                for ticker in self.tickers:
                    events.extend(self._guarded(session, ticker, datetime.now(UTC)))
                publish_monitor(session, events)
        except Exception as exc:  # noqa: BLE001 - the next tick tries again
            log.error("monitor tick failed (%s)", type(exc).__name__)
