"""The notification bell of the main toolbar: an unread badge and a popup list, kept current by
the live channel; loads and marks over HTTP off the UI thread."""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.notifications import (
    HELLO,
    NOTIFICATION,
    NOTIFICATIONS_READ,
    RESYNC,
    MarkAllReadResult,
    NotificationList,
    NotificationOut,
)
from hms_desktop.live import LiveClient
from hms_desktop.sync.api_client import ServerUnreachable
from hms_desktop.widgets.context import AppContext

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
LIST_LIMIT = 50
VISIBLE_ROWS = 6
POPUP_WIDTH = 400
OFFLINE_HINT = "Offline — notifications will update when the server is back."
INK, MUTED, PRIMARY, DANGER = "#1d2733", "#5b6b7d", "#0f6cbd", "#d92d20"
BELL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="{color}" '
    'stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/>'
    '<path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/></svg>'
)


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', 'yesterday', '4 days ago', else the local date."""
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)} days ago"
    return moment.astimezone().strftime("%Y-%m-%d")


def badge_text(unread: int) -> str:
    """The count in the badge: '3', or '99+'."""
    return "99+" if unread > 99 else str(unread)


def bell_icon(color: str, size: int = 22) -> QIcon:
    """The bell drawn from vector outlines (no emoji font needed), sharp at 1x and 2x."""
    renderer = QSvgRenderer(QByteArray(BELL_SVG.format(color=color).encode()))
    icon = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        icon.addPixmap(pixmap)
    return icon


