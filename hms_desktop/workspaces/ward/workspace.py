"""The nurse's Ward workspace: the ward's beds with their latest NEWS2, admit and discharge,
and a vital-signs form scored live. Everything reads and writes the local cache off the UI
thread, so it works the same with the server down."""

import uuid
from typing import Any

from PySide6.QtCore import QItemSelection, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hms_core.rbac import Perm
from hms_core.schemas.ward import BedView, VitalsView, WardChoice
from hms_core.services.errors import DomainError
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.chart.view import ChartView
from hms_desktop.workspaces.clinic.notice import Notice
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch
from hms_desktop.workspaces.ward import rules
from hms_desktop.workspaces.ward.admit_dialog import AdmitDialog
from hms_desktop.workspaces.ward.beds_model import BedsModel
from hms_desktop.workspaces.ward.vitals_form import VitalsForm

TICK_MS = 60_000  # "due" moves on
OFFLINE_NOTE = " Saved on this computer; it reaches the server when the connection is back."
PREFERRED_WARD = "ICU"
NO_BED = "Select an occupied bed to chart vital signs."


def _set_column(key: str, header: str) -> Column[dict[str, str]]:
    return Column(header, lambda row: row[key])


SET_COLUMNS = [
    _set_column("taken", "Taken"),
    _set_column("news2", "NEWS2"),
    _set_column("rr", "RR"),
    _set_column("spo2", "SpO₂"),
    _set_column("bp", "BP"),
    _set_column("pulse", "Pulse"),
    _set_column("acvpu", "ACVPU"),
    _set_column("temp", "Temp °C"),
    _set_column("by", "By"),
]


