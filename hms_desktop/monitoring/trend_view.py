"""A bed's detail: hours of trends (zoom and pan), the alarm history, the limits editor."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hms_core.rules.alarms import AlarmLimits
from hms_core.schemas.monitoring import AlarmOut, StationBed, Trends
from hms_desktop.monitoring.alarm_style import is_active
from hms_desktop.monitoring.bed_tile import COLOURS
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

HOURS = (1, 4, 12, 24)
PANELS = (  # title, [(parameter, colour)], limit fields
    ("HR /min", [("hr", COLOURS["hr"]), ("pulse", "#9be7a9")], ("hr_low", "hr_high")),
    ("SpO₂ %", [("spo2", COLOURS["spo2"])], ("spo2_low",)),
    (
        "NIBP mmHg",
        [("nibp_sys", COLOURS["nibp"]), ("nibp_dia", "#d46a6a"), ("nibp_mean", "#ffc2c2")],
        ("nibp_sys_low", "nibp_sys_high"),
    ),
    ("RR /min", [("rr", COLOURS["rr"])], ("rr_low", "rr_high")),
    ("Temp °C", [("temp", COLOURS["temp"])], ("temp_low", "temp_high")),
)
LIMIT_FIELDS = (  # field, label, decimals
    ("hr_low", "Heart rate low (/min)", 0),
    ("hr_high", "Heart rate high (/min)", 0),
    ("spo2_low", "SpO₂ low (%)", 0),
    ("nibp_sys_low", "NIBP systolic low (mmHg)", 0),
    ("nibp_sys_high", "NIBP systolic high (mmHg)", 0),
    ("rr_low", "Respiration rate low (/min)", 0),
    ("rr_high", "Respiration rate high (/min)", 0),
    ("temp_low", "Temperature low (°C)", 1),
    ("temp_high", "Temperature high (°C)", 1),
)
PAIRS = {
    "hr": "Heart rate",
    "nibp_sys": "NIBP systolic",
    "rr": "Respiration rate",
    "temp": "Temperature",
}


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%d %b %H:%M:%S") if moment else ""


ALARM_COLUMNS: list[Column[AlarmOut]] = [
    Column("Started", lambda a: _when(a.started_at)),
    Column("Priority", lambda a: a.priority),
    Column("Kind", lambda a: "equipment" if a.kind == "technical" else "patient"),
    Column("Alarm", lambda a: a.message, tooltip=lambda a: a.message),
    Column("Ended", lambda a: _when(a.ended_at) or "active"),
    Column(
        "Acknowledged",
        lambda a: f"{_when(a.acknowledged_at)} {a.acknowledged_by or ''}".strip(),
    ),
    Column("Silenced until", lambda a: _when(a.silenced_until)),
]


# How long a condition must last before it alarms (cuts alarms for a moved probe), per parameter
DELAY_FIELDS = (
    ("spo2", "SpO₂"),
    ("hr", "Heart rate"),
    ("rr", "Respiration rate"),
    ("nibp_sys", "NIBP systolic"),
    ("temp", "Temperature"),
)
MAX_DELAY = 120


def limits_problem(values: dict[str, Any]) -> str | None:
    """Why these limits cannot be saved, in plain words (None when they can)."""
    for key, label in PAIRS.items():
        if values[f"{key}_low"] >= values[f"{key}_high"]:
            return f"{label}: the low limit must be below the high limit."
    return None


class LimitsDialog(QDialog):
    """A nurse edits one patient's alarm limits; `save(limits)` runs off the UI thread."""

    saved = Signal(object)  # AlarmLimits as stored by the server

    def __init__(
        self,
        limits: AlarmLimits,
        save: Callable[
            [AlarmLimits, Callable[[AlarmLimits], None], Callable[[BaseException], None]], None
        ],
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Alarm limits · {title}")
        self._limits = limits
        self._save = save
        form = QFormLayout()
        self.spins: dict[str, QDoubleSpinBox] = {}
        schema = AlarmLimits.model_fields
        for name, label, decimals in LIMIT_FIELDS:
            spin = QDoubleSpinBox(self)
            low, high = _bounds(schema[name].metadata)
            spin.setRange(low, high)
            spin.setDecimals(decimals)
            spin.setSingleStep(1 if decimals == 0 else 0.1)
            spin.setValue(float(getattr(limits, name)))
            self.spins[name] = spin
            form.addRow(label, spin)
        self.scale = QComboBox(self)
        self.scale.addItem("Scale 1 (usual)", 1)
        self.scale.addItem("Scale 2 (hypercapnic respiratory failure, target 88–92%)", 2)
        self.scale.setCurrentIndex(0 if limits.spo2_scale == 1 else 1)
        form.addRow("NEWS2 SpO₂ scale", self.scale)
        self.delays: dict[str, QDoubleSpinBox] = {}
        for name, label in DELAY_FIELDS:
            self.delays[name] = self._seconds(limits.delay(name), 0, MAX_DELAY)
            form.addRow(f"{label}: alarm after", self.delays[name])
        self.no_data = self._seconds(limits.no_data_seconds, 5, 600)
        form.addRow("No readings: equipment alarm after", self.no_data)
        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color:#b42318;")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _seconds(self, value: float, low: int, high: int) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)  # the same look as the limits above
        spin.setDecimals(0)
        spin.setRange(low, high)
        spin.setSuffix(" s")
        spin.setValue(round(value))
        return spin

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: spin.value() for name, spin in self.spins.items()}
        out["spo2_scale"] = int(self.scale.currentData())
        out["delays"] = {name: float(spin.value()) for name, spin in self.delays.items()}
        out["no_data_seconds"] = float(self.no_data.value())
        return out

    def submit(self) -> None:
        """Check the limits here, then ask the server to store them."""
        values = self.values()
        problem = limits_problem(values)
        if problem is None:
            try:
                limits = self._limits.model_copy(update=values)
                limits = AlarmLimits.model_validate(limits.model_dump())
            except ValidationError as exc:
                problem = _plain(exc)
        if problem is not None:
            self.show_error(problem)
            return
        self.buttons.setEnabled(False)
        self._save(limits, self._on_saved, self._on_error)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _on_saved(self, limits: AlarmLimits) -> None:
        self.buttons.setEnabled(True)
        self.saved.emit(limits)
        self.accept()

    def _on_error(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.show_error(f"The limits were not saved. {describe_error(exc)}")


def _bounds(metadata: list[object]) -> tuple[float, float]:
    low, high = 0.0, 1000.0
    for item in metadata:
        low = float(getattr(item, "ge", low) if getattr(item, "ge", None) is not None else low)
        high = float(getattr(item, "le", high) if getattr(item, "le", None) is not None else high)
    return low, high


def _plain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return str(first.get("msg", "These limits are not valid.")).removeprefix("Value error, ")


GAP_FACTOR = 5.0  # a pause this many times the usual spacing is shown as a gap in the line


def with_gaps(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of an (n, 2) series, with a NaN wherever readings stopped for a while
    (sensor off, monitor unplugged): a trend never draws a line across missing data."""
    times, values = data[:, 0], data[:, 1]
    if len(times) < 3:
        return times, values
    steps = np.diff(times)
    gaps = np.flatnonzero(steps > GAP_FACTOR * max(float(np.median(steps)), 1e-9))
    if not len(gaps):
        return times, values
    at = gaps + 1
    return np.insert(times, at, times[gaps] + steps[gaps] / 2), np.insert(values, at, np.nan)


class TrendView(QWidget):
    """One bed in detail. Call `open_bed`; with a context it loads from the server itself."""

    back_requested = Signal()
    acknowledge_requested = Signal(object)  # alarm id
    silence_requested = Signal(object, int)
    limits_saved = Signal(object)  # AlarmLimits

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bed: StationBed | None = None
        self.hours = 4
        self.trends: Trends | None = None
        self.limits_dialog: LimitsDialog | None = None
        self._build()

    def _build(self) -> None:
        self.back_button = QPushButton("← Station", self)
        self.back_button.clicked.connect(self.back_requested)
        self.title = QLabel("", self)
        self.title.setStyleSheet("font-size:16px; font-weight:bold;")
        self.range_group = QButtonGroup(self)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.title, 1)
        for hours in HOURS:
            button = QPushButton(f"{hours} h", self)
            button.setCheckable(True)
            button.setChecked(hours == self.hours)
            self.range_group.addButton(button, hours)
            top.addWidget(button)
        self.range_group.idClicked.connect(self.set_hours)
        self.limits_button = QPushButton("Alarm limits…", self)
        self.limits_button.clicked.connect(self.edit_limits)
        top.addWidget(self.limits_button)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)

        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setBackground("#0b0f12")
        self.panels: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.limit_lines: dict[str, pg.InfiniteLine] = {}
        first: pg.PlotItem | None = None
        for row, (title, series, limit_fields) in enumerate(PANELS):
            plot = self.plots.addPlot(row=row, col=0, axisItems={"bottom": pg.DateAxisItem()})
            plot.setLabel("left", title)
            plot.getAxis("left").setWidth(64)
            if row < len(PANELS) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(4)
            plot.setMouseEnabled(x=True, y=False)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMenuEnabled(False)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            for name, colour in series:
                curve = plot.plot(pen=pg.mkPen(colour, width=1), name=name)
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
                self.curves[name] = curve
            for field in limit_fields:
                line = pg.InfiniteLine(
                    angle=0, pen=pg.mkPen("#ff5252", width=1, style=Qt.PenStyle.DashLine)
                )
                plot.addItem(line, ignoreBounds=True)
                self.limit_lines[field] = line
            self.panels[series[0][0]] = plot

        self.alarm_model = RecordTableModel(ALARM_COLUMNS, self)
        self.alarm_table = make_table_view(self.alarm_model, self)
        self.alarm_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.ack_button = QPushButton("Acknowledge", self)
        self.silence_button = QPushButton("Silence 2 min", self)
        self.ack_button.clicked.connect(self._ack_selected)
        self.silence_button.clicked.connect(self._silence_selected)
        alarms_box = QWidget(self)
        alarms_layout = QVBoxLayout(alarms_box)
        alarms_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Alarm history</b>", self), 1)
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.silence_button)
        alarms_layout.addLayout(buttons)
        alarms_layout.addWidget(self.alarm_table)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.plots)
        split.addWidget(alarms_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 220])
        self.plots.setMinimumHeight(420)
        header = self.alarm_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._update_buttons()

    # --- data ---------------------------------------------------------------------------------

    def open_bed(self, bed: StationBed) -> None:
        """Show `bed`: its limits at once, then its trends and alarms from the server."""
        self.bed = bed
        who = f"{bed.patient.name} · MRN {bed.patient.mrn}" if bed.patient else "No patient"
        self.title.setText(f"{bed.label} · {who}")
        self.limits_button.setEnabled(bed.patient is not None)
        self.show_limits(bed.limits)
        self.show_alarms(bed.alarms)
        self.show_trends(None)
        self.reload()

    def set_hours(self, hours: int) -> None:
        """Show the last `hours` of trends."""
        self.hours = hours
        self.range_group.button(hours).setChecked(True)
        self.reload()

    def reload(self) -> None:
        """Fetch the trends and the alarm history again (needs a context)."""
        if self.ctx is None or self.bed is None:
            return
        api, bed, hours = self.ctx.api, self.bed, self.hours
        self.show_status("Loading…")
        if bed.patient is not None:
            patient_id = bed.patient.id
            self.ctx.run(
                self,
                lambda: api.monitoring_trends(patient_id, hours),
                self._trends_loaded,
                self._failed,
            )
        self.ctx.run(
            self,
            lambda: api.monitoring_alarms(bed.bed_id, max(hours, 24)),
            self.show_alarms,
            self._failed,
        )

    def _trends_loaded(self, trends: Trends) -> None:
        self.show_status("")
        self.show_trends(trends)

    def _failed(self, exc: BaseException) -> None:
        self.show_status(describe_error(exc), error=True)

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color:#b42318;" if error else "color:#555;")
        self.status.setVisible(bool(text))

    def show_trends(self, trends: Trends | None) -> None:
        """Draw a patient's series (None: clear)."""
        self.trends = trends
        for name, curve in self.curves.items():
            points = trends.series.get(name, []) if trends else []
            if points:
                times, values = with_gaps(np.asarray(points, dtype=np.float64))
                curve.setData(times, values, connect="finite")
            else:
                curve.setData([], [])
        if trends is not None:
            first = next(iter(self.panels.values()))
            first.setXRange(trends.since.timestamp(), trends.until.timestamp(), padding=0)
            for plot in self.panels.values():
                plot.enableAutoRange(axis="y", enable=True)

    def show_limits(self, limits: AlarmLimits) -> None:
        for field, line in self.limit_lines.items():
            line.setValue(float(getattr(limits, field)))

    def show_alarms(self, alarms: list[AlarmOut]) -> None:
        ordered = sorted(alarms, key=lambda a: a.started_at, reverse=True)
        self.alarm_model.set_records(ordered)
        self._update_buttons()

    def update_alarm(self, alarm: AlarmOut) -> None:
        """An alarm of this bed changed (from the live feed)."""
        if self.bed is None or alarm.bed_id != self.bed.bed_id:
            return
        rows = {a.id: a for a in self.alarm_model.records()}
        rows[alarm.id] = alarm
        self.show_alarms(list(rows.values()))

    # --- actions ------------------------------------------------------------------------------

    def selected_alarm(self) -> AlarmOut | None:
        rows = self.alarm_table.selectionModel().selectedRows()
        if rows:
            return self.alarm_model.record(rows[0].row())
        active = [a for a in self.alarm_model.records() if is_active(a)]
        return active[0] if active else None

    def _update_buttons(self, *_args: object) -> None:
        alarm = self.selected_alarm()
        live = alarm is not None and is_active(alarm)
        self.ack_button.setEnabled(live and alarm is not None and alarm.acknowledged_at is None)
        self.silence_button.setEnabled(live)

    def _ack_selected(self) -> None:
        alarm = self.selected_alarm()
        if alarm is not None:
            self.acknowledge_requested.emit(alarm.id)

    def _silence_selected(self) -> None:
        alarm = self.selected_alarm()
        if alarm is not None:
            self.silence_requested.emit(alarm.id, 2)

    def edit_limits(self) -> LimitsDialog | None:
        """Open the limits editor for the bed's patient."""
        if self.bed is None or self.bed.patient is None:
            return None
        patient_id = self.bed.patient.id
        dialog = LimitsDialog(self.bed.limits, self._saver(patient_id), self.title.text(), self)
        dialog.saved.connect(self._limits_saved)
        self.limits_dialog = dialog
        dialog.open()
        return dialog

    def _saver(self, patient_id: uuid.UUID) -> Callable[..., None]:
        def save(
            limits: AlarmLimits,
            done: Callable[[AlarmLimits], None],
            failed: Callable[[BaseException], None],
        ) -> None:
            if self.ctx is None:
                failed(RuntimeError("not connected to the server"))
                return
            api = self.ctx.api
            self.ctx.run(self, lambda: api.set_alarm_limits(patient_id, limits), done, failed)

        return save

    def _limits_saved(self, limits: AlarmLimits) -> None:
        if self.bed is not None:
            self.bed = self.bed.model_copy(update={"limits": limits})
        self.show_limits(limits)
        self.show_status("Alarm limits saved.")
        self.limits_saved.emit(limits)
