"""The account page's dialogs for charges and invoices. Each stays open until its change was
saved: a refusal is shown in the dialog, in plain words, and what was typed is kept."""

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.rules.money import MoneyError, parse_amount
from hms_core.schemas.billing import ChargeView, InvoiceView, PolicyView
from hms_desktop.store.billing_views import PricedItem
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.billing.models import Money, quantity_text

MIN_REASON = 3
LINE_ROLE = Qt.ItemDataRole.UserRole


class BillingDialog(QDialog):
    """Title, a form, an error line and Cancel / the action; `submitted` when the action is
    clicked and the form is complete. The caller saves, then `accept()`s or `fail()`s."""

    submitted = Signal()

    def __init__(self, title: str, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(24, 20, 24, 16)
        self.body.setSpacing(10)
        self.body.addWidget(styled_label(title, "dialogTitle"))
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(14)
        self.form.setVerticalSpacing(8)
        self.body.addLayout(self.form)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton(action)
        self.ok_button.setProperty("role", "primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._submit)

    def finish_layout(self) -> None:
        """Append the error line and the buttons under the form."""
        self.body.addWidget(self.error_label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        self.body.addLayout(row)

    def problem(self) -> str:
        """What is still missing or wrong in the form ('' when nothing)."""
        return ""

    def fail(self, message: str) -> None:
        """The change was refused: say why, keep everything typed."""
        self.set_busy(False)
        self.show_problem(message)

    def show_problem(self, message: str) -> None:
        """Say what stops the action, the dialog growing to show all of it."""
        self.error_label.setText(message)
        self.adjustSize()

    def set_busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)

    def _submit(self) -> None:
        problem = self.problem()
        self.show_problem(problem)
        if not problem:
            self.set_busy(True)
            self.submitted.emit()


def parse_quantity(text: str) -> Decimal:
    """A positive quantity with at most three decimals, or MoneyError in words."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise MoneyError(f"“{text}” is not a quantity.") from None
    if not value.is_finite() or value <= 0:
        raise MoneyError("The quantity must be more than zero.")
    if value != value.quantize(Decimal("0.001")):
        raise MoneyError("A quantity has at most three decimal places.")
    return value


def amount_problem(text: str, exponent: int) -> str:
    """Why `text` is not an amount above zero ('' when it is one)."""
    try:
        amount = parse_amount(text, exponent)
    except MoneyError as exc:
        return str(exc)
    return "" if amount > 0 else "The amount must be more than zero."


class AddChargeDialog(BillingDialog):
    """A charge entered by hand: item from the price list, quantity, date and a reason."""

    def __init__(
        self, items: Sequence[PricedItem], money: Money, today: date, parent: QWidget | None
    ) -> None:
        super().__init__("Add a charge", "Add charge", parent)
        self.item_combo = QComboBox()
        for item in items:
            price = money.with_code(item.unit_price)
            self.item_combo.addItem(f"{item.name} ({item.code}) · {price} per {item.unit}", item.id)
        self.quantity_edit = QLineEdit("1")
        self.date_edit = QDateEdit(QDate(today.year, today.month, today.day))
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("Why this charge is added by hand")
        self.form.addRow("Item", self.item_combo)
        self.form.addRow("Quantity", self.quantity_edit)
        self.form.addRow("Service date", self.date_edit)
        self.form.addRow("Reason", self.reason_edit)
        if not items:
            self.error_label.setText("The price list has no priced item yet.")
            self.ok_button.setEnabled(False)
        self.finish_layout()

    @property
    def item_id(self) -> uuid.UUID | None:
        return self.item_combo.currentData()

    @property
    def quantity(self) -> Decimal:
        return parse_quantity(self.quantity_edit.text())

    @property
    def service_date(self) -> date:
        return self.date_edit.date().toPython()

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def problem(self) -> str:
        if self.item_id is None:
            return "Choose an item from the price list."
        try:
            self.quantity  # noqa: B018 - parsed for its error
        except MoneyError as exc:
            return str(exc)
        if len(self.reason) < MIN_REASON:
            return "Give the reason for a charge added by hand."
        return ""


class CreateInvoiceDialog(BillingDialog):
    """Which unbilled charges go on the new draft (all, or one visit's) and which policy."""

    def __init__(
        self,
        charges: Sequence[ChargeView],
        policies: Sequence[PolicyView],
        money: Money,
        parent: QWidget | None,
    ) -> None:
        super().__init__("Create an invoice", "Create draft", parent)
        self._charges, self._money = list(charges), money
        self.scope_combo = QComboBox()
        self.scope_combo.addItem(f"All unbilled charges ({len(charges)})", None)
        visits: dict[uuid.UUID, list[ChargeView]] = {}
        for charge in charges:
            if charge.visit_id is not None:
                visits.setdefault(charge.visit_id, []).append(charge)
        if len(visits) > 1 or (visits and len(visits[next(iter(visits))]) < len(charges)):
            for visit_id, found in visits.items():
                first = min(c.service_date for c in found)
                self.scope_combo.addItem(f"Visit of {first} ({len(found)} charges)", visit_id)
        self.policy_combo = QComboBox()
        self.policy_combo.addItem("No insurance (the patient pays all)", None)
        for policy in policies:
            if policy.active:
                self.policy_combo.addItem(
                    f"{policy.payer_name} · {policy.policy_number}", policy.id
                )
        if self.policy_combo.count() > 1:
            self.policy_combo.setCurrentIndex(1)
        self.total_label = styled_label("", "hint")
        self.scope_combo.currentIndexChanged.connect(self._show_total)
        self.form.addRow("Charges", self.scope_combo)
        self.form.addRow("Insurance", self.policy_combo)
        self.form.addRow("", self.total_label)
        self._show_total()
        self.finish_layout()

    @property
    def visit_id(self) -> uuid.UUID | None:
        return self.scope_combo.currentData()

    @property
    def policy_id(self) -> uuid.UUID | None:
        return self.policy_combo.currentData()

    def _show_total(self) -> None:
        chosen = [c for c in self._charges if self.visit_id in (None, c.visit_id)]
        total = self._money.with_code(sum(c.gross for c in chosen))
        self.total_label.setText(f"{len(chosen)} charges, {total} before insurance.")

    def problem(self) -> str:
        return "" if self._charges else "There are no unbilled charges to put on an invoice."


class CreditNoteDialog(BillingDialog):
    """Choose the lines of a final invoice to credit, and say why."""

    def __init__(self, invoice: InvoiceView, money: Money, parent: QWidget | None) -> None:
        number = invoice.number or "(number pending)"
        super().__init__(f"Credit note for {number}", "Issue credit note", parent)
        self.lines = QListWidget()
        self.lines.setMinimumHeight(160)
        for line in invoice.lines:
            amount = money(line.net + line.tax) + (" with tax" if line.tax else "")
            price = f"{quantity_text(line.quantity)} × {money(line.unit_price)}"
            text = f"{line.description} · {price} = {amount}"
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setData(LINE_ROLE, line.id)
            self.lines.addItem(item)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("Why the invoice is corrected")
        self.form.addRow("Lines to credit", self.lines)
        self.form.addRow("Reason", self.reason_edit)
        self.finish_layout()

    @property
    def line_ids(self) -> list[uuid.UUID]:
        """The ticked lines; an empty list when all are ticked (the whole invoice)."""
        ticked = [
            self.lines.item(n).data(LINE_ROLE)
            for n in range(self.lines.count())
            if self.lines.item(n).checkState() == Qt.CheckState.Checked
        ]
        return [] if len(ticked) == self.lines.count() else ticked

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def problem(self) -> str:
        ticked = any(
            self.lines.item(n).checkState() == Qt.CheckState.Checked
            for n in range(self.lines.count())
        )
        if not ticked:
            return "Tick at least one line to credit."
        if len(self.reason) < MIN_REASON:
            return "Give the reason for the credit note."
        return ""
