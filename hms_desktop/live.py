"""The live channel: a WebSocket to the server's `/live`, on the UI thread's event loop.

QtWebSockets does its I/O asynchronously inside the Qt event loop, so nothing here blocks the UI
thread. The client reconnects with back-off (1 s doubling to 30 s, with jitter) while the server
is away, and gives up only when the server refuses the session (4401) or the role (4403).
"""

import json
import logging
import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtNetwork import QAbstractSocket, QNetworkRequest
from PySide6.QtWebSockets import QWebSocket, QWebSocketProtocol

from hms_core.schemas.notifications import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, HELLO, PING
from hms_desktop.sync.api_client import normalize_server_url

log = logging.getLogger(__name__)

MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 30_000
SILENCE_MS = 65_000  # the server sends a heartbeat every 20 s; this much silence means dead
FINAL_CODES = (CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN)


def live_url(server_url: str) -> str:
    """'http://host:8080' -> 'ws://host:8080/live' (https -> wss)."""
    url = normalize_server_url(server_url)
    scheme, _, rest = url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/live"


class LiveClient(QObject):
    """Server events as Qt signals; call `start()` once, `close()` at sign-out."""

    event_received = Signal(object)  # a dict such as {"type": "notification", "id": …}
    connected_changed = Signal(bool)
    refused = Signal(int, str)  # the server ended the session (close code, reason): no retry

    def __init__(
        self,
        server_url: str,
        token_provider: Callable[[], str | None],
        parent: QObject | None = None,
        *,
        client_id: str = "",
    ) -> None:
        super().__init__(parent)
        self.url = live_url(server_url)
        self._token_provider = token_provider
        self._client_id = client_id
        self.connected = False
        self._running = False
        self._backoff_ms = MIN_BACKOFF_MS
        self._socket = QWebSocket("", QWebSocketProtocol.Version.VersionLatest, self)
        self._socket.textMessageReceived.connect(self._on_message)
        self._socket.disconnected.connect(self._on_disconnected)
        self._socket.errorOccurred.connect(self._on_error)
        self._retry = _single_shot(self, self._open)
        self._watchdog = _single_shot(self, self._on_silence, SILENCE_MS)

    def start(self) -> None:
        """Connect now, and keep reconnecting until `close()`."""
        if not self._running:
            self._running = True
            self._open()

    def close(self) -> None:
        """Disconnect for good."""
        self._running = False
        self._retry.stop()
        self._watchdog.stop()
        if self._socket.state() == QAbstractSocket.SocketState.ConnectedState:
            self._socket.close()
        else:  # still connecting: a close frame cannot be written yet
            self._socket.abort()
        self._set_connected(False)

    def _open(self) -> None:
        if self._socket.state() != QAbstractSocket.SocketState.UnconnectedState:
            return  # an attempt is under way; its outcome schedules the next one
        token = self._token_provider() if self._running else None
        if not token:  # not signed in online yet (an offline sign-in): try again later
            self._schedule_retry()
            return
        request = QNetworkRequest(QUrl(self.url))
        request.setRawHeader(b"Authorization", f"Bearer {token}".encode())
        if self._client_id:
            request.setRawHeader(b"X-HMS-Client", self._client_id.encode())
        self._socket.open(request)
        self._watchdog.start()

    def _on_message(self, text: str) -> None:
        self._watchdog.start()
        try:
            event: Any = json.loads(text)
        except ValueError:
            log.warning("ignored a live message that is not JSON: %.100s", text)
            return
        if not isinstance(event, dict):
            return
        if event.get("type") == PING:
            self._socket.sendTextMessage('{"type":"pong"}')
            return
        if event.get("type") == HELLO:
            self._backoff_ms = MIN_BACKOFF_MS
            self._set_connected(True)
        self.event_received.emit(event)

    def _on_disconnected(self) -> None:
        self._watchdog.stop()
        self._set_connected(False)
        code = _close_code(self._socket)
        if self._running and code in FINAL_CODES:
            self._running = False
            self._retry.stop()
            self.refused.emit(code, self._socket.closeReason())
        else:
            self._schedule_retry()

    def _on_error(self, _error: QAbstractSocket.SocketError) -> None:
        """A failed connection attempt emits no `disconnected`: retry from here too."""
        if self._socket.state() == QAbstractSocket.SocketState.UnconnectedState:
            self._set_connected(False)
            self._schedule_retry()

    def _on_silence(self) -> None:
        """No heartbeat for too long: the connection is half-open; drop it and reconnect."""
        log.info("live channel silent for %d s; reconnecting", SILENCE_MS // 1000)
        self._socket.abort()
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        if not self._running or self._retry.isActive():
            return
        delay = int(self._backoff_ms * random.uniform(0.8, 1.2))
        self._backoff_ms = min(self._backoff_ms * 2, MAX_BACKOFF_MS)
        self._retry.start(delay)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.connected_changed.emit(connected)


def _single_shot(parent: QObject, slot: Callable[[], None], interval_ms: int = 0) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer


def _close_code(socket: QWebSocket) -> int:
    code = socket.closeCode()
    return int(getattr(code, "value", code))
