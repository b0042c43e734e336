"""The problem list from the chart: adding a diagnosis or problem coded in ICD-10 (found by code
or by words as it is typed), and resolving one or marking it recorded in error. A refusal is
said in the dialog, with everything typed kept."""

import re
import uuid
from datetime import date
from typing import Any

import shiboken6
from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.catalogues import Icd10
from hms_desktop.store.chart import ProblemLine
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.reason_dialog import MAX_REASON, MIN_REASON
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore
from hms_desktop.workspaces.chart.models import day

ITEM_ROLE = Qt.ItemDataRole.UserRole
LOOKS_LIKE_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z.]*$")
RESULTS = 30
NOTHING_CHOSEN = "Choose the diagnosis from the list: search by code (E11) or by words."


def _date_edit(on: date) -> QDateEdit:
    edit = QDateEdit(QDate(on.year, on.month, on.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd MMM yyyy")
    edit.setMaximumDate(QDate(on.year, on.month, on.day))  # never in the future
    return edit


def _picked(edit: QDateEdit) -> date:
    chosen = edit.date()
    return date(chosen.year(), chosen.month(), chosen.day())


def _buttons(cancel: QPushButton, save: QPushButton) -> QHBoxLayout:
    save.setProperty("role", "primary")
    save.setDefault(True)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(save)
    return row


class ProblemDialog(QDialog):
    """Add a diagnosis or problem from the ICD-10 catalogue to the patient's problem list."""

    added = Signal(dict)

    def __init__(
        self,
        ctx: AppContext,
        patient_id: uuid.UUID,
        parent: QWidget | None = None,
        *,
        encounter_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.encounter_id = ctx, patient_id, encounter_id
        self.setWindowTitle("Add a diagnosis")
        self.setMinimumWidth(620)
        self._build()

    clinical = ClinicalStore()

    def _build(self) -> None:
        body = QVBoxLayout(self)
        body.setContentsMargins(24, 20, 24, 16)
        body.setSpacing(10)
        body.addWidget(styled_label("Add a diagnosis or problem", "dialogTitle"))
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("ICD-10 code or words, e.g. E11 or diabetes type 2")
        self.search_edit.textChanged.connect(lambda _t: self._fill())
        self.results = QListWidget()
        self.results.setMinimumHeight(180)
        self.hint_label = styled_label("", "hint")
        form.addRow("Search", self.search_edit)
        form.addRow("", self.results)
        form.addRow("", self.hint_label)
        form.addRow("Kind", self._kinds())
        self.onset_box = QCheckBox("Known")
        self.onset_edit = _date_edit(self.clinical.today())
        self.onset_edit.setEnabled(False)
        self.onset_box.toggled.connect(self.onset_edit.setEnabled)
        onset = QHBoxLayout()
        onset.addWidget(self.onset_box)
        onset.addWidget(self.onset_edit)
        onset.addStretch(1)
        form.addRow("Onset", onset)
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(500)
        self.note_edit.setPlaceholderText("Optional, e.g. diet-controlled until 2025")
        form.addRow("Note", self.note_edit)
        body.addLayout(form)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        body.addWidget(self.error_label)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Add diagnosis")
        self.save_button.clicked.connect(self.submit)
        body.addLayout(_buttons(self.cancel_button, self.save_button))

    def _kinds(self) -> QHBoxLayout:
        self.diagnosis_radio = QRadioButton("Diagnosis")
        self.problem_radio = QRadioButton("Problem")
        self.kind_group = QButtonGroup(self)
        row = QHBoxLayout()
        for radio in (self.diagnosis_radio, self.problem_radio):
            self.kind_group.addButton(radio)
            row.addWidget(radio)
        row.addStretch(1)
        self.diagnosis_radio.setChecked(True)
        self.problem_radio.toggled.connect(
            lambda on: self.save_button.setText("Add problem" if on else "Add diagnosis")
        )
        return row

    # --- the catalogue ----------------------------------------------------------------------

    def _fill(self) -> None:
        """The catalogue entries matching what is typed (code prefix, else every word)."""
        text = self.search_edit.text()
        found = self.clinical.search_icd10(text, RESULTS) if text.strip() else []
        set_invalid(self.search_edit, False)  # a new search: the last refusal no longer holds
        self.error_label.setText("")
        self.results.clear()
        for entry in found:
            item = QListWidgetItem(f"{entry.code}   {entry.title}")
            item.setData(ITEM_ROLE, entry)
            self.results.addItem(item)
        exact = [i for i, e in enumerate(found) if e.code == text.strip().upper()]
        if len(found) == 1 or exact:
            self.results.setCurrentRow(exact[0] if exact else 0)
        if not text.strip():
            self.hint_label.setText("")
        elif not found:
            self.hint_label.setText("Nothing in the ICD-10 catalogue matches.")
        else:
            more = " (first shown; type more to narrow)" if len(found) == RESULTS else ""
            self.hint_label.setText(f"{len(found)} found{more}.")

    def shown_codes(self) -> list[str]:
        return [self.results.item(i).data(ITEM_ROLE).code for i in range(self.results.count())]

    def choose(self, code: str) -> bool:
        """Select the entry `code` in the results (False when it is not shown)."""
        for row, shown in enumerate(self.shown_codes()):
            if shown == code:
                self.results.setCurrentRow(row)
                return True
        return False

    @property
    def chosen(self) -> Icd10 | None:
        item = self.results.currentItem()
        return item.data(ITEM_ROLE) if item is not None else None

    # --- saving -----------------------------------------------------------------------------

    def code_to_save(self) -> str:
        """The chosen entry's code; a typed code goes as typed, for the record's rules to judge."""
        if self.chosen is not None:
            return self.chosen.code
        typed = self.search_edit.text().strip().upper()
        return typed if LOOKS_LIKE_CODE.match(typed) else ""

    def submit(self) -> None:
        code = self.code_to_save()
        set_invalid(self.search_edit, not code)
        self.error_label.setText("" if code else NOTHING_CHOSEN)
        if not code:
            return
        clinical, patient_id, encounter_id = self.clinical, self.patient_id, self.encounter_id
        kind = "problem" if self.problem_radio.isChecked() else "diagnosis"
        onset = _picked(self.onset_edit) if self.onset_box.isChecked() else None
        note = self.note_edit.text().strip()
        self.save_button.setEnabled(False)
        self.ctx.write(
            self,
            lambda: clinical.add_problem(
                patient_id, code, encounter_id=encounter_id, kind=kind, onset=onset, note=note
            ),
            self._added,
            self._refused,
        )

    def _added(self, result: dict[str, Any]) -> None:
        self.added.emit(result)
        if shiboken6.isValid(self):
            self.accept()

    def _refused(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.save_button.setEnabled(True)
            set_invalid(self.search_edit, True)
            self.error_label.setText(describe_error(exc))


class ProblemStatusDialog(QDialog):
    """Resolve a problem (on a day) or mark it recorded in error (with the reason)."""

    changed = Signal(dict)

    def __init__(
        self,
        ctx: AppContext,
        problem: ProblemLine,
        in_error: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.problem, self.in_error = ctx, problem, in_error
        title = "Recorded in error" if in_error else "Resolve a problem"
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self._build(title)

    clinical = ClinicalStore()

    def _build(self, title: str) -> None:
        body = QVBoxLayout(self)
        body.setContentsMargins(24, 20, 24, 16)
        body.setSpacing(10)
        body.addWidget(styled_label(title, "dialogTitle"))
        since = f" · since {day(self.problem.onset)}" if self.problem.onset else ""
        self.record_label = styled_label(
            f"{self.problem.code} {self.problem.display} ({self.problem.clinical_status}{since})",
            "hint",
        )
        self.record_label.setWordWrap(True)
        body.addWidget(self.record_label)
        form = QFormLayout()
        self.resolved_edit = _date_edit(self.clinical.today())
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(MAX_REASON)
        if self.in_error:
            self.reason_edit.setPlaceholderText(
                "Why it was wrong, e.g. recorded on the wrong patient"
            )
            form.addRow("Reason", self.reason_edit)
            body.addWidget(
                styled_label("It leaves the problem list; the record keeps it, with why.", "hint")
            )
        else:
            self.reason_edit.setPlaceholderText("Optional")
            form.addRow("Resolved on", self.resolved_edit)
            form.addRow("Comment", self.reason_edit)
        body.addLayout(form)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        body.addWidget(self.error_label)
        self.cancel_button = QPushButton("Keep as it is")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Mark in error" if self.in_error else "Resolve")
        self.save_button.clicked.connect(self.submit)
        body.addLayout(_buttons(self.cancel_button, self.save_button))

    def submit(self) -> None:
        reason = self.reason_edit.text().strip()
        missing = self.in_error and len(reason) < MIN_REASON
        set_invalid(self.reason_edit, missing)
        self.error_label.setText("Say why this problem was recorded in error." if missing else "")
        if missing:
            return
        clinical, problem_id = self.clinical, self.problem.id
        status = "entered_in_error" if self.in_error else "resolved"
        resolved = None if self.in_error else _picked(self.resolved_edit)
        self.save_button.setEnabled(False)
        self.ctx.write(
            self,
            lambda: clinical.update_problem(problem_id, status, resolved=resolved, reason=reason),
            self._changed,
            self._refused,
        )

    def _changed(self, result: dict[str, Any]) -> None:
        self.changed.emit(result)
        if shiboken6.isValid(self):
            self.accept()

    def _refused(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.save_button.setEnabled(True)
            self.error_label.setText(describe_error(exc))
