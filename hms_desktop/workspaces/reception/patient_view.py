"""One patient's record: header, allergies banner, details, and editing with conflict handling."""

import uuid

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hms_core.rbac import Perm
from hms_core.schemas.patients import PatientOut, Severity
from hms_core.services.errors import DomainError
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import (
    FormFooter,
    scrolled_form,
    set_status,
    set_style_property,
    styled_label,
)
from hms_desktop.widgets.messages import birth_text, describe_error, patient_name
from hms_desktop.workspaces.reception.patient_appointments import PatientAppointments
from hms_desktop.workspaces.reception.patient_form import NOTIFY_CHOICES, PatientForm

CONFLICT_TEXT = (
    "Someone else changed this record while you were editing it. Your changes were not saved. "
    "Reload the record to see their changes, then edit again."
)

NOTIFY_TEXT = {value: text for text, value in NOTIFY_CHOICES}

_DETAIL_SECTIONS = {
    "Contact and address": [
        ("Phone", "phone"),
        ("Email", "email"),
        ("Address", "address_line"),
        ("City", "city"),
        ("Region / state", "region"),
        ("Postal code", "postal_code"),
        ("Country", "country"),
        ("Preferred language", "preferred_language"),
        ("Appointment messages", "notify_by"),
    ],
    "Next of kin": [
        ("Name", "next_of_kin_name"),
        ("Relationship", "next_of_kin_relationship"),
        ("Phone", "next_of_kin_phone"),
    ],
    "Insurance": [
        ("Insurer (payer)", "insurance_payer"),
        ("Policy number", "insurance_policy_number"),
        ("Valid until", "insurance_valid_until"),
    ],
    "Medical history": [
        ("Past conditions", "past_conditions"),
        ("Past surgeries", "past_surgeries"),
    ],
}


def allergy_summary(patient: PatientOut) -> tuple[str, str]:
    """The allergies banner text and its level: 'severe', 'present' or 'none'."""
    if not patient.allergies:
        return "No known allergies recorded", "none"
    parts = []
    for allergy in patient.allergies:
        reaction = f", {allergy.reaction}" if allergy.reaction else ""
        parts.append(f"{allergy.substance} ({allergy.severity.value}{reaction})")
    severe = any(a.severity == Severity.SEVERE for a in patient.allergies)
    return "ALLERGIES: " + "   ·   ".join(parts), "severe" if severe else "present"


class _Banner(QFrame):
    """A coloured strip with a message and an optional action button."""

    def __init__(self, kind: str, action: str | None = None) -> None:
        super().__init__()
        self.setProperty("role", "banner")
        self.setProperty("kind", kind)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 10, 16, 10)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.button = QPushButton(action) if action else None
        if self.button:
            row.addWidget(self.button)
        self.hide()

    def set_kind(self, kind: str) -> None:
        set_style_property(self, "kind", kind)

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(bool(text))


