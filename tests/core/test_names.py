from hms_core.rules.contact import phone_digits, phone_problem
from hms_core.rules.names import (
    fold,
    name_tokens,
    names_look_alike,
    prefix_upper_bound,
    query_tokens,
)


def test_fold_removes_accents_and_case():
    assert fold("José Ñúñez") == "jose nunez"
    assert fold("MÜLLER") == "muller"
    assert fold("Straße") == "strasse"
    assert fold("Łukasz Yılmaz Đặng") == "lukasz yilmaz dang"


def test_tokens_split_on_punctuation():
    assert name_tokens("Anne-Marie", "O'Brien") == {"anne", "marie", "o", "brien"}
    assert query_tokens("  nun  JO ") == ["nun", "jo"]


def test_similar_names_are_recognised():
    assert names_look_alike("Maria García", "Maria Garcia")
    assert names_look_alike("Jon Smith", "John Smith")
    assert names_look_alike("Smith John", "John Smith")
    assert names_look_alike("Katherine Jones", "Catherine Jones")


def test_different_names_are_not_confused():
    assert not names_look_alike("Maria García", "Omar Haddad")
    assert not names_look_alike("Ana Silva", "Hugo Schmidt")


def test_prefix_bound_covers_exactly_the_prefix():
    assert prefix_upper_bound("jo") == "jp"
    assert prefix_upper_bound("az") == "b"
    assert prefix_upper_bound("a9") == "aa"
    assert prefix_upper_bound("zz") is None
    for word in ["jo", "jones", "jozzz", "jo9"]:
        assert "jo" <= word < prefix_upper_bound("jo")
    assert not prefix_upper_bound("jo") > "jp"


def test_phone_rules():
    assert phone_problem("+1 (555) 010-2030") is None
    assert phone_digits("+1 (555) 010-2030") == "15550102030"
    assert "at least" in phone_problem("12345")
    assert "at most" in phone_problem("+1234567890123456")
    assert "only digits" in phone_problem("call me maybe")
