"""Flags for lab results against a reference range: normal, low, high, critically low or high.

A value equal to a reference limit is normal; a value equal to a critical limit is critical.
"""

from datetime import date
from decimal import Decimal

from hms_core.catalogues import RefRange

NORMAL, LOW, HIGH, CRITICAL_LOW, CRITICAL_HIGH = "N", "L", "H", "LL", "HH"
LABELS = {
    NORMAL: "normal",
    LOW: "low",
    HIGH: "high",
    CRITICAL_LOW: "critically low",
    CRITICAL_HIGH: "critically high",
}


def flag(value: Decimal, ref: RefRange | None) -> str:
    """'N', 'L', 'H', 'LL' or 'HH' for `value` in `ref`; '' when there is no range."""
    if ref is None:
        return ""
    if ref.critical_low is not None and value <= ref.critical_low:
        return CRITICAL_LOW
    if ref.critical_high is not None and value >= ref.critical_high:
        return CRITICAL_HIGH
    if ref.low is not None and value < ref.low:
        return LOW
    if ref.high is not None and value > ref.high:
        return HIGH
    return NORMAL


def is_critical(code: str) -> bool:
    return code in (CRITICAL_LOW, CRITICAL_HIGH)


def age_days(birth_date: date, on: date) -> int:
    """Whole days of age on `on` (0 on the day of birth; never negative)."""
    return max((on - birth_date).days, 0)