class WardWorkspace(QWidget):
    """A ward's beds, admissions and vital signs, for the nurse at the ward PC."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.ward_id: uuid.UUID | None = None
        self.selected_bed: BedView | None = None
        self.sets: list[VitalsView] = []
        self.admit_dialog: AdmitDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._generation = 0
        self._build()
        self._connect()
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.beds_model.tick)
        self._ticker.start()
        self.refresh()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.notice = Notice()
        layout.addWidget(self.notice)
        body = QHBoxLayout()
        body.setContentsMargins(28, 16, 28, 20)
        body.setSpacing(16)
        left = QVBoxLayout()
        left.setSpacing(8)
        self.beds_model = BedsModel(self)
        self.beds_view = make_table_view(self.beds_model)
        self.beds_view.setObjectName("wardBeds")
        header = self.beds_view.horizontalHeader()
        for column, width in enumerate((90, 220, 100, 110, 140)):
            header.resizeSection(column, width)
        self.empty_label = styled_label("", "hint")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()
        left.addWidget(self.beds_view, 3)
        left.addWidget(self.empty_label)
        left.addWidget(styled_label("Recent observations", "sectionTitle"))
        self.sets_model: RecordTableModel[dict[str, str]] = RecordTableModel(SET_COLUMNS, self)
        self.sets_view = make_table_view(self.sets_model)
        self.sets_view.setObjectName("wardSets")
        self.sets_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        left.addWidget(self.sets_view, 2)
        body.addLayout(left, 1)
        self.form = VitalsForm()
        scroller = QScrollArea()
        scroller.setWidget(self.form)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setFixedWidth(430)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body.addWidget(scroller)
        beds_page = QWidget()
        beds_page.setLayout(body)
        self.pages = QStackedWidget()
        self.pages.addWidget(beds_page)
        self.chart = ChartView(self._ctx, editable=False)  # the nurse reads the chart here
        self.pages.addWidget(self.chart)
        layout.addWidget(self.pages, 1)
        self.form.set_patient(NO_BED, False)

    def _header(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("pageHeader")
        row = QHBoxLayout(frame)
        row.setContentsMargins(28, 16, 28, 14)
        row.setSpacing(10)
        self.title_label = styled_label("Ward", "pageTitle")
        self.summary_label = styled_label("", "hint")
        titles = QVBoxLayout()
        titles.addWidget(self.title_label)
        titles.addWidget(self.summary_label)
        row.addLayout(titles, 1)
        caption = styled_label("Ward", "fieldCaption")
        self.ward_combo = QComboBox()
        self.ward_combo.setObjectName("wardPicker")
        self.ward_combo.setMinimumWidth(260)
        caption.setBuddy(self.ward_combo)
        self.admit_button = QPushButton("Admit to bed…")
        self.admit_button.setProperty("role", "primary")
        self.discharge_button = QPushButton("Discharge…")
        self.chart_button = QPushButton("Patient chart")
        self.chart_button.setObjectName("wardChart")
        self.chart_button.setCheckable(True)
        self.chart_button.setEnabled(False)
        self.chart_button.setVisible(self._ctx.session.can(Perm.CHART_READ))
        may_admit = self._ctx.session.can(Perm.ADMISSION_MANAGE)
        self.admit_button.setVisible(may_admit)
        self.discharge_button.setVisible(may_admit)
        for widget in (
            caption,
            self.ward_combo,
            self.chart_button,
            self.admit_button,
            self.discharge_button,
        ):
            row.addWidget(widget)
        return frame

    def _connect(self) -> None:
        self.ward_combo.currentIndexChanged.connect(self._on_ward)
        self.beds_view.selectionModel().selectionChanged.connect(self._on_selection)
        self.admit_button.clicked.connect(self.ask_admit)
        self.discharge_button.clicked.connect(self.ask_discharge)
        self.form.save_requested.connect(self.save_vitals)
        self.chart_button.toggled.connect(self.show_chart)

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the wards again, then the shown ward's beds (after sync brought changes)."""
        ward = self._ctx.ward
        if ward is None:
            self._show_empty("The ward is not available on this computer.")
            return
        self._ctx.run(self, ward.wards, self._show_wards, self._failed)

    def _show_wards(self, wards: list[WardChoice]) -> None:
        choices = [(w.id, f"{w.code} · {w.name}") for w in wards]
        current = [
            (self.ward_combo.itemData(n), self.ward_combo.itemText(n))
            for n in range(self.ward_combo.count())
        ]
        if choices != current:
            with QSignalBlocker(self.ward_combo):
                self.ward_combo.clear()
                for ward_id, text in choices:
                    self.ward_combo.addItem(text, ward_id)
        if not wards:
            self._show_empty("No wards are set up yet, or this computer is still copying them.")
            return
        if self.ward_id is None or self.ward_combo.findData(self.ward_id) < 0:
            preferred = next((w.id for w in wards if w.code == PREFERRED_WARD), wards[0].id)
            self.ward_id = preferred
        with QSignalBlocker(self.ward_combo):
            self.ward_combo.setCurrentIndex(self.ward_combo.findData(self.ward_id))
        self.reload()

    def _on_ward(self, index: int) -> None:
        self.ward_id = self.ward_combo.itemData(index)
        self.selected_bed = None
        self.reload()

    def choose_ward(self, code: str) -> None:
        """Show the ward with this code."""
        for n in range(self.ward_combo.count()):
            if self.ward_combo.itemText(n).startswith(f"{code} ·"):
                self.ward_combo.setCurrentIndex(n)
                return

    def reload(self) -> None:
        """Read the shown ward's beds again, off the UI thread."""
        ward, ward_id = self._ctx.ward, self.ward_id
        if ward is None or ward_id is None:
            return
        self._generation += 1
        generation = self._generation
        self._ctx.run(
            self, lambda: ward.beds(ward_id), lambda b: self._show_beds(generation, b), self._failed
        )

    def _show_beds(self, generation: int, beds: list[BedView]) -> None:
        if generation != self._generation:
            return
        keep = self.selected_bed.bed_id if self.selected_bed else None
        self.beds_model.set_beds(beds)
        self.empty_label.setVisible(not beds)
        self.empty_label.setText("This ward has no beds." if not beds else "")
        occupied = sum(1 for b in beds if b.patient_id is not None)
        overdue = sum(1 for b in beds if rules.is_overdue(b, self.beds_model.now))
        self.summary_label.setText(
            f"{occupied} of {len(beds)} beds occupied · {overdue} sets due now"
        )
        row = self.beds_model.row_of(keep) if keep else -1
        if row >= 0:
            self.beds_view.selectRow(row)
            self._select(self.beds_model.bed(row))
        else:
            self._select(None)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        self._select(self.beds_model.bed(rows[0].row()) if rows else None)

    def select_bed(self, label: str) -> None:
        """Select a bed by its label."""
        for row, bed in enumerate(self.beds_model.beds()):
            if bed.label == label:
                self.beds_view.selectRow(row)
                return

    def _select(self, bed: BedView | None) -> None:
        previous = self.selected_bed
        self.selected_bed = bed
        occupied = bed is not None and bed.patient_id is not None
        self.discharge_button.setEnabled(occupied)
        self.admit_button.setEnabled(bed is None or not occupied)
        self.chart_button.setEnabled(occupied)
        if not occupied:
            self.chart_button.setChecked(False)
            self.form.set_patient(NO_BED, False)
            self.sets = []
            self.sets_model.set_records([])
            return
        assert bed is not None
        may_chart = self._ctx.session.can(Perm.VITALS_RECORD)
        self.form.set_patient(f"{bed.label} · {bed.patient_name} · MRN {bed.mrn}", may_chart)
        if previous is None or previous.patient_id != bed.patient_id:
            self.form.clear_values()
        self._load_sets(bed.patient_id)
        if self.chart_button.isChecked() and bed.patient_id != self.chart.patient_id:
            self.chart.open_patient(bed.patient_id)

    def show_chart(self, shown: bool) -> None:
        """Show the selected bed's patient's chart (read-only) instead of the beds, or back."""
        bed = self.selected_bed
        if shown and bed is not None and bed.patient_id is not None:
            self.chart.open_patient(bed.patient_id)
            self.pages.setCurrentWidget(self.chart)
            self.chart_button.setText("Back to beds")
            return
        self.pages.setCurrentIndex(0)
        self.chart_button.setText("Patient chart")

    def _load_sets(self, patient_id: uuid.UUID | None) -> None:
        ward = self._ctx.ward
        if ward is None or patient_id is None:
            return

        def show(found: list[VitalsView]) -> None:
            if self.selected_bed is not None and self.selected_bed.patient_id == patient_id:
                self.sets = found
                self.sets_model.set_records([rules.set_summary(e) for e in found])

        self._ctx.run(self, lambda: ward.vitals(patient_id), show, self._failed)

    # --- changes ----------------------------------------------------------------------------

    def ask_admit(self) -> None:
        """Open the admit dialog for the selected free bed (or any free bed)."""
        free = [b for b in self.beds_model.beds() if b.patient_id is None]
        chosen = self.selected_bed.bed_id if self.selected_bed else None
        dialog = AdmitDialog(self._ctx, free, chosen, self)
        dialog.admit_requested.connect(self.admit)
        dialog.finished.connect(dialog.deleteLater)
        self.admit_dialog = dialog
        dialog.open()

    def admit(self, patient_id: uuid.UUID, bed_id: uuid.UUID, reason: str) -> None:
        ward = self._ctx.ward
        assert ward is not None
        label = next((b.label for b in self.beds_model.beds() if b.bed_id == bed_id), "the bed")
        self._ctx.write(
            self,
            lambda: ward.admit(patient_id, bed_id, reason),
            lambda _r: self._written(f"Admitted to {label}.", select=label),
            self._refused,
        )

    def ask_discharge(self) -> None:
        """Ask before discharging the selected bed's patient."""
        bed = self.selected_bed
        if bed is None or bed.admission_id is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discharge",
            f"Discharge {bed.patient_name} (MRN {bed.mrn}) from {bed.label}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Discharge")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda answer: self._discharge_answered(answer, bed))
        box.finished.connect(box.deleteLater)
        self.confirm_box = box
        box.open()

    def _discharge_answered(self, answer: int, bed: BedView) -> None:
        self.confirm_box = None
        ward = self._ctx.ward
        if answer != QMessageBox.StandardButton.Yes or ward is None or bed.admission_id is None:
            return
        admission_id = bed.admission_id
        self._ctx.write(
            self,
            lambda: ward.discharge(admission_id),
            lambda _r: self._written(f"{bed.patient_name} discharged from {bed.label}."),
            self._refused,
        )

    def save_vitals(self, values: dict[str, Any], taken_at: Any) -> None:
        """Chart the form's set for the selected patient; on refusal the form keeps it all."""
        bed, ward = self.selected_bed, self._ctx.ward
        if bed is None or bed.patient_id is None or ward is None:
            return
        patient_id = bed.patient_id
        self.form.save_button.setEnabled(False)

        def saved(entry: VitalsView) -> None:
            self.form.save_button.setEnabled(True)
            self.form.clear_values()
            score = rules.score_text(entry.news2_total, entry.news2_band) or "incomplete set"
            self._written(f"Observations charted for {bed.patient_name} · NEWS2 {score}.")

        def refused(exc: BaseException) -> None:
            self.form.save_button.setEnabled(True)
            fields = exc.fields if isinstance(exc, DomainError) else {}
            self.form.show_errors(describe_error(exc), fields)

        self._ctx.write(
            self, lambda: ward.record_vitals(patient_id, values, taken_at), saved, refused
        )

    def _written(self, text: str, select: str | None = None) -> None:
        sync = self._ctx.sync
        offline = sync is not None and sync.status.online is False
        self.notice.show_done(text + (OFFLINE_NOTE if offline else ""))
        if select is not None:
            row = next((n for n, b in enumerate(self.beds_model.beds()) if b.label == select), -1)
            if row >= 0:
                self.selected_bed = self.beds_model.bed(row)
        self.reload()

    def _refused(self, exc: BaseException) -> None:
        self.notice.show_refused(describe_error(exc))
        self.reload()

    def _show_empty(self, text: str) -> None:
        self.beds_model.set_beds([])
        self.empty_label.setText(text)
        self.empty_label.show()

    def _failed(self, exc: BaseException) -> None:
        self._show_empty(f"The ward could not be read: {describe_error(exc)}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another workspace was in front."""
        super().showEvent(event)
        self.watch.shown()
