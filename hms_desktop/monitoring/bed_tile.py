"""One bed on the central station: who is in it, the sweeping ECG, big numerics, NEWS2, alarms.

A tile only stores what arrives (`apply_vitals`, `push_wave`, `set_alarm`, `set_news2`); the
station's single timer calls `render` ~30 times a second, which redraws only what changed.
"""

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.monitoring import AlarmOut, News2Out, StationBed
from hms_desktop.monitoring.alarm_style import (
    AlarmLook,
    alarm_text,
    is_quiet,
    look_for,
    top_alarm,
)
from hms_desktop.monitoring.buffers import SweepBuffer, TrendBuffer
from hms_desktop.monitoring.sweep_widget import SweepWidget

STALE_SECONDS = 30.0
NIBP_STALE_SECONDS = 30 * 60.0  # a cuff pressure is measured every few minutes, not streamed
SILENCE_MINUTES = 2
TILE_BG = "#0b0f12"
HEADER_BG = "#1c252c"
DIM = "#56636d"
ECG_GREEN = "#3ee06b"
COLOURS = {
    "hr": ECG_GREEN,
    "spo2": "#38c8ff",
    "nibp": "#ff8a8a",
    "rr": "#ffe35a",
    "temp": "#e6e6e6",
}
NEWS2_COLOURS = {  # band -> (background, text)
    "zero": ("#3a464f", "#ffffff"),
    "low": ("#2e9d4a", "#ffffff"),
    "low-medium": ("#f5a623", "#000000"),
    "medium": ("#f36c21", "#000000"),
    "high": ("#d0021b", "#ffffff"),
}
ECG_RANGE = (-1.5, 2.0)  # mV, the sweep's starting range; it then fits the trace slowly
TREND_SECONDS = 600.0
SPARK_MIN = 2.0  # seconds between sparkline redraws with new readings (6 s a pixel at 10 min)
SPARK_REFRESH = 10.0  # seconds between moves of the sparkline window when nothing new arrived
BORDER_PX = 3  # the alarm-coloured frame of a tile
MAX_WAITING = 100  # vitals receipts kept for latency while the station is not drawing


def news2_colours(score: News2Out | None) -> tuple[str, str]:
    """The band colours of a NEWS2 badge (grey when there is no complete score)."""
    if score is None or score.total is None or score.band is None:
        return NEWS2_COLOURS["zero"][0], "#c8d0d6"
    if score.total == 0:
        return NEWS2_COLOURS["zero"]
    return NEWS2_COLOURS.get(score.band, NEWS2_COLOURS["zero"])


def _num(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "---"
    return f"{value:.0f}"


@dataclass
class Reading:
    """The latest value of one parameter and when this PC learned it (epoch seconds)."""

    value: float | None
    seen: float
    artefact: bool = False

    def usable(self, now: float, stale: float = STALE_SECONDS) -> bool:
        """A value a nurse may read: fresh, not an artefact, not a sensor-off zero."""
        return (
            self.value is not None
            and self.value != 0
            and not self.artefact
            and now - self.seen <= stale
        )


@dataclass
class BedState:
    """Everything the tile knows about its bed, independent of widgets."""

    bed: StationBed
    readings: dict[str, Reading] = field(default_factory=dict)
    alarms: dict[uuid.UUID, AlarmOut] = field(default_factory=dict)
    news2: News2Out | None = None
    live_unassigned: bool = False  # readings arrive for a bed with no patient


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with '…' instead of widening the tile."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(10)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.setFont(self.font())
        text = QFontMetrics(self.font()).elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.width()
        )
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter), text)


