"""The account page's tables: unbilled charges, invoices, payments and claims, with money in
the hospital currency (right-aligned) and statuses in words a cashier uses."""

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from hms_core.rules.money import format_amount
from hms_core.schemas.billing import ChargeView, ClaimView, InvoiceView, PaymentView
from hms_desktop.widgets.messages import local_time
from hms_desktop.widgets.tables import Column, Index, RecordTableModel

R = TypeVar("R")
OWING_INK = "#b42318"
CREDIT_INK = "#067647"
MUTED_INK = "#667085"
PENDING_NUMBER = "pending sync"

INVOICE_STATUS = {"draft": "Draft", "final": "Final", "discarded": "Discarded"}
CLAIM_STATUS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "approved": "Approved",
    "partially_approved": "Partly approved",
    "rejected": "Rejected",
    "paid": "Paid",
}
METHODS = {"cash": "Cash", "card": "Card", "online": "Online", "insurance": "Insurance"}
KINDS = {"payment": "Payment", "deposit": "Deposit", "refund": "Refund"}


class Money:
    """Formats minor units in one currency (set when an account is shown)."""

    def __init__(self, currency: str = "USD", exponent: int = 2) -> None:
        self.currency, self.exponent = currency, exponent

    def __call__(self, minor: int) -> str:
        return format_amount(minor, self.exponent)

    def with_code(self, minor: int) -> str:
        return format_amount(minor, self.exponent, self.currency)


class BillingTableModel(RecordTableModel[R], Generic[R]):
    """A record table whose money columns are right-aligned and may be coloured."""

    def __init__(
        self,
        columns: Sequence[Column[R]],
        right: set[int],
        ink: Callable[[R, int], str | None] | None = None,
        parent: Any = None,  # noqa: ANN401
    ) -> None:
        super().__init__(columns, parent)
        self._right = right
        self._ink = ink

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: ANN401
        if index.isValid() and role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight
                if index.column() in self._right
                else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if index.isValid() and role == Qt.ItemDataRole.ForegroundRole and self._ink is not None:
            colour = self._ink(self.record(index.row()), index.column())
            return QBrush(QColor(colour)) if colour else None
        return super().data(index, role)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: ANN401
        """Money headers sit right, over their amounts."""
        if role == Qt.ItemDataRole.TextAlignmentRole and orientation == Qt.Orientation.Horizontal:
            side = (
                Qt.AlignmentFlag.AlignRight
                if section in self._right
                else Qt.AlignmentFlag.AlignLeft
            )
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        return super().headerData(section, orientation, role)


def quantity_text(value: Decimal) -> str:
    """1.000 -> '1', 2.500 -> '2.5'."""
    text = format(value.normalize(), "f")
    return text


def invoice_number(invoice: InvoiceView) -> str:
    """The number, or why there is none yet."""
    if invoice.number:
        return invoice.number
    return "—" if invoice.status == "draft" else PENDING_NUMBER


def invoice_kind(invoice: InvoiceView) -> str:
    if invoice.kind == "credit_note":
        return f"Credit note for {invoice.credits_number or PENDING_NUMBER}"
    return "Invoice"


def charges_model(money: Money, parent: Any = None) -> BillingTableModel[ChargeView]:  # noqa: ANN401
    columns: list[Column[ChargeView]] = [
        Column("Date", lambda c: c.service_date.isoformat()),
        Column("Description", lambda c: c.description, charge_details),
        Column("Qty", lambda c: quantity_text(c.quantity)),
        Column("Amount", lambda c: money(c.gross), lambda c: charge_price(c, money)),
    ]
    return BillingTableModel(columns, {2, 3}, parent=parent)


def charge_details(charge: ChargeView) -> str:
    source = "entered by hand" if charge.source == "manual" else f"from {charge.source}"
    reason = f": {charge.reason}" if charge.reason else ""
    return f"{charge.code} · {source}{reason}"


def charge_price(charge: ChargeView, money: Money) -> str:
    tax = f" + {quantity_text(charge.tax_rate)}% tax" if charge.tax_rate else ""
    return f"{quantity_text(charge.quantity)} × {money(charge.unit_price)}{tax}"


