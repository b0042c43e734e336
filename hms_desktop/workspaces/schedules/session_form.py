"""The small form under the sessions table: every field of the selected weekly session."""

from datetime import date, time

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from hms_core.rules.slots import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES
from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.workspaces.schedules.week import DAY_NAMES, Problem, SessionRow

DEFAULT_BREAK = (time(12), time(13))
GAP = 14  # between the groups of a line


def time_edit() -> QTimeEdit:
    """A 24-hour HH:MM time field: type it, or step with the arrow keys or the wheel."""
    edit = QTimeEdit()
    edit.setDisplayFormat("HH:mm")
    edit.setFixedWidth(74)
    return edit


def date_edit() -> QDateEdit:
    """A YYYY-MM-DD date field with a calendar."""
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setFixedWidth(150)
    return edit


def minutes_spin() -> QSpinBox:
    """Slot length in minutes, in steps of 5."""
    spin = QSpinBox()
    spin.setRange(MIN_SLOT_MINUTES, MAX_SLOT_MINUTES)
    spin.setSingleStep(5)
    spin.setSuffix(" min")
    spin.setObjectName("minutesSpin")  # the stylesheet hides its step buttons: type or scroll
    spin.setFixedWidth(84)
    return spin


def line(*items: QWidget | int) -> QHBoxLayout:
    """Widgets in a row; an int adds that much space."""
    row = QHBoxLayout()
    row.setSpacing(6)
    for item in items:
        if isinstance(item, int):
            row.addSpacing(item)
        else:
            row.addWidget(item)
    row.addStretch(1)
    return row


class SessionForm(QFrame):
    """Edits one SessionRow; emits `edited(row)` on every change the user makes."""

    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionForm")
        self._loading = False
        self.day_combo = QComboBox()
        for name in DAY_NAMES:
            self.day_combo.addItem(name)
        self.start_edit, self.end_edit = time_edit(), time_edit()
        self.slot_spin = minutes_spin()
        self.break_box = QCheckBox("Break")
        self.break_start_edit, self.break_end_edit = time_edit(), time_edit()
        self.from_box = QCheckBox("Valid from")
        self.until_box = QCheckBox("Valid until")
        self.from_edit, self.until_edit = date_edit(), date_edit()
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        for row in self._lines():
            layout.addLayout(row)
        layout.addWidget(self.error_label)
        self._connect()
        self.load(None)

    def _lines(self) -> list[QHBoxLayout]:
        def caption(text: str, buddy: QWidget) -> QWidget:
            label = styled_label(text, "fieldCaption")
            label.setBuddy(buddy)
            return label

        self.day_combo.setFixedWidth(136)
        return [
            line(
                caption("Day", self.day_combo),
                self.day_combo,
                GAP,
                caption("From", self.start_edit),
                self.start_edit,
                caption("to", self.end_edit),
                self.end_edit,
                GAP,
                caption("Slot length", self.slot_spin),
                self.slot_spin,
            ),
            line(
                self.break_box,
                self.break_start_edit,
                caption("to", self.break_end_edit),
                self.break_end_edit,
                GAP,
                self.from_box,
                self.from_edit,
                GAP,
                self.until_box,
                self.until_edit,
            ),
        ]

    def _connect(self) -> None:
        self.day_combo.currentIndexChanged.connect(self._changed)
        self.slot_spin.valueChanged.connect(self._changed)
        for edit in (self.start_edit, self.end_edit, self.break_start_edit, self.break_end_edit):
            edit.timeChanged.connect(self._changed)
        for box in (self.break_box, self.from_box, self.until_box):
            box.toggled.connect(self._changed)
        for edit in (self.from_edit, self.until_edit):
            edit.dateChanged.connect(self._changed)

    def load(self, row: SessionRow | None) -> None:
        """Show `row` (None: nothing selected, the form is disabled)."""
        self._loading = True
        shown = row or SessionRow()
        self.day_combo.setCurrentIndex(shown.weekday)
        self.start_edit.setTime(QTime(shown.start))
        self.end_edit.setTime(QTime(shown.end))
        self.slot_spin.setValue(shown.slot_minutes)
        brk = (shown.break_start, shown.break_end)
        has_break = brk[0] is not None and brk[1] is not None
        self.break_box.setChecked(has_break)
        self.break_start_edit.setTime(QTime(brk[0] if has_break else DEFAULT_BREAK[0]))
        self.break_end_edit.setTime(QTime(brk[1] if has_break else DEFAULT_BREAK[1]))
        self._load_date(self.from_box, self.from_edit, shown.valid_from)
        self._load_date(self.until_box, self.until_edit, shown.valid_until)
        self._loading = False
        self.setEnabled(row is not None)
        self._enable_optional()

    @staticmethod
    def _load_date(box: QCheckBox, edit: QDateEdit, value: date | None) -> None:
        box.setChecked(value is not None)
        edit.setDate(QDate(value) if value else QDate.currentDate())

    def row(self) -> SessionRow:
        """The session as the form shows it."""
        has_break = self.break_box.isChecked()
        return SessionRow(
            weekday=self.day_combo.currentIndex(),
            start=self.start_edit.time().toPython(),
            end=self.end_edit.time().toPython(),
            slot_minutes=self.slot_spin.value(),
            break_start=self.break_start_edit.time().toPython() if has_break else None,
            break_end=self.break_end_edit.time().toPython() if has_break else None,
            valid_from=self.from_edit.date().toPython() if self.from_box.isChecked() else None,
            valid_until=self.until_edit.date().toPython() if self.until_box.isChecked() else None,
        )

    def show_problem(self, problem: Problem | None) -> None:
        """Show the selected session's problem under the form, its fields marked red."""
        self.error_label.setText(problem.message if problem else "")
        self.error_label.setVisible(problem is not None)
        marked = self._parts().get(problem.part, ()) if problem else ()
        for edit in {e for edits in self._parts().values() for e in edits}:
            set_invalid(edit, edit in marked)

    def _parts(self) -> dict[str, tuple[QWidget, ...]]:
        return {
            "hours": (self.end_edit,),
            "overlap": (self.start_edit, self.end_edit),
            "break": (self.break_start_edit, self.break_end_edit),
            "valid": (self.until_edit,),
        }

    def _enable_optional(self) -> None:
        self.break_start_edit.setEnabled(self.break_box.isChecked())
        self.break_end_edit.setEnabled(self.break_box.isChecked())
        self.from_edit.setEnabled(self.from_box.isChecked())
        self.until_edit.setEnabled(self.until_box.isChecked())

    def _changed(self) -> None:
        self._enable_optional()
        if not self._loading:
            self.edited.emit(self.row())
