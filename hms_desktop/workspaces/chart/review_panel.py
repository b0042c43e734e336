"""The signed-in doctor's validated results waiting to be read: critical first, abnormal values
flagged. A result opens with its values against their reference ranges; the doctor writes an
interpretation, may update the plan, and acknowledges it, and it leaves the list."""

import uuid
from typing import Any

import shiboken6
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.store.clinical import ResultSummary, ResultValue
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error, local_time
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.widgets.thumbnail_strip import StripImage, ThumbnailStrip
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

CRITICAL_FLAGS = ("LL", "HH")
FLAG_WORDS = {"L": "Low", "H": "High", "LL": "Critically low", "HH": "Critically high"}
FLAG_WORDS["A"] = "Abnormal"
RED, AMBER = QColor("#b42318"), QColor("#93370d")
Index = QModelIndex | QPersistentModelIndex


def _when(result: ResultSummary) -> str:
    return local_time(result.validated_at) if result.validated_at else ""


def _flags(result: ResultSummary) -> str:
    return ", ".join(result.flags) if result.flags else "Within range"


RESULT_COLUMNS: list[Column[ResultSummary]] = [
    Column("", lambda r: "CRITICAL" if r.critical else ""),
    Column("Test", lambda r: r.test_name),
    Column("Patient", lambda r: f"{r.patient_name} · {r.mrn}"),
    Column("Validated", _when),
    Column("Abnormal", _flags),
]
VALUE_COLUMNS: list[Column[ResultValue]] = [
    Column("Analyte", lambda v: v.name),
    Column("Value", lambda v: f"{v.value} {v.unit}".strip()),
    Column("Flag", lambda v: FLAG_WORDS.get(v.flag, "")),
    Column(
        "Reference range", lambda v: f"{v.range_text()} {v.unit}".strip() if v.range_text() else ""
    ),
]


class ResultsModel(RecordTableModel[ResultSummary]):
    """The waiting results; critical rows in red and bold."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and self.record(index.row()).critical:
            if role == Qt.ItemDataRole.ForegroundRole:
                return RED
            if role == Qt.ItemDataRole.FontRole:
                return _bold()
        return super().data(index, role)


class ValuesModel(RecordTableModel[ResultValue]):
    """A result's values; high and low in amber, critical in red and bold."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid():
            flag = self.record(index.row()).flag
            if role == Qt.ItemDataRole.ForegroundRole and flag in FLAG_WORDS:
                return RED if flag in CRITICAL_FLAGS else AMBER
            if role == Qt.ItemDataRole.FontRole and flag in FLAG_WORDS:
                return _bold()
        return super().data(index, role)


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


