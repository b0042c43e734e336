import pytest
from hypothesis import given
from hypothesis import strategies as st

from hms_core.rules.mrn import is_valid_mrn, luhn_check_digit, make_mrn


def test_known_luhn_values():
    # The textbook example: 7992739871 has check digit 3.
    assert luhn_check_digit("7992739871") == 3
    assert is_valid_mrn("79927398713")
    assert not is_valid_mrn("79927398710")


def test_mrn_format():
    assert make_mrn(1_000_000) == "10000008"
    assert len(make_mrn(42)) == 8
    assert is_valid_mrn(make_mrn(42))


@given(st.integers(min_value=0, max_value=9_999_999))
def test_every_generated_mrn_is_valid(serial):
    assert is_valid_mrn(make_mrn(serial))


@given(st.integers(min_value=0, max_value=9_999_999), st.integers(0, 7), st.integers(1, 9))
def test_a_single_mistyped_digit_is_always_caught(serial, position, delta):
    mrn = make_mrn(serial)
    typo = mrn[:position] + str((int(mrn[position]) + delta) % 10) + mrn[position + 1 :]
    assert not is_valid_mrn(typo)


@given(st.integers(min_value=0, max_value=9_999_999), st.integers(0, 6))
def test_swapped_neighbours_are_caught_unless_equal(serial, position):
    mrn = make_mrn(serial)
    a, b = mrn[position], mrn[position + 1]
    swapped = mrn[:position] + b + a + mrn[position + 2 :]
    if {a, b} not in ({"0", "9"},) and a != b:
        assert not is_valid_mrn(swapped)


@pytest.mark.parametrize("text", ["", "1", "abc12345", "1000 0008", "-10000008"])
def test_garbage_is_not_an_mrn(text):
    assert not is_valid_mrn(text)
