"""Lab result flags at the range boundaries, by sex and age."""

from datetime import date
from decimal import Decimal

import pytest

from hms_core.catalogues import RefRange, analyte, reference_range
from hms_core.rules.lab_flags import age_days, flag, is_critical

ADULT = age_days(date(1980, 5, 1), date(2026, 12, 6))


def flag_for(loinc: str, value: str, sex: str = "female", age: int = ADULT) -> str:
    return flag(Decimal(value), reference_range(analyte(loinc), sex, age))


@pytest.mark.parametrize(
    ("value", "sex", "expected"),
    [
        ("120", "female", "N"),  # equal to the low limit: normal
        ("119", "female", "L"),
        ("120", "male", "L"),
        ("130", "male", "N"),
        ("170", "male", "N"),
        ("171", "male", "H"),
        ("151", "female", "H"),
        ("70", "female", "L"),
        ("69", "female", "LL"),  # equal to the critical limit: critical
        ("200", "male", "HH"),
    ],
)
def test_haemoglobin_for_adults_by_sex(value, sex, expected):
    assert flag_for("718-7", value, sex) == expected


def test_haemoglobin_for_a_child_and_a_newborn():
    child = age_days(date(2021, 1, 1), date(2026, 12, 6))
    assert flag_for("718-7", "112", "male", child) == "N"  # low for a man, normal at 5 years
    assert flag_for("718-7", "109", "male", child) == "L"
    newborn = age_days(date(2026, 12, 1), date(2026, 12, 6))
    assert flag_for("718-7", "200", "female", newborn) == "N"  # high for an adult
    assert flag_for("718-7", "140", "female", newborn) == "L"


def test_white_cells_in_a_child():
    child = 6 * 365
    assert flag_for("6690-2", "13.0", "female", child) == "N"
    assert flag_for("6690-2", "13.0", "female", ADULT) == "H"


def test_potassium_boundaries():
    assert [
        flag_for("2823-3", v) for v in ("3.5", "5.3", "5.4", "6.2", "6.3", "3.4", "2.8", "2.7")
    ] == [
        "N",
        "N",
        "H",
        "H",
        "HH",
        "L",
        "L",
        "LL",
    ]


def test_sodium_glucose_platelets_and_inr_criticals():
    assert (flag_for("2951-2", "120"), flag_for("2951-2", "119")) == ("L", "LL")
    assert (flag_for("2951-2", "160"), flag_for("2951-2", "161")) == ("H", "HH")
    assert (flag_for("2345-7", "2.5"), flag_for("2345-7", "2.4")) == ("L", "LL")
    assert (flag_for("2345-7", "25.0"), flag_for("2345-7", "25.1")) == ("H", "HH")
    assert (flag_for("777-3", "20"), flag_for("777-3", "19")) == ("L", "LL")
    assert (flag_for("6301-6", "5.0"), flag_for("6301-6", "5.1")) == ("H", "HH")


def test_creatinine_differs_by_sex():
    assert flag_for("2160-0", "95", "female") == "H"
    assert flag_for("2160-0", "95", "male") == "N"


def test_troponin_above_the_sex_specific_cut_off_and_critical():
    assert flag_for("89579-7", "20", "female") == "H"
    assert flag_for("89579-7", "20", "male") == "N"
    assert flag_for("89579-7", "64", "male") == "HH"


def test_one_sided_ranges():
    assert flag_for("1988-5", "0") == "N"  # CRP: no low limit
    assert flag_for("1988-5", "6") == "H"
    assert flag_for("2085-9", "1.1", "male") == "N"  # HDL: no high limit
    assert flag_for("2085-9", "1.1", "female") == "L"


def test_neonatal_bilirubin():
    assert flag_for("1975-2", "150", "male", 3) == "N"
    assert flag_for("1975-2", "150", "male", ADULT) == "H"
    assert flag_for("1975-2", "340", "male", 3) == "HH"


def test_no_range_gives_no_flag():
    assert flag(Decimal("9.9"), None) == ""
    assert flag_for("2857-1", "9.0", "female") == ""  # PSA has a range for men only


def test_flag_on_a_bare_range():
    ref = RefRange("any", 0, None, Decimal(1), Decimal(2), Decimal("0.5"), Decimal(3))
    assert [flag(Decimal(v), ref) for v in ("0.5", "0.6", "1", "2", "2.1", "3")] == [
        "LL",
        "L",
        "N",
        "N",
        "H",
        "HH",
    ]
    assert is_critical("LL") and is_critical("HH") and not is_critical("H")


def test_age_days():
    assert age_days(date(2026, 1, 1), date(2026, 1, 1)) == 0
    assert age_days(date(2025, 1, 1), date(2026, 1, 1)) == 365
    assert age_days(date(2027, 1, 1), date(2026, 1, 1)) == 0  # never negative
