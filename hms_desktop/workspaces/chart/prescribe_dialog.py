"""Prescribing from the formulary, and changing or renewing a prescription, with the safety
checks answered in the dialog: each warning is shown with its severity and source and needs a
reason before "Prescribe anyway" is possible. A refusal keeps everything typed."""

import math
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.catalogues import FREQUENCIES, Drug, doses_per_day
from hms_core.services.errors import DomainError
from hms_desktop.store.clinical import PrescriptionView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore

MIN_REASON = 3
SAFETY_CHECK = "safety_check"
DRUG_ROLE = Qt.ItemDataRole.UserRole
SEVERITY_COLOURS = {  # text, background, border
    "high": ("#912018", "#fef3f2", "#f04438"),
    "moderate": ("#93370d", "#fffaeb", "#f79009"),
    "low": ("#0b4f8a", "#eff6ff", "#84adff"),
}
CHANGES = {  # change -> (title, action button)
    None: ("Prescribe", "Prescribe"),
    "update": ("Change a prescription", "Save change"),
    "renew": ("Renew a prescription", "Renew"),
}
OVERRIDE_STYLE = (
    "QPushButton { background: #b42318; border: 1px solid #b42318; color: #ffffff;"
    " font-weight: 600; }"
    " QPushButton:hover { background: #912018; }"
    " QPushButton:disabled { background: #f3c5c0; border-color: #f3c5c0; color: #ffffff; }"
)
_STRENGTH = re.compile(r"^\s*([\d.]+)\s*([^\s/]+)\s*(?:/\s*([\d.]*)\s*mL)?\s*$", re.IGNORECASE)
_TO_BASE = {"g": Decimal(1000), "mg": Decimal(1), "microgram": Decimal("0.001")}
_TO_BASE |= {"µg": Decimal("0.001"), "mcg": Decimal("0.001")}


