"""Run blocking work on a thread pool and hand its result back to the UI thread.

Modelled on Anki's aqt/taskman.py: a worker never touches widgets; it emits one queued signal
that the UI thread turns into a call of `on_done(result)` or `on_error(exception)`. When the
object that asked (the owner, by default the object `on_done` is a method of) has been destroyed
by the time the answer arrives, the answer is dropped.
"""

import contextlib
import gc
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Signal

log = logging.getLogger(__name__)

NETWORK_THREADS = 4


@dataclass
class _Pending:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    owner: QObject | None


def owner_of(callback: Callable[..., Any] | None) -> QObject | None:
    """The QObject a bound-method callback belongs to, if any."""
    target = getattr(callback, "__self__", None)
    return target if isinstance(target, QObject) else None


class TaskManager(QObject):
    """Runs functions off the UI thread; results come back through a queued signal."""

    _finished = Signal(int, object, object)
    idle = Signal()

    def __init__(self, parent: QObject | None = None, max_threads: int = NETWORK_THREADS) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """Whether some task has not delivered its result yet."""
        return bool(self._pending)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        owner: QObject | None = None,
    ) -> int:
        """Start `fn()` on a worker thread; returns a task id."""
        task_id = next(self._ids)
        self._pending[task_id] = _Pending(on_done, on_error, owner or owner_of(on_done))
        self._pool.start(lambda: self._work(task_id, fn))
        return task_id

    def wait_for_done(self, msecs: int = 15_000) -> bool:
        """Block until every worker has finished (for shutdown and tests)."""
        return self._pool.waitForDone(msecs)

    def _work(self, task_id: int, fn: Callable[[], Any]) -> None:
        """Runs on a worker thread."""
        result: Any = None
        error: BaseException | None = None
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - handed to on_error on the UI thread
            error = exc
        # RuntimeError: the manager was destroyed while we worked, so there is nobody to tell.
        with contextlib.suppress(RuntimeError):
            self._finished.emit(task_id, result, error)

    def _deliver(self, task_id: int, result: Any, error: BaseException | None) -> None:
        """Runs on the UI thread."""
        pending = self._pending.pop(task_id, None)
        try:
            if pending is None or not _alive(pending.owner):
                return
            if error is None:
                if pending.on_done is not None:
                    pending.on_done(result)
            elif pending.on_error is not None:
                pending.on_error(error)
            else:
                log.error("background task failed", exc_info=error)
        finally:
            if not self._pending:
                self.idle.emit()


def _alive(owner: QObject | None) -> bool:
    return owner is None or shiboken6.isValid(owner)


class MainThreadGarbageCollector(QObject):
    """Run Python's cyclic garbage collector only on the UI thread, from a timer.

    Left automatic, the collector runs in whichever thread happens to allocate, and when it frees
    a cycle holding a Qt object, that object is destroyed on a worker thread, which crashes Qt.
    """

    INTERVAL_MS = 500

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()
        gc.disable()

    def collect(self) -> None:
        """Collect the generations whose thresholds are exceeded, as automatic GC would."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Collect once more and give the collector back to Python."""
        self._timer.stop()
        gc.collect()
        gc.enable()
