"""The chart's actions that write to the record: the note of today's encounter, prescribing (and
changing, stopping, renewing from the medication list), ordering tests, printing the
prescription, diagnoses (added; resolved or marked in error from the Summary's problem list) and
the treatment plan. Each opens its dialog; the chart is read again after a change."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QWidget

from hms_desktop.store.chart import ProblemLine
from hms_desktop.store.clinical import PrescriptionView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog
from hms_desktop.widgets.reason_dialog import ReasonDialog
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore
from hms_desktop.workspaces.chart.note_editor import NoteEditor
from hms_desktop.workspaces.chart.order_dialog import OrderDialog
from hms_desktop.workspaces.chart.plan_dialog import PlanDialog
from hms_desktop.workspaces.chart.prescribe_dialog import PrescribeDialog
from hms_desktop.workspaces.chart.problem_dialog import ProblemDialog, ProblemStatusDialog

if TYPE_CHECKING:
    from hms_desktop.workspaces.chart.view import ChartView

NO_MEDICINE = "Choose a current medicine in the list first."
NO_PROBLEM = "Choose a problem in the list first."


class ChartActions(QObject):
    """Buttons in the chart's action bar and under its medication list."""

    def __init__(self, ctx: AppContext, view: "ChartView") -> None:
        super().__init__(view)
        self.ctx, self.view = ctx, view
        self.dialog: QDialog | None = None  # the dialog last opened (tests drive it)
        self.message = ""  # the last outcome or refusal, in words
        bar = view.action_bar
        self.notice = styled_label("", "statusText")
        self.notice.setMaximumWidth(420)
        self.notice.setWordWrap(True)  # a long outcome wraps instead of widening the chart
        bar.addWidget(self.notice)
        self.note_button = self._button(bar, "Note", self.open_note)
        self.prescribe_button = self._button(bar, "Prescribe…", self.open_prescribe)
        self.order_button = self._button(bar, "Order test…", self.open_order)
        self.print_button = self._button(bar, "Print prescription…", self.print_prescription)
        self.diagnosis_button = self._button(bar, "Add diagnosis…", self.open_diagnosis)
        self.plan_button = self._button(bar, "Update plan…", self.open_plan)
        self._medication_buttons()
        self._problem_buttons()

    @staticmethod
    def _button(row: QHBoxLayout, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    def _medication_buttons(self) -> None:
        """Change, stop and renew under the medication list, for the chosen medicine."""
        tab = getattr(self.view, "medications_tab", None)
        layout = tab.layout() if tab is not None else None
        row = QHBoxLayout()
        row.addStretch(1)
        self.change_button = self._button(row, "Change…", lambda: self.change_selected("update"))
        self.stop_button = self._button(row, "Stop…", self.stop_selected)
        self.renew_button = self._button(row, "Renew…", lambda: self.change_selected("renew"))
        if layout is not None:
            layout.insertLayout(2, row)  # under the current medicines

    def _problem_buttons(self) -> None:
        """Resolve and recorded-in-error under the Summary's problem list, for the chosen one."""
        tab = getattr(self.view, "summary_tab", None)
        layout = tab.layout() if tab is not None else None
        row = QHBoxLayout()
        row.addStretch(1)
        self.resolve_button = self._button(row, "Resolve…", lambda: self.change_problem(False))
        self.in_error_button = self._button(
            row, "Entered in error…", lambda: self.change_problem(True)
        )
        if layout is not None:
            layout.insertLayout(2, row)  # under the problems

    clinical = ClinicalStore()

    @property
    def parent_widget(self) -> QWidget:
        return self.view

    def _open(self, dialog: QDialog) -> None:
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def say(self, message: str, error: bool = False) -> None:
        """Tell the outcome beside the buttons."""
        self.message = message
        set_status(self.notice, message, error)

    def _changed(self, message: str) -> None:
        self.say(message)
        self.view.refresh()

    def _refused(self, exc: BaseException) -> None:
        self.say(describe_error(exc), error=True)

    def _with_encounter(self, then: Callable[[uuid.UUID, uuid.UUID | None], None]) -> None:
        """Find today's open encounter of the shown patient, then call `then(patient, it)`."""
        patient_id, clinical = self.view.patient_id, self.clinical
        if patient_id is None:
            return
        self.ctx.run(
            self.view,
            lambda: clinical.open_encounter(patient_id),
            lambda encounter: then(patient_id, encounter),
            self._refused,
        )

    # --- note -------------------------------------------------------------------------------

    def open_note(self) -> None:
        self._with_encounter(self._show_note)

    def _show_note(self, patient_id: uuid.UUID, encounter_id: uuid.UUID | None) -> None:
        editor = NoteEditor(self.ctx, patient_id, encounter_id, self.parent_widget)
        editor.finished.connect(lambda _r: self.view.refresh())
        self._open(editor)

    # --- prescribing ------------------------------------------------------------------------

    def open_prescribe(self) -> None:
        self._with_encounter(self._show_prescribe)

    def _show_prescribe(self, patient_id: uuid.UUID, encounter_id: uuid.UUID | None) -> None:
        dialog = PrescribeDialog(
            self.ctx, patient_id, self.parent_widget, encounter_id=encounter_id
        )
        dialog.prescribed.connect(lambda _r: self._changed("Prescribed."))
        self._open(dialog)

    def selected_medication(self) -> uuid.UUID | None:
        """The id of the current medicine chosen in the medication list."""
        tab = getattr(self.view, "medications_tab", None)
        if tab is None:
            return None
        index = tab.current_view.currentIndex()
        return tab.current_model.record(index.row()).id if index.isValid() else None

    def _with_prescription(self, then: Callable[[PrescriptionView], None]) -> None:
        chosen, patient_id, clinical = (
            self.selected_medication(),
            self.view.patient_id,
            self.clinical,
        )
        if chosen is None or patient_id is None:
            self.say(NO_MEDICINE, error=True)
            return

        def found(active: list[PrescriptionView]) -> None:
            match = next((p for p in active if p.id == chosen), None)
            if match is None:
                self.say("This medicine is no longer current.", error=True)
                return
            then(match)

        self.ctx.run(
            self.view, lambda: clinical.active_prescriptions(patient_id), found, self._refused
        )

    def change_selected(self, change: str) -> None:
        """Update or renew the chosen medicine (with a reason, through the safety checks)."""

        def show(current: PrescriptionView) -> None:
            patient_id = self.view.patient_id
            assert patient_id is not None
            dialog = PrescribeDialog(
                self.ctx, patient_id, self.parent_widget, current=current, change=change
            )
            done = "Prescription changed." if change == "update" else "Prescription renewed."
            dialog.prescribed.connect(lambda _r: self._changed(done))
            self._open(dialog)

        self._with_prescription(show)

    def stop_selected(self) -> None:
        """Stop the chosen medicine, with a reason."""

        def ask(current: PrescriptionView) -> None:
            dialog = ReasonDialog(
                "Stop a medicine",
                f"{current.drug_name} {current.strength} · {current.directions()}",
                confirm="Stop medicine",
                keep="Keep it",
                placeholder="Why the medicine is stopped",
                missing="Give the reason for stopping the medicine.",
                parent=self.parent_widget,
            )
            clinical = self.clinical

            def stop() -> None:
                reason = dialog.reason  # read now: the dialog is gone when the work runs
                self.ctx.write(
                    self.view,
                    lambda: clinical.change_prescription(current.id, "stop", reason),
                    lambda _r: self._changed(f"{current.drug_name} stopped."),
                    self._refused,
                )

            dialog.accepted.connect(stop)
            self._open(dialog)

        self._with_prescription(ask)

    # --- problems and the plan --------------------------------------------------------------

    def open_diagnosis(self) -> None:
        self._with_encounter(self._show_diagnosis)

    def _show_diagnosis(self, patient_id: uuid.UUID, encounter_id: uuid.UUID | None) -> None:
        dialog = ProblemDialog(self.ctx, patient_id, self.parent_widget, encounter_id=encounter_id)
        dialog.added.connect(lambda r: self._changed(f"{r.get('code', '')} added."))
        self._open(dialog)

    def selected_problem(self) -> ProblemLine | None:
        """The problem chosen in the Summary's problem list."""
        tab = getattr(self.view, "summary_tab", None)
        if tab is None:
            return None
        index = tab.problems_view.currentIndex()
        return tab.problems_model.record(index.row()) if index.isValid() else None

    def change_problem(self, in_error: bool) -> None:
        """Resolve the chosen problem, or mark it recorded in error."""
        problem = self.selected_problem()
        if problem is None:
            self.say(NO_PROBLEM, error=True)
            return
        dialog = ProblemStatusDialog(self.ctx, problem, in_error, self.parent_widget)
        done = f"{problem.code} marked in error." if in_error else f"{problem.code} resolved."
        dialog.changed.connect(lambda _r: self._changed(done))
        self._open(dialog)

    def open_plan(self) -> None:
        self._with_encounter(self._show_plan)

    def _show_plan(self, patient_id: uuid.UUID, encounter_id: uuid.UUID | None) -> None:
        dialog = PlanDialog(self.ctx, patient_id, self.parent_widget, encounter_id=encounter_id)
        dialog.saved.connect(lambda _r: self._changed("Treatment plan updated."))
        self._open(dialog)

    # --- orders -----------------------------------------------------------------------------

    def open_order(self) -> None:
        self._with_encounter(self._show_order)

    def _show_order(self, patient_id: uuid.UUID, encounter_id: uuid.UUID | None) -> None:
        dialog = OrderDialog(self.ctx, patient_id, self.parent_widget, encounter_id=encounter_id)
        dialog.placed.connect(lambda r: self._changed(f"Order {r.get('number', '')} placed."))
        self._open(dialog)

    # --- printing ---------------------------------------------------------------------------

    def print_prescription(self) -> None:
        """Preview and print the chosen medicine, or everything I prescribed today."""
        patient_id, clinical = self.view.patient_id, self.clinical
        if patient_id is None:
            return
        chosen, me = self.selected_medication(), self.ctx.session.user
        today = datetime.now(UTC).date()

        def build() -> tuple[bytes, str]:
            active = clinical.active_prescriptions(patient_id)
            picked = [p.id for p in active if p.id == chosen] or [
                p.id
                for p in active
                if p.prescriber == me.username and p.prescribed_at.date() == today
            ]
            if not picked:
                raise LookupError
            return clinical.prescription_pdf(picked, me.full_name or me.username)

        def failed(exc: BaseException) -> None:
            text = (
                "Nothing to print: choose a current medicine, or prescribe one today."
                if isinstance(exc, LookupError)
                else describe_error(exc)
            )
            self.say(text, error=True)

        self.ctx.run(self.view, build, self._preview, failed)

    def _preview(self, made: tuple[bytes, str]) -> None:
        pdf, name = made
        self._open(PdfPreviewDialog(pdf, name, self.parent_widget))
