"""A week at a glance: how many slots each day offers with the hours as edited."""

from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hms_desktop.widgets.forms import set_style_property, styled_label
from hms_desktop.workspaces.schedules.week import DayPreview, week_start


def chip_text(day: DayPreview) -> str:
    """The rich text of one day's chip: date, slot count, first to last slot."""
    if day.first and day.last:
        hours = f"{day.first:%H:%M}–{day.last:%H:%M}"
    else:
        hours = "on leave" if day.leave else "closed"
    count = "1 slot" if day.slots == 1 else f"{day.slots} slots"
    return f"<b>{day.day:%a %d %b}</b><br><span style='font-size:11pt'>{count}</span><br>{hours}"


def chip_tooltip(day: DayPreview) -> str:
    """'Mon 28 slots · leave · extra session' (what the chip's colour stands for)."""
    notes = [text for flag, text in ((day.leave, "leave"), (day.extra, "extra session")) if flag]
    return " · ".join([day.label(), *notes])


def chip_state(day: DayPreview) -> str:
    if day.leave:
        return "leave"
    return "open" if day.slots else "closed"


class WeekPreview(QWidget):
    """Seven day chips and arrows to move between weeks; emits `week_changed(monday)`."""

    week_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.monday = week_start(date.today())
        self.days: list[DayPreview] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(self._header())
        row = QHBoxLayout()
        row.setSpacing(8)
        self.chips: list[QLabel] = []
        for _ in range(7):
            chip = styled_label("", "dayChip")
            chip.setTextFormat(Qt.TextFormat.RichText)
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.chips.append(chip)
            row.addWidget(chip, 1)
        layout.addLayout(row)

    def _header(self) -> QHBoxLayout:
        header = QHBoxLayout()
        self.title = styled_label("", "sectionTitle")
        self.note = styled_label("Unsaved changes are included.", "hint")
        self.previous_button = QPushButton("◀  Previous week")
        self.next_button = QPushButton("Next week  ▶")
        self.previous_button.clicked.connect(lambda: self.move(-7))
        self.next_button.clicked.connect(lambda: self.move(7))
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.note)
        header.addStretch(1)
        header.addWidget(self.previous_button)
        header.addWidget(self.next_button)
        return header

    def move(self, days: int) -> None:
        """Preview another week."""
        self.monday += timedelta(days=days)
        self.week_changed.emit(self.monday)

    def show_days(self, days: list[DayPreview]) -> None:
        """Show the counts of one week."""
        self.days = list(days)
        last = self.monday + timedelta(days=6)
        self.title.setText(f"Slots offered {self.monday:%d %b} – {last:%d %b %Y}")
        for chip, day in zip(self.chips, days, strict=True):
            chip.setText(chip_text(day))
            chip.setToolTip(chip_tooltip(day))
            set_style_property(chip, "state", chip_state(day))
        self.setAccessibleDescription(self.summary())

    def summary(self) -> str:
        """'Mon 28 slots, Tue 28 slots, …'."""
        return ", ".join(day.label() for day in self.days)
