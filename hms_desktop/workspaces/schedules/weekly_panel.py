"""Weekly hours: the doctor's sessions, edited, previewed with their slots, then saved."""

import uuid
from collections.abc import Sequence

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_core.db import AvailabilityException, AvailabilityRule
from hms_core.schemas.errors import field_errors
from hms_core.schemas.scheduling import DoctorOut
from hms_core.services.errors import DomainError
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.schedules import week
from hms_desktop.workspaces.schedules.sessions_editor import SessionsEditor
from hms_desktop.workspaces.schedules.week import DAY_NAMES, Problem, SessionRow
from hms_desktop.workspaces.schedules.week_preview import WeekPreview

CHANGED_ELSEWHERE = (
    "These hours were changed on another computer meanwhile; saving replaces that version "
    "with yours, discarding shows it."
)


def describe_problems(rows: Sequence[SessionRow], problems: dict[int, Problem]) -> str:
    """'Nothing was saved; … Monday 08:00–12:00: …' for the rows that have a problem."""
    lines: list[str] = []
    for i in sorted(problems):
        problem, day = problems[i], DAY_NAMES[rows[i].weekday]
        if problem.other is None:
            lines.append(f"{day} {rows[i].hours()}: {problem.message}.")
        elif problem.other > i or problems.get(problem.other, problem).other != i:
            other = rows[problem.other].hours()
            lines.append(f"{day} sessions {rows[i].hours()} and {other} overlap.")
    return "Nothing was saved; correct the sessions marked in red. " + " ".join(lines)


def save_error(exc: BaseException) -> str:
    """Why saving failed, in plain words."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(f.message for f in field_errors(exc))
    return describe_error(exc)


class WeeklyHoursPanel(QWidget):
    """The selected doctor's weekly sessions; emits `saved` once they are stored locally."""

    saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.doctor: DoctorOut | None = None
        self.original: list[SessionRow] = []
        self.changes: list[AvailabilityException] = []
        self._explaining = False  # the error box lists the rows' problems until they are fixed
        self._fresh = False  # the doctor was just chosen: show what is stored as it is
        self.editor = SessionsEditor()
        self.model, self.table, self.form = self.editor.model, self.editor.table, self.editor.form
        self.preview = WeekPreview()
        self.error_box = styled_label("", "errorBox")
        self.error_box.setWordWrap(True)
        self.error_box.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 12)
        layout.setSpacing(10)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error_box)
        layout.addWidget(self.preview)
        layout.addLayout(self._footer())
        self.model.changed.connect(self._refresh_state)
        self.editor.message.connect(lambda text, bad: set_status(self.status_label, text, bad))
        self.preview.week_changed.connect(lambda _monday: self._update_preview())
        self._refresh_state()

    def _footer(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        self.dirty_label = styled_label("Not saved yet", "unsaved")
        self.discard_button = QPushButton("Discard changes")
        self.save_button = QPushButton("Save weekly hours")
        self.save_button.setProperty("role", "primary")
        self.discard_button.clicked.connect(self.discard)
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.status_label, 1)
        row.addWidget(self.dirty_label)
        row.addSpacing(8)
        row.addWidget(self.discard_button)
        row.addWidget(self.save_button)
        return row

    # the editor's parts, for tests and the workspace
    @property
    def add_button(self) -> QPushButton:
        return self.editor.add_button

    @property
    def remove_button(self) -> QPushButton:
        return self.editor.remove_button

    @property
    def copy_button(self) -> QPushButton:
        return self.editor.copy_button

    def selected_row(self) -> int | None:
        return self.editor.selected_row()

    @property
    def dirty(self) -> bool:
        """Whether the rows differ from what is stored."""
        return self.model.records() != self.original

    # --- loading ----------------------------------------------------------------------------

    def load(self, doctor: DoctorOut | None) -> None:
        """Show the stored sessions of `doctor` (None: nobody selected)."""
        self.doctor = doctor
        self.original = []
        self._fresh = True
        self.editor.set_rows([])
        self._show_error("")
        set_status(self.status_label, "Loading…" if doctor else "")
        self.reload()

    def reload(self) -> None:
        """Read the stored sessions again (after sync), keeping unsaved edits."""
        if self.doctor is None:
            return
        doctor_id = self.doctor.id
        self._ctx.run(
            self,
            lambda: self._ctx.scheduling.weekly_sessions(doctor_id),
            lambda rules: self._loaded(doctor_id, rules),
            lambda exc: set_status(self.status_label, describe_error(exc), error=True),
        )

    def _loaded(self, doctor_id: uuid.UUID, rules: list[AvailabilityRule]) -> None:
        if self.doctor is None or self.doctor.id != doctor_id:
            return  # an answer for the doctor shown before
        stored = sorted((week.row_from_rule(r) for r in rules), key=week.sort_key)
        first_time, self._fresh = self._fresh, False
        if stored == self.original and not first_time:
            return
        if self.dirty and not first_time:
            self.original = stored
            set_status(self.status_label, CHANGED_ELSEWHERE, error=True)
            self._refresh_state()
            return
        self.original = stored
        self.editor.set_rows(stored)
        set_status(self.status_label, "" if stored else "No weekly hours yet: add a session.")

    def set_changes(self, changes: list[AvailabilityException]) -> None:
        """The doctor's leave and extra sessions, shown in the preview."""
        self.changes = list(changes)
        self._update_preview()

    # --- state ------------------------------------------------------------------------------

    def discard(self) -> None:
        """Go back to the stored sessions."""
        self.editor.set_rows(self.original)
        self._show_error("")
        set_status(self.status_label, "")

    def _refresh_state(self) -> None:
        rows = self.model.records()
        problems = week.problems(rows)
        self.editor.show_problems(problems)
        if self._explaining:
            self._show_error(describe_problems(rows, problems) if problems else "")
        self.editor.enable(self.doctor is not None)
        self.save_button.setEnabled(self.doctor is not None and self.dirty)
        self.discard_button.setEnabled(self.dirty)
        self.dirty_label.setVisible(self.dirty)
        self._update_preview()

    def _update_preview(self) -> None:
        zone = week.zone_of(self.doctor.timezone if self.doctor else "UTC")
        rows = self.model.records()
        self.preview.show_days(week.preview(rows, self.changes, zone, self.preview.monday))

    # --- saving -----------------------------------------------------------------------------

    def save(self) -> None:
        """Store the sessions (replacing all of the doctor's weekly sessions) and sync them."""
        rows = self.model.records()
        problems = week.problems(rows)
        if self.doctor is None or problems:
            self._explaining = bool(problems)
            self._refresh_state()
            if self.selected_row() not in problems:
                self.editor.select(min(problems, default=0))
            self.editor.reveal_selected()
            return
        doctor_id, sessions = self.doctor.id, [week.payload(r) for r in rows]
        self.save_button.setEnabled(False)
        set_status(self.status_label, "Saving…")
        self._ctx.write(
            self,
            lambda: self._ctx.scheduling.set_weekly(doctor_id, sessions),
            lambda _result: self._saved(rows),
            self._save_failed,
        )

    def _saved(self, rows: list[SessionRow]) -> None:
        self.original = list(rows)
        self._show_error("")
        self._refresh_state()
        set_status(self.status_label, "Saved. The new hours are being sent to the server.")
        self.saved.emit()

    def _save_failed(self, exc: BaseException) -> None:
        self._refresh_state()
        self._show_error(f"Nothing was saved. {save_error(exc)}")
        set_status(self.status_label, "")

    def _show_error(self, text: str) -> None:
        if not text:
            self._explaining = False
        self.error_box.setText(text)
        self.error_box.setVisible(bool(text))
