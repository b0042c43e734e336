"""The Lab workspace: the worklist by priority and waiting time, specimen collected (with its
printed label) and received, results entered per analyte and flagged as typed, validation by a
second person, and imaging reports with their images. Reads and writes go to the local cache
off the UI thread, so the bench works the same with the server down."""

import uuid
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hms_core.rbac import Perm
from hms_desktop.store.lab import LocalLab, OrderDetail, WorkItem
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog
from hms_desktop.widgets.reason_dialog import ReasonDialog
from hms_desktop.widgets.tables import make_table_view
from hms_desktop.workspaces.clinic.notice import notice_page
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch
from hms_desktop.workspaces.lab import images
from hms_desktop.workspaces.lab.imaging_form import ImagingReportForm
from hms_desktop.workspaces.lab.result_form import ResultForm
from hms_desktop.workspaces.lab.specimen_label import label_preview
from hms_desktop.workspaces.lab.worklist_model import WorklistModel

TICK_MS = 60_000  # the waiting time moves on
OFFLINE_NOTE = " Saved on this computer; it reaches the server when the connection is back."
PICK = "Select an order on the worklist."
COLUMN_WIDTHS = (88, 92, 196, 170, 96, 64, 180, 170)


class LabWorkspace(QWidget):
    """The lab bench: open orders, their specimens, results and reports."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.lab: LocalLab | None = ctx.lab or _lab_on(ctx)
        self.selected: WorkItem | None = None
        self.detail: OrderDetail | None = None
        self.label_preview: PdfPreviewDialog | None = None
        self.cancel_dialog: ReasonDialog | None = None
        self._generation = 0
        self._build()
        self._connect()
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.model.tick)
        self._ticker.start()
        self.refresh()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        margins = (28, 16, 28, 20)
        self.notice, body = notice_page(self, self._header(), margins)
        left = QVBoxLayout()
        left.setSpacing(8)
        self.model = WorklistModel(self)
        self.view = make_table_view(self.model)
        self.view.setObjectName("labWorklist")
        header = self.view.horizontalHeader()
        for column, width in enumerate(COLUMN_WIDTHS):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.empty_label = styled_label("", "hint")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()
        left.addWidget(self.view, 1)
        left.addWidget(self.empty_label)
        self.hint_label = styled_label(PICK, "hint")
        left.addWidget(self.hint_label)
        left.addLayout(self._actions())
        body.addLayout(left, 1)
        self.panel = QStackedWidget()
        self.result_form = ResultForm()
        self.imaging_form = ImagingReportForm()
        for widget in (QWidget(), _scrolled(self.result_form), self.imaging_form):
            self.panel.addWidget(widget)
        self.panel.setFixedWidth(580)
        self.panel.hide()  # shown with a form; the worklist has the width meanwhile
        body.addWidget(self.panel)

    def _header(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("pageHeader")
        row = QHBoxLayout(frame)
        row.setContentsMargins(28, 16, 28, 14)
        titles = QVBoxLayout()
        titles.addWidget(styled_label("Lab worklist", "pageTitle"))
        self.summary_label = styled_label("", "hint")
        titles.addWidget(self.summary_label)
        row.addLayout(titles, 1)
        return frame

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.collect_button = QPushButton("Specimen collected")
        self.receive_button = QPushButton("Specimen received")
        self.results_button = QPushButton("Enter results")
        self.report_button = QPushButton("Report…")
        self.validate_button = QPushButton("Validate")
        self.validate_button.setProperty("role", "primary")
        self.cancel_button = QPushButton("Cancel order…")
        buttons = (
            self.collect_button,
            self.receive_button,
            self.results_button,
            self.report_button,
            self.validate_button,
        )
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        self.validate_button.setVisible(self._ctx.session.can(Perm.LAB_VALIDATE))
        return row

    def _connect(self) -> None:
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.collect_button.clicked.connect(self.collect)
        self.receive_button.clicked.connect(self.receive)
        self.results_button.clicked.connect(self.show_results)
        self.report_button.clicked.connect(self.show_report)
        self.validate_button.clicked.connect(self.validate)
        self.cancel_button.clicked.connect(self.ask_cancel)
        self.result_form.save_requested.connect(self.save_results)
        self.imaging_form.save_requested.connect(self.save_report)
        self.imaging_form.attach_requested.connect(self.attach)

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the worklist again, off the UI thread."""
        lab = self.lab
        if lab is None:
            self._show_empty("The lab is not available on this computer.")
            return
        self._generation += 1
        generation = self._generation
        self._ctx.run(self, lab.worklist, lambda items: self._show(generation, items), self._failed)

    def _show(self, generation: int, items: list[WorkItem]) -> None:
        if generation != self._generation:
            return
        keep = self.selected.order_id if self.selected else None
        self.model.set_items(items)
        self.empty_label.setVisible(not items)
        self.empty_label.setText("" if items else "Nothing waiting: every order is done.")
        stat = sum(1 for i in items if i.priority == "stat")
        validate = sum(1 for i in items if i.status == "resulted")
        self.summary_label.setText(
            f"{len(items)} open orders · {stat} stat · {validate} awaiting validation"
        )
        row = self.model.row_of(keep) if keep else -1
        if row >= 0:
            self.view.selectRow(row)
            self._select(self.model.item(row))
        else:
            self.view.clearSelection()
            self._select(None)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        self._select(self.model.item(rows[0].row()) if rows else None)

    def select_order(self, number: str) -> None:
        """Select an order on the worklist by its number."""
        for row, item in enumerate(self.model.items()):
            if item.number == number:
                self.view.selectRow(row)
                return

    def _select(self, item: WorkItem | None) -> None:
        before = self.selected
        self.selected = item
        self._enable(item)
        if item is None:
            self.detail = None
            self._show_panel(0)
            self.hint_label.setText(PICK)
            return
        if before is None or (before.order_id, before.status) != (item.order_id, item.status):
            self._load(item.order_id)  # not on every refresh: typed values are kept

    def _enable(self, item: WorkItem | None) -> None:
        status = item.status if item else ""
        lab = item is not None and item.kind == "lab"
        imaging = item is not None and item.kind == "imaging"
        self.collect_button.setEnabled(lab and status == "ordered")
        self.receive_button.setText("Patient arrived" if imaging else "Specimen received")
        self.receive_button.setEnabled(
            (lab and status == "collected") or (imaging and status == "ordered")
        )
        self.results_button.setEnabled(lab and status in ("received", "resulted"))
        self.report_button.setEnabled(imaging and status in ("received", "resulted"))
        self.validate_button.setEnabled(status == "resulted")
        self.cancel_button.setEnabled(status in ("ordered", "collected", "received"))

    def _load(self, order_id: uuid.UUID) -> None:
        lab = self.lab
        assert lab is not None

        def show(detail: OrderDetail) -> None:
            if self.selected is None or self.selected.order_id != order_id:
                return
            self.detail = detail
            self._show_detail(detail)

        self._ctx.run(self, lambda: lab.order(order_id), show, self._refused)

    def _show_detail(self, detail: OrderDetail) -> None:
        item = detail.item
        heading = (
            f"{item.number} · {item.test_name}\n{item.patient_name} · MRN {item.mrn} · "
            f"{item.age_text()} {item.sex}\nIndication: {item.indication or '—'}"
        )
        may_work = self._ctx.session.can(Perm.LAB_WORK)
        editable = may_work and item.status in ("received", "resulted")
        if item.kind == "lab":
            self.result_form.set_order(heading, detail.analytes, editable)
            if item.resulted_by:
                self.result_form.title_label.setText(f"Results · entered by {item.resulted_by}")
            else:
                self.result_form.title_label.setText("Enter results")
            self._show_panel(1 if item.status in ("received", "resulted") else 0)
        else:
            self.imaging_form.set_order(heading, detail.findings, detail.impression, editable)
            for attachment in detail.attachments:
                self._fetch_thumbnail(attachment.id, attachment.file_name)
            self._show_panel(2 if item.status in ("received", "resulted") else 0)
        self.hint_label.setText(_waiting_words(item) if self.panel.isHidden() else "")

    def _show_panel(self, index: int) -> None:
        """Show a form (1 results, 2 imaging report), or hide the panel (0)."""
        self.panel.setCurrentIndex(index)
        self.panel.setVisible(index != 0)
        if index != 0:
            self.hint_label.clear()

    def show_results(self) -> None:
        """Bring the result form to the front (for the selected lab order)."""
        if self.detail is not None and self.detail.item.kind == "lab":
            self._show_panel(1)
            first = next(iter(self.result_form.rows.values()), None)
            if first is not None:
                first.value.setFocus()

    def show_report(self) -> None:
        if self.detail is not None and self.detail.item.kind == "imaging":
            self._show_panel(2)
            self.imaging_form.findings_edit.setFocus()

    # --- steps ------------------------------------------------------------------------------

    def collect(self) -> None:
        """Record the specimen taken, then show its label to print."""
        item, lab = self.selected, self.lab
        if item is None or lab is None:
            return
        collected_at = datetime.now(UTC)

        def done(_result: Any) -> None:
            self._written(f"Specimen collected for {item.number}. Stick the label on the tube.")
            self.print_label(item, collected_at)

        self._ctx.write(self, lambda: lab.collect_specimen(item.order_id), done, self._refused)

    def print_label(self, item: WorkItem, collected_at: datetime) -> None:
        """Preview the specimen label (print it from the preview)."""
        dialog = label_preview(item, collected_at, self)
        dialog.destroyed.connect(self._label_closed)
        self.label_preview = dialog
        dialog.show()

    def _label_closed(self) -> None:
        self.label_preview = None

    def receive(self) -> None:
        item, lab = self.selected, self.lab
        if item is None or lab is None:
            return
        words = "Patient arrived for" if item.kind == "imaging" else "Specimen received for"
        self._ctx.write(
            self,
            lambda: lab.receive_specimen(item.order_id),
            lambda _r: self._written(f"{words} {item.number}."),
            self._refused,
        )

    def save_results(self, values: list[tuple[str, str, str]]) -> None:
        item, lab = self.selected, self.lab
        if item is None or lab is None:
            return
        self.result_form.save_button.setEnabled(False)

        def saved(_result: Any) -> None:
            self.result_form.save_button.setEnabled(True)
            self._written(f"Results saved for {item.number}; a second person validates them.")

        def refused(exc: BaseException) -> None:
            self.result_form.save_button.setEnabled(True)
            self.result_form.show_error(describe_error(exc))

        self._ctx.write(self, lambda: lab.enter_results(item.order_id, values), saved, refused)

    def save_report(self, findings: str, impression: str) -> None:
        item, lab = self.selected, self.lab
        if item is None or lab is None:
            return

        def refused(exc: BaseException) -> None:
            self.imaging_form.show_error(describe_error(exc))

        self._ctx.write(
            self,
            lambda: lab.enter_imaging_report(item.order_id, findings, impression),
            lambda _r: self._written(
                f"Report saved for {item.number}; a second person validates it."
            ),
            refused,
        )

    def validate(self) -> None:
        """Validate the selected order's results (the service refuses the one who entered them)."""
        item, lab = self.selected, self.lab
        if item is None or lab is None:
            return
        critical = " CRITICAL result: the doctor is told at once." if item.critical else ""
        self._ctx.write(
            self,
            lambda: lab.validate_results(item.order_id),
            lambda _r: self._written(f"Results of {item.number} validated.{critical}"),
            self._refused,
        )

    def ask_cancel(self) -> None:
        item = self.selected
        if item is None:
            return
        dialog = ReasonDialog(
            f"Cancel {item.number}",
            f"{item.test_name} for {item.patient_name} (MRN {item.mrn})",
            confirm="Cancel the order",
            keep="Keep the order",
            placeholder="Why is it cancelled? (for example: specimen haemolysed)",
            missing="Say why the order is cancelled.",
            parent=self,
        )
        dialog.accepted.connect(lambda: self.cancel(item, dialog.reason))
        dialog.finished.connect(dialog.deleteLater)
        self.cancel_dialog = dialog
        dialog.open()

    def cancel(self, item: WorkItem, reason: str) -> None:
        lab = self.lab
        if lab is None:
            return
        self._ctx.write(
            self,
            lambda: lab.cancel_order(item.order_id, reason),
            lambda _r: self._written(f"Order {item.number} cancelled."),
            self._refused,
        )

    # --- images -----------------------------------------------------------------------------

    def attach(self, paths: list[str]) -> None:
        """Send the chosen files to the server, then show their thumbnails."""
        item = self.selected
        if item is None:
            return
        api = self._ctx.api
        form = self.imaging_form
        form.status_label.setText("Sending to the server…")

        def done(shown: list[images.Shown]) -> None:
            for image in shown:
                form.add_thumbnail(image.key, image.name, image.png)
            count = "1 image" if len(shown) == 1 else f"{len(shown)} images"
            form.status_label.setText(f"{count} attached to {item.number}.")

        def failed(exc: BaseException) -> None:
            form.status_label.clear()
            form.show_error(f"The images were not attached: {describe_error(exc)}")

        self._ctx.run(self, lambda: images.upload(api, item.order_id, paths), done, failed)

    def _fetch_thumbnail(self, attachment_id: uuid.UUID, name: str) -> None:
        api, form = self._ctx.api, self.imaging_form
        self._ctx.run(
            self,
            lambda: images.thumbnail(api, attachment_id),
            lambda png: form.add_thumbnail(str(attachment_id), name, png),
        )

    # --- outcomes ---------------------------------------------------------------------------

    def _written(self, text: str) -> None:
        sync = self._ctx.sync
        offline = sync is not None and sync.status.online is False
        self.notice.show_done(text + (OFFLINE_NOTE if offline else ""))
        self.refresh()

    def _refused(self, exc: BaseException) -> None:
        self.notice.show_refused(describe_error(exc))
        self.refresh()

    def _show_empty(self, text: str) -> None:
        self.model.set_items([])
        self.empty_label.setText(text)
        self.empty_label.show()

    def _failed(self, exc: BaseException) -> None:
        self._show_empty(f"The worklist could not be read: {describe_error(exc)}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another workspace was in front."""
        super().showEvent(event)
        self.watch.shown()


def _lab_on(ctx: AppContext) -> LocalLab | None:
    """The lab on the session's cache, for a context made without one."""
    return LocalLab(ctx.sync.store) if ctx.sync is not None else None


def _waiting_words(item: WorkItem) -> str:
    if item.kind == "imaging":
        return f"{item.number}: mark the patient as arrived to write the report."
    if item.status == "ordered":
        return f"{item.number}: collect the specimen ({item.specimen or 'as ordered'})."
    return f"{item.number}: receive the specimen in the lab to enter results."


def _scrolled(form: QWidget) -> QScrollArea:
    scroller = QScrollArea()
    scroller.setWidget(form)
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroller
