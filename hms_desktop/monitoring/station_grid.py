"""The central station: a page of bed tiles laid out to fit the screen, and one frame timer.

Events go into the tiles' buffers as they arrive; a single precise QTimer then advances every
sweep and redraws what changed. The station targets at least 30 frames/s: the timer fires every
30 ms (a 33 fps ceiling), so a late timeout now and then still leaves 30 frames in a second.
`frames` counts timer frames and `latencies` holds, for each `vitals` event, the seconds from
the gateway reading it (`received`) to its numbers being drawn.
"""

import math
import time
import uuid
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from hms_core.schemas.monitoring import (
    ALARM,
    NEWS2,
    STATION,
    VITALS,
    WAVE,
    AlarmOut,
    News2Out,
    Station,
    StationBed,
)
from hms_core.schemas.notifications import RESYNC
from hms_desktop.monitoring.alarm_style import AlarmSounder
from hms_desktop.monitoring.bed_tile import TILE_BG, BedTile

FRAME_MS = 30  # timer interval: at most 33 frames/s, for a target of at least 30
FPS = 1000 // FRAME_MS
TILE_ASPECT = 1.45  # width / height a tile looks best at
BEDS_PER_SCREEN = (4, 8, 16, 32)
LATENCY_KEEP = 10_000


def grid_shape(count: int, width: int, height: int, aspect: float = TILE_ASPECT) -> tuple[int, int]:
    """(columns, rows) that give `count` tiles the largest size near `aspect` in the area."""
    count = max(count, 1)
    best, best_score = (1, count), -1.0
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        tile_w, tile_h = width / cols, height / rows
        score = min(tile_w / aspect, tile_h) * math.sqrt(count / (cols * rows))  # empty cells cost
        if score > best_score + 1e-9:
            best, best_score = (cols, rows), score
    return best


class StationView(QWidget):
    """The beds of one ward, a page at a time; feed it a Station and live events."""

    bed_opened = Signal(object)  # StationBed
    acknowledge_requested = Signal(object)  # alarm id
    silence_requested = Signal(object, int)  # alarm id, minutes
    reload_requested = Signal()  # the server said the ward changed, or events were missed

    def __init__(self, parent: QWidget | None = None, *, fps: int = FPS) -> None:
        super().__init__(parent)
        self.setStyleSheet(f"StationView{{background:{TILE_BG};}}")
        self.tiles: dict[uuid.UUID, BedTile] = {}
        self.order: list[uuid.UUID] = []
        self.station: Station | None = None
        self.beds_per_screen = 32
        self.page = 0
        self.frames = 0
        self.latencies: list[float] = []
        self.sounder = AlarmSounder(self)
        self._last = time.monotonic()
        self._shape = (0, 0)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setSpacing(3)
        self.empty_label = QLabel("No beds to show.", self)
        self.empty_label.setStyleSheet("color:#c8d0d6; font-size:16px;")
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, 1000 // fps))  # FPS: 30 ms
        self.timer.timeout.connect(self.tick)

    # --- the ward --------------------------------------------------------------------------------

    def load_station(self, station: Station) -> None:
        """Show `station`'s beds (tiles of beds that stay keep their buffers)."""
        self.station = station
        offset = time.time() - station.server_time.timestamp()
        wanted = [bed.bed_id for bed in station.beds]
        for bed_id in set(self.tiles) - set(wanted):
            tile = self.tiles.pop(bed_id)
            tile.setParent(None)
            tile.deleteLater()
        for bed in station.beds:
            tile = self.tiles.get(bed.bed_id)
            if tile is None:
                tile = self._new_tile(bed)
            tile.set_bed(bed, offset)
        self.order = wanted
        self.page = min(self.page, self.page_count - 1)
        self._relayout(force=True)

    def _new_tile(self, bed: StationBed) -> BedTile:
        tile = BedTile(bed, self)
        tile.hide()
        tile.open_requested.connect(lambda bed_id: self.bed_opened.emit(self.tiles[bed_id].bed))
        tile.acknowledge_requested.connect(self.acknowledge_requested)
        tile.silence_requested.connect(self.silence_requested)
        self.tiles[bed.bed_id] = tile
        return tile

    def tile_for(self, label: str) -> BedTile:
        """The tile of the bed labelled `label` (for tests and tools)."""
        return next(t for t in self.tiles.values() if t.bed.label == label)

    # --- pages and layout ------------------------------------------------------------------------

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.order) / self.beds_per_screen))

    def visible_tiles(self) -> list[BedTile]:
        start = self.page * self.beds_per_screen
        return [self.tiles[b] for b in self.order[start : start + self.beds_per_screen]]

    def set_beds_per_screen(self, count: int) -> None:
        """Show up to `count` beds at once (4, 8, 16 or 32)."""
        self.beds_per_screen = max(1, count)
        self.page = min(self.page, self.page_count - 1)
        self._relayout(force=True)

    def set_page(self, page: int) -> None:
        self.page = max(0, min(page, self.page_count - 1))
        self._relayout(force=True)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self, *, force: bool = False) -> None:
        shown = self.visible_tiles()
        width = max(self.width() - 4, 1)
        height = max(self.height() - 4, 1)
        shape = grid_shape(len(shown), width, height)
        if not force and shape == self._shape:
            return
        self._shape = shape
        while self._grid.count():
            self._grid.takeAt(0)
        for tile in self.tiles.values():
            if tile not in shown:
                tile.hide()
        cols, rows = shape
        for i, tile in enumerate(shown):
            self._grid.addWidget(tile, i // cols, i % cols)
            tile.show()
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 1 if c < cols else 0)
        for r in range(self._grid.rowCount()):
            self._grid.setRowStretch(r, 1 if r < rows else 0)
        self.empty_label.setVisible(not shown)

    # --- live events -----------------------------------------------------------------------------

    def handle_events(self, events: list[dict[str, Any]]) -> None:
        """Put a batch of live events into the tiles (drawn on the next frame)."""
        for event in events:
            kind = event.get("type")
            if kind in (STATION, RESYNC):
                self.reload_requested.emit()
                continue
            if kind == ALARM:
                alarm = AlarmOut.model_validate(event["alarm"])
                tile = self.tiles.get(alarm.bed_id) if alarm.bed_id else None
                if tile is not None:
                    tile.set_alarm(alarm)
                continue
            tile = self._tile_of(event)
            if tile is None:
                continue
            if kind == VITALS:
                tile.apply_vitals(event)
            elif kind == WAVE:
                tile.push_wave(event)
            elif kind == NEWS2:
                score = event.get("score")
                tile.set_news2(News2Out.model_validate(score) if score else None)

    def _tile_of(self, event: dict[str, Any]) -> BedTile | None:
        bed_id = event.get("bed_id")
        if not bed_id:
            return None
        try:
            return self.tiles.get(uuid.UUID(str(bed_id)))
        except ValueError:
            return None

    # --- frames ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start drawing (when shown)."""
        self._last = time.monotonic()
        if not self.timer.isActive():
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def tick(self) -> None:
        """One frame: advance every sweep, redraw what changed, record latencies."""
        mono = time.monotonic()
        dt, self._last = min(mono - self._last, 0.5), mono
        now = time.time()
        self.frames += 1
        loudest: str | None = None
        for tile in self.tiles.values():
            for received in tile.render(now, dt):
                self.latencies.append(time.time() - received)
            loudest = _louder(loudest, tile.sounding_priority())
        if len(self.latencies) > LATENCY_KEEP:
            del self.latencies[: -LATENCY_KEEP // 2]
        if loudest != self.sounder.sounding:
            self.sounder.update(loudest)


def _louder(a: str | None, b: str | None) -> str | None:
    rank = {None: 0, "low": 1, "medium": 2, "high": 3}
    return a if rank.get(a, 0) >= rank.get(b, 0) else b