def invoices_model(money: Money, parent: Any = None) -> BillingTableModel[InvoiceView]:  # noqa: ANN401
    columns: list[Column[InvoiceView]] = [
        Column("Number", invoice_number, invoice_kind),
        Column("Status", invoice_status, lambda i: i.reason or invoice_kind(i)),
        Column("Date", lambda i: local_time(i.finalised_at or i.created_at)[:10]),
        Column("Total", lambda i: money(i.gross)),
        Column("Patient", lambda i: money(i.patient_share)),
        Column("Insurer", lambda i: money(i.payer_share), lambda i: i.payer_name or ""),
        Column("Paid", lambda i: money(i.paid) if _counts(i) else ""),
        Column("Balance", lambda i: money(i.balance) if _counts(i) else ""),
    ]

    def ink(invoice: InvoiceView, column: int) -> str | None:
        if column == 0 and not invoice.number:
            return MUTED_INK
        if column == 7 and _counts(invoice) and invoice.balance:
            return OWING_INK if invoice.balance > 0 else CREDIT_INK
        return None

    return BillingTableModel(columns, {3, 4, 5, 6, 7}, ink, parent)


def invoice_status(invoice: InvoiceView) -> str:
    """Draft, Final, or Credit note."""
    if invoice.kind == "credit_note":
        return "Credit note" if invoice.status == "final" else "Credit (draft)"
    return INVOICE_STATUS.get(invoice.status, invoice.status)


def _counts(invoice: InvoiceView) -> bool:
    """A final invoice (not a credit note or draft) has a paid amount and a balance."""
    return invoice.kind == "invoice" and invoice.status == "final"


def payments_model(money: Money, parent: Any = None) -> BillingTableModel[PaymentView]:  # noqa: ANN401
    columns: list[Column[PaymentView]] = [
        Column("Receipt", lambda p: p.receipt_number, payment_details),
        Column(
            "Date", lambda p: local_time(p.received_at)[:10], lambda p: local_time(p.received_at)
        ),
        Column("Payment", payment_kind, lambda p: p.reference),
        Column("Amount", lambda p: money(p.amount)),
        Column("Refunded", lambda p: money(p.refunded) if p.refunded else ""),
    ]

    def ink(payment: PaymentView, column: int) -> str | None:
        if payment.kind == "refund" and column == 3:
            return OWING_INK
        return None

    return BillingTableModel(columns, {3, 4}, ink, parent)


def payment_kind(payment: PaymentView) -> str:
    """'Cash payment', 'Card deposit', 'Cash refund', 'Insurance payment'."""
    return f"{METHODS.get(payment.method, payment.method)} {payment.kind}"


def payment_details(payment: PaymentView) -> str:
    if payment.invoice_id is None:
        on = "on account"
    else:
        on = f"for invoice {payment.invoice_number or PENDING_NUMBER}"
    return f"{KINDS.get(payment.kind, payment.kind)} {on}, taken by {payment.received_by}"


def claims_model(money: Money, parent: Any = None) -> BillingTableModel[ClaimView]:  # noqa: ANN401
    columns: list[Column[ClaimView]] = [
        Column("Invoice", lambda c: c.invoice_number or PENDING_NUMBER, claim_payer),
        Column("Status", claim_status, lambda c: c.reason or CLAIM_STATUS.get(c.status, "")),
        Column("Claimed", lambda c: money(c.claimed)),
        Column("Approved", lambda c: "" if c.approved is None else money(c.approved)),
        Column("Paid", lambda c: money(c.paid)),
    ]
    return BillingTableModel(columns, {2, 3, 4}, parent=parent)


def claim_status(claim: ClaimView) -> str:
    """The claim's status in a word or two ("Partial" for a partial approval)."""
    if claim.status == "partially_approved":
        return "Partial"
    return CLAIM_STATUS.get(claim.status, claim.status)


def claim_payer(claim: ClaimView) -> str:
    return f"{claim.payer_name}, policy {claim.policy_number}"
