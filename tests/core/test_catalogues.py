"""The clinical catalogues load, are consistent, and can be searched as a doctor types."""

import json
from decimal import Decimal

import pytest

from hms_core import catalogues
from hms_core.catalogues import (
    FREQUENCIES,
    CatalogueError,
    analyte,
    doses_per_day,
    drug,
    drugs,
    icd10,
    imaging_studies,
    imaging_study,
    interactions,
    lab_test,
    lab_tests,
    matches,
    reference_range,
    search_drugs,
    search_icd10,
)


def test_icd10_covers_the_common_chapters():
    for code in ["A41.9", "C50.9", "E11.9", "E10.9", "I10", "I21.9", "I50.9", "I63.9", "J45.9",
                 "J44.1", "J18.9", "K35.8", "N18.3", "M54.5", "S72.0", "O14.9", "F32.9", "R07.4",
                 "Z88.0"]:  # fmt: skip
        assert icd10(code) is not None, code
    assert len(search_icd10("", limit=10_000)) == 0
    assert len(catalogues._icd10_rows()) >= 400


def test_icd10_lookup_ignores_case_and_spaces():
    assert icd10(" e11.9 ").title == "Type 2 diabetes mellitus without complications"
    assert icd10("X99.99") is None


def test_search_icd10_by_code_prefix():
    found = search_icd10("I2")
    assert found and all(entry.code.startswith("I2") for entry in found)
    assert [e.code for e in search_icd10("e119")] == ["E11.9"]


def test_search_icd10_by_words_in_any_order_and_accents():
    codes = [e.code for e in search_icd10("mellitus 2 type diab", limit=50)]
    assert "E11.9" in codes and "E10.9" not in codes
    assert "J45.9" in [e.code for e in search_icd10("ÁSTHMA")]
    assert [e.code for e in search_icd10("b12 pernicious")] == ["D51.0"]
    assert search_icd10("zzzz") == []
    assert [e.code for e in search_icd10("E11 ketoacidosis")] == ["E11.1"]


def test_search_icd10_respects_the_limit():
    assert len(search_icd10("E", limit=5)) == 5


def test_formulary_has_the_common_drugs_with_consistent_doses():
    names = {d.code for d in drugs()}
    for code in ["paracetamol", "amoxicillin", "co-amoxiclav", "warfarin", "apixaban",
                 "metformin", "insulin-glargine", "salbutamol", "sertraline", "lithium",
                 "methotrexate", "sodium-valproate", "fluconazole"]:  # fmt: skip
        assert code in names, code
    assert len(names) >= 60
    for d in drugs():
        assert 0 < d.usual_dose_min <= d.usual_dose_max <= d.max_daily, d.code
        assert len(d.atc) == 7 and d.strengths and d.forms and d.routes and d.dose_unit


def test_formulary_allergy_groups():
    assert drug("amoxicillin").allergy_groups == ["penicillin", "beta-lactam"]
    assert drug("cefalexin").allergy_groups == ["cephalosporin", "beta-lactam"]
    assert "nsaid" in drug("ibuprofen").allergy_groups
    assert {"nsaid", "salicylate"} <= set(drug("aspirin").allergy_groups)
    assert drug("nope") is None
    assert drug(" Warfarin ").code == "warfarin"


def test_search_drugs_by_name_generic_and_class():
    assert [d.code for d in search_drugs("amox")] == ["amoxicillin", "co-amoxiclav"]
    assert {d.code for d in search_drugs("ssri")} == {"citalopram", "fluoxetine", "sertraline"}
    assert [d.code for d in search_drugs("N02BE01")] == ["paracetamol"]
    assert search_drugs("   ") == []


def test_frequencies_and_prn():
    assert FREQUENCIES["TDS"] == 3 and FREQUENCIES["Q4H"] == 6 and FREQUENCIES["NOCTE"] == 1
    paracetamol = drug("paracetamol")
    assert doses_per_day("PRN", paracetamol, Decimal(1000)) == 4
    assert doses_per_day("qds", paracetamol, Decimal(500)) == 4
    assert doses_per_day("EVERY BLUE MOON", paracetamol, Decimal(500)) is None


def test_every_interaction_names_formulary_drugs_on_both_sides():
    items = interactions()
    assert len(items) >= 30
    for item in items:
        assert item.source and item.effect and item.advice and item.severity in ("high", "moderate")
        for side in (item.a, item.b):
            picked = [d for d in drugs() if any(matches(s, d.atc, d.drug_class) for s in side)]
            assert picked or item.id == "metformin-contrast", item.id


