"""The live monitor feed: `WebSocket /live/monitor?ward_id=` on the UI thread's event loop.

Reuses the bell's client (`hms_desktop.live.LiveClient`): Bearer authentication on the upgrade
request, pong to pings, reconnect with back-off, give up on 4401/4403. A frame holds one event
object or a JSON list of events; each batch is emitted once as `events_received(list)`. JSON
decoding of a frame is a C call of well under a millisecond, so it stays on the UI thread.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from hms_core.schemas.notifications import HELLO, PING
from hms_desktop.live import MIN_BACKOFF_MS, LiveClient, live_url

log = logging.getLogger(__name__)
NO_WARD_CODES = (4400, 4404)  # the server's answer to a ward id that is malformed or unknown


def monitor_url(server_url: str, ward_id: uuid.UUID | str) -> str:
    """'http://host:8080' -> 'ws://host:8080/live/monitor?ward_id=…'."""
    return f"{live_url(server_url)}/monitor?ward_id={ward_id}"


def parse_frame(text: str) -> list[dict[str, Any]]:
    """The events in one text frame (an object or a list of objects); [] for anything else."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        log.warning("ignored a monitor message that is not JSON: %.100s", text)
        return []
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, dict) and "type" in item]


class MonitorFeed(LiveClient):
    """One ward's live monitor events as batches; `set_ward` switches to another ward."""

    events_received = Signal(list)  # [event dict, ...] from one frame, each with "arrived"

    def __init__(
        self,
        server_url: str,
        token_provider: Callable[[], str | None],
        ward_id: uuid.UUID | str,
        parent: QObject | None = None,
        *,
        client_id: str = "",
    ) -> None:
        super().__init__(server_url, token_provider, parent, client_id=client_id)
        self._server_url = server_url
        self.ward_id = str(ward_id)
        self.url = monitor_url(server_url, ward_id)
        self.frames = 0

    def set_ward(self, ward_id: uuid.UUID | str) -> None:
        """Watch another ward: reconnect to its URL."""
        if str(ward_id) == self.ward_id:
            return
        self.ward_id = str(ward_id)
        self.url = monitor_url(self._server_url, ward_id)
        if self._running:
            self.close()
            self._backoff_ms = MIN_BACKOFF_MS
            self.start()

    def _on_message(self, text: str) -> None:
        self._watchdog.start()
        self.frames += 1
        arrived = time.time()
        batch: list[dict[str, Any]] = []
        for event in parse_frame(text):
            kind = event.get("type")
            if kind == PING:
                self._socket.sendTextMessage('{"type":"pong"}')
                continue
            if kind == HELLO:
                self._backoff_ms = MIN_BACKOFF_MS
                self._set_connected(True)
            event["arrived"] = arrived
            batch.append(event)
        if batch:
            self.events_received.emit(batch)

    def _on_disconnected(self) -> None:
        """A ward that does not exist (4404) or a malformed id (4400) is final too."""
        code = self._socket.closeCode()
        code = int(getattr(code, "value", code))
        if self._running and code in NO_WARD_CODES:
            self._watchdog.stop()
            self._running = False
            self._retry.stop()
            self._set_connected(False)
            self.refused.emit(code, self._socket.closeReason() or "There is no such ward.")
            return
        super()._on_disconnected()
