"""A patient's chart: the allergy banner always at the top, the header with the action bar,
then the record in tabs. The top is painted from `chart_summary` first, the tabs are filled
from `chart`; both are read off the UI thread and read again when sync brings changes."""

import logging
import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from hms_desktop.store.chart import ChartData, ChartSummary, DocumentLine
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.chart.banner import AllergyBanner, ChartHeader
from hms_desktop.workspaces.chart.sections import (
    DocumentsTab,
    MedicationsTab,
    ProceduresTab,
    ResultsTab,
    SummaryTab,
    TimelineTab,
    VitalsTab,
)
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

log = logging.getLogger(__name__)
NO_CHART = "Charts are not available on this computer."


class ChartView(QWidget):
    """One patient's chart; `editable` adds the note, prescribe and order actions."""

    summary_shown = Signal(object)  # ChartSummary: the top is painted
    chart_shown = Signal(object)  # ChartData: every tab is filled
    failed = Signal(str)

    def __init__(self, ctx: AppContext, editable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.editable = editable
        self.patient_id: uuid.UUID | None = None
        self.summary: ChartSummary | None = None
        self.data: ChartData | None = None
        self._generation = 0
        self._build()
        self.actions = self._make_actions() if editable else None
        self.watch = SyncWatch(ctx.sync, self, self.refresh)

    def _build(self) -> None:
        self.banner = AllergyBanner()
        self.header = ChartHeader()
        self.action_bar: QHBoxLayout = self.header.actions
        self.tabs = QTabWidget()
        self.tabs.setObjectName("chartTabs")
        self.tabs.setDocumentMode(True)
        self.summary_tab = SummaryTab()
        self.timeline_tab = TimelineTab()
        self.medications_tab = MedicationsTab()
        self.results_tab = ResultsTab()
        self.vitals_tab = VitalsTab()
        self.procedures_tab = ProceduresTab()
        self.documents_tab = DocumentsTab()
        for title, page in (
            ("Summary", self.summary_tab),
            ("Timeline", self.timeline_tab),
            ("Medications", self.medications_tab),
            ("Results", self.results_tab),
            ("Vitals", self.vitals_tab),
            ("Procedures && immunizations", self.procedures_tab),
            ("Documents", self.documents_tab),
        ):
            self.tabs.addTab(page, title)
        self.documents_tab.text_wanted.connect(self._read_document)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        self.header.show_text("No patient chosen")
        self.banner.clear("")

    def _make_actions(self) -> Any:  # noqa: ANN401 - K6's ChartActions, when installed
        try:
            from hms_desktop.workspaces.chart.actions import ChartActions  # noqa: PLC0415
        except ImportError:
            return None
        return ChartActions(self._ctx, self)

    # --- reading ----------------------------------------------------------------------------

    def open_patient(self, patient_id: uuid.UUID) -> None:
        """Show this patient's chart: the top first, then the tabs."""
        if patient_id != self.patient_id:
            self.summary = self.data = None
            self.header.show_text("Opening the chart…")
            self.banner.clear("Reading allergies…")
        self.patient_id = patient_id
        self.refresh()

    def refresh(self) -> None:
        """Read the shown patient's chart again (after sync brought changes)."""
        chart, patient_id = self._ctx.chart, self.patient_id
        if patient_id is None:
            return
        if chart is None:
            self._failed(NO_CHART)
            return
        self._generation += 1
        generation = self._generation
        self._ctx.run(
            self,
            lambda: chart.chart_summary(patient_id),
            lambda s: self._show_summary(generation, s),
            lambda exc: self._failed(describe_error(exc)),
        )
        self._ctx.run(
            self,
            lambda: chart.chart(patient_id),
            lambda d: self._show_chart(generation, d),
            lambda exc: self._failed(describe_error(exc)),
        )

    def _show_summary(self, generation: int, summary: ChartSummary) -> None:
        if generation != self._generation:
            return
        self.summary = summary
        self.banner.show_allergies(summary.allergies)
        self.header.show_header(summary.header)
        self.summary_tab.show_summary(summary)
        self.summary_shown.emit(summary)

    def _show_chart(self, generation: int, data: ChartData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self._show_summary(generation, data.summary)
        self.timeline_tab.show_encounters(data.encounters)
        self.medications_tab.show_medications(data)
        self.results_tab.show_table(data.labs)
        self.vitals_tab.plots.set_series(data.vitals)
        self.procedures_tab.show_data(data)
        self.documents_tab.show_documents(data.documents)
        self.chart_shown.emit(data)

    def _read_document(self, document: DocumentLine) -> None:
        chart = self._ctx.chart
        if chart is None:
            return
        self._ctx.run(
            self,
            lambda: chart.document_text(document.id),
            lambda text: self.documents_tab.show_text(document, text),
            lambda exc: self.documents_tab.text.setPlainText(describe_error(exc)),
        )

    def _failed(self, text: str) -> None:
        self.header.show_text("The chart could not be read", text)
        self.failed.emit(text)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while the chart was hidden."""
        super().showEvent(event)
        self.watch.shown()
