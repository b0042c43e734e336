"""Taking money (a payment against an invoice, or a deposit on account) and paying it back."""

import uuid
from collections.abc import Sequence

from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLineEdit, QRadioButton, QWidget

from hms_core.rules.money import parse_amount
from hms_core.schemas.billing import InvoiceView, PaymentView
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.billing.dialogs import MIN_REASON, BillingDialog, amount_problem
from hms_desktop.workspaces.billing.models import METHODS, Money, invoice_number

PAPERS = (("a4", "A4 page"), ("thermal", "80 mm receipt printer"))
REFERENCE_NEEDED = {
    "card": "Type the card terminal's reference (on its slip).",
    "online": "Type the payment provider's reference.",
}
REFERENCE_HINTS = {
    "card": "Card terminal reference (required)",
    "online": "Payment provider reference (required)",
}


def _method_combo(methods: Sequence[str]) -> QComboBox:
    combo = QComboBox()
    for method in methods:
        combo.addItem(METHODS[method], method)
    return combo


class TakePaymentDialog(BillingDialog):
    """Method, amount (the chosen invoice's balance to start with), payment or deposit, and the
    paper the receipt is printed on."""

    def __init__(
        self,
        invoices: Sequence[InvoiceView],
        chosen: uuid.UUID | None,
        money: Money,
        parent: QWidget | None,
        paper: str = "a4",
    ) -> None:
        super().__init__("Take a payment", "Take payment", parent)
        self._money = money
        self._balances = {i.id: i.balance for i in invoices}
        self.payment_radio = QRadioButton("Payment of an invoice")
        self.deposit_radio = QRadioButton("Deposit on account")
        self.kind_group = QButtonGroup(self)
        kind_row = QHBoxLayout()
        for radio in (self.payment_radio, self.deposit_radio):
            self.kind_group.addButton(radio)
            kind_row.addWidget(radio)
        kind_row.addStretch(1)
        self.invoice_combo = QComboBox()
        for invoice in invoices:
            owed = money.with_code(invoice.balance)
            self.invoice_combo.addItem(f"{invoice_number(invoice)} · {owed} due", invoice.id)
        self.method_combo = _method_combo(("cash", "card", "online"))
        self.reference_edit = QLineEdit()
        self.reference_edit.setMaxLength(100)
        self.amount_edit = QLineEdit()
        self.amount_edit.setPlaceholderText(f"Amount in {money.currency}")
        self.paper_combo = QComboBox()
        for key, text in PAPERS:
            self.paper_combo.addItem(text, key)
        self.paper_combo.setCurrentIndex(max(self.paper_combo.findData(paper), 0))
        self.balance_label = styled_label("", "hint")
        self.form.addRow("Kind", kind_row)
        self.form.addRow("Invoice", self.invoice_combo)
        self.form.addRow("", self.balance_label)
        self.form.addRow("Method", self.method_combo)
        self.form.addRow("Reference", self.reference_edit)
        self.form.addRow(f"Amount ({money.currency})", self.amount_edit)
        self.form.addRow("Receipt on", self.paper_combo)
        self.finish_layout()
        self._connect()
        (self.payment_radio if invoices else self.deposit_radio).setChecked(True)
        self.payment_radio.setEnabled(bool(invoices))
        if chosen is not None and self.invoice_combo.findData(chosen) >= 0:
            self.invoice_combo.setCurrentIndex(self.invoice_combo.findData(chosen))
        self._on_kind()
        self._on_method()

    def _connect(self) -> None:
        self.payment_radio.toggled.connect(lambda _on: self._on_kind())
        self.invoice_combo.currentIndexChanged.connect(lambda _i: self._prefill())
        self.method_combo.currentIndexChanged.connect(lambda _i: self._on_method())

    def _on_kind(self) -> None:
        self.invoice_combo.setEnabled(self.payment_radio.isChecked())
        self._prefill()

    def _prefill(self) -> None:
        """Start from what is owed on the chosen invoice."""
        invoice_id = self.invoice_id
        if invoice_id is None:
            self.balance_label.setText("Money kept on the patient's account for later bills.")
            return
        owed = self._balances.get(invoice_id, 0)
        self.balance_label.setText(f"Balance due: {self._money.with_code(owed)}")
        self.amount_edit.setText(self._money(owed) if owed > 0 else "")

    def _on_method(self) -> None:
        self.reference_edit.setPlaceholderText(REFERENCE_HINTS.get(self.method, "Optional"))

    @property
    def invoice_id(self) -> uuid.UUID | None:
        return self.invoice_combo.currentData() if self.payment_radio.isChecked() else None

    @property
    def kind(self) -> str:
        return "payment" if self.payment_radio.isChecked() else "deposit"

    @property
    def method(self) -> str:
        return str(self.method_combo.currentData())

    @property
    def reference(self) -> str:
        return self.reference_edit.text().strip()

    @property
    def amount(self) -> int:
        return parse_amount(self.amount_edit.text(), self._money.exponent)

    @property
    def paper(self) -> str:
        return str(self.paper_combo.currentData())

    def problem(self) -> str:
        if self.kind == "payment" and self.invoice_id is None:
            return "Choose the invoice this payment is for, or take a deposit."
        if self.method in REFERENCE_NEEDED and not self.reference:
            return REFERENCE_NEEDED[self.method]
        return amount_problem(self.amount_edit.text(), self._money.exponent)


class RefundDialog(BillingDialog):
    """Pay back part or all of what is left of a payment or deposit, with a reason."""

    def __init__(self, payment: PaymentView, money: Money, parent: QWidget | None) -> None:
        super().__init__(f"Refund from receipt {payment.receipt_number}", "Refund", parent)
        self._money = money
        left = payment.amount - payment.refunded
        self.left = left
        self.body.insertWidget(
            1, styled_label(f"{money.with_code(left)} of this payment can be refunded.", "hint")
        )
        self.amount_edit = QLineEdit(money(left))
        self.method_combo = _method_combo(("cash", "card", "online"))
        self.method_combo.setCurrentIndex(max(self.method_combo.findData(payment.method), 0))
        self.reference_edit = QLineEdit()
        self.reference_edit.setMaxLength(100)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)
        self.reason_edit.setPlaceholderText("Why the money is paid back")
        self.form.addRow(f"Amount ({money.currency})", self.amount_edit)
        self.form.addRow("Paid back by", self.method_combo)
        self.form.addRow("Reference", self.reference_edit)
        self.form.addRow("Reason", self.reason_edit)
        self.finish_layout()

    @property
    def amount(self) -> int:
        return parse_amount(self.amount_edit.text(), self._money.exponent)

    @property
    def method(self) -> str:
        return str(self.method_combo.currentData())

    @property
    def reference(self) -> str:
        return self.reference_edit.text().strip()

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def problem(self) -> str:
        problem = amount_problem(self.amount_edit.text(), self._money.exponent)
        if problem:
            return problem
        if len(self.reason) < MIN_REASON:
            return "Give the reason for the refund."
        if self.method in REFERENCE_NEEDED and not self.reference:
            return REFERENCE_NEEDED[self.method]
        return ""
