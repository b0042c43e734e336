"""The ICU central station workspace: ward picker, beds per screen, the live grid, a bed's detail.

The station is loaded over HTTP off the UI thread; live events arrive on the monitor WebSocket
and go straight into the tiles. A `station` or `resync` event, or a reconnect, reloads the ward.
"""

import uuid
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.rules.alarms import HIGH, LOW, MEDIUM
from hms_core.schemas.monitoring import (
    ALARM,
    NEWS2,
    VITALS,
    AlarmOut,
    News2Out,
    Station,
    StationBed,
    WardOverview,
)
from hms_desktop.monitoring.feed import MonitorFeed
from hms_desktop.monitoring.station_grid import BEDS_PER_SCREEN, StationView
from hms_desktop.monitoring.trend_view import TrendView
from hms_desktop.monitoring.unmatched_dialog import UnmatchedDialog
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error

PREF_WARD = "icu/ward_id"
PREF_BEDS = "icu/beds_per_screen"


class IcuWorkspace(QWidget):
    """The central station for one ward at a time; construct with the signed-in AppContext."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.feed: MonitorFeed | None = None
        self.wards: list[WardOverview] = []
        self._loading = False
        self._reload_again = False
        self._alarm_news: dict[uuid.UUID, AlarmOut] = {}  # alarms heard while a load is out
        self._heard: list[dict[str, Any]] = []  # numerics and scores heard meanwhile
        self._started = False
        self._settings = QSettings("hms", "hms-desktop")  # this PC's station choices
        self._build()

    def _build(self) -> None:
        self.ward_combo = QComboBox(self)
        self.ward_combo.setMinimumWidth(180)
        self.ward_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.ward_combo.activated.connect(self._ward_chosen)
        self.beds_combo = QComboBox(self)
        for count in BEDS_PER_SCREEN:
            self.beds_combo.addItem(f"{count} beds per screen", count)
        self.prev_button = QPushButton("◀", self)
        self.next_button = QPushButton("▶", self)
        self.page_label = QLabel("", self)
        self.prev_button.clicked.connect(lambda: self._turn(-1))
        self.next_button.clicked.connect(lambda: self._turn(1))
        self.connection_label = QLabel("Connecting…", self)
        self.unmatched_button = QPushButton("", self)
        self.unmatched_button.setStyleSheet("color:#b54708; font-weight:bold;")
        self.unmatched_button.setToolTip("Monitor readings that no patient could be matched to")
        self.unmatched_button.clicked.connect(self.open_unmatched)
        self.unmatched_button.hide()
        self.unmatched_dialog: UnmatchedDialog | None = None
        self.sound_button = self._sound_menu()
        self.error_label = QLabel("", self)
        self.error_label.setStyleSheet("color:#b42318;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Ward", self))
        bar.addWidget(self.ward_combo)
        bar.addWidget(self.beds_combo)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_button)
        bar.addStretch(1)
        bar.addWidget(self.unmatched_button)
        bar.addWidget(self.sound_button)
        bar.addWidget(self.connection_label)

        self.station = StationView(self)
        self.detail = TrendView(self.ctx, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.station)
        self.stack.addWidget(self.detail)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.stack, 1)

        self.station.bed_opened.connect(self.open_bed)
        self.station.acknowledge_requested.connect(self.acknowledge)
        self.station.silence_requested.connect(self.silence)
        self.station.reload_requested.connect(self.reload)
        self.detail.acknowledge_requested.connect(self.acknowledge)
        self.detail.silence_requested.connect(self.silence)
        self.detail.back_requested.connect(self.show_station)
        self.detail.limits_saved.connect(lambda _limits: self.reload())
        saved = _int(self._pref(PREF_BEDS), 16)
        index = self.beds_combo.findData(saved)
        self.beds_combo.setCurrentIndex(index if index >= 0 else 2)
        self.station.set_beds_per_screen(int(self.beds_combo.currentData()))
        self.beds_combo.currentIndexChanged.connect(self._beds_changed)
        self._update_pages()

    # --- lifecycle --------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.station.start()
        if not self._started:
            self._started = True
            self.load_wards()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self.station.stop()  # nothing to draw; the feed keeps the tiles' state current

    def shutdown(self) -> None:
        """Close the live feed (sign-out)."""
        self.station.stop()
        if self.feed is not None:
            self.feed.close()

    # --- wards and the station --------------------------------------------------------------

    def load_wards(self) -> None:
        api = self.ctx.api
        self.ctx.run(self, api.monitoring_wards, self._wards_loaded, self._failed)

    def _wards_loaded(self, wards: list[WardOverview]) -> None:
        self.wards = [w for w in wards if w.monitors] or list(wards)
        self.ward_combo.clear()
        for ward in self.wards:
            self.ward_combo.addItem(f"{ward.name} ({ward.code})", str(ward.id))
        if not self.wards:
            self.show_error("No ward has monitored beds yet.")
            return
        saved = str(self._pref(PREF_WARD) or "")
        index = self.ward_combo.findData(saved)
        if index < 0:
            index = next((i for i, w in enumerate(self.wards) if w.code.upper() == "ICU"), 0)
        self.ward_combo.setCurrentIndex(index)
        self.watch(str(self.wards[index].id))

    def _ward_chosen(self, index: int) -> None:
        if 0 <= index < len(self.wards):
            self.watch(str(self.wards[index].id))

    def watch(self, ward_id: str) -> None:
        """Show ward `ward_id` and follow its live feed."""
        self._set_pref(PREF_WARD, ward_id)
        if self.feed is None:
            self.feed = MonitorFeed(
                self.ctx.api.base_url,
                lambda: self.ctx.api.token,
                ward_id,
                self,
                client_id=self.ctx.api.client_id,
            )
            self.feed.events_received.connect(self._on_events)
            self.feed.connected_changed.connect(self._connection_changed)
            self.feed.refused.connect(
                lambda _c, reason: self.show_error(f"Live monitoring refused: {reason}")
            )
            self.feed.start()
        else:
            self.feed.set_ward(ward_id)
        self.reload()

    def reload(self) -> None:
        """Fetch the ward's station again (beds, patients, latest values, active alarms)."""
        ward_id = self.feed.ward_id if self.feed is not None else None
        if ward_id is None:
            return
        if self._loading:  # one at a time; ask again once this one has answered
            self._reload_again = True
            return
        self._loading, self._reload_again = True, False
        self._alarm_news = {}
        self._heard = []
        api = self.ctx.api
        self.ctx.run(
            self,
            lambda: api.monitoring_station(uuid.UUID(ward_id)),
            self._station_loaded,
            self._station_failed,
        )

    def _station_loaded(self, station: Station) -> None:
        self._loading = False
        news, self._alarm_news = self._alarm_news, {}
        heard, self._heard = self._heard, []
        if self._reload_again:
            self.reload()
        self.show_error("")
        self.station.load_station(station)
        self.station.handle_events(newer_than_snapshot(station, heard))
        self._replay_alarm_news(station, news)
        count = station.unmatched
        self.unmatched_button.setText(f"{count} unassigned reading{'' if count == 1 else 's'}")
        self.unmatched_button.setVisible(count > 0)
        self._update_pages()

    def _station_failed(self, exc: BaseException) -> None:
        self._loading = False
        if self._reload_again:
            self.reload()
        self._failed(exc)

    def _replay_alarm_news(self, station: Station, news: dict[uuid.UUID, AlarmOut]) -> None:
        """Alarm changes heard while the station was loading may be newer than the snapshot
        (an acknowledgement, an end, a new alarm): put them back on top of it."""
        if not news:
            return
        loaded = {a.id: a for bed in station.beds for a in bed.alarms}
        events = [
            {"type": ALARM, "alarm": newest(loaded.get(a.id), a).model_dump(mode="json")}
            for a in news.values()
        ]
        self.station.handle_events(events)

    def _on_events(self, events: list[dict[str, Any]]) -> None:
        if self._loading:
            for event in events:
                if event.get("type") == ALARM:
                    alarm = AlarmOut.model_validate(event["alarm"])
                    self._alarm_news[alarm.id] = newest(self._alarm_news.get(alarm.id), alarm)
                elif event.get("type") in (VITALS, NEWS2):
                    self._heard.append(event)
            del self._heard[:-HEARD_KEEP]
        self.station.handle_events(events)
        if self.stack.currentWidget() is self.detail:
            for event in events:
                if event.get("type") == ALARM:
                    self.detail.update_alarm(AlarmOut.model_validate(event["alarm"]))

    def _connection_changed(self, connected: bool) -> None:
        self.connection_label.setText("● Live" if connected else "○ Reconnecting…")
        self.connection_label.setStyleSheet("color:#067647;" if connected else "color:#b42318;")
        if connected:
            self.reload()  # catch up on what happened while disconnected

    def open_unmatched(self) -> UnmatchedDialog:
        """Show the monitor readings waiting for a patient, for a nurse to assign."""
        if self.unmatched_dialog is not None:
            self.unmatched_dialog.close()
            self.unmatched_dialog.deleteLater()
        station = self.station.station
        beds = station.beds if station is not None else []
        dialog = UnmatchedDialog(self.ctx, beds, self)
        dialog.assigned.connect(lambda _count: self.reload())
        self.unmatched_dialog = dialog
        dialog.load()
        dialog.open()
        return dialog

    # --- pages ------------------------------------------------------------------------------

    def _beds_changed(self, _index: int) -> None:
        count = int(self.beds_combo.currentData())
        self._set_pref(PREF_BEDS, count)
        self.station.set_beds_per_screen(count)
        self._update_pages()

    def _turn(self, step: int) -> None:
        self.station.set_page(self.station.page + step)
        self._update_pages()

    def _update_pages(self) -> None:
        pages = self.station.page_count
        self.page_label.setText(f"Page {self.station.page + 1} of {pages}")
        for widget in (self.prev_button, self.next_button, self.page_label):
            widget.setVisible(pages > 1)
        self.prev_button.setEnabled(self.station.page > 0)
        self.next_button.setEnabled(self.station.page < pages - 1)

    # --- detail and alarms ------------------------------------------------------------------

    def open_bed(self, bed: StationBed) -> None:
        """Show one bed's trends, alarm history and limits."""
        self.detail.open_bed(bed)
        self.stack.setCurrentWidget(self.detail)

    def show_station(self) -> None:
        self.stack.setCurrentWidget(self.station)

    def acknowledge(self, alarm_id: uuid.UUID) -> None:
        api = self.ctx.api
        self.ctx.run(
            self, lambda: api.acknowledge_alarm(alarm_id), self._alarm_changed, self._failed
        )

    def silence(self, alarm_id: uuid.UUID, minutes: int) -> None:
        api = self.ctx.api
        self.ctx.run(
            self, lambda: api.silence_alarm(alarm_id, minutes), self._alarm_changed, self._failed
        )

    def _alarm_changed(self, alarm: AlarmOut | None) -> None:
        if alarm is not None:
            self._on_events([{"type": ALARM, "alarm": alarm.model_dump(mode="json")}])

    def _sound_menu(self) -> QToolButton:
        """Alarm sound on this PC, chosen per priority (all off until a nurse turns it on)."""
        button = QToolButton(self)
        button.setText("Sound")
        button.setToolTip("Which alarm priorities sound on this PC")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        self.sound_actions: dict[str, QAction] = {}
        choices = ((HIGH, "High priority"), (MEDIUM, "Medium priority"), (LOW, "Low priority"))
        for priority, words in choices:
            action = menu.addAction(words)
            action.setCheckable(True)
            action.toggled.connect(lambda on, p=priority: self._sound_toggled(p, on))
            self.sound_actions[priority] = action
        button.setMenu(menu)
        return button

    def _sound_toggled(self, priority: str, on: bool) -> None:
        self.station.sounder.set_enabled(priority, on)
        count = sum(a.isChecked() for a in self.sound_actions.values())
        self.sound_button.setText(f"Sound ({count})" if count else "Sound")

    def _failed(self, exc: BaseException) -> None:
        self.show_error(describe_error(exc))

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _pref(self, key: str) -> Any:
        return self._settings.value(key)

    def _set_pref(self, key: str, value: Any) -> None:
        self._settings.setValue(key, value)


