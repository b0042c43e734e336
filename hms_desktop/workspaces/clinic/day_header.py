"""The clinic's page header: whose day, which date, the summary line, and the day navigation."""

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QHBoxLayout, QPushButton, QWidget

from hms_desktop.widgets.forms import styled_label


class DayHeader(QFrame):
    """Title, date, summary; previous/today/next buttons and the doctor chooser."""

    day_step = Signal(int)  # -1: previous day, +1: next day
    today_requested = Signal()
    doctor_chosen = Signal(object)  # the chosen doctor's profile id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageHeader")
        grid = QGridLayout(self)
        grid.setContentsMargins(28, 16, 28, 14)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        self.title_label = styled_label("My day", "pageTitle")
        self.date_label = styled_label("", "clinicDate")
        self.summary_label = styled_label("", "clinicSummary")
        self.summary_label.setObjectName("clinicSummary")
        self.zone_label = styled_label("", "hint")
        grid.addWidget(self.title_label, 0, 0)
        grid.addLayout(self._doctor_row(), 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.date_label, 1, 0)
        grid.addLayout(self._day_buttons(), 1, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.summary_label, 2, 0)
        grid.addWidget(self.zone_label, 2, 1, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(0, 1)

    def _doctor_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        caption = styled_label("Doctor", "fieldCaption")
        self.doctor_combo = QComboBox()
        self.doctor_combo.setObjectName("clinicDoctor")
        self.doctor_combo.setMinimumWidth(320)
        self.doctor_combo.setToolTip("Whose day to show")
        caption.setBuddy(self.doctor_combo)
        self.doctor_combo.currentIndexChanged.connect(self._on_doctor)
        row.addWidget(caption)
        row.addWidget(self.doctor_combo)
        return row

    def _day_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.previous_button = QPushButton("‹  Previous day")
        self.today_button = QPushButton("Today")
        self.next_button = QPushButton("Next day  ›")
        self.previous_button.setToolTip("Show the day before (Alt+Left)")
        self.next_button.setToolTip("Show the day after (Alt+Right)")
        self.previous_button.setShortcut("Alt+Left")
        self.next_button.setShortcut("Alt+Right")
        self.previous_button.clicked.connect(lambda: self.day_step.emit(-1))
        self.next_button.clicked.connect(lambda: self.day_step.emit(1))
        self.today_button.clicked.connect(self.today_requested)
        for button in (self.previous_button, self.today_button, self.next_button):
            row.addWidget(button)
        return row

    def set_doctors(
        self, doctors: Sequence[tuple[uuid.UUID, str]], current: uuid.UUID | None
    ) -> None:
        """Fill the chooser with (profile id, label) and select `current`, quietly."""
        with QSignalBlocker(self.doctor_combo):
            self.doctor_combo.clear()
            for doctor_id, label in doctors:
                self.doctor_combo.addItem(label, doctor_id)
            self.doctor_combo.setCurrentIndex(max(self.index_of(current), 0) if doctors else -1)
        self.doctor_combo.setEnabled(len(doctors) > 1)

    def index_of(self, doctor_id: uuid.UUID | None) -> int:
        """The combo box row of `doctor_id`, or -1 (findData cannot compare UUIDs)."""
        ids = [self.doctor_combo.itemData(i) for i in range(self.doctor_combo.count())]
        return ids.index(doctor_id) if doctor_id in ids else -1

    def current_doctor(self) -> uuid.UUID | None:
        """The profile id chosen in the combo box."""
        value = self.doctor_combo.currentData()
        return value if isinstance(value, uuid.UUID) else None

    def show_day(self, title: str, date_text: str, is_today: bool) -> None:
        """Whose day and which date is shown."""
        self.title_label.setText(title)
        self.date_label.setText(date_text)
        self.today_button.setEnabled(not is_today)
        self.today_button.setToolTip("" if not is_today else "Today is already shown")

    def show_summary(self, text: str, zone_note: str = "") -> None:
        self.summary_label.setText(text)
        self.zone_label.setText(zone_note)

    def _on_doctor(self, _index: int) -> None:
        doctor_id = self.current_doctor()
        if doctor_id is not None:
            self.doctor_chosen.emit(doctor_id)
