"""The sweeping ECG of one bed, drawn the way a bedside monitor draws it: incrementally.

The trace lives in a pixmap the size of the widget. Each frame only the samples that arrived
since the last frame are drawn (joined to the last drawn point), the erase gap just ahead of the
writing point is cleared, and just that strip is repainted (`update(rect)`); `paintEvent` copies
only the exposed rectangle. A resize, a new sample rate or a cleared buffer redraws the whole
pixmap once from the ring buffer (`SweepBuffer`), which keeps every sample on the screen.

Every pixel column is a pure function of the samples it covers, so redrawing any strip gives the
same picture a full redraw would (to within antialiasing rounding): nothing smears or goes
stale when the sweep wraps. The vertical range starts fixed and is refitted every 2 s when the
trace clips or fills too little of the height (a full redraw then).
"""

import time

import numpy as np
import pyqtgraph.functions as fn
from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from hms_desktop.monitoring.buffers import SweepBuffer

DEFAULT_RANGE = (-1.5, 2.0)  # mV, bottom and top of the trace area until auto-ranged
RANGE_SECONDS = 2.0  # how often the vertical range is checked against the trace
MIN_SPAN = 1.5  # mV: a flat or small trace is not blown up to fill the height
ANTIALIAS = True  # measured: no dearer than aliased at 32 beds
LINE_PX = 1.0
MARGIN = 0.12  # of the span, above and below the trace's extremes


