"""The patient form: every field of PatientCreate, each with its error shown beside it."""

from typing import Any

from pydantic import ValidationError
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from hms_core.schemas.errors import field_errors
from hms_core.schemas.patients import (
    MAX_AGE_YEARS,
    NotifyBy,
    PatientCreate,
    PatientOut,
    PatientUpdate,
    Sex,
    estimated_birth_date,
)
from hms_desktop.widgets.forms import FieldRow, FormSection, styled_label
from hms_desktop.widgets.messages import age_years
from hms_desktop.workspaces.reception.allergies import AllergiesEditor

DATE_HINT = "YYYY-MM-DD"
# The texts of PatientCreate's model-level rules (shown early, see _cross_field_errors).
BIRTH_DATE_MISSING = "Give the date of birth, or an estimated age"
PAYER_MISSING = "Give the insurer (payer) of this policy number"

# Model-level errors carry no field location; these are the fields they are about.
_ERROR_TYPE_FIELD = {"birth_date_missing": "birth_date", "insurance_payer": "insurance_payer"}

_TEXT_FIELDS = (
    # (key, label, placeholder, section)
    ("phone", "Phone", "+44 20 7946 0000", "contact"),
    ("email", "Email", "name@example.org", "contact"),
    ("address_line", "Address", "Street and number", "contact"),
    ("city", "City", "", "contact"),
    ("region", "Region / state", "", "contact"),
    ("postal_code", "Postal code", "", "contact"),
    ("country", "Country", "", "contact"),
    ("preferred_language", "Preferred language", "e.g. English", "contact"),
    ("next_of_kin_name", "Name", "", "kin"),
    ("next_of_kin_relationship", "Relationship", "e.g. spouse, parent", "kin"),
    ("next_of_kin_phone", "Phone", "", "kin"),
    ("insurance_payer", "Insurer (payer)", "", "insurance"),
    ("insurance_policy_number", "Policy number", "", "insurance"),
    ("insurance_valid_until", "Valid until", DATE_HINT, "insurance"),
)
NOTIFY_CHOICES = (
    ("By SMS if there is a phone, else email", None),
    ("By SMS", NotifyBy.SMS.value),
    ("By email", NotifyBy.EMAIL.value),
    ("By SMS and email", NotifyBy.BOTH.value),
    ("No messages (patient opted out)", NotifyBy.NONE.value),
)
_NOTES_FIELDS = (("past_conditions", "Past conditions"), ("past_surgeries", "Past surgeries"))


