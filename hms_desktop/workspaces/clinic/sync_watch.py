"""Refresh a workspace when sync brings changes: debounced, and deferred while it is hidden."""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from hms_desktop.background import SyncController

DEBOUNCE_MS = 250


class SyncWatch(QObject):
    """Calls `refresh` after sync applied rows or reported a new state (at most every 250 ms)."""

    def __init__(
        self, sync: SyncController | None, owner: QWidget, refresh: Callable[[], None]
    ) -> None:
        super().__init__(owner)
        self._owner = owner
        self._refresh = refresh
        self._stale = False
        self._seen: tuple[Any, ...] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._fire)
        if sync is not None:
            sync.data_changed.connect(self.changed)
            sync.status_changed.connect(self._on_status)

    def _on_status(self, status: Any) -> None:
        """A status report matters when something was sent, confirmed or refused.

        Pulled rows come as `data_changed`; an idle poll (a new `last_sync`) changes nothing.
        """
        key = (status.pending, status.attention)
        if key != self._seen:
            self._seen = key
            self.changed()

    def changed(self) -> None:
        """The cache changed: refresh soon, or when the owner is next shown."""
        if self._owner.isVisible():
            self._timer.start()
        else:
            self._stale = True

    def shown(self) -> None:
        """The owner came to the front: catch up if something changed meanwhile."""
        if self._stale:
            self._stale = False
            self._timer.start()

    def _fire(self) -> None:
        self._refresh()
