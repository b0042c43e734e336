"""The insurance split of a whole invoice (property-based with hypothesis): for every line and
for the invoice, the patient's and the payer's shares add up to the gross to the minor unit;
the payer never pays more than its limit or for what it does not cover; credit notes mirror."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hms_core.rules.coverage import Cover, CoveredLine, categories_of, split_lines
from hms_core.rules.money import MoneyError, line_amounts, round_minor

CATEGORIES = ["consultation", "lab", "imaging", "procedure", "medicine", "other"]
lines = st.lists(
    st.tuples(
        st.sampled_from(CATEGORIES),
        st.decimals(min_value="0.001", max_value="500", places=3),
        st.integers(min_value=0, max_value=10**8),
        st.decimals(min_value=0, max_value=100, places=2),
    ),
    min_size=1,
    max_size=60,
)
covers = st.none() | st.builds(
    Cover,
    categories=st.frozensets(st.sampled_from(CATEGORIES)),
    copay_percent=st.decimals(min_value=0, max_value=100, places=2),
    limit_left=st.none() | st.integers(min_value=0, max_value=10**10),
)


def invoice(raw: list, cover: Cover | None) -> tuple[list[CoveredLine], list]:
    amounts = [line_amounts(q, price, rate) for _, q, price, rate in raw]
    covered = [CoveredLine(cat, a.gross) for (cat, *_), a in zip(raw, amounts, strict=True)]
    return covered, split_lines(covered, cover)


@given(lines, covers)
def test_no_cent_is_made_or_lost_on_any_line_or_in_total(raw, cover) -> None:  # noqa: ANN001
    covered, splits = invoice(raw, cover)
    for line, split in zip(covered, splits, strict=True):
        assert split.patient + split.payer == line.gross
        assert split.patient >= 0 and split.payer >= 0
    gross = sum(line.gross for line in covered)
    assert sum(s.patient for s in splits) + sum(s.payer for s in splits) == gross


@given(lines, covers)
def test_the_payer_pays_only_covered_lines_and_never_beyond_its_limit(raw, cover) -> None:  # noqa: ANN001
    covered, splits = invoice(raw, cover)
    for line, split in zip(covered, splits, strict=True):
        if cover is None or line.category not in cover.categories:
            assert split.payer == 0
    if cover is not None and cover.limit_left is not None:
        assert sum(s.payer for s in splits) <= cover.limit_left


@given(lines, covers)
def test_without_a_limit_each_covered_line_pays_its_rounded_co_payment(raw, cover) -> None:  # noqa: ANN001
    covered, splits = invoice(raw, cover)
    if cover is None or cover.limit_left is not None:
        return
    for line, split in zip(covered, splits, strict=True):
        if line.category in cover.categories:
            expected = round_minor(Decimal(line.gross) * cover.copay_percent / 100)
            assert split.patient == expected


def test_the_limit_is_used_up_line_by_line_in_invoice_order() -> None:
    cover = Cover(frozenset({"lab"}), Decimal(10), limit_left=1000)
    splits = split_lines([CoveredLine("lab", 1000), CoveredLine("lab", 1000)], cover)
    assert [(s.patient, s.payer) for s in splits] == [(100, 900), (900, 100)]


def test_a_negative_line_or_limit_is_refused() -> None:
    with pytest.raises(MoneyError, match="cannot be negative"):
        split_lines([CoveredLine("lab", -1)], None)
    with pytest.raises(MoneyError, match="cannot be negative"):
        split_lines([CoveredLine("lab", 1)], Cover(frozenset({"lab"}), Decimal(0), -5))


def test_a_policy_s_categories_are_read_from_its_column() -> None:
    assert categories_of("lab, imaging,,consultation ") == {"lab", "imaging", "consultation"}
