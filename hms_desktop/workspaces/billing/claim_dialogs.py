"""Insurance at the desk: a patient's new policy, and a claim's answer from the payer."""

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QGridLayout, QLineEdit, QWidget

from hms_core.db.billing import CATEGORIES
from hms_core.rules.money import MoneyError, parse_amount
from hms_core.schemas.billing import ClaimView
from hms_desktop.store.billing_views import PayerChoice
from hms_desktop.workspaces.billing.dialogs import BillingDialog, amount_problem
from hms_desktop.workspaces.billing.models import CLAIM_STATUS, Money

NEXT_STATUSES = ("submitted", "approved", "partially_approved", "rejected", "paid")
CATEGORY_NAMES = {
    "consultation": "Consultations",
    "lab": "Lab tests",
    "imaging": "Imaging",
    "procedure": "Procedures",
    "surgery": "Surgery",
    "bed_day": "Bed-days",
    "medicine": "Medicines",
    "other": "Other",
}


def _optional_amount(text: str, exponent: int) -> int | None:
    return parse_amount(text, exponent) if text.strip() else None


class UpdateClaimDialog(BillingDialog):
    """The payer's answer: submitted, approved (in full or part), rejected, or paid."""

    def __init__(self, claim: ClaimView, money: Money, parent: QWidget | None) -> None:
        number = claim.invoice_number or "(number pending)"
        super().__init__(f"Claim for invoice {number}", "Save status", parent)
        self._money = money
        self.status_combo = QComboBox()
        for status in NEXT_STATUSES:
            self.status_combo.addItem(CLAIM_STATUS[status], status)
        later = NEXT_STATUSES.index(claim.status) + 1 if claim.status in NEXT_STATUSES else 0
        self.status_combo.setCurrentIndex(min(later, len(NEXT_STATUSES) - 1))
        self.approved_edit = QLineEdit("" if claim.approved is None else money(claim.approved))
        self.approved_edit.setPlaceholderText(f"Claimed: {money(claim.claimed)}")
        self.paid_edit = QLineEdit(money(claim.paid) if claim.paid else "")
        self.reference_edit = QLineEdit()
        self.reference_edit.setMaxLength(100)
        self.reason_edit = QLineEdit(claim.reason)
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("The payer's reason (for a rejection or a cut)")
        self.form.addRow("Status", self.status_combo)
        self.form.addRow(f"Approved ({money.currency})", self.approved_edit)
        self.form.addRow(f"Paid ({money.currency})", self.paid_edit)
        self.form.addRow("Payer's reference", self.reference_edit)
        self.form.addRow("Reason", self.reason_edit)
        self.finish_layout()

    @property
    def status(self) -> str:
        return str(self.status_combo.currentData())

    @property
    def approved(self) -> int | None:
        return _optional_amount(self.approved_edit.text(), self._money.exponent)

    @property
    def paid(self) -> int | None:
        return _optional_amount(self.paid_edit.text(), self._money.exponent)

    @property
    def payer_reference(self) -> str:
        return self.reference_edit.text().strip()

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def problem(self) -> str:
        for edit in (self.approved_edit, self.paid_edit):
            if edit.text().strip():
                try:
                    if parse_amount(edit.text(), self._money.exponent) < 0:
                        return "An amount cannot be negative."
                except MoneyError as exc:
                    return str(exc)
        if self.status == "rejected" and not self.reason:
            return "Give the payer's reason for the rejection."
        return ""


class AddPolicyDialog(BillingDialog):
    """A patient's cover: payer, policy number, dates, covered categories, co-payment, limit."""

    def __init__(
        self, payers: Sequence[PayerChoice], money: Money, today: date, parent: QWidget | None
    ) -> None:
        super().__init__("Add an insurance policy", "Add policy", parent)
        self._money = money
        self.payer_combo = QComboBox()
        for payer in payers:
            self.payer_combo.addItem(payer.name, payer.id)
        self.number_edit = QLineEdit()
        self.number_edit.setMaxLength(60)
        self.holder_edit = QLineEdit()
        self.holder_edit.setPlaceholderText("When not the patient")
        self.from_edit = QDateEdit(QDate(today.year, today.month, today.day))
        self.from_edit.setCalendarPopup(True)
        self.from_edit.setDisplayFormat("yyyy-MM-dd")
        grid = QGridLayout()
        self.category_boxes: dict[str, QCheckBox] = {}
        for n, category in enumerate(CATEGORIES):
            box = QCheckBox(CATEGORY_NAMES.get(category, category))
            box.setChecked(category != "other")
            self.category_boxes[category] = box
            grid.addWidget(box, n // 2, n % 2)
        self.copay_edit = QLineEdit("0")
        self.limit_edit = QLineEdit()
        self.limit_edit.setPlaceholderText("No yearly limit")
        self.form.addRow("Payer", self.payer_combo)
        self.form.addRow("Policy number", self.number_edit)
        self.form.addRow("Holder", self.holder_edit)
        self.form.addRow("Valid from", self.from_edit)
        self.form.addRow("Covers", grid)
        self.form.addRow("Co-payment %", self.copay_edit)
        self.form.addRow(f"Yearly limit ({money.currency})", self.limit_edit)
        if not payers:
            self.error_label.setText("No insurance payer is set up yet (the admin adds them).")
            self.ok_button.setEnabled(False)
        self.finish_layout()

    @property
    def payer_id(self) -> uuid.UUID | None:
        return self.payer_combo.currentData()

    @property
    def policy_number(self) -> str:
        return self.number_edit.text().strip()

    @property
    def holder_name(self) -> str:
        return self.holder_edit.text().strip()

    @property
    def valid_from(self) -> date:
        return self.from_edit.date().toPython()

    @property
    def categories(self) -> list[str]:
        return [c for c, box in self.category_boxes.items() if box.isChecked()]

    @property
    def copay_percent(self) -> Decimal:
        return Decimal(self.copay_edit.text().strip() or "0")

    @property
    def annual_limit(self) -> int | None:
        return _optional_amount(self.limit_edit.text(), self._money.exponent)

    def problem(self) -> str:
        if self.payer_id is None:
            return "Choose the payer."
        if not self.policy_number:
            return "Type the policy number from the insurance card."
        if not self.categories:
            return "Tick at least one kind of care the policy covers."
        try:
            copay = self.copay_percent
        except InvalidOperation:
            return "The co-payment is a percentage, for example 20."
        if not Decimal(0) <= copay <= Decimal(100):
            return "The co-payment is between 0 and 100 percent."
        if self.limit_edit.text().strip():
            return amount_problem(self.limit_edit.text(), self._money.exponent)
        return ""
