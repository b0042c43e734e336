"""The client side of sync: bootstrap from a snapshot, lease MRNs, push the outbox, pull changes.

`SyncEngine` does one step at a time and blocks; `SyncWorker` runs it on two background threads
(one pushes as soon as there is something to push, one long-polls for changes) and reports a
`SyncStatus` after every step. Neither touches Qt.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from queue import Full, Queue
from typing import Any, TypeVar

from hms_core.db.base import utcnow
from hms_desktop.store import mrns
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.snapshot import SnapshotBroken, rebuild_from_snapshot
from hms_desktop.sync.api_client import ApiClient, ApiError, ServerUnreachable, SessionExpired

log = logging.getLogger(__name__)
T = TypeVar("T")
PUSH_BATCH = 500
PULL_LIMIT = 5000
LONG_POLL_SECONDS = 20.0
PUSH_INTERVAL_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 30.0


def read_ahead(items: Iterable[T], depth: int = 20_000) -> Iterator[T]:
    """Iterate `items` on another thread, so downloading overlaps with loading."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stopped = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stopped.is_set():
            try:
                queue.put(entry, timeout=0.5)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return  # the consumer gave up
            put((False, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((False, exc))

    threading.Thread(target=produce, name="hms-read-ahead", daemon=True).start()
    try:
        while True:
            more, item = queue.get()
            if more:
                yield item
            elif item is None:
                return
            else:
                raise item
    finally:
        stopped.set()


class ServerBusy(Exception):
    """The server stopped a push on a transient failure; try again shortly."""


@dataclass(frozen=True)
class SyncStatus:
    """What the sync indicator shows."""

    online: bool | None  # None: not known yet
    pending: int
    conflicts: int
    attention: int
    last_sync: datetime | None
    message: str = ""
    needs_sign_in: bool = False
    upgrade_required: bool = False


class SyncEngine:
    """One user's cache kept in step with the server."""

    def __init__(self, store: LocalStore, api: ApiClient) -> None:
        self.store = store
        self.api = api
        self.upgrade_required = False
        # (username, password) of an offline sign-in, kept in memory to sign in for real later
        self.credentials: tuple[str, str] | None = None
        self._signing_in = threading.Lock()

    def ensure_token(self) -> None:
        """After an offline sign-in, sign in with the server as soon as it answers."""
        with self._signing_in:
            if self.api.token is None and self.credentials is not None:
                self.api.login(*self.credentials)
                self.credentials = None

    def sync_once(self) -> None:
        """A full round: bootstrap if needed, top up MRNs, push everything, pull everything."""
        self.ensure_token()
        self.bootstrap_if_needed()
        self.lease_if_low()
        self.push_pending()
        self.pull_changes()

    def bootstrap_if_needed(self) -> bool:
        """Fill an empty cache from a snapshot; True when one was taken."""
        if self.store.get_state("last_seq") is not None:
            return False
        self.rebuild()
        return True

    def rebuild(self) -> None:
        """Replace the cache with a fresh snapshot, keeping the outbox."""
        try:
            rebuild_from_snapshot(self.store, read_ahead(self.api.snapshot()))
        except SnapshotBroken as exc:
            raise ServerUnreachable(str(exc)) from exc
        self.store.set_state("last_sync_at", utcnow().isoformat())

    def lease_if_low(self) -> None:
        """Lease another block of MRNs when fewer than 20% of one remain."""
        if mrns.remaining(self.store) < mrns.REFILL_BELOW:
            start, stop = self.api.lease_mrn_block()
            mrns.add_block(self.store, start, stop)

    def push_pending(self) -> int:
        """Push the outbox in batches until it is empty; returns how many were answered."""
        answered = 0
        while True:
            batch = self.store.pending(PUSH_BATCH)
            if not batch:
                return answered
            response = self.api.push(batch)
            self.upgrade_required = response.upgrade_required
            outcomes = [o.model_dump(mode="json") for o in response.results]
            self.store.acknowledge(outcomes, response.seq)
            answered += len(outcomes)
            if response.stopped_at is not None:
                raise ServerBusy(response.retry_reason or "The server is busy.")

    def pull_changes(self, wait: float = 0) -> int:
        """Pull and apply pages until caught up; returns the number of changes applied."""
        applied = 0
        while True:
            after = self.store.last_seq()
            try:
                page = self.api.pull(after, PULL_LIMIT, wait)
            except ApiError as exc:
                if exc.status != 410:
                    raise
                self.rebuild()  # too far behind: start again from a snapshot
                return applied
            if self.store.apply_pull(after, page.changes, page.last_seq, page.tables):
                applied += len(page.changes)
            if not page.has_more:
                return applied
            wait = 0

    def status(
        self, online: bool | None, message: str = "", needs_sign_in: bool = False
    ) -> SyncStatus:
        counts = self.store.counts()
        last = self.store.get_state("last_sync_at")
        return SyncStatus(
            online=online,
            pending=counts["pending"],
            conflicts=counts["conflicts"],
            attention=counts["attention"],
            last_sync=datetime.fromisoformat(last) if last else None,
            message=message,
            needs_sign_in=needs_sign_in,
            upgrade_required=self.upgrade_required,
        )


class SyncWorker:
    """Runs a SyncEngine in the background until stopped; reports every change of status."""

    def __init__(
        self,
        engine: SyncEngine,
        on_status: Callable[[SyncStatus], None],
        on_pulled: Callable[[], None] = lambda: None,
        long_poll: float = LONG_POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self._on_status = on_status
        self._on_pulled = on_pulled
        self._long_poll = long_poll
        self._wake = threading.Event()
        self._retry = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._full_round = False
        self.online: bool | None = None

    def start(self) -> None:
        for target, name in ((self._push_loop, "hms-push"), (self._pull_loop, "hms-pull")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def nudge(self) -> None:
        """Something was written locally, or the user asked: push now, and retry at once."""
        self._full_round = True
        self._wake.set()
        self._retry.set()

    def stop(self, timeout: float = 0.5) -> None:
        self._stopping.set()
        self._wake.set()
        self._retry.set()
        for thread in self._threads:
            thread.join(timeout)

    def report(self, message: str = "", needs_sign_in: bool = False) -> None:
        try:
            self._on_status(self.engine.status(self.online, message, needs_sign_in))
        except Exception:  # a status report must never kill the worker
            log.exception("could not report the sync status")

    def _push_loop(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            wait = PUSH_INTERVAL_SECONDS
            try:
                self.engine.ensure_token()
                self.engine.lease_if_low()
                self.engine.push_pending()
                if self._full_round:  # asked for: also pull now, not at the next long poll
                    self._full_round = False
                    if self.engine.pull_changes():
                        self._on_pulled()
                self._set_online(True)
                backoff = 1.0
            except Exception as exc:  # noqa: BLE001 - every failure is reported, then retried
                wait, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
                self._failed(exc)
            self._wake.wait(wait)
            self._wake.clear()

    def _pull_loop(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                self.engine.ensure_token()
                if self.engine.bootstrap_if_needed():
                    self._on_pulled()
                    self._set_online(True)  # say "Synced" now, not after the first long poll
                if self.engine.pull_changes(wait=self._long_poll):
                    self._on_pulled()
                self._set_online(True)
                backoff = 1.0
            except Exception as exc:  # noqa: BLE001 - every failure is reported, then retried
                self._failed(exc)
                self._retry.wait(backoff)
                self._retry.clear()
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _set_online(self, online: bool) -> None:
        self.online = online
        self.report()

    def _failed(self, exc: Exception) -> None:
        if self._stopping.is_set():
            return
        if isinstance(exc, SessionExpired):
            self.online = True
            self.report("Sign in again to send your changes to the server.", needs_sign_in=True)
        elif isinstance(exc, ServerUnreachable):
            self.online = False
            self.report(exc.message)
        elif isinstance(exc, ServerBusy | ApiError):
            self.report(str(getattr(exc, "message", exc)))
        else:
            log.exception("sync step failed", exc_info=exc)
            self.report(f"Sync problem: {exc}")