def parse_dose(text: str) -> Decimal:
    """A dose above zero, or ValueError in words."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"“{text.strip()}” is not a dose: type a number, such as 500.") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("The dose must be more than zero.")
    return value


def suggested_quantity(
    drug: Drug, strength: str, form: str, dose: Decimal, frequency: str, days: int
) -> tuple[Decimal, str] | None:
    """How much to dispense for `days` at this dose: whole units of the form (tablets), or mL
    of a liquid, or the total dose when the strength does not tell; None when unknown."""
    per_day = doses_per_day(frequency, drug, dose) if days else None
    if per_day is None:
        return None
    total = dose * per_day * days
    match = _STRENGTH.match(strength or "")
    if match is None:
        return Decimal(math.ceil(total)), drug.dose_unit
    amount, unit, volume = Decimal(match[1]), match[2], match[3]
    mine, theirs = _TO_BASE.get(drug.dose_unit.casefold()), _TO_BASE.get(unit.casefold())
    if unit.casefold() == drug.dose_unit.casefold():
        mine = theirs = Decimal(1)
    if mine is None or theirs is None or amount <= 0:
        return Decimal(math.ceil(total)), drug.dose_unit
    if volume is not None:  # a liquid: mL to dispense
        millilitres = total * mine / (amount * theirs) * Decimal(volume or 1)
        return Decimal(math.ceil(millilitres)), "mL"
    per_dose = Decimal(math.ceil(dose * mine / (amount * theirs) * 2)) / 2  # half tablets
    return per_dose * per_day * days, form or "unit"


class WarningRow(QFrame):
    """One safety warning: severity, message and source, and the reason to override it."""

    changed = Signal()

    def __init__(self, warning: dict[str, Any], reason: str = "") -> None:
        super().__init__()
        self.check = str(warning.get("check", ""))
        self.kind = str(warning.get("kind", ""))
        self.severity = str(warning.get("severity", "moderate"))
        ink, fill, edge = SEVERITY_COLOURS.get(self.severity, SEVERITY_COLOURS["moderate"])
        self.setObjectName("safetyWarning")
        self.setStyleSheet(
            f"QFrame#safetyWarning {{ background: {fill}; border: 1px solid {edge};"
            f" border-left: 5px solid {edge}; border-radius: 6px; }}"
            f" QFrame#safetyWarning QLabel {{ color: {ink}; background: transparent; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 10, 8)
        layout.setSpacing(4)
        kind = self.kind.replace("_", " ")
        self.severity_label = QLabel(f"<b>{self.severity.upper()}</b> · {kind}")
        self.message_label = QLabel(str(warning.get("message", "")))
        self.message_label.setWordWrap(True)
        layout.addWidget(self.severity_label)
        layout.addWidget(self.message_label)
        source = str(warning.get("source", ""))
        self.source_label = QLabel(f"Source: {source}" if source else "")
        self.source_label.setVisible(bool(source))
        self.source_label.setWordWrap(True)
        self.source_label.setStyleSheet("font-size: 11px;")
        layout.addWidget(self.source_label)
        self.reason_edit = QLineEdit(reason)
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("Reason to prescribe despite this warning")
        self.reason_edit.textChanged.connect(lambda _t: self.changed.emit())
        layout.addWidget(self.reason_edit)

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    @property
    def ready(self) -> bool:
        return len(self.reason) >= MIN_REASON


class PrescribeDialog(QDialog):
    """A new prescription, or an update or renewal of `current` (with a reason)."""

    prescribed = Signal(dict)

    def __init__(
        self,
        ctx: AppContext,
        patient_id: uuid.UUID,
        parent: QWidget | None = None,
        *,
        encounter_id: uuid.UUID | None = None,
        current: PrescriptionView | None = None,
        change: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.encounter_id = ctx, patient_id, encounter_id
        self.current, self.change = current, change
        self.drug: Drug | None = None
        self.rows: list[WarningRow] = []
        self._quantity_typed = False
        title, action = CHANGES[change]
        self.setWindowTitle(title)
        self.setMinimumWidth(620)
        self._build(title, action)
        if current is not None:
            self._prefill(current)
        self._on_fields()

    clinical = ClinicalStore()

    # --- layout -----------------------------------------------------------------------------

    def _build(self, title: str, action: str) -> None:
        body = QVBoxLayout(self)
        body.setContentsMargins(24, 20, 24, 16)
        body.setSpacing(10)
        body.addWidget(styled_label(title, "dialogTitle"))
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(14)
        self.form.setVerticalSpacing(8)
        self._drug_fields()
        self._dose_fields()
        body.addLayout(self.form)
        self.warnings_box = QFrame()
        self.warnings_layout = QVBoxLayout(self.warnings_box)
        self.warnings_layout.setContentsMargins(0, 4, 0, 0)
        self.warnings_layout.setSpacing(6)
        self.warnings_title = styled_label("", "sectionTitle")
        self.warnings_title.setWordWrap(True)
        self.warnings_layout.addWidget(self.warnings_title)
        self.warnings_box.hide()
        body.addWidget(self.warnings_box)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        body.addWidget(self.error_label)
        body.addLayout(self._buttons(action))

    def _drug_fields(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search the formulary: name, generic name or class")
        self.search_edit.textChanged.connect(self._search)
        self.results = QListWidget()
        self.results.setMaximumHeight(110)
        self.results.hide()
        self.results.itemClicked.connect(lambda item: self.choose(item.data(DRUG_ROLE)))
        self.results.itemActivated.connect(lambda item: self.choose(item.data(DRUG_ROLE)))
        self.drug_label = styled_label("No drug chosen yet.", "hint")
        self.drug_label.setWordWrap(True)
        self.strength_combo, self.form_combo = QComboBox(), QComboBox()
        self.form.addRow("Drug", self.search_edit)
        self.form.addRow("", self.results)
        self.form.addRow("", self.drug_label)
        self.form.addRow("Strength", self.strength_combo)
        self.form.addRow("Form", self.form_combo)

    def _dose_fields(self) -> None:
        self.dose_edit = QLineEdit()
        self.dose_edit.setPlaceholderText("Dose")
        self.unit_label = QLabel("")
        dose_row = QHBoxLayout()
        dose_row.setSpacing(8)
        dose_row.addWidget(self.dose_edit, 1)
        dose_row.addWidget(self.unit_label)
        self.route_combo = QComboBox()
        self.frequency_combo = QComboBox()
        self.frequency_combo.addItems(list(FREQUENCIES))
        self.days_edit = QLineEdit()
        self.days_edit.setValidator(QIntValidator(1, 3650, self.days_edit))
        self.days_edit.setPlaceholderText("Leave empty when there is no fixed end")
        days_row = QHBoxLayout()
        days_row.setSpacing(8)
        days_row.addWidget(self.days_edit, 1)
        days_row.addWidget(QLabel("days"))
        self.quantity_edit = QLineEdit()
        self.quantity_hint = styled_label("", "hint")
        self.instructions_edit = QLineEdit()
        self.instructions_edit.setMaxLength(500)
        self.instructions_edit.setPlaceholderText("For the patient, e.g. take after food")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("Why the prescription is changed")
        self.form.addRow("Dose", dose_row)
        self.form.addRow("Route", self.route_combo)
        self.form.addRow("Frequency", self.frequency_combo)
        self.form.addRow("Duration", days_row)
        self.form.addRow("Quantity", self.quantity_edit)
        self.form.addRow("", self.quantity_hint)
        self.form.addRow("Instructions", self.instructions_edit)
        if self.change is not None:
            self.form.addRow("Reason", self.reason_edit)
        for signal in (
            self.dose_edit.textChanged,
            self.frequency_combo.currentIndexChanged,
            self.days_edit.textChanged,
            self.strength_combo.currentIndexChanged,
            self.form_combo.currentIndexChanged,
        ):
            signal.connect(lambda *_a: self._on_fields())
        self.quantity_edit.textEdited.connect(self._typed_quantity)

    def _buttons(self, action: str) -> QHBoxLayout:
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.prescribe_button = QPushButton(action)
        self.prescribe_button.setProperty("role", "primary")
        self.prescribe_button.setDefault(True)
        self.prescribe_button.clicked.connect(lambda: self.submit(with_overrides=False))
        self.override_button = QPushButton(f"{action} anyway")
        self.override_button.setStyleSheet(OVERRIDE_STYLE)
        self.override_button.clicked.connect(lambda: self.submit(with_overrides=True))
        self.override_button.hide()
        row = QHBoxLayout()
        row.addStretch(1)
        for button in (self.cancel_button, self.prescribe_button, self.override_button):
            row.addWidget(button)
        return row

    # --- the drug ---------------------------------------------------------------------------

    def _search(self, text: str) -> None:
        self.results.clear()
        found = self.clinical.search_drugs(text) if len(text.strip()) >= 2 else []
        for drug in found:
            item = QListWidgetItem(f"{drug.name} ({drug.generic}) · {drug.drug_class}")
            item.setData(DRUG_ROLE, drug)
            self.results.addItem(item)
        self.results.setVisible(bool(found))

    def choose(self, drug: Drug) -> None:
        """Take `drug` from the formulary: its strengths, forms, routes and dose unit."""
        self.drug = drug
        self.results.hide()
        self.drug_label.setText(f"{drug.name} · {drug.generic} · {drug.atc} · {drug.drug_class}")
        self.drug_label.setProperty("role", "sectionTitle")
        self.drug_label.style().unpolish(self.drug_label)
        self.drug_label.style().polish(self.drug_label)
        for combo, options in (
            (self.strength_combo, drug.strengths),
            (self.form_combo, drug.forms),
            (self.route_combo, drug.routes),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(options)
            combo.blockSignals(False)
        self.unit_label.setText(drug.dose_unit)
        self.dose_edit.setPlaceholderText(
            f"Usual {_num(drug.usual_dose_min)}–{_num(drug.usual_dose_max)} {drug.dose_unit}"
        )
        self._clear_warnings()
        self._on_fields()

    def _prefill(self, current: PrescriptionView) -> None:
        drug = self.clinical.drug(current.drug_code)
        if drug is not None:
            self.choose(drug)
        self.search_edit.setText(current.drug_name)
        self.results.hide()
        for combo, value in (
            (self.strength_combo, current.strength),
            (self.form_combo, current.form),
            (self.route_combo, current.route),
            (self.frequency_combo, current.frequency),
        ):
            if not value and combo is not self.frequency_combo:
                combo.insertItem(0, "")  # given without a strength or form: kept so
            combo.setCurrentIndex(max(combo.findText(value), 0))
        self.dose_edit.setText(_num(current.dose))
        self.days_edit.setText(str(current.duration_days or ""))
        if current.quantity is not None:
            self.quantity_edit.setText(_num(current.quantity))
            self._quantity_typed = True
        self.instructions_edit.setText(current.instructions)
        if self.change == "renew":  # a renewal gives the same again
            for widget in (self.search_edit, self.strength_combo, self.form_combo, self.dose_edit,
                           self.route_combo, self.frequency_combo, self.days_edit,
                           self.quantity_edit, self.instructions_edit):  # fmt: skip
                widget.setEnabled(False)

    # --- quantity ---------------------------------------------------------------------------

    def _typed_quantity(self, text: str) -> None:
        self._quantity_typed = bool(text.strip())

    def _on_fields(self) -> None:
        """Keep the quantity suggestion in step with dose, frequency and duration."""
        suggestion = self._suggestion()
        self.form.setRowVisible(self.quantity_hint, suggestion is not None)
        if suggestion is None:
            self.quantity_hint.setText("")
            return
        amount, unit = suggestion
        self.quantity_hint.setText(f"Suggested: {_num(amount)} {unit} for the whole course")
        if not self._quantity_typed:
            self.quantity_edit.setText(_num(amount))

    def _suggestion(self) -> tuple[Decimal, str] | None:
        if self.drug is None:
            return None
        try:
            dose = parse_dose(self.dose_edit.text())
        except ValueError:
            return None
        return suggested_quantity(
            self.drug,
            self.strength_combo.currentText(),
            self.form_combo.currentText(),
            dose,
            self.frequency_combo.currentText(),
            self.days,
        )

    # --- the form ---------------------------------------------------------------------------

    def problem(self) -> str:
        """What still stops the prescription ('' when nothing)."""
        if self.drug is None:
            return "Search the formulary and choose the drug."
        try:
            parse_dose(self.dose_edit.text())
        except ValueError as exc:
            set_invalid(self.dose_edit, True)
            return str(exc)
        set_invalid(self.dose_edit, False)
        quantity = self.quantity_edit.text().strip()
        if quantity:
            try:
                if Decimal(quantity.replace(",", ".")) <= 0:
                    raise InvalidOperation
            except InvalidOperation:
                return "The quantity must be a number above zero (or left empty)."
        if self.change is not None and len(self.reason_edit.text().strip()) < MIN_REASON:
            set_invalid(self.reason_edit, True)
            return "Give the reason for the change."
        return ""

    def fields(self) -> dict[str, Any]:
        """What `PrescriptionFields` reads from the form."""
        assert self.drug is not None
        quantity = self.quantity_edit.text().strip().replace(",", ".")
        return {
            "drug_code": self.drug.code,
            "strength": self.strength_combo.currentText(),
            "form": self.form_combo.currentText(),
            "dose": str(parse_dose(self.dose_edit.text())),
            "dose_unit": self.drug.dose_unit,
            "route": self.route_combo.currentText(),
            "frequency": self.frequency_combo.currentText(),
            "duration_days": self.days or None,
            "quantity": quantity or None,
            "instructions": self.instructions_edit.text().strip(),
        }

    @property
    def days(self) -> int:
        """The duration in days (0 when none is given)."""
        text = self.days_edit.text().strip()
        return int(text) if text.isdigit() else 0

    def overrides(self) -> list[dict[str, str]]:
        return [{"check": r.check, "reason": r.reason} for r in self.rows if r.ready]

    # --- saving -----------------------------------------------------------------------------

    def submit(self, *, with_overrides: bool) -> None:
        """Prescribe (with the reasons given when `with_overrides`), off the UI thread."""
        problem = self.problem()
        self.error_label.setText(problem)
        if problem:
            return
        fields, overrides = self.fields(), self.overrides() if with_overrides else []
        clinical, reason = self.clinical, self.reason_edit.text().strip()
        current, change = self.current, self.change
        patient_id, encounter_id = self.patient_id, self.encounter_id
        if current is None or change is None:
            work = lambda: clinical.prescribe(  # noqa: E731
                patient_id, fields, encounter_id=encounter_id, overrides=overrides
            )
        else:
            work = lambda: clinical.change_prescription(  # noqa: E731
                current.id,
                change,
                reason,
                fields=fields if change == "update" else None,
                overrides=overrides,
            )
        self._busy(True)
        self.ctx.write(self, work, self._done, self._refused)

    def _busy(self, busy: bool) -> None:
        self.prescribe_button.setEnabled(not busy)
        self.override_button.setEnabled(not busy and self._all_answered())

    def _done(self, result: dict[str, Any]) -> None:
        self.prescribed.emit(result)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._busy(False)
        if isinstance(exc, DomainError) and exc.code == SAFETY_CHECK:
            self.show_warnings(list(exc.detail.get("warnings", [])))
            return
        self.error_label.setText(describe_error(exc))

    # --- warnings ---------------------------------------------------------------------------

    def show_warnings(self, warnings: list[dict[str, Any]]) -> None:
        """Show each warning with a reason field (reasons already typed are kept)."""
        typed = {row.check: row.reason_edit.text() for row in self.rows}
        self._clear_warnings()
        for warning in warnings:
            row = WarningRow(warning, typed.get(str(warning.get("check")), ""))
            row.changed.connect(self._on_reason)
            self.rows.append(row)
            self.warnings_layout.addWidget(row)
        count = len(self.rows)
        self.warnings_title.setText(
            f"{count} safety warning{'s' if count != 1 else ''}: read "
            f"{'each' if count != 1 else 'it'} and give a reason to prescribe anyway."
        )
        self.warnings_box.setVisible(bool(self.rows))
        self.prescribe_button.setVisible(not self.rows)
        self.override_button.setVisible(bool(self.rows))
        self.error_label.setText("")
        self._on_reason()
        self.adjustSize()

    def _clear_warnings(self) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        self.warnings_box.hide()
        self.override_button.hide()
        self.prescribe_button.show()

    def _all_answered(self) -> bool:
        return bool(self.rows) and all(row.ready for row in self.rows)

    def _on_reason(self) -> None:
        ready = self._all_answered()
        self.override_button.setEnabled(ready)
        self.override_button.setToolTip(
            "" if ready else "Give a reason (3 characters or more) for every warning."
        )


def _num(value: Decimal | None) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f")
