"""The encounter's note: complaint, history, examination, assessment and plan. A draft is saved
and changed by its author, then signed; a signed note is shown read-only and corrected only by
an amendment with a reason. A refusal keeps everything typed."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import shiboken6
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.db.base import new_id
from hms_desktop.store.clinical import NOTE_FIELDS, NoteView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.widgets.messages import describe_error, local_time
from hms_desktop.widgets.reason_dialog import MIN_REASON, ConfirmDialog
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore

TITLES = {
    "complaint": "Presenting complaint",
    "history": "History",
    "examination": "Examination",
    "assessment": "Assessment",
    "plan": "Plan",
}
HEIGHTS = {"complaint": 60, "history": 100, "examination": 100, "assessment": 76, "plan": 76}
READ_ONLY_LOOK = 'QPlainTextEdit[readOnly="true"] { background: #eef1f5; color: #1d2733; }'
SIGN_TEXT = (
    "A signed note is never changed again: a correction is an amendment, with a reason, "
    "that keeps the signed note readable as it was."
)


class NoteEditor(QDialog):
    """This clinician's note of the patient's encounter today (started when first saved)."""

    def __init__(
        self,
        ctx: AppContext,
        patient_id: uuid.UUID,
        encounter_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.encounter_id = ctx, patient_id, encounter_id
        self.note: NoteView | None = None
        self._new_note_id = new_id()  # a new draft keeps its id through failed attempts
        self.amending = False
        self.confirm: ConfirmDialog | None = None  # the sign confirmation (tests drive it)
        self.setWindowTitle("Clinical note")
        self.setMinimumSize(640, 640)
        self.setStyleSheet(READ_ONLY_LOOK)
        self._build()
        self._show_state()
        if encounter_id is not None:
            self.load()

    clinical = ClinicalStore()

    def _build(self) -> None:
        body = QVBoxLayout(self)
        body.setContentsMargins(24, 20, 24, 16)
        body.setSpacing(6)
        body.addWidget(styled_label("Clinical note", "dialogTitle"))
        self.state_label = styled_label("", "hint")
        self.state_label.setWordWrap(True)
        body.addWidget(self.state_label)
        self.edits: dict[str, QPlainTextEdit] = {}
        for name in NOTE_FIELDS:
            body.addWidget(styled_label(TITLES[name], "fieldCaption"))
            edit = QPlainTextEdit()
            edit.setTabChangesFocus(True)
            edit.setMinimumHeight(HEIGHTS[name])
            self.edits[name] = edit
            body.addWidget(edit, HEIGHTS[name])
        self.reason_caption = styled_label("Reason for the amendment", "fieldCaption")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("What was wrong or missing in the signed note")
        body.addWidget(self.reason_caption)
        body.addWidget(self.reason_edit)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        body.addWidget(self.error_label)
        body.addLayout(self._buttons())

    def _buttons(self) -> QHBoxLayout:
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save draft")
        self.save_button.clicked.connect(self.save_draft)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setProperty("role", "primary")
        self.sign_button.clicked.connect(self.ask_sign)
        self.amend_button = QPushButton("Amend…")
        self.amend_button.clicked.connect(self.start_amending)
        row = QHBoxLayout()
        row.addStretch(1)
        for button in (self.close_button, self.amend_button, self.save_button, self.sign_button):
            row.addWidget(button)
        return row

    # --- reading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Read this clinician's note of the encounter off the UI thread."""
        clinical, encounter_id = self.clinical, self.encounter_id
        if encounter_id is None:
            return
        self.ctx.run(self, lambda: clinical.current_note(encounter_id), self.show_note, self._fail)

    def show_note(self, note: NoteView | None) -> None:
        self.note, self.amending = note, False
        if note is not None:
            for name, edit in self.edits.items():
                edit.setPlainText(note.fields.get(name, ""))
        self.reason_edit.clear()
        self._show_state()

    @property
    def read_only(self) -> bool:
        return self.note is not None and self.note.signed and not self.amending

    def _show_state(self) -> None:
        note, signed = self.note, self.note is not None and self.note.signed
        for edit in self.edits.values():
            edit.setReadOnly(self.read_only)
            edit.style().unpolish(edit)  # the read-only look follows the property
            edit.style().polish(edit)
        self.reason_caption.setVisible(self.amending)
        self.reason_edit.setVisible(self.amending)
        self.save_button.setVisible(not signed)
        self.amend_button.setVisible(signed and not self.amending)
        self.sign_button.setVisible(not self.read_only)
        self.sign_button.setText("Sign amendment…" if self.amending else "Sign…")
        self.state_label.setText(_state_text(note, self.amending))

    # --- writing ----------------------------------------------------------------------------

    def fields(self) -> dict[str, str]:
        return {name: edit.toPlainText().strip() for name, edit in self.edits.items()}

    def _written(self) -> bool:
        return any(self.fields().values())

    def save_draft(self) -> None:
        if not self._written():
            self.error_label.setText("Write something in the note first.")
            return
        self._write(self._save_work(), self._saved)

    def _save_work(self) -> Callable[[], tuple[uuid.UUID, NoteView]]:
        """Start today's encounter if needed, then save the draft; the note's id."""
        clinical, patient_id, fields = self.clinical, self.patient_id, self.fields()
        encounter_id, note_id = self.encounter_id, self.note.id if self.note else self._new_note_id

        def work() -> tuple[uuid.UUID, NoteView]:
            encounter = encounter_id or clinical.start_encounter(patient_id)
            saved = clinical.save_note(encounter, fields, note_id)
            return encounter, next(n for n in clinical.notes(encounter) if n.id == saved)

        return work

    def _saved(self, result: tuple[uuid.UUID, NoteView]) -> None:
        self.encounter_id = result[0]
        self.show_note(result[1])
        self.state_label.setText(f"Draft saved at {local_time(datetime.now(UTC))}. {SIGN_HINT}")

    def ask_sign(self) -> None:
        """Confirm, then sign the draft (or the amendment)."""
        problem = self._sign_problem()
        self.error_label.setText(problem)
        if problem:
            return
        heading = "Sign the amendment" if self.amending else "Sign the note"
        dialog = ConfirmDialog(heading, SIGN_TEXT, "Sign", self)
        dialog.finish_layout()
        dialog.accepted.connect(self._sign)
        dialog.finished.connect(dialog.deleteLater)
        self.confirm = dialog
        dialog.open()

    def _sign_problem(self) -> str:
        if not self._written():
            return "Write the note before signing it."
        if self.amending and len(self.reason_edit.text().strip()) < MIN_REASON:
            set_invalid(self.reason_edit, True)
            return "Give the reason for the amendment."
        set_invalid(self.reason_edit, False)
        return ""

    def _sign(self) -> None:
        clinical, fields = self.clinical, self.fields()
        if self.amending and self.note is not None:
            note_id, reason = self.note.id, self.reason_edit.text().strip()
            encounter = self.note.encounter_id

            def amend() -> tuple[uuid.UUID, NoteView]:
                new_id = clinical.amend_note(note_id, fields, reason)
                return encounter, next(n for n in clinical.notes(encounter) if n.id == new_id)

            self._write(amend, self._signed)
            return
        save = self._save_work()

        def sign() -> tuple[uuid.UUID, NoteView]:
            encounter, draft = save()
            clinical.sign_note(draft.id)
            return encounter, next(n for n in clinical.notes(encounter) if n.id == draft.id)

        self._write(sign, self._signed)

    def _signed(self, result: tuple[uuid.UUID, NoteView]) -> None:
        self.encounter_id = result[0]
        self.show_note(result[1])

    def start_amending(self) -> None:
        """Make the signed note's text editable for an amendment, with a reason."""
        self.amending = True
        self._show_state()
        self.reason_edit.setFocus()

    def _write(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.error_label.setText("")
        self._busy(True)

        def finished(result: Any) -> None:  # noqa: ANN401
            self._busy(False)
            done(result)

        self.ctx.write(self, work, finished, self._fail)

    def _busy(self, busy: bool) -> None:
        for button in (self.save_button, self.sign_button, self.amend_button):
            button.setEnabled(not busy)

    def _fail(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self._busy(False)
            self.error_label.setText(describe_error(exc))


SIGN_HINT = "Sign it when it is complete."


def _state_text(note: NoteView | None, amending: bool) -> str:
    if amending:
        return "Amending the signed note: change the text, give the reason, then sign."
    if note is None:
        return f"A new note for today's encounter. Save a draft as you go. {SIGN_HINT}"
    if not note.signed:
        return f"Draft by {note.author}. {SIGN_HINT}"
    when = local_time(note.signed_at) if note.signed_at else ""
    what = "Amendment signed" if note.amends_id else "Signed"
    reason = f" Reason: {note.amend_reason}." if note.amends_id and note.amend_reason else ""
    return f"{what} by {note.author} at {when}. It can no longer be changed.{reason}"
