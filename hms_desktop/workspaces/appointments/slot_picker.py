"""Choose a free slot: a week of free times with week navigation and "First available"."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.scheduling import FreeSlot
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.appointments.slot_grid import (
    SlotChipDelegate,
    SlotGridModel,
    local_day,
    week_days,
)

WEEK = 7
SEARCH_DAYS = 62  # how far "First available" looks (the most one slot query allows)


class SlotPicker(QWidget):
    """A week of free times of a doctor or a department; emits the chosen FreeSlot (or None)."""

    slot_chosen = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        self._wanted: FreeSlot | None = None
        self._shown: tuple[object, ...] = ()
        self.department_id: uuid.UUID | None = None
        self.doctor_id: uuid.UUID | None = None
        self.zone = ZoneInfo("UTC")
        self.first_day = self.today()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(self._navigation())
        self.model = SlotGridModel(self)
        self.view = self._grid()
        layout.addWidget(self.view, 1)
        self.footer = QHBoxLayout()
        self.status_label = styled_label("", "statusText")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.footer.addWidget(self.status_label)
        layout.addLayout(self.footer)

    def _navigation(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.previous_button = QPushButton("◀")
        self.previous_button.setToolTip("The 7 days before")
        self.previous_button.clicked.connect(lambda: self.show_from(self.first_day - _week()))
        self.week_label = styled_label("", "weekLabel")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("The next 7 days")
        self.next_button.clicked.connect(lambda: self.show_from(self.first_day + _week()))
        self.today_button = QPushButton("Today")
        self.today_button.clicked.connect(lambda: self.show_from(self.today()))
        self.first_button = QPushButton("First available")
        self.first_button.setProperty("role", "accent")
        self.first_button.setToolTip("Choose the earliest free time (of any doctor when chosen)")
        self.first_button.clicked.connect(self.first_available)
        for button in (self.previous_button, self.next_button):
            button.setProperty("role", "iconButton")
            button.setFixedWidth(38)
        row.addWidget(self.previous_button)
        row.addWidget(self.week_label)
        row.addWidget(self.next_button)
        row.addWidget(self.today_button)
        row.addStretch(1)
        row.addWidget(self.first_button)
        return row

    def _grid(self) -> QTableView:
        view = QTableView()
        view.setObjectName("slotGrid")
        view.setModel(self.model)
        view.setItemDelegate(SlotChipDelegate(view))
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setShowGrid(False)
        view.setMouseTracking(True)
        view.verticalHeader().hide()
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        view.horizontalHeader().setHighlightSections(False)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.selectionModel().selectionChanged.connect(self._on_selection)
        return view

    # --- what to show -----------------------------------------------------------------------

    def today(self) -> date:
        return datetime.now(self.zone).date()

    @property
    def selected_slot(self) -> FreeSlot | None:
        indexes = self.view.selectionModel().selectedIndexes()
        found = self.model.slots_at(indexes[0]) if indexes else []
        return found[0] if found else None

    def set_scope(
        self, department_id: uuid.UUID | None, doctor_id: uuid.UUID | None, zone: ZoneInfo
    ) -> None:
        """Look at a department's doctors (doctor_id None) or one doctor; times in `zone`."""
        self.department_id, self.doctor_id, self.zone = department_id, doctor_id, zone
        self.reload()

    def show_from(self, first_day: date) -> None:
        """Show the 7 days from `first_day` (never before today)."""
        self.first_day = max(first_day, self.today())
        self.reload()

    def reload(self) -> None:
        """Read the free times of the days shown, off the UI thread."""
        self._generation += 1
        generation, days = self._generation, week_days(self.first_day, WEEK)
        self.week_label.setText(span_text(days[0], days[-1]))
        self.previous_button.setEnabled(self.first_day > self.today())
        key = (days[0], self.department_id, self.doctor_id)
        quiet, self._shown = key == self._shown, key  # a refresh of what is shown
        if self.department_id is None and self.doctor_id is None:
            self.model.set_week(days, [], self.zone, True)
            self._say("Choose a department")
            return
        if not quiet:  # other days or doctors: show them empty until their times come
            self.model.set_week(days, [], self.zone, self.doctor_id is None)
            self._say("Looking for free times…")
        department_id, doctor_id = self.department_id, self.doctor_id
        scheduling = self._ctx.scheduling
        self._ctx.run(
            self,
            lambda: scheduling.free_slots(days[0], WEEK, department_id, doctor_id),
            lambda slots: self._show(generation, days, slots),
            lambda exc: self._failed(generation, exc),
        )

    def first_available(self) -> None:
        """Find the earliest free time from now and show and choose it."""
        department_id, doctor_id = self.department_id, self.doctor_id
        scheduling = self._ctx.scheduling
        if department_id is None and doctor_id is None:
            return
        self._say("Looking for the first free time…")
        today = self.today()
        self._ctx.run(
            self,
            lambda: scheduling.free_slots(today, SEARCH_DAYS, department_id, doctor_id, limit=1),
            self._show_first,
            lambda exc: self._failed(self._generation, exc),
        )

    def select(self, slot: FreeSlot) -> bool:
        """Choose `slot` if the grid shows it."""
        index = self.model.index_of(slot)
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    # --- answers ----------------------------------------------------------------------------

    def _show(self, generation: int, days: list[date], slots: list[FreeSlot]) -> None:
        if generation != self._generation:
            return  # an older request answered late
        previous = self._wanted or self.selected_slot
        self._wanted = None
        self.view.selectionModel().blockSignals(True)
        self.model.set_week(days, slots, self.zone, self.doctor_id is None)
        self.view.selectionModel().blockSignals(False)
        kept = previous is not None and self.select(previous)
        if not kept:
            self.slot_chosen.emit(None)
        count = self.model.count
        self._say(f"{count} free in these 7 days" if count else "No free time in these 7 days")

    def _show_first(self, slots: list[FreeSlot]) -> None:
        if not slots:
            self._say(f"No free time in the next {SEARCH_DAYS} days", True)
            return
        self._wanted = slots[0]
        self.first_day = local_day(slots[0].starts_at, self.zone)
        self.reload()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._say(describe_error(exc), error=True)

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.slot_chosen.emit(self.selected_slot)

    def _say(self, text: str, error: bool = False) -> None:
        self.status_label.setWordWrap(error)  # short notes on one line; errors may be long
        set_status(self.status_label, text, error)


def span_text(first: date, last: date) -> str:
    """'1 – 7 Dec 2026', '28 Dec 2026 – 3 Jan 2027'."""
    if first.year != last.year:
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} – {last.day} {last:%b %Y}"


def _week() -> timedelta:
    return timedelta(days=WEEK)