class ReviewPanel(QWidget):
    """Results to review (of the signed-in doctor's orders) and the one being read."""

    acknowledged = Signal(str)  # the order number
    loaded = Signal(int)  # how many results wait

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current: ResultSummary | None = None
        self._loaded_once = False
        self._last_done = ""  # what was last acknowledged, said above the detail
        self._build()
        self._show_detail(None)
        self.watch = SyncWatch(ctx.sync, self, self.refresh)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Read the list when first shown; catch up with what sync brought while hidden."""
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()
        self.watch.shown()

    clinical = ClinicalStore()

    def _build(self) -> None:
        self.list_title = styled_label("Results to review", "sectionTitle")
        self.model = ResultsModel(RESULT_COLUMNS, self)
        self.table = make_table_view(self.model, self)
        self.table.setColumnWidth(0, 80)
        self.table.setColumnWidth(1, 190)
        self.table.setColumnWidth(2, 240)
        self.table.setColumnWidth(3, 150)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _p: self._open(cur))
        self.notice = styled_label("", "hint")
        self.notice.setWordWrap(True)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.list_title)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.notice)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(self._detail())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(splitter)

    def _detail(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(6)
        self.detail_title = styled_label("", "sectionTitle")
        self.detail_facts = styled_label("", "hint")
        self.detail_facts.setWordWrap(True)
        self.values_model = ValuesModel(VALUE_COLUMNS, self)
        self.values_table = make_table_view(self.values_model, box)
        for column, width in enumerate((220, 190, 130)):
            self.values_table.setColumnWidth(column, width)
        self.report = styled_label("", "infoBox")
        self.report.setWordWrap(True)
        self.images = ThumbnailStrip(self.ctx, box)
        self.interpretation_edit = QPlainTextEdit()
        self.interpretation_edit.setPlaceholderText("Your interpretation of the result")
        self.interpretation_edit.setMaximumHeight(70)
        self.plan_edit = QPlainTextEdit()
        self.plan_edit.setPlaceholderText("The treatment plan (change it to update the plan)")
        self.plan_edit.setMaximumHeight(80)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        self.acknowledge_button = QPushButton("Acknowledge")
        self.acknowledge_button.setProperty("role", "primary")
        self.acknowledge_button.clicked.connect(self.acknowledge)
        row = QHBoxLayout()
        row.addWidget(self.error_label, 1)
        row.addWidget(self.acknowledge_button)
        shown = (self.detail_title, self.detail_facts, self.values_table, self.report, self.images)
        for widget in shown:
            layout.addWidget(widget, 3 if widget is self.values_table else 0)
        layout.addStretch()  # an imaging result has no values table to take the room
        layout.addWidget(styled_label("Interpretation", "fieldCaption"))
        layout.addWidget(self.interpretation_edit)
        layout.addWidget(styled_label("Treatment plan", "fieldCaption"))
        layout.addWidget(self.plan_edit)
        layout.addLayout(row)
        self.detail_box = box
        return box

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the waiting results again off the UI thread."""
        clinical = self.clinical
        self._loaded_once = True
        self.ctx.run(self, clinical.unacknowledged_results, self._show_list, self._failed)

    def _show_list(self, results: list[ResultSummary]) -> None:
        keep = self.current.order_id if self.current is not None else None
        self.model.set_records(results)
        count = len(results)
        critical = sum(1 for r in results if r.critical)
        title = f"Results to review ({count})" if count else "Results to review"
        self.list_title.setText(title + (f" · {critical} critical" if critical else ""))
        done = self._last_done
        waiting = "No other result is waiting for you." if done else "No result is waiting for you."
        self.notice.setText(" ".join(part for part in (done, "" if count else waiting) if part))
        rows = [r.order_id for r in results]
        if keep in rows:
            self.table.selectRow(rows.index(keep))
        elif count:
            self.table.selectRow(0)
        else:
            self._show_detail(None)
        self.loaded.emit(count)

    def _open(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        order_id = self.model.record(index.row()).order_id
        if self.current is not None and self.current.order_id == order_id:
            return
        clinical = self.clinical
        self.ctx.run(self, lambda: clinical.result(order_id), self._show_detail, self._failed)

    def _show_detail(self, result: ResultSummary | None) -> None:
        """Show a result; the same result read again (a sync refresh racing the doctor's
        typing) keeps the interpretation and plan being written."""
        shown = self.current
        same = shown is not None and result is not None and shown.order_id == result.order_id
        self.current = result
        self.detail_box.setEnabled(result is not None)
        self.error_label.setText("")
        if result is None:
            self.detail_title.setText("Choose a result to read it.")
            self.detail_facts.setText("")
            self.values_model.set_records([])
            self.report.hide()
            self.images.show_images([])
            self.interpretation_edit.clear()
            self.plan_edit.clear()
            return
        critical = " · CRITICAL" if result.critical else ""
        self.detail_title.setText(f"{result.test_name} · {result.patient_name}{critical}")
        self.detail_facts.setText(
            f"MRN {result.mrn} · order {result.number} · validated {_when(result)}"
            + (f" · indication: {result.indication}" if result.indication else "")
        )
        self.values_model.set_records(result.values)
        self.values_table.setVisible(bool(result.values))
        report = "\n".join(
            part
            for part in (
                f"Findings: {result.findings}" if result.findings else "",
                f"Impression: {result.impression}" if result.impression else "",
            )
            if part
        )
        self.report.setText(report)
        self.report.setVisible(bool(report))
        self.images.show_images(
            [StripImage(a.id, a.file_name, a.content_type) for a in result.attachments]
        )
        if not same:
            self.interpretation_edit.clear()
            self.plan_edit.setPlainText(result.plan)

    # --- acknowledging ----------------------------------------------------------------------

    def acknowledge(self) -> None:
        """Acknowledge the result shown, with the interpretation and a changed plan if any."""
        result = self.current
        if result is None:
            return
        interpretation = self.interpretation_edit.toPlainText().strip()
        plan = self.plan_edit.toPlainText().strip()
        new_plan = plan if plan != result.plan.strip() else ""
        clinical, order_id = self.clinical, result.order_id
        self.acknowledge_button.setEnabled(False)
        self.ctx.write(
            self,
            lambda: clinical.acknowledge_result(order_id, interpretation, new_plan),
            lambda _r: self._acknowledged(result, bool(new_plan)),
            self._refused,
        )

    def _acknowledged(self, result: ResultSummary, planned: bool) -> None:
        self.acknowledge_button.setEnabled(True)
        self.current = None
        plan = " and the plan updated" if planned else ""
        self._last_done = f"{result.test_name} of {result.patient_name} acknowledged{plan}."
        self.notice.setText(self._last_done)
        self.acknowledged.emit(result.number)
        self.refresh()

    def _refused(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.acknowledge_button.setEnabled(True)
            self.error_label.setText(describe_error(exc))

    def _failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.notice.setText(describe_error(exc))

    def order_ids(self) -> list[uuid.UUID]:
        """The orders listed, in order (for tests and the clinic's badge)."""
        return [r.order_id for r in self.model.records()]
