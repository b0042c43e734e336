"""The treatment plan from the chart: the plan in force (who wrote it, when, why) and every
earlier version, newest first; the editor starts from the plan in force and saving writes a new
version with the reason for the change."""

import uuid
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.store.clinical import CarePlanVersion
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore
from hms_desktop.workspaces.chart.models import when

ITEM_ROLE = Qt.ItemDataRole.UserRole
NO_PLAN = "No treatment plan written yet."


def version_line(version: CarePlanVersion) -> str:
    """'06 Dec 2026 14:02 · test-doctor' then, on a second line, why it changed."""
    why = f"\n{version.reason}" if version.reason else ""
    return f"{when(version.written_at)} · {version.author}{why}"


def in_force_text(version: CarePlanVersion | None) -> str:
    if version is None:
        return NO_PLAN
    why = f" — {version.reason}" if version.reason else ""
    return f"In force since {when(version.written_at)}, by {version.author}{why}"


class PlanDialog(QDialog):
    """Read the plan and its history; write the next version."""

    saved = Signal(dict)
    loaded = Signal(list)  # the versions, newest first

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
        self.versions: list[CarePlanVersion] | None = None  # None until read
        self.setWindowTitle("Treatment plan")
        self.resize(980, 600)
        self._build()
        self._load()

    clinical = ClinicalStore()

    def _build(self) -> None:
        body = QVBoxLayout(self)
        body.setContentsMargins(24, 20, 24, 16)
        body.setSpacing(10)
        body.addWidget(styled_label("Treatment plan", "dialogTitle"))
        self.current_label = styled_label("Reading the plan…", "hint")
        self.current_label.setWordWrap(True)
        body.addWidget(self.current_label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._editor())
        splitter.addWidget(self._history())
        splitter.setSizes([560, 380])
        body.addWidget(splitter, 1)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        body.addWidget(self.error_label)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save new version")
        self.save_button.setProperty("role", "primary")
        self.save_button.setEnabled(False)  # until the plan in force is read
        self.save_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.save_button)
        body.addLayout(row)

    def _editor(self) -> QWidget:
        pane = QWidget()
        column = QVBoxLayout(pane)
        column.setContentsMargins(0, 0, 8, 0)
        column.addWidget(styled_label("The plan", "sectionTitle"))
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("Goals, treatment, monitoring, follow-up")
        column.addWidget(self.text_edit, 1)
        column.addWidget(styled_label("Why it changes", "sectionTitle"))
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("e.g. after the HbA1c result")
        column.addWidget(self.reason_edit)
        return pane

    def _history(self) -> QWidget:
        pane = QWidget()
        column = QVBoxLayout(pane)
        column.setContentsMargins(8, 0, 0, 0)
        column.addWidget(styled_label("Versions, newest first", "sectionTitle"))
        self.history_list = QListWidget()
        self.history_list.setWordWrap(True)
        self.history_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history_list.currentItemChanged.connect(lambda *_a: self._show_version())
        column.addWidget(self.history_list, 1)
        self.version_text = QTextBrowser()
        self.version_text.setObjectName("planVersion")
        column.addWidget(self.version_text, 1)
        return pane

    # --- reading ----------------------------------------------------------------------------

    def _load(self) -> None:
        clinical, patient_id = self.clinical, self.patient_id
        self.ctx.run(self, lambda: clinical.care_plan_history(patient_id), self._show, self._unread)

    def _show(self, versions: list[CarePlanVersion]) -> None:
        self.versions = versions
        self.history_list.clear()
        for version in versions:
            item = QListWidgetItem(version_line(version))
            item.setData(ITEM_ROLE, version)
            self.history_list.addItem(item)
        current = versions[0] if versions else None
        self.current_label.setText(in_force_text(current))
        self.text_edit.setPlainText(current.text if current else "")
        if current is not None:
            self.history_list.setCurrentRow(0)
        else:
            self.version_text.setPlainText("No earlier versions.")
        self.save_button.setEnabled(True)
        self.loaded.emit(versions)

    def _show_version(self) -> None:
        item = self.history_list.currentItem()
        version: CarePlanVersion | None = item.data(ITEM_ROLE) if item is not None else None
        self.version_text.setPlainText(version.text if version else "")

    def _unread(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.current_label.setText(describe_error(exc))

    # --- saving -----------------------------------------------------------------------------

    def problem(self) -> str:
        """What stops saving ('' when nothing)."""
        text = self.text_edit.toPlainText().strip()
        current = self.versions[0].text.strip() if self.versions else ""
        if not text:
            return "Write the plan before saving."
        if text == current:
            return "The plan is as it stands; change it before saving a new version."
        return ""

    def submit(self) -> None:
        problem = self.problem()
        set_invalid(self.text_edit, bool(problem))
        self.error_label.setText(problem)
        if problem:
            return
        clinical, patient_id, encounter_id = self.clinical, self.patient_id, self.encounter_id
        text, reason = self.text_edit.toPlainText().strip(), self.reason_edit.text().strip()
        self.save_button.setEnabled(False)
        self.ctx.write(
            self,
            lambda: clinical.update_care_plan(
                patient_id, text, reason=reason, encounter_id=encounter_id
            ),
            self._saved,
            self._refused,
        )

    def _saved(self, result: dict[str, Any]) -> None:
        self.saved.emit(result)
        if shiboken6.isValid(self):
            self.accept()

    def _refused(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.save_button.setEnabled(True)
            self.error_label.setText(describe_error(exc))
