"""Wake long-polling pulls the moment a change commits, on every server instance.

The change-log writer sends `pg_notify('hms_changes', seq)` inside each writing transaction;
PostgreSQL delivers it at commit to every listener, so two servers behind a load balancer wake
their waiting clients alike. One listener thread per process runs while someone is waiting.
"""

import asyncio
import logging
import threading
import time

import psycopg
from sqlalchemy.engine import make_url

from hms_server.changelog import CHANNEL

log = logging.getLogger(__name__)
IDLE_SECONDS = 30.0


def libpq_uri(sqlalchemy_url: str) -> str:
    """A psycopg connection string for a SQLAlchemy URL."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ChangeFeed:
    """`await feed.wait_beyond(seq, timeout)` returns once a change after `seq` has committed."""

    def __init__(self, sqlalchemy_url: str) -> None:
        self._uri = libpq_uri(sqlalchemy_url)
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None], int]] = []
        self._thread: threading.Thread | None = None
        self._last_wait = 0.0
        self._newest = 0  # the newest seq a notification announced
        self.closing = False  # a stopping server answers waiting long polls at once

    def release_waiters(self) -> None:
        """Answer every waiting long poll now, and new ones at once, until `reopen()`."""
        self.closing = True
        self._wake(None)

    def reopen(self) -> None:
        self.closing = False

    async def wait_beyond(self, seq: int, timeout: float) -> bool:
        """Wait until a change after `seq` commits (True) or `timeout` seconds pass (False)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future, seq)
        with self._lock:
            if self._newest > seq and self._listening():
                return True
            self._waiters.append(entry)
            self._last_wait = time.monotonic()
            self._ensure_listener()
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)

    def _ensure_listener(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._listen, name="hms-change-feed", daemon=True
            )
            self._thread.start()

    def _listening(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _wake(self, newest: int | None) -> None:
        """Wake the waiters behind `newest` (all of them when unknown, e.g. after reconnecting)."""
        with self._lock:
            if newest is not None:
                self._newest = max(self._newest, newest)
            woken = [w for w in self._waiters if newest is None or w[2] < newest]
            for waiter in woken:
                self._waiters.remove(waiter)
        for loop, future, _ in woken:
            loop.call_soon_threadsafe(_settle, future)

    def _idle(self) -> bool:
        with self._lock:
            return not self._waiters and time.monotonic() - self._last_wait > IDLE_SECONDS

    def _listen(self) -> None:
        while not self._idle():
            try:
                with psycopg.connect(self._uri, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._wake(None)  # anything committed while we were not listening
                    while not self._idle():
                        for note in conn.notifies(timeout=1.0):
                            self._wake(int(note.payload) if note.payload.isdigit() else None)
            except psycopg.Error as exc:
                self._wake(None)  # the waiters look again themselves
                with self._lock:
                    if not self._waiters:
                        return  # started again by the next waiter
                log.warning("change feed lost its database connection (%s); retrying", exc)
                time.sleep(1.0)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
