"""Money rules: rounding in minor units, lines, totals, allocations and insurance splits never
create or lose a cent (property-based with hypothesis), and bad input is refused in words."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hms_core.rules.money import (
    LineAmounts,
    MoneyError,
    allocate,
    format_amount,
    insurance_split,
    line_amounts,
    parse_amount,
    round_minor,
    totals,
)

amounts = st.integers(min_value=0, max_value=10**12)
prices = st.integers(min_value=0, max_value=10**9)
quantities = st.decimals(min_value="0.001", max_value="10000", places=3)
rates = st.decimals(min_value=0, max_value=100, places=2)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [("0.5", 1), ("1.5", 2), ("2.4999", 2), ("-0.5", -1), ("-1.5", -2), ("149.85", 150)],
)
def test_half_a_minor_unit_rounds_away_from_zero(value: str, rounded: int) -> None:
    assert round_minor(Decimal(value)) == rounded


def test_a_line_with_tax_rounds_once_per_amount() -> None:
    line = line_amounts(3, 333, Decimal("15"))
    assert (line.net, line.tax, line.gross) == (999, 150, 1149)  # 149.85 -> 150
    assert line_amounts(Decimal("0.5"), 101).net == 51  # half a tablet strip: 50.5 -> 51


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), st.sampled_from([0, 2, 3]))
def test_an_amount_reads_back_as_it_was_written(minor: int, exponent: int) -> None:
    assert parse_amount(format_amount(minor, exponent), exponent) == minor


def test_amounts_are_read_as_a_cashier_types_them() -> None:
    assert parse_amount("1,234.50") == 123450
    assert parse_amount(" 12 ") == 1200
    assert parse_amount("500", exponent=0) == 500
    assert format_amount(123450, currency="KES") == "KES 1,234.50"
    assert format_amount(-5) == "-0.05"


@pytest.mark.parametrize("text", ["12.345", "abc", "", "NaN", "Infinity", "1e400000", "-1e20"])
def test_what_is_not_an_amount_is_refused_in_words(text: str) -> None:
    with pytest.raises(MoneyError, match="amount|decimal places|too large"):
        parse_amount(text)


@given(quantities, prices, rates)
def test_a_line_never_makes_or_loses_a_cent(quantity: Decimal, price: int, rate: Decimal) -> None:
    line = line_amounts(quantity, price, rate)
    assert line.gross == line.net + line.tax
    assert abs(line.net - quantity * price) <= Decimal("0.5")
    assert abs(line.tax - line.net * rate / 100) <= Decimal("0.5")
    assert line.net >= 0 and line.tax >= 0


@given(st.lists(st.tuples(quantities, prices, rates), min_size=1, max_size=200))
def test_the_total_is_the_sum_of_the_printed_lines(items: list) -> None:
    lines = [line_amounts(q, p, r) for q, p, r in items]
    total = totals(lines)
    assert total.net == sum(line.net for line in lines)
    assert total.tax == sum(line.tax for line in lines)
    assert total.gross == sum(line.gross for line in lines)


@pytest.mark.parametrize(
    ("quantity", "price", "rate", "words"),
    [
        (0, 100, Decimal(0), "quantity"),
        (-2, 100, Decimal(0), "quantity"),
        (1, -100, Decimal(0), "price"),
        (1, 100, Decimal(101), "tax rate"),
        (1, 100, Decimal(-1), "tax rate"),
    ],
)
def test_a_line_that_cannot_be_billed_is_refused(quantity, price, rate, words) -> None:  # noqa: ANN001
    with pytest.raises(MoneyError, match=words):
        line_amounts(quantity, price, rate)


@given(amounts, st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=50))
def test_an_allocation_sums_to_the_whole(amount: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        with pytest.raises(MoneyError):
            allocate(amount, weights)
        return
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(amount) * weight / sum(weights)
        assert abs(part - exact) < 1
        assert part >= 0


def test_an_allocation_gives_the_odd_cent_to_the_largest_remainder() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(100, [1, 2]) == [33, 67]
    with pytest.raises(MoneyError, match="negative"):
        allocate(100, [1, -1])


@given(amounts, rates, st.one_of(st.none(), amounts))
def test_an_insurance_split_never_makes_or_loses_a_cent(
    amount: int, copay: Decimal, limit: int | None
) -> None:
    split = insurance_split(amount, copay, limit)
    assert split.patient + split.payer == amount
    assert split.patient >= 0 and split.payer >= 0
    if limit is not None:
        assert split.payer <= limit
    assert split.patient >= amount * copay / 100 - Decimal("0.5")


def test_co_payment_and_limits() -> None:
    assert insurance_split(10_000, Decimal(20)) == insurance_split(10_000, Decimal("20.00"))
    assert (
        insurance_split(10_000, Decimal(20)).patient,
        insurance_split(10_000, Decimal(20)).payer,
    ) == (2000, 8000)
    capped = insurance_split(10_000, Decimal(20), payer_limit=5000)
    assert (capped.patient, capped.payer) == (5000, 5000)  # the limit's excess is the patient's
    assert insurance_split(999, Decimal("12.5")).patient == 125  # 124.875 -> 125
    with pytest.raises(MoneyError, match="co-payment"):
        insurance_split(100, Decimal(120))


def test_line_amounts_are_plain_values() -> None:
    assert LineAmounts(100, 15).gross == 115
