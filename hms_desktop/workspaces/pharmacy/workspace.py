"""The pharmacist's workspace: prescriptions sent electronically, waiting longest first, the
selected one in full (allergies in red, overrides with their reasons), its printed copy, and
the prescriptions stopped in the last day listed apart. Read from the cache, refreshed on sync."""

import uuid

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.store.pharmacy import PharmacyQueue, QueueItem
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog
from hms_desktop.widgets.tables import make_table_view
from hms_desktop.workspaces.clinic.notice import Notice
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch
from hms_desktop.workspaces.pharmacy.detail_panel import DetailPanel
from hms_desktop.workspaces.pharmacy.queue_model import QueueModel, StoppedModel

EMPTY_QUEUE = "No prescriptions are waiting. New ones appear here as prescribers send them."
QUEUE_WIDTHS = (145, 160, 95, 55, 195, 210, 200, 110)
STOPPED_TITLE = "Stopped in the last 24 hours — do not dispense"
STOPPED_WIDTHS = (150, 170, 95, 170, 110)


class PharmacyWorkspace(QWidget):
    """The pharmacy queue and the selected prescription, for the pharmacist."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.selected_id: uuid.UUID | None = None
        self.preview: PdfPreviewDialog | None = None
        self._build()
        self.queue_view.selectionModel().selectionChanged.connect(self._on_selection)
        self.detail.print_requested.connect(self.print_selected)
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self._refresh_profile()
        self.refresh()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.notice = Notice()
        layout.addWidget(self.notice)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._lists())
        scroller = QScrollArea()
        self.detail = DetailPanel()
        scroller.setWidget(self.detail)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setMinimumWidth(380)
        scroller.setMaximumWidth(520)
        splitter.addWidget(scroller)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        body = QHBoxLayout()
        body.setContentsMargins(28, 16, 28, 20)
        body.addWidget(splitter)
        layout.addLayout(body, 1)

    def _header(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("pageHeader")
        row = QVBoxLayout(frame)
        row.setContentsMargins(28, 16, 28, 14)
        row.addWidget(styled_label("Pharmacy", "pageTitle"))
        self.summary_label = styled_label("", "hint")
        row.addWidget(self.summary_label)
        return frame

    def _lists(self) -> QWidget:
        lists = QWidget()
        column = QVBoxLayout(lists)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(8)
        column.addWidget(styled_label("Prescriptions to dispense", "sectionTitle"))
        self.queue_model = QueueModel(self)
        self.queue_view = make_table_view(self.queue_model)
        self.queue_view.setObjectName("pharmacyQueue")
        for n, width in enumerate(QUEUE_WIDTHS):
            self.queue_view.horizontalHeader().resizeSection(n, width)
        self.empty_label = styled_label(EMPTY_QUEUE, "hint")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()
        column.addWidget(self.queue_view, 3)
        column.addWidget(self.empty_label)
        self.stopped_title = styled_label(STOPPED_TITLE, "statusText")
        self.stopped_title.setObjectName("pharmacyStoppedTitle")
        self.stopped_title.setProperty("state", "error")  # red and bold: not to be dispensed
        column.addWidget(self.stopped_title)
        self.stopped_model = StoppedModel(self)
        self.stopped_view = make_table_view(self.stopped_model)
        self.stopped_view.setObjectName("pharmacyStopped")
        for n, width in enumerate(STOPPED_WIDTHS):
            self.stopped_view.horizontalHeader().resizeSection(n, width)
        column.addWidget(self.stopped_view, 1)
        return lists

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the queue again (after sync brought changes)."""
        pharmacy = self._ctx.pharmacy
        if pharmacy is None:
            self.summary_label.setText("The pharmacy queue is not available on this computer.")
            return
        self._ctx.run(self, pharmacy.queue, self._show_queue, self._failed)

    def _show_queue(self, queue: PharmacyQueue) -> None:
        keep = self.selected_id
        self.queue_model.set_records(queue.queued)
        self.stopped_model.set_records(queue.stopped)
        self.empty_label.setVisible(not queue.queued)
        self.stopped_title.setVisible(bool(queue.stopped))
        self.stopped_view.setVisible(bool(queue.stopped))
        waiting, stopped = len(queue.queued), len(queue.stopped)
        summary = f"{waiting} prescription{'s' if waiting != 1 else ''} waiting, longest first"
        if stopped:
            summary += f" · {stopped} stopped in the last 24 hours"
        self.summary_label.setText(summary)
        row = self.queue_model.row_of(keep) if keep is not None else -1
        if row < 0 and queue.queued:
            row = 0
        if row >= 0:
            self.queue_view.selectRow(row)
        else:
            self.selected_id = None
            self.detail.show_item(None)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.queue_view.selectionModel().selectedRows()
        item = self.queue_model.record(rows[0].row()) if rows else None
        self.selected_id = item.id if item is not None else None
        self.detail.show_item(item)

    def select(self, prescription_id: uuid.UUID) -> None:
        """Show this prescription in full (when it is in the queue)."""
        row = self.queue_model.row_of(prescription_id)
        if row >= 0:
            self.queue_view.selectRow(row)

    def selected(self) -> QueueItem | None:
        return self.detail.item

    def _failed(self, exc: BaseException) -> None:
        self.notice.show_refused(f"The pharmacy queue could not be read: {describe_error(exc)}")

    # --- printing ---------------------------------------------------------------------------

    def _refresh_profile(self) -> None:
        """Ask the server for the hospital's letterhead; offline, the kept one is used."""
        pharmacy = self._ctx.pharmacy
        if pharmacy is not None:
            self._ctx.run(self, lambda: pharmacy.refresh_profile(self._ctx.api), None, _ignore)

    def print_selected(self) -> None:
        """Preview the selected prescription on paper, to print or save."""
        pharmacy, item = self._ctx.pharmacy, self.detail.item
        if pharmacy is None or item is None:
            return
        self._ctx.run(
            self, lambda: pharmacy.prescription_pdf(item), self._preview, self._failed_print
        )

    def _preview(self, made: tuple[bytes, str]) -> None:
        pdf, name = made
        dialog = PdfPreviewDialog(pdf, name, self)
        dialog.finished.connect(dialog.deleteLater)
        self.preview = dialog
        dialog.open()

    def _failed_print(self, exc: BaseException) -> None:
        self.notice.show_refused(f"The prescription could not be printed: {describe_error(exc)}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another workspace was in front."""
        super().showEvent(event)
        self.watch.shown()


def _ignore(_exc: BaseException) -> None:
    """Offline, or an older server: the kept profile is used."""
