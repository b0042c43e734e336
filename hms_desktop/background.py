"""Background sync for the signed-in user, reported to the UI thread through Qt signals."""

from PySide6.QtCore import QObject, Signal

from hms_desktop.store.cache import LocalStore
from hms_desktop.sync.api_client import ApiClient
from hms_desktop.sync.engine import SyncEngine, SyncStatus, SyncWorker


class SyncController(QObject):
    """Owns the sync worker threads of one session; signals arrive on the UI thread."""

    status_changed = Signal(object)  # SyncStatus
    data_changed = Signal()  # rows from the server were applied to the cache

    def __init__(
        self, store: LocalStore, api: ApiClient, parent: QObject | None = None, start: bool = True
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.engine = SyncEngine(store, api)
        self.worker = SyncWorker(self.engine, self.status_changed.emit, self.data_changed.emit)
        self.status = SyncStatus(None, 0, 0, 0, None, "Connecting…")
        self.status_changed.connect(self._remember)
        self._started = False
        if start:
            self.start()

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.worker.start()

    def sync_now(self) -> None:
        """Push and pull now, without waiting for the next round or the end of a back-off."""
        self.worker.nudge()

    def local_write(self) -> None:
        """A mutation was queued: push it now (the worker then reports the new count)."""
        self.worker.nudge()

    def stop(self) -> None:
        self.worker.stop()

    def _remember(self, status: SyncStatus) -> None:
        self.status = status