class PatientView(QWidget):
    """Shows a patient; with `can_edit`, edits them with PatientUpdate and expected_row_version."""

    back_requested = Signal()
    patient_changed = Signal(object)
    book_requested = Signal(object)  # a patient id: book an appointment for them

    def __init__(self, ctx: AppContext, can_edit: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._can_edit = can_edit
        self.patient: PatientOut | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._top_bar())
        self.notice = _Banner("success")
        self.conflict = _Banner("warning", "Reload record")
        assert self.conflict.button is not None
        self.conflict.button.clicked.connect(self.reload)
        self.allergy_banner = _Banner("none")
        self.allergy_banner.setObjectName("allergyBanner")
        for banner in (self.notice, self.conflict, self.allergy_banner):
            layout.addWidget(banner)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._read_page())
        self.stack.addWidget(self._edit_page())
        layout.addWidget(self.stack, 1)

    # --- layout -----------------------------------------------------------------------------

    def _top_bar(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("pageHeader")
        grid = QGridLayout(bar)
        grid.setContentsMargins(28, 14, 28, 14)
        grid.setHorizontalSpacing(16)
        self.back_button = QPushButton("← Back to search")
        self.back_button.setProperty("role", "link")
        self.back_button.clicked.connect(self.back_requested)
        self.name_label = styled_label("", "patientName")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mrn_label = styled_label("", "mrn")
        self.mrn_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts_label = styled_label("", "hint")
        self.edit_button = QPushButton("Edit details")
        self.edit_button.setVisible(self._can_edit)
        self.edit_button.clicked.connect(self.start_edit)
        grid.addWidget(self.back_button, 0, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.name_label, 1, 0)
        grid.addWidget(self.mrn_label, 1, 1, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.edit_button, 1, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.facts_label, 2, 0, 1, 3)
        grid.setColumnStretch(2, 1)
        return bar

    def _read_page(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        holder.setObjectName("formHolder")
        grid = QGridLayout(holder)
        grid.setContentsMargins(28, 20, 28, 24)
        grid.setSpacing(16)
        self._values: dict[str, QLabel] = {}
        for position, (title, fields) in enumerate(_DETAIL_SECTIONS.items()):
            grid.addWidget(self._detail_card(title, fields), position // 2, position % 2)
        rows = (len(_DETAIL_SECTIONS) + 1) // 2
        self.appointments: PatientAppointments | None = None
        if self._ctx.session.can(Perm.APPOINTMENT_READ):
            self.appointments = PatientAppointments(self._ctx)
            self.appointments.book_requested.connect(self.book_requested)
            grid.addWidget(self.appointments, rows, 0, 1, 2)
            rows += 1
        grid.setRowStretch(rows, 1)
        scroll.setWidget(holder)
        return scroll

    def _detail_card(self, title: str, fields: list[tuple[str, str]]) -> QFrame:
        card = QFrame()
        card.setProperty("role", "card")
        column = QVBoxLayout(card)
        column.setContentsMargins(20, 16, 20, 16)
        column.addWidget(styled_label(title, "sectionTitle"))
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        form.setVerticalSpacing(8)
        for label, key in fields:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._values[key] = value
            form.addRow(styled_label(label, "detailLabel"), value)
        column.addLayout(form)
        column.addStretch(1)
        return card

    def _edit_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.form = PatientForm()
        layout.addWidget(scrolled_form(self.form), 1)
        bar = FormFooter("Save changes")
        self.status_label, self.save_button = bar.status_label, bar.save_button
        self.cancel_button = bar.cancel_button
        self.cancel_button.clicked.connect(self.cancel_edit)
        self.save_button.clicked.connect(self.save_edit)
        layout.addWidget(bar)
        return page

    # --- showing ----------------------------------------------------------------------------

    def show_patient(self, patient: PatientOut, notice: str = "") -> None:
        """Display `patient` read-only, with an optional success notice."""
        self.patient = patient
        self.name_label.setText(patient_name(patient))
        self.mrn_label.setText(patient.mrn)
        self.mrn_label.setToolTip("Medical record number")
        facts = [
            patient.sex.value.capitalize(),
            "Born " + birth_text(patient.birth_date, patient.birth_date_estimated),
        ]
        if patient.phone:
            facts.append(patient.phone)
        self.facts_label.setText("   ·   ".join(facts))
        for key, label in self._values.items():
            value = getattr(patient, key)
            if key == "notify_by":
                value = NOTIFY_TEXT[value.value if value else None]
            label.setText("—" if value in (None, "") else str(value))
        text, level = allergy_summary(patient)
        self.allergy_banner.set_kind(level)
        self.allergy_banner.show_text(text)
        self.notice.show_text(notice)
        self.conflict.show_text("")
        self.stack.setCurrentIndex(0)
        self.edit_button.setEnabled(True)
        if self.appointments is not None:
            self.appointments.load(patient.id)

    def open_patient(self, patient_id: uuid.UUID) -> None:
        """Load a patient from the server and show it."""
        self.notice.show_text("")
        self.conflict.show_text("")
        self.name_label.setText("Opening record…")
        self.mrn_label.clear()
        self.facts_label.clear()
        self.allergy_banner.hide()
        self._ctx.run(
            self,
            lambda: self._ctx.patients.get_patient(patient_id),
            self.show_patient,
            lambda exc: self.name_label.setText(describe_error(exc)),
        )

    def reload(self) -> None:
        """Fetch the current version of the record, dropping unsaved edits."""
        if self.patient is not None:
            self.open_patient(self.patient.id)

    # --- editing ----------------------------------------------------------------------------

    def start_edit(self) -> None:
        """Switch to the form, filled with the record as last loaded."""
        if self.patient is None or not self._can_edit:
            return
        self.form.load(self.patient)
        self.notice.show_text("")
        self._set_status("")
        self.edit_button.setEnabled(False)
        self.stack.setCurrentIndex(1)

    def cancel_edit(self) -> None:
        if self.patient is not None:
            self.show_patient(self.patient)

    def save_edit(self) -> None:
        """Send only the changed fields, with the row version the edit started from."""
        assert self.patient is not None
        self.form.clear_errors()
        try:
            changes = self.form.to_update(self.patient)
        except ValidationError as exc:
            self.form.show_validation_error(exc)
            self._set_status("Nothing was saved. Correct the fields marked in red.", error=True)
            return
        if not changes.model_fields_set - {"expected_row_version"}:
            self.show_patient(self.patient, "No changes to save.")
            return
        self.save_button.setEnabled(False)
        self._set_status("Saving…")
        original = self.patient
        self._ctx.write(
            self,
            lambda: self._ctx.patients.update_patient(original.id, changes, original),
            self._saved,
            self._save_failed,
        )

    def _saved(self, patient: PatientOut) -> None:
        self.save_button.setEnabled(True)
        self.show_patient(patient, "Changes saved.")
        self.patient_changed.emit(patient)

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, DomainError) and exc.code == "conflict":
            self.conflict.show_text(CONFLICT_TEXT)
            self._set_status("Not saved: someone else changed this record.", error=True)
        elif isinstance(exc, DomainError) and exc.fields:
            self.form.show_field_errors(exc.fields)
            self._set_status(f"Nothing was saved. {exc.message}", error=True)
        else:
            self._set_status(f"Nothing was saved. {describe_error(exc)}", error=True)

    def _set_status(self, text: str, error: bool = False) -> None:
        set_status(self.status_label, text, error)
