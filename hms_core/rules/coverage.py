"""The insurance split of an invoice: which lines a policy covers, the co-payment on each,
and the payer's yearly limit. Pure: the caller finds the policy and what it has paid already.

Each covered line is split with `money.insurance_split` (co-payment rounded half up, the payer
the rest); the limit is used up line by line in invoice order, and what exceeds it falls back
to the patient. Uncovered lines are the patient's. So for every line, and for the invoice,
patient share + payer share == gross, to the minor unit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from hms_core.rules.money import MoneyError, Split, insurance_split


@dataclass(frozen=True)
class Cover:
    """What a policy pays: the categories, the co-payment percent, the limit left this year."""

    categories: frozenset[str]
    copay_percent: Decimal
    limit_left: int | None = None  # None: no limit


@dataclass(frozen=True)
class CoveredLine:
    category: str
    gross: int


def split_lines(lines: Sequence[CoveredLine], cover: Cover | None) -> list[Split]:
    """Each line's patient and payer share (all the patient's when `cover` is None)."""
    if cover is not None and cover.limit_left is not None and cover.limit_left < 0:
        raise MoneyError("An insurance limit cannot be negative.")
    left = None if cover is None else cover.limit_left
    splits: list[Split] = []
    for line in lines:
        if line.gross < 0:
            raise MoneyError("A line amount cannot be negative.")
        if cover is None or line.category not in cover.categories:
            splits.append(Split(patient=line.gross, payer=0))
            continue
        split = insurance_split(line.gross, cover.copay_percent, left)
        if left is not None:
            left -= split.payer
        splits.append(split)
    return splits


def categories_of(text: str) -> frozenset[str]:
    """The categories of a policy's comma-separated column."""
    return frozenset(part.strip() for part in text.split(",") if part.strip())
