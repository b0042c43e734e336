"""Money arithmetic for bills: integer minor units, never floats, and never a cent made or lost.

Amounts are whole numbers of the currency's minor unit (cents for USD, none for JPY: the
currency's `exponent`). Rates (tax, co-payment) are `Decimal` percentages. Every rounding
happens once, at a stated place, half up (away from zero for negative amounts, as a credit
note mirrors its invoice):

- a line: net = quantity x unit price, rounded to the minor unit; tax = net x rate, rounded;
  gross = net + tax. Invoice totals are sums of rounded lines, so the printed lines always add
  up to the printed total.
- a split (insurance): the patient's co-payment is rounded, the payer's share is the rest, so
  the two always sum to the amount; a payer limit moves the excess back to the patient.
- an allocation (one payment over several invoices, a discount over lines): largest remainder,
  so the parts sum to the whole and each part is within one minor unit of its exact share.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)
MAX_MINOR = 10**15  # larger than any hospital bill: a typing error or an attack


class MoneyError(ValueError):
    """An amount, quantity or rate that cannot be used, said in words a cashier understands."""


def round_minor(value: Decimal) -> int:
    """`value` (in minor units) rounded half up, away from zero for negative values."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_amount(text: str, exponent: int = 2) -> int:
    """'1,234.50' -> 123450 minor units (exponent 2); refuses more decimals than the currency
    has, and anything that is not a plain number."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError(f"“{text}” is not an amount.") from None
    if not value.is_finite():
        raise MoneyError(f"“{text}” is not an amount.")
    if abs(value) >= Decimal(MAX_MINOR).scaleb(-exponent):
        raise MoneyError(f"“{text}” is too large for an amount.")
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"“{text}” has more than {exponent} decimal places.")
    return int(scaled)


def format_amount(minor: int, exponent: int = 2, currency: str = "") -> str:
    """123450 -> '1,234.50' (with the currency code in front when given)."""
    sign = "-" if minor < 0 else ""
    units, fraction = divmod(abs(minor), 10**exponent)
    text = f"{units:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    return f"{currency} {sign}{text}".strip() if currency else f"{sign}{text}"


@dataclass(frozen=True)
class LineAmounts:
    """One invoice line's money: net (before tax), tax and gross, in minor units."""

    net: int
    tax: int

    @property
    def gross(self) -> int:
        return self.net + self.tax


def line_amounts(
    quantity: Decimal | int, unit_price: int, tax_rate: Decimal = Decimal(0)
) -> LineAmounts:
    """The amounts of `quantity` x `unit_price` (minor units) with `tax_rate` percent tax.
    A negative quantity is refused: a correction is a credit note, not a negative line."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise MoneyError("The quantity must be more than zero.")
    if unit_price < 0:
        raise MoneyError("A price cannot be negative.")
    if not 0 <= tax_rate <= HUNDRED:
        raise MoneyError("A tax rate must be between 0 and 100 percent.")
    net = round_minor(quantity * unit_price)
    return LineAmounts(net=net, tax=round_minor(net * tax_rate / HUNDRED))


@dataclass(frozen=True)
class Totals:
    net: int
    tax: int

    @property
    def gross(self) -> int:
        return self.net + self.tax


def totals(lines: Sequence[LineAmounts]) -> Totals:
    """The invoice totals: sums of the already rounded lines."""
    return Totals(net=sum(line.net for line in lines), tax=sum(line.tax for line in lines))


def allocate(amount: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split `amount` in proportion to `weights` by largest remainder: the parts sum to
    `amount` exactly and each is within one minor unit of its exact share."""
    if not weights:
        raise MoneyError("Nothing to share the amount over.")
    if any(w < 0 for w in weights):
        raise MoneyError("Shares cannot be negative.")
    total = sum(Decimal(w) for w in weights)
    if total == 0:
        raise MoneyError("Nothing to share the amount over.")
    exact = [Decimal(amount) * Decimal(w) / total for w in weights]
    parts = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    left = amount - sum(parts)
    order = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Split:
    """Who pays what of an amount: the patient and the insurer (payer)."""

    patient: int
    payer: int


def insurance_split(amount: int, copay_percent: Decimal, payer_limit: int | None = None) -> Split:
    """The patient pays `copay_percent` of `amount` (rounded half up) and the payer the rest,
    up to `payer_limit` (what is left of the policy's limit); beyond it the patient pays."""
    if amount < 0:
        raise MoneyError("An amount to split cannot be negative.")
    if not 0 <= copay_percent <= HUNDRED:
        raise MoneyError("A co-payment must be between 0 and 100 percent.")
    if payer_limit is not None and payer_limit < 0:
        raise MoneyError("An insurance limit cannot be negative.")
    patient = round_minor(Decimal(amount) * copay_percent / HUNDRED)
    payer = amount - patient
    if payer_limit is not None and payer > payer_limit:
        patient, payer = amount - payer_limit, payer_limit
    return Split(patient=patient, payer=payer)
