"""Billing reports with charts: daily collections by method (stacked bars), outstanding
balances by age, revenue by department; each chart has a small table of its numbers under it.
Read from the cache off the UI thread; amounts on the axes are formatted like everywhere else.
"""

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hms_core.db.billing import METHODS
from hms_core.rules.money import format_amount
from hms_desktop.store.billing_desk import ReportData
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, make_table_view
from hms_desktop.workspaces.billing.cash_desk import METHOD_NAMES, AmountTableModel, desk_of
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

RANGES = ((7, "Last 7 days"), (30, "Last 30 days"))
METHOD_COLOURS = {"cash": "#0f6cbd", "card": "#12a085", "online": "#e8a317", "insurance": "#8e5ac8"}
AGE_LABELS = {
    "0-30": "0–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "over 90": "Over 90 days",
}
AGE_COLOURS = ("#7cc4a4", "#f2c14e", "#f08a4b", "#d64545")
REVENUE_COLOUR = "#0f6cbd"
AXIS_PEN = "#5b6b7d"
BAR_WIDTH = 0.7
MAX_DAY_LABELS = 10


def axis_amount(value: float, exponent: int) -> str:
    """An axis tick in minor units as money: '1,250' for whole units, '12.50' otherwise."""
    minor = round(value)
    if minor % 10**exponent == 0:
        return format_amount(minor // 10**exponent, 0)
    return format_amount(minor, exponent)


class MoneyAxis(pg.AxisItem):
    """An axis whose values are minor units, labelled as amounts."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation, pen=AXIS_PEN, textPen=AXIS_PEN)
        self.exponent = 2
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [axis_amount(v, self.exponent) for v in values]


def _plot(money_axis: str) -> tuple[pg.PlotWidget, MoneyAxis]:
    """A white, non-interactive plot with a money axis on `money_axis` ('left' or 'bottom')."""
    money = MoneyAxis(money_axis)
    other = "bottom" if money_axis == "left" else "left"
    widget = pg.PlotWidget(
        background="w",
        axisItems={money_axis: money, other: pg.AxisItem(other, pen=AXIS_PEN, textPen=AXIS_PEN)},
    )
    item = widget.getPlotItem()
    item.setMouseEnabled(x=False, y=False)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=money_axis == "bottom", y=money_axis == "left", alpha=0.12)
    widget.setMinimumHeight(240)
    return widget, money


def _card(title: str) -> tuple[QFrame, QVBoxLayout, Any]:
    card = QFrame()
    card.setProperty("role", "card")
    box = QVBoxLayout(card)
    box.setContentsMargins(16, 12, 16, 12)
    box.setSpacing(8)
    heading = styled_label(title, "sectionTitle")
    box.addWidget(heading)
    caption = styled_label("", "hint")
    box.addWidget(caption)
    return card, box, caption


def _small_table(model: AmountTableModel, rows: int) -> QTableView:
    view = make_table_view(model)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    view.verticalHeader().setDefaultSectionSize(28)
    view.setFixedHeight(40 + 28 * rows)
    return view


class CollectionsChart:
    """Daily collections, one stacked bar per day, one colour per method."""

    def __init__(self) -> None:
        self.card, box, self.caption = _card("Daily collections by method")
        self.plot, self.axis = _plot("left")
        self.legend = self.plot.getPlotItem().addLegend(
            offset=(8, 4), colCount=len(METHODS), labelTextColor="#1d2733"
        )
        self.bars: dict[str, pg.BarGraphItem] = {}
        box.addWidget(self.plot, 1)
        columns = [Column("Day", lambda r: r["day"])]
        columns += [Column(METHOD_NAMES[m], _cell(m)) for m in METHODS]
        columns.append(Column("Total", _cell("total")))
        self.model = AmountTableModel(columns, set(range(1, len(METHODS) + 2)))
        self.table = _small_table(self.model, 7)
        box.addWidget(self.table)

    def show(self, data: ReportData) -> None:
        exponent = data.exponent
        self.axis.exponent = exponent
        self.axis.setLabel(data.currency)
        item = self.plot.getPlotItem()
        for bar in self.bars.values():
            item.removeItem(bar)
        self.bars.clear()
        days = data.collections
        xs = list(range(len(days)))
        up, down = [0] * len(days), [0] * len(days)
        for method in METHODS:
            heights = [totals.get(method, 0) for _day, totals in days]
            if not any(heights):
                continue
            bases = [up[n] if h >= 0 else down[n] for n, h in enumerate(heights)]
            for n, h in enumerate(heights):
                up[n], down[n] = (up[n] + h, down[n]) if h >= 0 else (up[n], down[n] + h)
            bar = pg.BarGraphItem(
                x=xs,
                height=heights,
                y0=bases,
                width=BAR_WIDTH,
                brush=METHOD_COLOURS[method],
                pen=pg.mkPen(None),
                name=METHOD_NAMES[method],
            )
            item.addItem(bar)
            self.bars[method] = bar
        step = max(1, math.ceil(len(days) / MAX_DAY_LABELS))
        last = len(days) - 1  # labels counted back from today, so today always has one
        ticks = [(n, f"{d:%d %b}") for n, (d, _t) in enumerate(days) if (last - n) % step == 0]
        item.getAxis("bottom").setTicks([ticks, []])
        item.setXRange(-0.6, len(days) - 0.4, padding=0)
        item.setYRange(min(0, *down), max(10**exponent, *up) * 1.15, padding=0)
        total = sum(sum(t.values()) for _d, t in days)
        self.caption.setText(
            f"{data.start:%d %b} – {data.end:%d %b %Y}: "
            f"{format_amount(total, exponent, data.currency)} collected, refunds taken off"
        )
        self.model.set_records(_collection_rows(days, exponent))


def _cell(key: str) -> Any:
    return lambda row: row[key]


def _collection_row(label: str, totals: dict[str, int], exponent: int) -> dict[str, str]:
    row = {"day": label}
    for method in METHODS:
        row[method] = format_amount(totals.get(method, 0), exponent)
    row["total"] = format_amount(sum(totals.values()), exponent)
    return row


def _collection_rows(days: list[tuple[Any, dict[str, int]]], exponent: int) -> list[dict[str, str]]:
    """The days with money in or out, newest first, then the range's total."""
    rows = [_collection_row(f"{d:%a %d %b}", t, exponent) for d, t in reversed(days) if t]
    overall: dict[str, int] = {}
    for _day, totals in days:
        for method, amount in totals.items():
            overall[method] = overall.get(method, 0) + amount
    return [*rows, _collection_row("Total", overall, exponent)]


class OutstandingChart:
    """What patients owe, by the age of the invoice."""

    def __init__(self) -> None:
        self.card, box, self.caption = _card("Outstanding balances by age")
        self.plot, self.axis = _plot("left")
        self.bar: pg.BarGraphItem | None = None
        box.addWidget(self.plot, 1)
        self.model = AmountTableModel(
            [Column("Age", _cell("age")), Column("Owed", _cell("owed"))], {1}
        )
        box.addWidget(_small_table(self.model, 4))

    def show(self, data: ReportData) -> None:
        self.axis.exponent = data.exponent
        self.axis.setLabel(data.currency)
        item = self.plot.getPlotItem()
        if self.bar is not None:
            item.removeItem(self.bar)
        heights = [data.outstanding.get(key, 0) for key in AGE_LABELS]
        self.bar = pg.BarGraphItem(
            x=list(range(len(heights))),
            height=heights,
            width=BAR_WIDTH,
            brushes=list(AGE_COLOURS),
            pen=pg.mkPen(None),
        )
        item.addItem(self.bar)
        item.getAxis("bottom").setTicks([list(enumerate(AGE_LABELS.values())), []])
        item.setXRange(-0.6, len(heights) - 0.4, padding=0)
        item.setYRange(0, max(10**data.exponent, *heights) * 1.15, padding=0)
        total = sum(heights)
        self.caption.setText(
            f"{format_amount(total, data.exponent, data.currency)} owed on final invoices "
            f"on {data.today:%d %b %Y}"
        )
        self.model.set_records(
            [
                {"age": label, "owed": format_amount(h, data.exponent)}
                for label, h in zip(AGE_LABELS.values(), heights, strict=True)
            ]
        )


class RevenueChart:
    """Net revenue by department, as horizontal bars (long names stay readable)."""

    def __init__(self) -> None:
        self.card, box, self.caption = _card("Revenue by department")
        self.plot, self.axis = _plot("bottom")
        self.bar: pg.BarGraphItem | None = None
        box.addWidget(self.plot, 1)
        self.model = AmountTableModel(
            [Column("Department", _cell("name")), Column("Net revenue", _cell("net"))], {1}
        )
        self.table = _small_table(self.model, 4)
        box.addWidget(self.table)

    def show(self, data: ReportData) -> None:
        self.axis.exponent = data.exponent
        self.axis.setLabel(data.currency)
        item = self.plot.getPlotItem()
        if self.bar is not None:
            item.removeItem(self.bar)
            self.bar = None
        rows = list(reversed(data.revenue))  # the largest at the top
        self.model.set_records(
            [{"name": n, "net": format_amount(v, data.exponent)} for n, v in data.revenue]
        )
        total = sum(v for _n, v in rows)
        self.caption.setText(
            f"{data.start:%d %b} – {data.end:%d %b %Y}: "
            f"{format_amount(total, data.exponent, data.currency)} before tax, credit notes "
            "taken off"
        )
        item.getAxis("left").setTicks([list(enumerate(n for n, _v in rows)), []])
        if not rows:
            item.setYRange(-0.5, 0.5, padding=0)
            return
        self.bar = pg.BarGraphItem(
            x0=0,
            y=list(range(len(rows))),
            width=[v for _n, v in rows],
            height=0.6,
            brush=REVENUE_COLOUR,
            pen=pg.mkPen(None),
        )
        item.addItem(self.bar)
        values = [v for _n, v in rows]
        item.setXRange(min(0, *values), max(10**data.exponent, *values) * 1.1, padding=0)
        item.setYRange(-0.6, len(rows) - 0.4, padding=0)


class ReportsPanel(QWidget):
    """Daily collections, outstanding balances by age, revenue by department."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("billingReports")
        self._ctx = ctx
        self.data: ReportData | None = None
        self._generation = 0
        self._build()
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._toolbar())
        self.collections = CollectionsChart()
        self.outstanding = OutstandingChart()
        self.revenue = RevenueChart()
        content = QWidget()
        content.setObjectName("reportsContent")
        column = QVBoxLayout(content)
        column.setContentsMargins(20, 8, 20, 16)
        column.setSpacing(14)
        column.addWidget(self.collections.card)
        row = QHBoxLayout()
        row.setSpacing(14)
        row.addWidget(self.outstanding.card, 1)
        row.addWidget(self.revenue.card, 1)
        column.addLayout(row)
        scroller = QScrollArea()
        scroller.setWidget(content)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(scroller, 1)

    def _toolbar(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(20, 12, 20, 4)
        self.summary_label = styled_label("", "sectionTitle")
        row.addWidget(self.summary_label, 1)
        self.range_combo = QComboBox()
        self.range_combo.setObjectName("reportRange")
        for days, text in RANGES:
            self.range_combo.addItem(text, days)
        self.range_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        row.addWidget(self.range_combo)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        return bar

    @property
    def days(self) -> int:
        return int(self.range_combo.currentData())

    def choose_days(self, days: int) -> None:
        """Show the last `days` days (7 or 30)."""
        self.range_combo.setCurrentIndex(self.range_combo.findData(days))

    def refresh(self) -> None:
        """Read the reports again, off the UI thread."""
        desk = desk_of(self._ctx)
        if desk is None:
            self.summary_label.setText("The reports are not available on this computer.")
            return
        self._generation += 1
        generation, days = self._generation, self.days
        self._ctx.run(
            self, lambda: desk.reports(days), lambda d: self._show(generation, d), self._failed
        )

    def _show(self, generation: int, data: ReportData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self.summary_label.setText(
            f"Billing reports · {data.start:%d %b} – {data.end:%d %b %Y} · "
            f"amounts in {data.currency}"
        )
        for chart in (self.collections, self.outstanding, self.revenue):
            chart.show(data)

    def _failed(self, exc: BaseException) -> None:
        self.summary_label.setText(f"The reports could not be read: {describe_error(exc)}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another tab was in front."""
        super().showEvent(event)
        self.watch.shown()