class SweepWidget(QWidget):
    """Draws a `SweepBuffer` as a left-to-right sweep; call `refresh()` once per frame."""

    def __init__(
        self,
        buffer: SweepBuffer,
        colour: str,
        background: str,
        mv_range: tuple[float, float] = DEFAULT_RANGE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.buffer = buffer
        self.colour = QColor(colour)
        self.background = QColor(background)
        self.bottom, self.top = mv_range
        self.auto_range = True
        self.antialias = ANTIALIAS
        self._pen = QPen(self.colour)
        self._pen.setWidthF(LINE_PX)
        self._ranged_at = time.monotonic()
        self.strips = 0  # partial redraws issued (each one update(rect) of a strip)
        self.full_redraws = 0
        self._pixmap = QPixmap()
        self._drawn = (-1, 0, 0)  # (buffer version, samples total, writing position) drawn
        self._w, self._h = 1, 1  # the pixmap's size in logical pixels
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(40, 24)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, 80)

    def samples(self) -> np.ndarray:
        """The samples on the screen, left to right, in mV; NaN where nothing is drawn."""
        return self.buffer.y.copy()

    # --- drawing into the pixmap ------------------------------------------------------------

    def refresh(self) -> None:
        """Draw what arrived since the last call and repaint just that strip."""
        buf = self.buffer
        if self._pixmap.isNull() or not self.isVisible():
            return
        version, total, old_pos = self._drawn
        new = buf.total - total
        rescaled = self.auto_range and self._rescale()
        if rescaled or version != buf.version or new < 0 or new >= buf.size - buf.gap - 1:
            self.redraw()
            return
        if new == 0:
            return
        start = (old_pos - 1) % buf.size  # the segment joining the last drawn point
        count = new + buf.gap + 1
        pieces = [(start, min(start + count, buf.size))]
        if start + count > buf.size:  # the strip wraps to the left edge
            pieces.append((0, start + count - buf.size))
        painter = QPainter(self._pixmap)
        try:
            rects = [self._paint_strip(painter, lo, hi) for lo, hi in pieces]
        finally:
            painter.end()
        self._drawn = (buf.version, buf.total, buf.pos)
        self.strips += 1
        for rect in rects:
            self.update(rect)

    def _rescale(self) -> bool:
        """Every RANGE_SECONDS, fit the vertical range to the trace if it clips or is much
        too wide (the hysteresis keeps it still from beat to beat); whether it changed."""
        now = time.monotonic()
        if now - self._ranged_at < RANGE_SECONDS:
            return False
        self._ranged_at = now
        values = self.buffer.y[np.isfinite(self.buffer.y)]
        if values.size < self.buffer.hz:  # less than a second on screen: keep the range
            return False
        low, high = np.percentile(values, (0.2, 99.8))
        middle, span = (low + high) / 2, max(high - low, MIN_SPAN / (1 + 2 * MARGIN))
        bottom, top = middle - span * (0.5 + MARGIN), middle + span * (0.5 + MARGIN)
        clips = low < self.bottom or high > self.top
        too_wide = (self.top - self.bottom) > 1.8 * (top - bottom)
        if not (clips or too_wide):
            return False
        self.bottom, self.top = float(bottom), float(top)
        return True

    def redraw(self) -> None:
        """Draw the whole buffer afresh (after a resize, a new rate, a cleared trace)."""
        buf = self.buffer
        if self._pixmap.isNull():
            return
        painter = QPainter(self._pixmap)
        try:
            self._paint_strip(painter, 0, buf.size)
        finally:
            painter.end()
        self._drawn = (buf.version, buf.total, buf.pos)
        self.full_redraws += 1
        self.update()

    def _column(self, index: int) -> int:
        """The pixel column of sample `index` (the width when past the last sample)."""
        if index >= self.buffer.size:
            return self._width()
        return index * self._width() // self.buffer.size

    def _first_in(self, column: int) -> int:
        """The first sample whose column is `column` or later."""
        width = self._width()
        return min(-(-column * self.buffer.size // width), self.buffer.size)

    def _width(self) -> int:
        return self._w

    def _paint_strip(self, painter: QPainter, lo: int, hi: int) -> QRect:
        """Repaint the columns of samples lo..hi-1 from the buffer; returns the strip drawn."""
        lo = self._first_in(self._column(lo))  # whole columns: they hold several samples
        hi = self._first_in(self._column(hi - 1) + 1)
        left, right = self._column(lo), self._column(hi)
        height = self._h
        strip = QRect(left, 0, max(right - left, 1), height)
        painter.setClipRect(strip)
        painter.fillRect(strip, self.background)
        reach = 2 if self.antialias else 1  # a smoothed line spills into its neighbours
        first, last = max(lo - reach, 0), min(hi + reach - 1, self.buffer.size - 1)
        self._draw_line(painter, first, last + 1, height)
        return strip

    def _draw_line(self, painter: QPainter, first: int, stop: int, height: int) -> None:
        """The trace through samples first..stop-1, broken where a sample is NaN."""
        values = self.buffer.y[first:stop]
        finite = np.isfinite(values)
        if not finite.any():
            return
        xs = np.arange(first, stop) * self._width() // self.buffer.size + 0.5  # pixel centres
        scale = (height - 1) / (self.top - self.bottom)
        ys = np.clip((self.top - values) * scale, -2.0, height + 1.0) + 0.5  # NaN stays NaN
        if not self.antialias:
            ys = np.floor(ys)
        painter.setPen(self._pen)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
        # runs of finite samples: each is one polyline (a lone sample is a dot)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.view(np.int8), [0]))))
        for begin, end in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            if end - begin == 1:
                painter.drawPoint(QPointF(xs[begin], ys[begin]))
                continue
            line = fn.create_qpolygonf(end - begin)  # filled in place: no QPointF per sample
            points = fn.ndarray_from_qpolygonf(line)
            points[:, 0] = xs[begin:end]
            points[:, 1] = ys[begin:end]
            painter.drawPolyline(line)

    # --- Qt events ----------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        ratio = self.devicePixelRatioF()
        size = event.size()
        if size.width() <= 0 or size.height() <= 0:
            self._pixmap = QPixmap()
            return
        self._w, self._h = size.width(), size.height()
        self._pixmap = QPixmap(int(size.width() * ratio), int(size.height() * ratio))
        self._pixmap.setDevicePixelRatio(ratio)
        self.redraw()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._pixmap.isNull():
            self.redraw()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        rect = event.rect()
        if self._pixmap.isNull():
            painter.fillRect(rect, self.background)
            return
        painter.drawPixmap(rect, self._pixmap, self._source(rect))

    def _source(self, rect: QRect) -> QRect:
        ratio = self._pixmap.devicePixelRatio()
        return QRect(
            int(rect.x() * ratio),
            int(rect.y() * ratio),
            int(rect.width() * ratio),
            int(rect.height() * ratio),
        )
