"""The chart's tabs: Summary, Timeline, Medications, Results, Vitals, Procedures &
immunizations, Documents. Each shows what it is given; none reads the cache itself."""

import html
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QScrollArea,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.store.chart import (
    CarePlanLine,
    ChartData,
    ChartSummary,
    DocumentLine,
    EncounterLine,
    LabTable,
)
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.chart import models
from hms_desktop.workspaces.chart.models import LabTableModel, day, when
from hms_desktop.workspaces.chart.plots import TrendPlot, VitalsPlots

SIZED_ROWS = 40


def _table(columns: list[Column[Any]], parent: QWidget) -> tuple[RecordTableModel[Any], QTableView]:
    model: RecordTableModel[Any] = RecordTableModel(columns, parent)
    view = make_table_view(model)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setResizeContentsPrecision(SIZED_ROWS)  # a long history sizes from its first rows
    header.setStretchLastSection(True)
    return model, view


def _title(text: str) -> QWidget:
    return styled_label(text, "sectionTitle")


class SummaryTab(QWidget):
    """Problems (active first), current medications, the care plan."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problems_model, self.problems_view = _table(models.PROBLEM_COLUMNS, self)
        self.meds_model, self.meds_view = _table(models.MEDICATION_COLUMNS, self)
        self.plan_label = QTextBrowser()
        self.plan_label.setObjectName("carePlan")
        self.plan_label.setMaximumHeight(120)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        for widget, stretch in (
            (_title("Problems and diagnoses"), 0),
            (self.problems_view, 3),
            (_title("Current medications"), 0),
            (self.meds_view, 2),
            (_title("Care plan"), 0),
            (self.plan_label, 1),
        ):
            layout.addWidget(widget, stretch)

    def show_summary(self, summary: ChartSummary) -> None:
        self.problems_model.set_records(summary.problems)
        self.meds_model.set_records(summary.current_medications)
        self.plan_label.setPlainText(plan_text(summary.care_plan))


def plan_text(plan: CarePlanLine | None) -> str:
    if plan is None:
        return "No care plan written yet."
    why = f" — {plan.reason}" if plan.reason else ""
    return f"{plan.text}\n\n{plan.author}, {when(plan.written_at)}{why}"


class TimelineTab(QWidget):
    """Encounters newest first; the chosen one's notes, orders and prescriptions beside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.view = _table(models.ENCOUNTER_COLUMNS, self)
        self.detail = QTextBrowser()
        self.detail.setObjectName("encounterDetail")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(self.detail)
        splitter.setSizes([620, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(splitter)
        self.view.selectionModel().currentRowChanged.connect(self._chosen)

    def show_encounters(self, encounters: tuple[EncounterLine, ...]) -> None:
        self.model.set_records(encounters)
        self.detail.setHtml("" if encounters else "<p>No encounters recorded.</p>")
        if encounters:
            self.view.selectRow(0)

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.detail.setHtml(encounter_html(self.model.record(current.row())))


def encounter_html(encounter: EncounterLine) -> str:
    """What happened in an encounter, as the detail pane shows it."""
    e = html.escape
    ended = f" – {when(encounter.ended_at)}" if encounter.ended_at else ""
    parts = [
        f"<h3>{e(encounter.reason or encounter.type_display or encounter.encounter_class)}</h3>",
        f"<p>{e(when(encounter.started_at))}{e(ended)} · {e(encounter.encounter_class)} · "
        f"{e(encounter.status)}<br>{e(encounter.clinician)} {e(encounter.location)}</p>",
    ]
    for note in encounter.notes:
        amended = f" (amended: {e(note.amend_reason)})" if note.amend_reason else ""
        parts.append(
            f"<p><b>Note</b> by {e(note.author)}, {e(when(note.written_at))}, "
            f"{e(note.status)}{amended}<br>"
            + "<br>".join(
                f"<i>{label}:</i> {e(text)}"
                for label, text in (
                    ("Complaint", note.complaint),
                    ("Assessment", note.assessment),
                    ("Plan", note.plan),
                )
                if text
            )
            + "</p>"
        )
    if encounter.orders:
        items = "".join(
            f"<li>{e(o.number)} {e(o.test_name)} ({e(o.priority)}, {e(o.status)})</li>"
            for o in encounter.orders
        )
        parts.append(f"<p><b>Orders</b></p><ul>{items}</ul>")
    if encounter.prescriptions:
        items = "".join(f"<li>{e(p)}</li>" for p in encounter.prescriptions)
        parts.append(f"<p><b>Prescriptions</b></p><ul>{items}</ul>")
    return "".join(parts)


class MedicationsTab(QWidget):
    """Current and past medications (the latest version of each prescription)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current_model, self.current_view = _table(models.MEDICATION_COLUMNS, self)
        self.past_model, self.past_view = _table(models.MEDICATION_COLUMNS, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(_title("Current"))
        layout.addWidget(self.current_view, 1)
        layout.addWidget(_title("Past"))
        layout.addWidget(self.past_view, 2)

    def show_medications(self, data: ChartData) -> None:
        self.current_model.set_records(data.summary.current_medications)
        self.past_model.set_records(data.past_medications)


class ResultsTab(QWidget):
    """The cumulative lab table; choosing an analyte shows its trend below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LabTableModel(self)
        self.view = QTableView()
        self.view.setObjectName("labTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.view.verticalHeader().setDefaultSectionSize(28)
        self.view.horizontalHeader().setDefaultSectionSize(112)
        self.empty_label = styled_label("No laboratory results.", "hint")
        self.trend = TrendPlot()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.trend)
        splitter.setSizes([360, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.empty_label)
        layout.addWidget(splitter, 1)
        self.view.clicked.connect(lambda index: self.show_trend(index.row()))
        self.view.verticalHeader().sectionClicked.connect(self.show_trend)

    def show_table(self, table: LabTable) -> None:
        chosen = self.trend.analyte.code if self.trend.analyte else None
        self.model.set_table(table)
        self.empty_label.setVisible(not table.analytes)
        row = self.model.row_of(chosen) if chosen else -1
        self.trend.show_analyte(self.model.analyte(row) if row >= 0 else None)

    def show_trend(self, row: int) -> None:
        """Plot the analyte of table row `row`."""
        if 0 <= row < self.model.rowCount():
            self.trend.show_analyte(self.model.analyte(row))

    def choose(self, code: str) -> bool:
        """Select the analyte with this LOINC code and plot it."""
        row = self.model.row_of(code)
        if row >= 0:
            self.view.selectRow(row)
            self.show_trend(row)
        return row >= 0


class VitalsTab(QScrollArea):
    """Vital signs over time, one plot each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = VitalsPlots()
        self.setWidget(self.plots)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)


class ProceduresTab(QWidget):
    """Procedures and surgeries; immunizations."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.procedures_model, self.procedures_view = _table(models.PROCEDURE_COLUMNS, self)
        self.immunizations_model, self.immunizations_view = _table(
            models.IMMUNIZATION_COLUMNS, self
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(_title("Procedures and surgeries"))
        layout.addWidget(self.procedures_view, 1)
        layout.addWidget(_title("Immunizations"))
        layout.addWidget(self.immunizations_view, 1)

    def show_data(self, data: ChartData) -> None:
        self.procedures_model.set_records(data.procedures)
        self.immunizations_model.set_records(data.immunizations)


class DocumentsTab(QWidget):
    """Documents by date; the chosen one's text is read when it is chosen."""

    text_wanted = Signal(object)  # a DocumentLine

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.view = _table(models.DOCUMENT_COLUMNS, self)
        self.text = QTextBrowser()
        self.text.setObjectName("documentText")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(self.text)
        splitter.setSizes([420, 620])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(splitter)
        self.view.selectionModel().currentRowChanged.connect(self._chosen)

    def show_documents(self, documents: tuple[DocumentLine, ...]) -> None:
        self.model.set_records(documents)
        self.text.setPlainText("" if documents else "No documents.")

    def show_text(self, document: DocumentLine, text: str) -> None:
        heading = f"{document.title}\n{day(document.written_at)} · {document.author}\n\n"
        self.text.setPlainText(heading + (text or "(This document has no text.)"))

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.text.setPlainText("Reading…")
            self.text_wanted.emit(self.model.record(current.row()))
