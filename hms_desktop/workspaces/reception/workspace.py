"""The patients workspace: search, register (reception) and view or edit a record."""

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from hms_core.rbac import Perm
from hms_core.schemas.patients import PatientOut, PatientSummary
from hms_desktop.widgets.context import AppContext
from hms_desktop.workspaces.reception.patient_view import PatientView
from hms_desktop.workspaces.reception.registration import RegistrationPage
from hms_desktop.workspaces.reception.search_panel import PatientSearchPanel


class PatientsWorkspace(QWidget):
    """Search list, registration form (with patient.register) and the patient view."""

    book_requested = Signal(object)  # a patient id, from the record's appointments card

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.can_register = ctx.session.can(Perm.PATIENT_REGISTER)
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.search_panel = PatientSearchPanel(ctx, title, self.can_register)
        self.search_panel.patient_activated.connect(self._open_summary)
        self.search_panel.register_requested.connect(self.show_registration)
        self.view = PatientView(ctx, can_edit=ctx.session.can(Perm.PATIENT_UPDATE))
        self.view.back_requested.connect(self.show_search)
        self.view.book_requested.connect(self.book_requested)
        self.stack.addWidget(self.search_panel)
        self.stack.addWidget(self.view)
        self.registration: RegistrationPage | None = None
        if self.can_register:
            self.registration = RegistrationPage(ctx)
            self.registration.registered.connect(self._show_registered)
            self.registration.existing_chosen.connect(self._show_existing)
            self.registration.cancelled.connect(self.show_search)
            self.stack.addWidget(self.registration)

    def show_search(self) -> None:
        self.stack.setCurrentWidget(self.search_panel)
        self.search_panel.query_edit.setFocus()

    def show_registration(self) -> None:
        if self.registration is not None:
            self.registration.reset()
            self.stack.setCurrentWidget(self.registration)

    def open_patient(self, patient_id: uuid.UUID) -> None:
        """Show the record of `patient_id` (loaded off the UI thread)."""
        self.stack.setCurrentWidget(self.view)
        self.view.open_patient(patient_id)

    def _open_summary(self, patient: PatientSummary) -> None:
        self.open_patient(patient.id)

    def _show_registered(self, patient: PatientOut) -> None:
        self.stack.setCurrentWidget(self.view)
        self.view.show_patient(
            patient,
            f"New patient registered. MRN <b style='font-size:17pt'>{patient.mrn}</b> — "
            "write it on the patient's card.",
        )

    def _show_existing(self, patient: PatientOut) -> None:
        self.stack.setCurrentWidget(self.view)
        self.view.show_patient(patient, "Opened the existing record instead of registering again.")
