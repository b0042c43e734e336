"""Registering a patient: validate, check for duplicates, ask, then save (all off the UI thread)."""

import uuid

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from hms_core.schemas.patients import (
    DuplicateCandidate,
    DuplicateCheck,
    DuplicateReview,
    PatientCreate,
    PatientOut,
)
from hms_core.services.errors import DomainError, DuplicateSuspected
from hms_desktop.store.patients import duplicate_candidates
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import FormFooter, scrolled_form, set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.reception.duplicate_dialog import DuplicateDialog
from hms_desktop.workspaces.reception.patient_form import PatientForm


class RegistrationPage(QWidget):
    """The registration form with its Register button; emits the saved or chosen patient."""

    registered = Signal(object)
    existing_chosen = Signal(object)
    cancelled = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.duplicate_dialog: DuplicateDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.form = PatientForm()
        layout.addWidget(scrolled_form(self.form), 1)
        layout.addWidget(self._footer())

    def _header(self) -> QWidget:
        box = QFrame()
        box.setObjectName("pageHeader")
        column = QVBoxLayout(box)
        column.setContentsMargins(28, 20, 28, 12)
        column.addWidget(styled_label("Register a new patient", "pageTitle"))
        column.addWidget(
            styled_label(
                "Fields marked * are required. Give the date of birth, or tick “estimate "
                "the age” when the patient does not know it.",
                "hint",
            )
        )
        return box

    def _footer(self) -> QWidget:
        bar = FormFooter("Register patient")
        self.status_label, self.save_button = bar.status_label, bar.save_button
        self.cancel_button = bar.cancel_button
        self.cancel_button.clicked.connect(self.cancelled)
        self.save_button.clicked.connect(self.submit)
        return bar

    def reset(self) -> None:
        """Clear the form for the next patient."""
        self.form.clear()
        self._set_status("")
        self.form.edits["given_name"].setFocus()

    # --- the flow ---------------------------------------------------------------------------

    def submit(self) -> None:
        """Validate; when valid, run the duplicate check off the UI thread."""
        self.form.clear_errors()
        try:
            data = self.form.to_create()
        except ValidationError as exc:
            self.form.show_validation_error(exc)
            self._set_status("Nothing was saved. Correct the fields marked in red.", error=True)
            return
        self._busy("Checking for patients already registered…")
        check = DuplicateCheck.model_validate(data.model_dump())
        self._ctx.run(
            self,
            lambda: self._ctx.patients.check_duplicates(check),
            lambda found: self._after_check(data, found),
            self._failed,
        )

    def _after_check(self, data: PatientCreate, found: list[DuplicateCandidate]) -> None:
        if found:
            self._ask_about(data, found)
        else:
            self._register(data)

    def _ask_about(self, data: PatientCreate, candidates: list[DuplicateCandidate]) -> None:
        self._idle()
        self._set_status("")
        dialog = DuplicateDialog(candidates, self)
        dialog.same_patient.connect(self._open_existing)
        dialog.new_patient.connect(lambda ids: self._register(_reviewed(data, ids)))
        dialog.rejected.connect(lambda: self._set_status("Not saved yet: review the form."))
        self.duplicate_dialog = dialog
        dialog.open()

    def _register(self, data: PatientCreate) -> None:
        self._busy("Registering the patient…")
        self._ctx.write(
            self,
            lambda: self._ctx.patients.register_patient(data),
            self._saved,
            lambda exc: self._register_failed(data, exc),
        )

    def _open_existing(self, patient_id: uuid.UUID) -> None:
        self._busy("Opening the existing record…")
        patients = self._ctx.patients

        def work() -> PatientOut:
            patients.confirm_duplicate_match(patient_id)
            return patients.get_patient(patient_id)

        self._ctx.write(self, work, self._chosen_existing, self._failed)

    def _saved(self, patient: PatientOut) -> None:
        self._idle()
        self.form.clear()
        self._set_status("")
        self.registered.emit(patient)

    def _chosen_existing(self, patient: PatientOut) -> None:
        self._idle()
        self.form.clear()
        self._set_status("")
        self.existing_chosen.emit(patient)

    def _register_failed(self, data: PatientCreate, exc: BaseException) -> None:
        if isinstance(exc, DuplicateSuspected):
            candidates = duplicate_candidates(exc)
            if candidates:
                self._ask_about(data, candidates)
                return
        if isinstance(exc, DomainError) and exc.fields:
            self._idle()
            self.form.show_field_errors(exc.fields)
            self._set_status(f"Nothing was saved. {exc.message}", error=True)
            return
        self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._idle()
        self._set_status(f"Nothing was saved. {describe_error(exc)}", error=True)

    # --- state ------------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.save_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self._set_status(text)

    def _idle(self) -> None:
        self.save_button.setEnabled(True)
        self.cancel_button.setEnabled(True)

    def _set_status(self, text: str, error: bool = False) -> None:
        set_status(self.status_label, text, error)


def _reviewed(data: PatientCreate, candidate_ids: list[uuid.UUID]) -> PatientCreate:
    """`data` marked as reviewed against these candidates (merged with earlier reviews)."""
    earlier = data.duplicate_review.candidate_ids if data.duplicate_review else []
    ids = list(dict.fromkeys([*earlier, *candidate_ids]))
    return data.model_copy(update={"duplicate_review": DuplicateReview(candidate_ids=ids)})