def test_lab_tests_have_units_and_ordered_ranges():
    tests = lab_tests()
    assert len(tests) >= 25
    for test in tests:
        assert test.loinc and test.specimen and test.analytes
        for a in test.analytes:
            if a.value_type == "numeric":
                assert a.unit and a.plausible_low < a.plausible_high, a.code
    fbc = lab_test("fbc")
    assert [a.code for a in fbc.analytes][:3] == ["718-7", "6690-2", "777-3"]
    assert lab_test("BCULT").analytes[0].value_type == "text"
    assert lab_test("NOPE") is None


def test_reference_ranges_by_sex_and_age():
    hb = analyte("718-7")
    adult = 40 * 365
    assert reference_range(hb, "female", adult).low == 120
    assert reference_range(hb, "male", adult).low == 130
    assert reference_range(hb, "unknown", adult).low == 120  # joined: lowest low
    assert reference_range(hb, "unknown", adult).high == 170  # and highest high
    assert reference_range(hb, "male", 5 * 365).low == 110  # a child
    assert reference_range(hb, "female", 3).low == 145  # a newborn
    creat = analyte("2160-0")
    assert reference_range(creat, "female", adult).high == 84
    assert reference_range(creat, "male", adult).high == 104
    assert (
        analyte("1975-2") is not None and reference_range(analyte("1975-2"), "male", 2).high == 200
    )
    assert reference_range(analyte("2857-1"), "female", adult) is None  # PSA: men only


def test_imaging_studies():
    studies = imaging_studies()
    assert len(studies) >= 15
    assert {s.modality for s in studies} == {"xray", "us", "ct", "mri"}
    assert imaging_study("ct-ctpa").name == "CT pulmonary angiogram"
    assert imaging_study("nope") is None


@pytest.fixture
def broken_dir(tmp_path, monkeypatch):
    for name in ["icd10.csv", "formulary.json", "lab_tests.json", "imaging.json",
                 "interactions.json"]:  # fmt: skip
        (tmp_path / name).write_bytes((catalogues.CLINICAL_DIR / name).read_bytes())
    monkeypatch.setattr(catalogues, "CLINICAL_DIR", tmp_path)
    catalogues.clear_caches()
    yield tmp_path
    monkeypatch.undo()
    catalogues.clear_caches()


def _edit(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_drug_with_max_below_min_is_refused(broken_dir):
    _edit(broken_dir / "formulary.json", lambda d: d[0].update(usual_dose_max="1"))
    with pytest.raises(CatalogueError, match="paracetamol"):
        drugs()


def test_a_range_out_of_order_is_refused(broken_dir):
    def swap(data):
        data[0]["analytes"][0]["ranges"][0].update(low="300")

    _edit(broken_dir / "lab_tests.json", swap)
    with pytest.raises(CatalogueError, match="limits must rise"):
        lab_tests()


def test_a_numeric_analyte_without_unit_is_refused(broken_dir):
    _edit(broken_dir / "lab_tests.json", lambda d: d[1]["analytes"][0].update(unit=""))
    with pytest.raises(CatalogueError, match="'unit' is missing"):
        lab_tests()


def test_bad_json_and_bad_icd_codes_are_refused(broken_dir):
    (broken_dir / "imaging.json").write_text("[{", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        imaging_studies()
    (broken_dir / "icd10.csv").write_text("code,title\nI10,Hypertension\nI10,Again\n")
    with pytest.raises(CatalogueError, match="appears twice"):
        search_icd10("I10")


def test_an_unknown_modality_or_selector_is_refused(broken_dir):
    _edit(broken_dir / "imaging.json", lambda d: d[0].update(modality="pet"))
    with pytest.raises(CatalogueError, match="modality"):
        imaging_studies()
    _edit(broken_dir / "interactions.json", lambda d: d[0].update(a=["drug:warfarin"]))
    with pytest.raises(CatalogueError, match="atc:"):
        interactions()


def test_every_numeric_analyte_has_an_adult_range_at_its_precision():
    sex_only = {"2857-1": "male", "21198-7": "female"}  # PSA, hCG
    for test in lab_tests():
        for a in test.analytes:
            if a.value_type != "numeric":
                continue
            for sex in ("female", "male"):
                ref = reference_range(a, sex, 40 * 365)
                assert (ref is None) == (sex_only.get(a.code, sex) != sex), (a.code, sex)
            for ref in a.ranges:
                for limit in (ref.low, ref.high, ref.critical_low, ref.critical_high):
                    assert limit is None or -limit.as_tuple().exponent <= a.decimals, a.code
