"""Pure helpers of the result form: a typed value checked and flagged against the patient's
reference range, and the words shown for ranges and flags."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hms_core.catalogues import RefRange
from hms_core.rules.lab_flags import flag
from hms_desktop.store.lab import AnalyteLine

FLAG_WORDS = {
    "N": "Normal",
    "L": "L · low",
    "H": "H · high",
    "LL": "CRITICAL · low",
    "HH": "CRITICAL · high",
}
CRITICAL = ("LL", "HH")


@dataclass(frozen=True)
class Checked:
    """A typed value as the form judges it: its flag, or why it cannot be saved."""

    flag: str = ""
    problem: str = ""

    @property
    def critical(self) -> bool:
        return self.flag in CRITICAL


def check(line: AnalyteLine, text: str, unit: str) -> Checked:
    """Judge a typed value: a number in the analyte's unit, flagged against its range."""
    text, unit = text.strip(), unit.strip()
    if not text or not line.numeric:
        return Checked()
    if line.unit and unit and unit.casefold() != line.unit.casefold():
        return Checked(problem=f"{line.name} is reported in {line.unit}, not {unit}.")
    value = number(text)
    if value is None:
        return Checked(problem=f"“{text}” is not a number.")
    low, high = line.plausible
    if (low is not None and value < low) or (high is not None and value > high):
        return Checked(
            problem=f"{line.name} of {value} {line.unit} is not possible "
            f"(expected {low} to {high}). Please check the value."
        )
    return Checked(flag=flag(value, line.ref))


def number(text: str) -> Decimal | None:
    """The typed text as a number (a decimal comma accepted), or None."""
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def range_text(ref: RefRange | None) -> str:
    """'3.5–5.1', '< 5.0', '> 40', or '' when the catalogue gives no range."""
    if ref is None:
        return ""
    low, high = ref.low, ref.high
    if low is not None and high is not None:
        return f"{low}–{high}"
    if high is not None:
        return f"≤ {high}"
    if low is not None:
        return f"≥ {low}"
    return ""


def critical_text(ref: RefRange | None) -> str:
    """The critical limits in words, for the range's tooltip."""
    if ref is None:
        return ""
    parts = []
    if ref.critical_low is not None:
        parts.append(f"critical below {ref.critical_low}")
    if ref.critical_high is not None:
        parts.append(f"critical above {ref.critical_high}")
    return ", ".join(parts)


def flag_text(code: str) -> str:
    return FLAG_WORDS.get(code, code)
