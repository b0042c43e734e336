"""The chart's plots (pyqtgraph): vital signs over time, and one analyte's trend against its
reference band."""

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from hms_desktop.store.chart import VITAL_KINDS, LabAnalyte, VitalSeries
from hms_desktop.widgets.forms import styled_label

AXIS_PEN = pg.mkPen("#5b6b7d")
COLOURS = {
    "hr": "#16a34a",
    "sbp": "#b42318",
    "dbp": "#f79009",
    "rr": "#0e7490",
    "spo2": "#175cd3",
    "temp": "#c11574",
    "weight": "#5b6b7d",
    "bmi": "#6941c6",
}
PANELS = list(dict.fromkeys(kind.panel for kind in VITAL_KINDS))
BAND = (18, 183, 106, 40)  # the reference range, light green


def _date_plot(height: int) -> pg.PlotWidget:
    """A white, non-zoomable plot with dates along the bottom."""
    widget = pg.PlotWidget(
        background="w",
        axisItems={
            "bottom": pg.DateAxisItem(pen=AXIS_PEN, textPen=AXIS_PEN),
            "left": pg.AxisItem("left", pen=AXIS_PEN, textPen=AXIS_PEN),
        },
    )
    item = widget.getPlotItem()
    item.setMouseEnabled(x=True, y=False)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.15)
    item.getAxis("left").setWidth(48)
    item.getViewBox().setDefaultPadding(0.12)  # a point at the edge stays in sight
    widget.setMinimumHeight(height)
    return widget


class VitalsPlots(QWidget):
    """One small plot per vital sign (blood pressure: systolic and diastolic together)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(4)
        self.empty_label = styled_label("No vital signs recorded.", "hint")
        layout.addWidget(self.empty_label)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.titles: dict[str, QLabel] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        first: pg.PlotWidget | None = None
        for panel in PANELS:
            title = styled_label(panel, "fieldCaption")
            plot = _date_plot(150)
            if first is not None:
                plot.setXLink(first)
            first = first or plot
            layout.addWidget(title)
            layout.addWidget(plot)
            self.plots[panel], self.titles[panel] = plot, title
        for kind in VITAL_KINDS:
            colour = COLOURS[kind.key]
            curve = self.plots[kind.panel].plot(
                pen=pg.mkPen(colour, width=1),
                symbol="o",
                symbolSize=4,
                symbolBrush=colour,
                symbolPen=None,
            )
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves[kind.key] = curve

    def set_series(self, series: tuple[VitalSeries, ...]) -> None:
        """Show these series; panels with nothing recorded are hidden."""
        shown: dict[str, list[str]] = {}
        for kind in VITAL_KINDS:
            self.curves[kind.key].setData([], [])
        for item in series:
            self.curves[item.kind.key].setData(list(item.times), list(item.values))
            shown.setdefault(item.kind.panel, []).append(f"{item.values[-1]:g}")
        units = {kind.panel: kind.unit for kind in VITAL_KINDS}
        for panel, plot in self.plots.items():
            visible = panel in shown
            plot.setVisible(visible)
            self.titles[panel].setVisible(visible)
            if visible:
                latest = "/".join(shown[panel])  # blood pressure: systolic/diastolic
                self.titles[panel].setText(f"{panel} — latest {latest} {units[panel]}")
                plot.getPlotItem().enableAutoRange()
        self.empty_label.setVisible(not shown)

    def point_count(self) -> int:
        """How many values the plots hold (all curves)."""
        return sum(_length(c.xData) for c in self.curves.values())


class TrendPlot(QWidget):
    """One analyte over time with its reference range as a band; abnormal points in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = styled_label("Choose a test in the table to see its trend.", "fieldCaption")
        layout.addWidget(self.title)
        self.plot = _date_plot(200)
        layout.addWidget(self.plot, 1)
        self.band = pg.LinearRegionItem(
            orientation="horizontal", movable=False, brush=pg.mkBrush(*BAND), pen=pg.mkPen(None)
        )
        self.band.setZValue(-10)
        self.plot.addItem(self.band, ignoreBounds=False)
        self.band.hide()
        self.curve = self.plot.plot(pen=pg.mkPen("#175cd3", width=1.5))
        self.normal = pg.ScatterPlotItem(size=7, brush=pg.mkBrush("#175cd3"), pen=None)
        self.abnormal = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#b42318"), pen=None)
        self.plot.addItem(self.normal)
        self.plot.addItem(self.abnormal)
        self.analyte: LabAnalyte | None = None

    def show_analyte(self, analyte: LabAnalyte | None) -> None:
        self.analyte = analyte
        if analyte is None:
            self.title.setText("Choose a test in the table to see its trend.")
            for item in (self.curve, self.normal, self.abnormal):
                item.setData([], [])
            self.band.hide()
            return
        points = [p for p in analyte.points if p.value is not None]
        xs = [p.at.timestamp() for p in points]
        ys = [p.value for p in points]
        self.curve.setData(xs, ys)
        self.normal.setData(*_split(points, abnormal=False))
        self.abnormal.setData(*_split(points, abnormal=True))
        self._show_band(analyte, ys)
        unit = f" ({analyte.unit})" if analyte.unit else ""
        self.title.setText(f"{analyte.name}{unit} — {len(points)} results, red: outside range")
        self.plot.getPlotItem().enableAutoRange()

    def _show_band(self, analyte: LabAnalyte, ys: list[Any]) -> None:
        low, high = analyte.ref_low, analyte.ref_high
        if low is None and high is None:
            self.band.hide()
            return
        values = [y for y in ys if y is not None] or [0.0]
        low = low if low is not None else min(values + [0.0])
        high = high if high is not None else max(values)
        self.band.setRegion((low, high))
        self.band.show()

    def point_count(self) -> int:
        return _length(self.curve.xData)


def _split(points: list[Any], *, abnormal: bool) -> tuple[list[float], list[float]]:
    chosen = [p for p in points if (p.flag not in ("", "N")) == abnormal]
    return [p.at.timestamp() for p in chosen], [p.value for p in chosen]


def _length(values: Any) -> int:  # noqa: ANN401 - a numpy array or None
    return 0 if values is None else len(values)
