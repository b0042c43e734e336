"""Status bar pieces: the server connection state (polled off-thread) and the signed-in user."""

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from hms_desktop.sync.api_client import ApiError
from hms_desktop.sync.engine import SyncStatus
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_style_property, styled_label

HEALTH_INTERVAL_MS = 15_000


class ServerStatus(QWidget):
    """Online / offline, from a periodic GET /health that never runs on the UI thread."""

    health_changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._checking = False
        self.online: bool | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 0)
        row.setSpacing(6)
        self._dot = styled_label("●", "statusDot")
        self._text = QLabel("Connecting…")
        row.addWidget(self._dot)
        row.addWidget(self._text)
        self._timer = QTimer(self)
        self._timer.setInterval(HEALTH_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        QTimer.singleShot(0, self.check)
        if ctx.sync is not None:
            ctx.sync.status_changed.connect(self.show_sync)

    def show_sync(self, status: SyncStatus) -> None:
        """The background sync knows first when the server goes away or comes back."""
        host = self._ctx.api.base_url.split("://", 1)[-1]
        if status.online is False:
            self._show("offline", "Offline — working on this computer; changes are kept")
            self._text.setToolTip(status.message)
        elif status.needs_sign_in:
            self._show("degraded", "Online — sign in again to send changes")
        elif status.online:
            self._show("online", f"Online · {host}")

    def check(self) -> None:
        """Ask the server for its health (one request at a time)."""
        if self._checking:
            return
        self._checking = True
        self._ctx.run(self, self._ctx.api.health, self._on_health, self._on_failure)

    def _on_health(self, health: dict[str, Any]) -> None:
        self._checking = False
        host = self._ctx.api.base_url.split("://", 1)[-1]
        if health.get("database", "ok") == "ok":
            self._show("online", f"Online · {host}")
        else:
            self._show("degraded", f"Server up, database unavailable · {host}")
        self.health_changed.emit(health)

    def _on_failure(self, exc: BaseException) -> None:
        self._checking = False
        if isinstance(exc, ApiError):  # it answered, so it is up, but it is not well
            self._show("degraded", "Server up, but not working properly (database?)")
        else:
            self._show("offline", "Offline — working on this computer; changes are kept")
        self._text.setToolTip(str(getattr(exc, "message", exc)))
        self.health_changed.emit(None)

    def _show(self, state: str, text: str) -> None:
        self.online = state != "offline"
        set_style_property(self._dot, "state", state)
        self._text.setText(text)

    @property
    def text(self) -> str:
        return self._text.text()


def user_badge(ctx: AppContext) -> QLabel:
    """'Signed in as Full Name · role'."""
    user = ctx.session.user
    label = styled_label(f"Signed in as {user.full_name or user.username} · {user.role}", "hint")
    label.setContentsMargins(8, 0, 8, 0)
    return label