def _line(placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    return edit


class PatientForm(QWidget):
    """All patient fields; builds PatientCreate / PatientUpdate and shows their errors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[str, FieldRow] = {}
        self.edits: dict[str, QLineEdit] = {}
        self.notes: dict[str, QPlainTextEdit] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        self.general_error = styled_label("", "errorBox")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        sections = {
            "identity": FormSection("Identity"),
            "contact": FormSection("Contact and address"),
            "kin": FormSection("Next of kin"),
            "insurance": FormSection("Insurance"),
            "allergies": FormSection("Allergies"),
            "history": FormSection("Medical history"),
        }
        self._build_identity(sections["identity"])
        for key, label, placeholder, section in _TEXT_FIELDS:
            self._add_line(sections[section], key, label, placeholder)
        self._build_notify(sections["contact"])
        self.allergies = AllergiesEditor()
        self.rows["allergies"] = sections["allergies"].add_row("Known allergies", self.allergies)
        for key, label in _NOTES_FIELDS:
            note = QPlainTextEdit()
            note.setFixedHeight(72)
            note.setTabChangesFocus(True)
            self.notes[key] = note
            self.rows[key] = sections["history"].add_row(label, note)
        for section in sections.values():
            layout.addWidget(section)
        layout.addStretch(1)

    def _build_identity(self, section: FormSection) -> None:
        self._add_line(section, "given_name", "Given name", "", required=True)
        self._add_line(section, "family_name", "Family name", "", required=True)
        self._add_line(section, "birth_date", "Date of birth", DATE_HINT, required=True)
        self.estimate_box = QCheckBox("Date of birth unknown — estimate the age")
        self.age_edit = QLineEdit()
        self.age_edit.setValidator(QIntValidator(0, MAX_AGE_YEARS, self.age_edit))
        self.age_edit.setPlaceholderText("age")
        self.age_edit.setFixedWidth(80)
        self.age_edit.setEnabled(False)
        self.estimate_box.toggled.connect(self._on_estimate_toggled)
        age_row = QWidget()
        age_layout = QHBoxLayout(age_row)
        age_layout.setContentsMargins(0, 0, 0, 0)
        age_layout.addWidget(self.estimate_box)
        age_layout.addSpacing(8)
        age_layout.addWidget(self.age_edit)
        age_layout.addWidget(QLabel("years"))
        age_layout.addStretch(1)
        self.rows["estimated_age_years"] = section.add_row(
            "Estimated age", age_row, focus=self.age_edit
        )
        self.sex_combo = QComboBox()
        self.sex_combo.addItem("Select…", None)
        for sex in Sex:
            self.sex_combo.addItem(sex.value.capitalize(), sex.value)
        self.sex_combo.currentIndexChanged.connect(lambda: self.rows["sex"].clear_error())
        self.rows["sex"] = section.add_row("Sex", self.sex_combo, required=True)

    def _build_notify(self, section: FormSection) -> None:
        """How the patient wants appointment confirmations and reminders."""
        self.notify_combo = QComboBox()
        for text, value in NOTIFY_CHOICES:
            self.notify_combo.addItem(text, value)
        self.rows["notify_by"] = section.add_row("Appointment messages", self.notify_combo)

    def _add_line(
        self, section: FormSection, key: str, label: str, placeholder: str, required: bool = False
    ) -> None:
        edit = _line(placeholder)
        self.edits[key] = edit
        row = section.add_row(label, edit, required=required)
        self.rows[key] = row
        edit.textEdited.connect(lambda _text: row.clear_error())

    def _on_estimate_toggled(self, estimated: bool) -> None:
        self.age_edit.setEnabled(estimated)
        self.rows["estimated_age_years"].clear_error()
        self.edits["birth_date"].setEnabled(not estimated)
        self.rows["birth_date"].clear_error()

    # --- values -----------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """The form as a PatientCreate dict: blank optional fields are None."""
        data: dict[str, Any] = {}
        for key, edit in self.edits.items():
            data[key] = edit.text().strip() or None
        for key, note in self.notes.items():
            data[key] = note.toPlainText().strip() or None
        data["given_name"] = self.edits["given_name"].text()
        data["family_name"] = self.edits["family_name"].text()
        if self.estimate_box.isChecked():
            data["birth_date"] = None
            age = self.age_edit.text().strip()
            data["estimated_age_years"] = int(age) if age.isdigit() else None
        if self.sex_combo.currentData() is not None:
            data["sex"] = self.sex_combo.currentData()
        data["allergies"] = self.allergies.values()
        data["notify_by"] = self.notify_combo.currentData()
        return data

    def to_create(self) -> PatientCreate:
        """A validated registration; raises pydantic.ValidationError."""
        return PatientCreate.model_validate(self.values())

    def to_update(self, original: PatientOut) -> PatientUpdate:
        """Only the changed fields, with the row version editing started from."""
        data = self.values()
        data["sex"] = data.get("sex")
        age = data.pop("estimated_age_years", None)
        data["birth_date_estimated"] = age is not None
        if age is not None:
            same_age = original.birth_date_estimated and age == age_years(original.birth_date)
            data["birth_date"] = original.birth_date if same_age else estimated_birth_date(age)
        full = PatientUpdate.model_validate(data)
        changed = [name for name in data if _differs(full, original, name)]
        update = full.model_dump(include=set(changed))
        update["expected_row_version"] = original.row_version
        return PatientUpdate.model_validate(update)

    def load(self, patient: PatientOut) -> None:
        """Fill the form from a patient record, ready for editing."""
        self.clear_errors()
        for key, edit in self.edits.items():
            value = getattr(patient, key)
            edit.setText("" if value is None else str(value))
        for key, note in self.notes.items():
            note.setPlainText(getattr(patient, key) or "")
        self.estimate_box.setChecked(patient.birth_date_estimated)
        self.age_edit.setText(str(age_years(patient.birth_date)))
        self.sex_combo.setCurrentIndex(max(0, self.sex_combo.findData(patient.sex.value)))
        notify = patient.notify_by.value if patient.notify_by else None
        self.notify_combo.setCurrentIndex(max(0, self.notify_combo.findData(notify)))
        self.allergies.set_allergies(patient.allergies)

    def clear(self) -> None:
        """Empty every field, for the next registration."""
        self.clear_errors()
        for edit in self.edits.values():
            edit.clear()
        for note in self.notes.values():
            note.clear()
        self.estimate_box.setChecked(False)
        self.age_edit.clear()
        self.sex_combo.setCurrentIndex(0)
        self.notify_combo.setCurrentIndex(0)
        self.allergies.set_allergies([])

    # --- errors -----------------------------------------------------------------------------

    def clear_errors(self) -> None:
        for row in self.rows.values():
            row.clear_error()
        self.show_general_error("")

    def show_validation_error(self, exc: ValidationError) -> None:
        """Put each pydantic error beside its field."""
        fields: dict[str, str] = {}
        for raw, friendly in zip(exc.errors(), field_errors(exc), strict=True):
            name = _ERROR_TYPE_FIELD.get(raw["type"], friendly.field)
            fields.setdefault(name, _tidy(friendly.message))
        for name, message in self._cross_field_errors().items():
            fields.setdefault(name, message)
        self.show_field_errors(fields)

    def _cross_field_errors(self) -> dict[str, str]:
        """Whole-form rules pydantic skips while single fields are invalid, so all show at once."""
        errors = {}
        if self.estimate_box.isChecked():
            if not self.age_edit.text().strip():
                errors["estimated_age_years"] = BIRTH_DATE_MISSING
        elif not self.edits["birth_date"].text().strip():
            errors["birth_date"] = BIRTH_DATE_MISSING
        policy = self.edits["insurance_policy_number"].text().strip()
        if policy and not self.edits["insurance_payer"].text().strip():
            errors["insurance_payer"] = PAYER_MISSING
        return errors

    def show_field_errors(self, fields: dict[str, str]) -> None:
        """Show errors keyed by field name (e.g. a server 422); unknown keys go above the form."""
        leftovers: list[str] = []
        for name, message in fields.items():
            row = self._row_for(name)
            if row is None:
                leftovers.append(message)
            elif not row.has_error:
                row.show_error(_allergy_prefix(name) + message)
        self.show_general_error(" ".join(leftovers))
        self.focus_first_error()

    def show_general_error(self, text: str) -> None:
        self.general_error.setText(text)
        self.general_error.setVisible(bool(text))

    def focus_first_error(self) -> None:
        for row in self.rows.values():
            if row.has_error:
                row.widget.setFocus()
                return

    def error_text(self, name: str) -> str:
        """The error shown beside field `name` (empty when none)."""
        return self.rows[name].error.text()

    def _row_for(self, name: str) -> FieldRow | None:
        head = name.split(".", 1)[0]
        if head == "birth_date" and self.estimate_box.isChecked():
            head = "estimated_age_years"
        return self.rows.get(head)


def _tidy(message: str) -> str:
    """Reword the few library messages that are not yet in plain words."""
    prefix = "value is not a valid email address: "
    if message.startswith(prefix):
        return "Not a valid email address. " + message.removeprefix(prefix)
    return message[:1].upper() + message[1:]


def _allergy_prefix(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "allergies" and len(parts) > 1 and parts[1].isdigit():
        return f"Allergy {int(parts[1]) + 1}: "
    return ""


def _differs(update: PatientUpdate, original: PatientOut, name: str) -> bool:
    new = getattr(update, name)
    old = getattr(original, name)
    if name == "allergies":
        return [_allergy_key(a) for a in new] != [_allergy_key(a) for a in old]
    return new != old


def _allergy_key(allergy: Any) -> tuple[Any, ...]:
    return (allergy.id, allergy.substance, allergy.reaction, allergy.severity)