class Numeric(QWidget):
    """A caption with its unit over one big number; dim '---' when the value is not usable."""

    def __init__(
        self, caption: str, unit: str, colour: str, sample: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.colour = colour
        self.sample = sample  # the widest text the number may need, to fit the font to
        self._max_px = 24
        self.caption = QLabel(f"{caption} <span style='font-size:small'>{unit}</span>", self)
        self.caption.setStyleSheet(f"color:{colour}; background:transparent;")
        self.value = QLabel("---", self)
        self.value.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.value.setStyleSheet(f"color:{DIM}; background:transparent;")
        self.value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.usable = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(self.value, 1)

    def show_value(self, text: str, usable: bool) -> bool:
        """Show `text`; returns whether anything changed on screen."""
        changed = False
        if usable != self.usable:
            self.usable = usable
            self.value.setStyleSheet(
                f"color:{self.colour if usable else DIM}; background:transparent;"
            )
            changed = True
        if text != self.value.text():
            self.value.setText(text)
            changed = True
        return changed

    def set_sizes(self, value_px: int, caption_px: int) -> None:
        """Scale the caption, and the number up to `value_px` as far as it fits."""
        small = QFont(self.caption.font())
        small.setPixelSize(caption_px)
        self.caption.setFont(small)
        self._max_px = value_px
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        font = QFont(self.value.font())
        font.setBold(True)
        font.setPixelSize(self._max_px)
        wide = QFontMetrics(font).horizontalAdvance(self.sample) or 1
        room_w = max(self.width() - 6, 10)
        room_h = max(self.height() - self.caption.sizeHint().height(), 10)
        px = int(min(self._max_px, self._max_px * room_w / wide, room_h * 0.95))
        font.setPixelSize(max(px, 10))
        if font != self.value.font():
            self.value.setFont(font)


class BedTile(QFrame):
    """One bed on the station grid; double-click opens its trends."""

    acknowledge_requested = Signal(object)  # alarm id
    silence_requested = Signal(object, int)  # alarm id, minutes
    open_requested = Signal(object)  # bed id

    def __init__(self, bed: StationBed, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = BedState(bed)
        self.sweep = SweepBuffer()
        self.trends = {"hr": TrendBuffer(TREND_SECONDS), "spo2": TrendBuffer(TREND_SECONDS)}
        self.look: AlarmLook | None = None
        self.flash_on = False
        self.flash_toggles = 0
        self._received: list[float] = []  # `received` of vitals not yet drawn
        self._numerics_due = True
        self._spark_at = 0.0
        self._header_style = ""
        self._news2_style = ""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self.setMinimumSize(180, 140)
        self._build()
        self.set_bed(bed)

    # --- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.header = QWidget(self)
        self.header.setObjectName("header")
        self.header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.bed_label = QLabel(self.header)
        self.patient_label = ElidedLabel("", self.header)
        self.mrn_label = QLabel("", self.header)
        self.news2_label = QLabel("NEWS2 –", self.header)
        self.news2_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        top = QHBoxLayout(self.header)
        top.setContentsMargins(6, 2, 4, 2)
        top.setSpacing(6)
        top.addWidget(self.bed_label)
        top.addWidget(self.patient_label, 1)
        top.addWidget(self.mrn_label)
        top.addWidget(self.news2_label)

        self.alarm_row = QWidget(self)
        self.alarm_row.setObjectName("alarmrow")
        self.alarm_row.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.alarm_label = ElidedLabel("", self.alarm_row)
        self.ack_button = QPushButton("Ack", self.alarm_row)
        self.ack_button.setToolTip("Acknowledge the alarm (stops flashing and sound)")
        self.silence_button = QPushButton(f"Silence {SILENCE_MINUTES} min", self.alarm_row)
        for button in (self.ack_button, self.silence_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setStyleSheet(
                "QPushButton{background:#2b3640;color:white;border:1px solid #61717d;"
                "border-radius:3px;padding:1px 6px;}"
            )
        self.ack_button.clicked.connect(lambda: self._request_ack())
        self.silence_button.clicked.connect(lambda: self._request_silence())
        row = QHBoxLayout(self.alarm_row)
        row.setContentsMargins(6, 0, 4, 0)
        row.setSpacing(4)
        row.addWidget(self.alarm_label, 1)
        row.addWidget(self.ack_button)
        row.addWidget(self.silence_button)

        self.tech_label = ElidedLabel("", self)
        self.tech_label.setStyleSheet(
            "background:#1f4fb4; color:white; padding:0 6px; border:1px dashed white;"
        )

        # The ECG is drawn incrementally into a pixmap (SweepWidget): a pyqtgraph view per bed
        # repainted 30 times a second cost more than half a core at 32 beds
        # (tests/benchmarks/icu_bench.py). pyqtgraph keeps the sparklines, which change about
        # once a second and are redrawn only then.
        self.ecg = SweepWidget(self.sweep, ECG_GREEN, TILE_BG, ECG_RANGE, self)
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setBackground(TILE_BG)
        self.plots.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.plots.ci.layout.setSpacing(2)
        self.hr_spark = self.plots.addPlot(row=0, col=0)
        self.spo2_spark = self.plots.addPlot(row=0, col=1)
        for plot in (self.hr_spark, self.spo2_spark):
            _quiet_plot(plot)
        self.hr_spark.setXRange(-TREND_SECONDS, 0, padding=0)
        self.spo2_spark.setXRange(-TREND_SECONDS, 0, padding=0)
        # Fixed physiological scales: a steady patient draws a steady line, not magnified noise.
        self.hr_spark.setYRange(30, 180, padding=0.05)
        self.spo2_spark.setYRange(80, 100, padding=0.05)
        self.hr_curve = self.hr_spark.plot(pen=pg.mkPen(COLOURS["hr"], width=1))
        self.spo2_curve = self.spo2_spark.plot(pen=pg.mkPen(COLOURS["spo2"], width=1))
        for curve in (self.hr_curve, self.spo2_curve):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.plots.setMinimumHeight(16)  # the stretch factors below share the height
        self.plots.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        traces = QVBoxLayout()
        traces.setContentsMargins(0, 0, 0, 0)
        traces.setSpacing(2)
        traces.addWidget(self.ecg, 3)
        traces.addWidget(self.plots, 1)

        self.numerics = {
            "hr": Numeric("HR", "/min", COLOURS["hr"], "888"),
            "spo2": Numeric("SpO₂", "%", COLOURS["spo2"], "188"),
            "nibp": Numeric("NIBP", "mmHg", COLOURS["nibp"], "288/188 (188)"),
            "rr": Numeric("RR", "/min", COLOURS["rr"], "88"),
            "temp": Numeric("Temp", "°C", COLOURS["temp"], "38.8"),
        }
        numbers = QWidget(self)
        grid = QGridLayout(numbers)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(0)
        grid.addWidget(self.numerics["hr"], 0, 0)
        grid.addWidget(self.numerics["spo2"], 0, 1)
        grid.addWidget(self.numerics["nibp"], 1, 0, 1, 2)
        grid.addWidget(self.numerics["rr"], 2, 0)
        grid.addWidget(self.numerics["temp"], 2, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        grid.setRowStretch(2, 2)

        body = QHBoxLayout()
        body.setContentsMargins(4, 0, 4, 4)
        body.setSpacing(4)
        body.addLayout(traces, 11)
        body.addWidget(numbers, 9)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(3, 3, 3, 3)
        outer.setSpacing(2)
        outer.addWidget(self.header)
        outer.addWidget(self.alarm_row)
        outer.addWidget(self.tech_label)
        outer.addLayout(body, 1)
        self.alarm_row.hide()
        self.tech_label.hide()
        self._apply_header(None, lit=False)

    # --- data in ------------------------------------------------------------------------------

    @property
    def bed_id(self) -> uuid.UUID:
        return self.state.bed.bed_id

    @property
    def bed(self) -> StationBed:
        return self.state.bed

    def set_bed(self, bed: StationBed, server_offset: float = 0.0) -> None:
        """Show `bed` as the server reported it; `server_offset` = this PC's clock - server's."""
        previous = self.state.bed.patient.id if self.state.bed.patient else None
        self.state.bed = bed
        now = time.time()
        for name, latest in bed.latest.items():
            seen = latest.at.timestamp() + server_offset
            current = self.state.readings.get(name)
            if current is None or current.seen < seen:
                self.state.readings[name] = Reading(latest.value, min(seen, now), latest.artefact)
        self.state.alarms = {a.id: a for a in bed.alarms}
        self.state.news2 = bed.news2
        if (bed.patient.id if bed.patient else None) != previous:
            self.state.live_unassigned = False
        self.bed_label.setText(bed.label)
        self._show_patient()
        self._show_news2()
        self._show_alarms()
        self._numerics_due = True

    def apply_vitals(self, event: dict[str, Any], now: float | None = None) -> None:
        """Take a `vitals` event; the numerics are redrawn on the next frame."""
        now = time.time() if now is None else now
        artefacts = set(event.get("artefacts") or ())
        for name, value in (event.get("values") or {}).items():
            number = float(value) if value is not None else None
            self.state.readings[name] = Reading(number, now, name in artefacts)
            if name in self.trends:
                ok = number is not None and number != 0 and name not in artefacts
                self.trends[name].append(now, number if ok else np.nan)
        for name in artefacts - set(event.get("values") or {}):
            self.state.readings[name] = Reading(None, now, True)
        unassigned = event.get("patient_id") is None and self.state.bed.patient is None
        if unassigned and not self.state.live_unassigned:
            self.state.live_unassigned = True
            self._show_patient()
        received = event.get("received")
        if isinstance(received, int | float) and len(self._received) < MAX_WAITING:
            self._received.append(float(received))
        self._numerics_due = True

    def push_wave(self, event: dict[str, Any]) -> None:
        """Queue a `wave` chunk of ECG samples for the sweep."""
        samples = event.get("samples") or []
        if samples:
            self.sweep.push(samples, float(event.get("hz") or self.sweep.hz))

    def set_alarm(self, alarm: AlarmOut) -> None:
        """An alarm started, changed or ended."""
        if alarm.ended_at is not None:
            self.state.alarms.pop(alarm.id, None)
        else:
            self.state.alarms[alarm.id] = alarm
        self._show_alarms()

    def set_news2(self, score: News2Out | None) -> None:
        self.state.news2 = score
        self._show_news2()

    # --- what is shown ------------------------------------------------------------------------

    def active_alarm(self) -> AlarmOut | None:
        """The clinical alarm that colours the tile."""
        return top_alarm(self.state.alarms.values())

    def technical_alarm(self) -> AlarmOut | None:
        return top_alarm(self.state.alarms.values(), technical=True)

    def sounding_priority(self) -> str | None:
        """The priority that should sound for this bed (None: acknowledged, silenced or none)."""
        alarm = self.active_alarm()
        return None if alarm is None or is_quiet(alarm) else alarm.priority

    def _show_patient(self) -> None:
        bed, patient = self.state.bed, self.state.bed.patient
        mrn = ""
        if patient is not None:
            text, mrn = patient.name, f"MRN {patient.mrn}"
            facts = [patient.sex or "", f"{patient.age} y" if patient.age is not None else ""]
            allergies = ", ".join(patient.allergies) or "none recorded"
            tip = f"{text} · {mrn}\n{' '.join(f for f in facts if f)}\nAllergies: {allergies}"
        elif self.state.live_unassigned:
            text = "Unassigned monitor"
            tip = f"Monitor {bed.device_id or ''} sends readings, but no patient is in this bed."
        else:
            text, tip = "No patient", f"Monitor {bed.device_id or 'none'}"
        self.patient_label.setText(text)
        self.patient_label.setToolTip(tip)
        self.mrn_label.setText(mrn)
        self.mrn_label.setVisible(bool(mrn))
        self.patient_label.update()

    def _show_news2(self, *, restyle: bool = False) -> None:
        score = self.state.news2
        total = "–" if score is None or score.total is None else str(score.total)
        background, colour = news2_colours(score)
        if self.news2_label.text() != f"NEWS2 {total}":
            self.news2_label.setText(f"NEWS2 {total}")
        style = (
            f"background:{background}; color:{colour}; border-radius:3px; padding:0 6px;"
            "font-weight:bold; border:1px solid rgba(255,255,255,150);"
        )
        if style != self._news2_style or restyle:
            self._news2_style = style
            self.news2_label.setStyleSheet(style)
        if score is not None and score.band:
            extra = " (a single parameter scored 3)" if score.red_score else ""
            self.news2_label.setToolTip(f"NEWS2 {total}: {score.band} band{extra}")

    def _show_alarms(self) -> None:
        clinical, technical = self.active_alarm(), self.technical_alarm()
        self.look = look_for(clinical)
        if clinical is None:
            self.alarm_row.hide()
        else:
            self.alarm_label.setText(alarm_text(clinical))
            self.alarm_label.setToolTip(clinical.message)
            self.ack_button.setEnabled(clinical.acknowledged_at is None)
            self.alarm_row.show()
        if technical is None:
            self.tech_label.hide()
        else:
            self.tech_label.setText(f"⚙ {alarm_text(technical)}")
            self.tech_label.show()
        self._apply_header(self.look, lit=self.look is not None and self.look.lit(time.time()))

    def _apply_header(self, look: AlarmLook | None, *, lit: bool) -> None:
        self.flash_on = lit
        if look is not None and lit:
            background, colour = look.background, look.foreground
        else:
            background, colour = HEADER_BG, "#ffffff"
        style = f"#header{{background:{background};}} QLabel{{color:{colour};}}"
        if style != self._header_style:
            self._header_style = style
            self.header.setStyleSheet(style)
            self._show_news2(restyle=True)  # the header's QLabel rule would recolour it
            self.alarm_row.setStyleSheet(  # steady colour: the alarm stays readable between flashes
                f"#alarmrow{{background:{look.background if look else HEADER_BG};}}"
                f" QLabel{{color:{look.foreground if look else '#ffffff'};}}"
            )
        self._update_border()

    def _update_border(self) -> None:
        """Repaint only the frame: the traces inside need no repaint when it flashes."""
        inner = self.rect().adjusted(BORDER_PX + 1, BORDER_PX + 1, -BORDER_PX - 1, -BORDER_PX - 1)
        self.update(QRegion(self.rect()).subtracted(QRegion(inner)))

    # --- drawing ------------------------------------------------------------------------------

    def render(self, now: float, dt: float) -> list[float]:
        """Advance one frame; returns the `received` times of vitals drawn in this frame."""
        self.sweep.advance(dt)
        if self.look is not None and self.look.period > 0:
            lit = self.look.lit(now)
            if lit != self.flash_on:
                self.flash_toggles += 1
                self._apply_header(self.look, lit=lit)
        if not self.isVisible():
            self._received.clear()  # not drawn, so no latency to report
            return []
        self.ecg.refresh()
        self.sweep.dirty = False
        if self.plots.isVisible() and self._sparks_due(now):
            self._draw_sparks(now)
        drawn: list[float] = []
        if self._numerics_due or int(now) != int(now - dt):  # changes, and staleness each second
            self._numerics_due = False
            if self.state.alarms and look_for(self.active_alarm()) != self.look:
                self._show_alarms()  # a silence ran out: flash again
            self._draw_numerics(now)
            drawn, self._received = self._received, []
        return drawn

    def _sparks_due(self, now: float) -> bool:
        """New readings at most every SPARK_MIN s; the window moves every SPARK_REFRESH s."""
        waited = now - self._spark_at
        changed = any(t.dirty for t in self.trends.values())
        return waited >= SPARK_REFRESH or (changed and waited >= SPARK_MIN)

    def _draw_sparks(self, now: float) -> None:
        self._spark_at = now
        for name, curve in (("hr", self.hr_curve), ("spo2", self.spo2_curve)):
            trend = self.trends[name]
            t, v = trend.arrays(now)
            curve.setData(t - now, v, connect="finite")
            trend.dirty = False

    def _draw_numerics(self, now: float) -> None:
        readings = self.state.readings
        hr = readings.get("hr")
        if hr is None or not hr.usable(now):
            hr = readings.get("pulse") or hr
        self._show_one("hr", hr, now, _num)
        self._show_one("spo2", readings.get("spo2"), now, _num)
        self._show_one("rr", readings.get("rr"), now, _num)
        self._show_one("temp", readings.get("temp"), now, lambda v: f"{v:.1f}")
        self.numerics["nibp"].show_value(*self._nibp_text(now))

    def _show_one(self, key: str, reading: Reading | None, now: float, fmt: Any) -> None:
        if reading is not None and reading.usable(now) and reading.value is not None:
            self.numerics[key].show_value(fmt(reading.value), True)
        else:
            self.numerics[key].show_value("---", False)

    def _nibp_text(self, now: float) -> tuple[str, bool]:
        readings = self.state.readings
        sys_, dia, mean = (readings.get(f"nibp_{p}") for p in ("sys", "dia", "mean"))
        if sys_ is None or not sys_.usable(now, NIBP_STALE_SECONDS):
            return "---/---", False
        dia_text = _num(dia.value) if dia and dia.usable(now, NIBP_STALE_SECONDS) else "---"
        text = f"{_num(sys_.value)}/{dia_text}"
        if mean is not None and mean.usable(now, NIBP_STALE_SECONDS):
            text += f" ({_num(mean.value)})"
        return text, True

    # --- sizing and painting ------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        h = event.size().height()
        header_px = max(11, min(18, h // 16))
        for label in (self.bed_label, self.patient_label, self.news2_label, self.alarm_label):
            font = QFont(label.font())
            font.setPixelSize(header_px)
            font.setBold(True)
            label.setFont(font)
        small = QFont(self.tech_label.font())
        small.setPixelSize(max(10, header_px - 2))
        self.tech_label.setFont(small)
        for button in (self.ack_button, self.silence_button):
            button.setFont(small)
        value_px = max(14, min(int(h * 0.17), 80))
        small_px = max(12, int(value_px * 0.7))
        nibp_px = max(11, int(value_px * 0.75))
        caption_px = max(9, min(15, h // 20))
        for key, numeric in self.numerics.items():
            size = {"hr": value_px, "spo2": value_px, "nibp": nibp_px}.get(key, small_px)
            numeric.set_sizes(size, caption_px)
        mrn_font = QFont(self.mrn_label.font())
        mrn_font.setPixelSize(max(10, header_px - 2))
        mrn_font.setBold(False)
        self.mrn_label.setFont(mrn_font)
        self.plots.setVisible(h >= 170)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(TILE_BG))
        look = self.look
        colour = (
            look.background
            if look is not None and (self.flash_on or look.period == 0)
            else "#2f3b44"
        )
        pen = QPen(QColor(colour))
        pen.setWidth(BORDER_PX)
        painter.setPen(pen)
        painter.drawRect(self.rect().adjusted(1, 1, -2, -2))

    # --- interaction --------------------------------------------------------------------------

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.open_requested.emit(self.bed_id)
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        self.context_menu().popup(event.globalPos())

    def context_menu(self) -> QMenu:
        """Acknowledge, silence, open trends."""
        menu = QMenu(self)
        alarm = self.active_alarm() or self.technical_alarm()
        ack = menu.addAction("Acknowledge alarm", self._request_ack)
        ack.setEnabled(alarm is not None and alarm.acknowledged_at is None)
        silence = menu.addAction(f"Silence {SILENCE_MINUTES} min", self._request_silence)
        silence.setEnabled(alarm is not None)
        menu.addSeparator()
        menu.addAction(
            "Open trends and alarm history", lambda: self.open_requested.emit(self.bed_id)
        )
        return menu

    def _request_ack(self) -> None:
        alarm = self.active_alarm() or self.technical_alarm()
        if alarm is not None:
            self.acknowledge_requested.emit(alarm.id)

    def _request_silence(self) -> None:
        alarm = self.active_alarm() or self.technical_alarm()
        if alarm is not None:
            self.silence_requested.emit(alarm.id, SILENCE_MINUTES)


def _quiet_plot(plot: pg.PlotItem) -> None:
    """A bare plot: no axes, no mouse, no menu, no auto-range button."""
    for axis in ("left", "bottom"):
        plot.hideAxis(axis)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getViewBox().setDefaultPadding(0)
    plot.setContentsMargins(0, 0, 0, 0)