HEARD_KEEP = 500  # numerics and scores heard while a station loads, put back on top of it


def newer_than_snapshot(station: Station, heard: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of the numerics and scores heard while `station` loaded, those it may not contain yet:
    every numerics event (the next second corrects an older one) and each score computed no
    earlier than the bed's score in the snapshot (a score may not change again for hours)."""
    loaded = {str(b.bed_id): b.news2.computed_at for b in station.beds if b.news2 is not None}
    keep = []
    for event in heard:
        if event.get("type") == NEWS2:
            known = loaded.get(str(event.get("bed_id")))
            at = News2Out.model_validate(event["score"]).computed_at
            if known is not None and at < known:
                continue
        keep.append(event)
    return keep


def newest(known: AlarmOut | None, heard: AlarmOut) -> AlarmOut:
    """One alarm's two reports combined: an end, an acknowledgement and a silence are never
    undone, so whichever report has them is the newer in that respect."""
    if known is None:
        return heard
    quiet = [t for t in (known.silenced_until, heard.silenced_until) if t is not None]
    until = max(quiet) if quiet else None
    silenced_by = heard.silenced_by if until == heard.silenced_until else known.silenced_by
    return heard.model_copy(
        update={
            "ended_at": heard.ended_at or known.ended_at,
            "acknowledged_at": heard.acknowledged_at or known.acknowledged_at,
            "acknowledged_by": heard.acknowledged_by or known.acknowledged_by,
            "silenced_until": until,
            "silenced_by": silenced_by,
        }
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
