"""What a printed invoice or receipt says: plain frozen values, checked when built, no layout."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hms_core.rules.money import LineAmounts, MoneyError, Totals, line_amounts, totals


def _require(condition: bool, reason: str) -> None:
    """Refuse a document that cannot be printed truthfully, with `reason` in words."""
    if not condition:
        raise ValueError(reason)


def _check_currency(currency: str, exponent: int) -> None:
    """An ISO 4217 style code and a minor-unit exponent between 0 and 4."""
    _require(len(currency) == 3 and currency.isalpha(), f"“{currency}” is not a currency code.")
    _require(0 <= exponent <= 4, "A currency has between 0 and 4 decimal places.")


@dataclass(frozen=True)
class Hospital:
    """The issuer printed in every header."""

    name: str
    address_lines: tuple[str, ...] = ()
    phone: str = ""
    tax_id: str = ""
    logo_path: Path | None = None


@dataclass(frozen=True)
class PartyLine:
    """The patient (or other party) a document is addressed to."""

    name: str
    mrn: str
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvoiceLine:
    """One itemized charge; its amounts come from `line_amounts`, so bad input fails here."""

    description: str
    code: str
    quantity: Decimal
    unit_price: int
    tax_rate: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        """Refuse a line the money rules refuse (negative quantity, negative price ...)."""
        self.amounts()

    def amounts(self) -> LineAmounts:
        """Net, tax and gross of this line in minor units."""
        return line_amounts(self.quantity, self.unit_price, self.tax_rate)


@dataclass(frozen=True)
class Payment:
    """Money received against an invoice."""

    date: date
    method: str
    reference: str
    amount: int

    def __post_init__(self) -> None:
        """A payment is a positive amount; a refund is its own document."""
        if self.amount <= 0:
            raise MoneyError("A payment must be more than zero.")


@dataclass(frozen=True)
class InsuranceSplit:
    """Who pays the invoice total: the patient's share and the payer's (claimed) share."""

    payer_name: str
    policy: str
    patient_share: int
    payer_share: int

    def __post_init__(self) -> None:
        """Neither share may be negative."""
        if self.patient_share < 0 or self.payer_share < 0:
            raise MoneyError("An insurance share cannot be negative.")


@dataclass(frozen=True)
class InvoiceDocument:
    """A final invoice (or credit note when `credit_note_for` names the invoice it corrects)."""

    number: str
    issued: date
    currency: str
    exponent: int
    hospital: Hospital
    patient: PartyLine
    lines: tuple[InvoiceLine, ...]
    insurance: InsuranceSplit | None = None
    payments: tuple[Payment, ...] = ()
    is_copy: bool = False
    credit_note_for: str | None = None

    def __post_init__(self) -> None:
        """Refuse an empty invoice, a bad currency and a split that does not add up."""
        _check_currency(self.currency, self.exponent)
        _require(bool(self.number.strip()), "An invoice needs a number.")
        _require(len(self.lines) > 0, "An invoice needs at least one line.")
        if self.insurance is not None:
            split = self.insurance.patient_share + self.insurance.payer_share
            _require(
                split == self.totals().gross,
                "The insurance shares must add up to the invoice total.",
            )

    def line_amounts(self) -> list[LineAmounts]:
        """Each line's amounts, in line order."""
        return [line.amounts() for line in self.lines]

    def totals(self) -> Totals:
        """Net, tax and gross: sums of the rounded lines."""
        return totals(self.line_amounts())

    def paid(self) -> int:
        """The sum of the payments received."""
        return sum(payment.amount for payment in self.payments)

    def balance_due(self) -> int:
        """What the patient still owes: their share (the gross total, or the patient's share
        when an insurer pays part) less the payments; the insurer's share is claimed apart."""
        owed = self.insurance.patient_share if self.insurance else self.totals().gross
        return owed - self.paid()


@dataclass(frozen=True)
class Receipt:
    """The receipt for one payment, issued on the spot."""

    number: str
    issued: datetime
    currency: str
    exponent: int
    hospital: Hospital
    patient: PartyLine
    payment: Payment
    balance_after: int
    invoice_number: str | None = None
    is_copy: bool = False
    cashier: str = field(default="")
    is_refund: bool = False  # money paid back to the patient

    def __post_init__(self) -> None:
        """Refuse a receipt without a number or with a bad currency."""
        _check_currency(self.currency, self.exponent)
        _require(bool(self.number.strip()), "A receipt needs a number.")
