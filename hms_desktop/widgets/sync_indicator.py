"""The always-visible sync indicator: pending changes, last sync, conflicts, and "Sync now"."""

from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from hms_desktop.sync.engine import SyncStatus
from hms_desktop.widgets.attention_dialog import AttentionDialog
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_style_property, styled_label
from hms_desktop.widgets.messages import local_time


def pending_text(status: SyncStatus) -> str:
    """'All changes sent', '1 change waiting to be sent', '12 changes waiting to be sent'."""
    if status.pending == 0:
        return "All changes sent"
    noun = "change" if status.pending == 1 else "changes"
    return f"{status.pending} {noun} waiting to be sent"


def last_sync_text(status: SyncStatus, today: date | None = None) -> str:
    """'Synced 14:02' today, else 'Synced 2026-11-21 14:02'."""
    if status.last_sync is None:
        return "Not synced yet"
    moment = status.last_sync.astimezone()
    if moment.date() == (today or date.today()):
        return "Synced " + moment.strftime("%H:%M")
    return "Synced " + local_time(status.last_sync)


class SyncIndicator(QWidget):
    """Pending count, last successful sync, open conflicts and rejections, a Sync now button."""

    conflicts_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 0)
        row.setSpacing(10)
        self.pending_label = styled_label("", "syncPending")
        self.last_label = styled_label("", "hint")
        self.conflicts_button = QPushButton("")
        self.conflicts_button.setProperty("role", "statusAlert")
        self.conflicts_button.clicked.connect(self.conflicts_requested)
        self.attention_label = QPushButton("")
        self.attention_label.setProperty("role", "statusAlert")
        self.attention_label.clicked.connect(self.show_attention)
        self.attention_dialog: AttentionDialog | None = None
        self.upgrade_label = styled_label(
            "A newer version of this program is available", "syncAlert"
        )
        self.upgrade_label.setToolTip(
            "The server runs a newer version. Your changes are still accepted; ask IT to "
            "update this computer."
        )
        self.upgrade_label.hide()
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setProperty("role", "statusButton")
        self.sync_button.clicked.connect(self.sync_now)
        for widget in (
            self.pending_label,
            self.last_label,
            self.conflicts_button,
            self.attention_label,
            self.upgrade_label,
            self.sync_button,
        ):
            row.addWidget(widget)
        if ctx.sync is not None:
            ctx.sync.status_changed.connect(self.show_status)
            self.show_status(ctx.sync.status)

    def show_attention(self) -> None:
        """Open the list of changes the server refused."""
        if self._ctx.sync is None:
            return
        sync = self._ctx.sync
        self.attention_dialog = AttentionDialog(
            sync.store, self._ctx.tasks, self, after_write=sync.local_write
        )
        self.attention_dialog.open()

    def sync_now(self) -> None:
        if self._ctx.sync is not None:
            self._ctx.sync.sync_now()
            self.last_label.setText("Syncing…")

    def show_status(self, status: SyncStatus) -> None:
        self.pending_label.setText(pending_text(status))
        set_style_property(self.pending_label, "state", "waiting" if status.pending else "done")
        self.last_label.setText(last_sync_text(status))
        self.last_label.setToolTip(status.message)
        self.conflicts_button.setText(
            f"{status.conflicts} conflict{'s' if status.conflicts != 1 else ''} to resolve"
        )
        self.conflicts_button.setVisible(status.conflicts > 0)
        self.attention_label.setText(
            f"{status.attention} change{'s' if status.attention != 1 else ''} refused by the server"
        )
        self.attention_label.setVisible(status.attention > 0)
        self.upgrade_label.setVisible(status.upgrade_required)
        for label in (self.pending_label, self.last_label):
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance(label.text()) + 4)
        # The status bar sizes its widgets from their minimum: grow with the texts at once.
        self.setMinimumWidth(self.layout().totalMinimumSize().width())