class NotificationListModel(QAbstractListModel):
    """The notifications shown in the popup, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[NotificationOut] = []

    @property
    def items(self) -> list[NotificationOut]:
        return list(self._items)

    def item(self, row: int) -> NotificationOut:
        return self._items[row]

    def set_items(self, items: list[NotificationOut]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def prepend(self, note: NotificationOut) -> bool:
        """Add `note` on top unless it is shown already; whether it was added."""
        if any(n.id == note.id for n in self._items):
            return False
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._items.insert(0, note)
        self.endInsertRows()
        return True

    def mark_read(self, row: int, when: datetime) -> None:
        self._items[row] = self._items[row].model_copy(update={"read_at": when})
        self.dataChanged.emit(self.index(row), self.index(row))

    def mark_all_read(self, when: datetime) -> None:
        for row, note in enumerate(self._items):
            if note.read_at is None:
                self.mark_read(row, when)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        note = self._items[index.row()]
        if role == ITEM_ROLE:
            return note
        if role == Qt.ItemDataRole.DisplayRole:
            return note.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(filter(None, (note.title, note.body)))
        return None


class NotificationDelegate(QStyledItemDelegate):
    """Two lines per notification: title (bold while unread) and age, then the body."""

    ROW_HEIGHT = 60

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(option.rect.width(), self.ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        note = index.data(ITEM_ROLE)
        if not isinstance(note, NotificationOut):
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect, unread = option.rect, note.read_at is None
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.fillRect(rect, QColor("#eef3f8" if hovered else "#f5f9ff" if unread else "#ffffff"))
        painter.setPen(QColor("#e4e7ec"))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        text = rect.adjusted(30, 10, -14, -10)
        top = QRect(text.left(), text.top(), text.width(), text.height() // 2)
        bottom = QRect(text.left(), top.bottom() + 1, text.width(), text.height() - top.height())
        if unread:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(PRIMARY))
            painter.drawEllipse(QPointF(rect.left() + 15, top.center().y() + 1), 4.5, 4.5)
        age_width = self._draw_age(painter, option.font, top, note.created_at)
        title_font = QFont(option.font)
        title_font.setBold(unread)
        _draw_elided(painter, title_font, INK, top.adjusted(0, 0, -age_width - 10, 0), note.title)
        body = " ".join(note.body.split()) or ("New notification" if unread else "")
        _draw_elided(painter, option.font, MUTED, bottom, body)
        painter.restore()

    @staticmethod
    def _draw_age(painter: QPainter, base: QFont, line: QRect, created_at: datetime) -> int:
        """Draw the age at the right end of `line`; its width."""
        font = QFont(base)
        font.setPointSizeF(max(base.pointSizeF() - 1, 7))
        text = relative_time(created_at)
        painter.setFont(font)
        painter.setPen(QColor(MUTED))
        painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        return QFontMetrics(font).horizontalAdvance(text)


def _draw_elided(painter: QPainter, font: QFont, color: str, line: QRect, text: str) -> None:
    painter.setFont(font)
    painter.setPen(QColor(color))
    elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, line.width())
    painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)


class NotificationPopup(QFrame):
    """The list under the bell: a header with 'Mark all as read', the offline hint, the items."""

    def __init__(self, owner: QWidget) -> None:
        super().__init__(owner, Qt.WindowType.Popup)
        self.setObjectName("notificationPopup")
        self.setAttribute(Qt.WidgetAttribute.WA_NoMouseReplay)  # a click on the bell just closes
        self.setFixedWidth(POPUP_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.hint = QLabel(OFFLINE_HINT)
        self.hint.setObjectName("notificationHint")
        self.hint.setWordWrap(True)
        self.empty = QLabel("No notifications yet.")
        self.empty.setObjectName("notificationEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list = QListView()
        self.list.setObjectName("notificationList")
        self.list.setItemDelegate(NotificationDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for widget in (self.hint, self.empty, self.list):
            layout.addWidget(widget)

    def _header(self) -> QFrame:
        header = QFrame()
        header.setObjectName("notificationHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(16, 10, 12, 10)
        title = QLabel("Notifications")
        title.setObjectName("notificationTitle")
        self.mark_all_button = QPushButton("Mark all as read")
        self.mark_all_button.setProperty("role", "link")
        self.mark_all_button.setCursor(Qt.CursorShape.PointingHandCursor)
        row.addWidget(title)
        row.addStretch(1)
        row.addWidget(self.mark_all_button)
        return header

    def show_state(self, rows: int, unread: int, offline: bool) -> None:
        """Fit the list to `rows`; show the offline hint or the empty message as needed."""
        self.hint.setVisible(offline)
        self.empty.setVisible(rows == 0)
        self.list.setVisible(rows > 0)
        self.list.setFixedHeight(min(rows, VISIBLE_ROWS) * NotificationDelegate.ROW_HEIGHT + 2)
        self.mark_all_button.setEnabled(unread > 0 and not offline)
        self.adjustSize()


class NotificationBell(QToolButton):
    """The bell: unread badge; click for the list. `NotificationBell(ctx, live)` in the toolbar."""

    activated = Signal(object)  # the NotificationOut the user clicked (e.g. to open its patient)

    def __init__(
        self, ctx: AppContext, live: LiveClient | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.live = live
        self.unread = 0
        self._http_ok: bool | None = None
        self._live_up: bool | None = None
        self._loading = self._again = False
        self._provisional: set[uuid.UUID] = set()
        self.setObjectName("notificationBell")
        self.setIconSize(QSize(22, 22))
        self.setFixedSize(46, 38)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.model = NotificationListModel(self)
        self.popup = NotificationPopup(self)
        self.popup.list.setModel(self.model)
        self.popup.list.clicked.connect(lambda index: self.mark_read(index.row()))
        self.popup.mark_all_button.clicked.connect(self.mark_all_read)
        self.clicked.connect(self.toggle_popup)
        self._soon = _single_shot(self, self.refresh, 250)
        self._ages = QTimer(self)
        self._ages.setInterval(30_000)
        self._ages.timeout.connect(self.popup.list.viewport().update)
        self._ages.start()
        if live is not None:
            live.event_received.connect(self.on_live_event)
            live.connected_changed.connect(self._on_live_connected)
        self._show_state()
        self.refresh()

    @property
    def offline(self) -> bool:
        """Whether the server could not be reached lately (the list may be out of date)."""
        return self._http_ok is False or self._live_up is False

    # --- loading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch the list and the unread count (off the UI thread)."""
        if self._loading:
            self._again = True
            return
        self._loading, self._again = True, False
        api = self._ctx.api
        self._ctx.run(self, lambda: api.notifications(limit=LIST_LIMIT), self._loaded, self._failed)

    def _loaded(self, listing: NotificationList) -> None:
        self._loading = False
        self._http_ok = True
        if self._again:  # something changed while we asked: this answer may be stale
            self.refresh()
            return
        self._provisional.clear()
        self.model.set_items(listing.items)
        self.set_unread(listing.unread)

    def _failed(self, exc: BaseException) -> None:
        self._loading = self._again = False
        self._note_failure(exc)

    def _note_failure(self, exc: BaseException) -> None:
        if isinstance(exc, ServerUnreachable):
            self._http_ok = False
            self._show_state()
        else:
            log.warning("notifications: %s", getattr(exc, "message", exc))

    def _refresh_soon(self) -> None:
        self._again = self._again or self._loading
        self._soon.start()

    # --- live events ------------------------------------------------------------------------

    def on_live_event(self, event: dict) -> None:
        """Apply an event from the live channel at once; fetch the details shortly after."""
        kind = event.get("type")
        if kind == NOTIFICATION:
            self._add_live(event)
        elif kind in (HELLO, NOTIFICATIONS_READ) and isinstance(event.get("unread"), int):
            self.set_unread(event["unread"])
        elif kind != RESYNC:
            return
        self._refresh_soon()

    def _add_live(self, event: dict) -> None:
        try:
            note_id = uuid.UUID(str(event.get("id")))
        except ValueError:
            return
        title = str(event.get("title") or "New notification")
        note = NotificationOut(
            id=note_id,
            kind=str(event.get("kind") or ""),
            title=title,
            body="",
            patient_id=None,
            appointment_id=None,
            created_at=datetime.now(UTC),
            read_at=None,
        )
        if self.model.prepend(note):
            self._provisional.add(note_id)
            self.set_unread(self.unread + 1)

    def _on_live_connected(self, connected: bool) -> None:
        self._live_up = connected
        self._show_state()

    # --- marking read -----------------------------------------------------------------------

    def mark_read(self, row: int) -> None:
        """Mark the notification in `row` read, here at once and then on the server."""
        if not 0 <= row < self.model.rowCount():
            return
        note = self.model.item(row)
        self.activated.emit(note)
        if note.read_at is not None or self.offline:  # offline: it stays unread, as on the server
            return
        self.model.mark_read(row, datetime.now(UTC))
        self.set_unread(self.unread - 1)
        self._again = self._again or self._loading
        api = self._ctx.api
        self._ctx.run(self, lambda: api.mark_notification_read(note.id), None, self._mark_failed)

    def mark_all_read(self) -> None:
        """Mark everything shown read, here at once and then on the server."""
        if self.offline:
            return
        until = self._newest_seen()
        self.model.mark_all_read(datetime.now(UTC))
        self.set_unread(0)
        self._again = self._again or self._loading
        api = self._ctx.api
        self._ctx.run(
            self,
            lambda: api.mark_all_notifications_read(until),
            self._all_marked,
            self._mark_failed,
        )

    def _newest_seen(self) -> datetime | None:
        """The server time of the newest item shown (None: everything, as a live item is new)."""
        shown = [n for n in self.model.items if n.id not in self._provisional]
        if len(shown) < self.model.rowCount() or not shown:
            return None
        return max(n.created_at for n in shown)

    def _all_marked(self, result: MarkAllReadResult) -> None:
        if result.unread:
            self._refresh_soon()

    def _mark_failed(self, exc: BaseException) -> None:
        self._note_failure(exc)
        self._refresh_soon()  # show the server's truth again

    # --- showing ----------------------------------------------------------------------------

    def set_unread(self, unread: int) -> None:
        """Show `unread` in the badge."""
        self.unread = max(0, unread)
        self._show_state()

    def toggle_popup(self) -> None:
        """Open the list under the bell (refreshing it), or close it."""
        if self.popup.isVisible():
            self.popup.hide()
            return
        self._show_state()
        top_left = self.mapToGlobal(QPoint(self.width() - self.popup.width(), self.height() + 4))
        self.popup.move(top_left)
        self.popup.show()
        self.refresh()

    def _show_state(self) -> None:
        offline = self.offline
        self.setIcon(bell_icon("#8a97a6" if offline else "#3b4a5a"))
        words = f"{self.unread} unread" if self.unread else "nothing unread"
        hint = " — offline, showing the last known list" if offline else ""
        self.setToolTip(f"Notifications: {words}{hint}")
        self.setAccessibleName(f"Notifications, {words}")
        self.popup.show_state(self.model.rowCount(), self.unread, offline)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The button, then the red unread badge over the bell's top right."""
        super().paintEvent(event)
        if self.unread <= 0:
            return
        text = badge_text(self.unread)
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(11)
        height = 18.0
        width = max(height, QFontMetrics(font).horizontalAdvance(text) + 10.0)
        badge = QRectF(self.width() - width - 2, 2, width, height)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#ffffff"), 2))
        painter.setBrush(QColor(DANGER))
        painter.drawRoundedRect(badge, height / 2, height / 2)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(font)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()


def _single_shot(parent: QObject, slot: Callable[[], None], interval_ms: int) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer
