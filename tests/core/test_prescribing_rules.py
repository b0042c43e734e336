"""Prescribing safety checks: each fires when it should, says why, and stays quiet otherwise."""

from decimal import Decimal

import pytest

from hms_core.catalogues import drug
from hms_core.rules.prescribing import (
    AllergyFact,
    CurrentDrug,
    allergy_warnings,
    dose_warnings,
    duplicate_warnings,
    interaction_warnings,
    safety_warnings,
)


def taking(*codes: str) -> list[CurrentDrug]:
    found = [drug(code) for code in codes]
    return [CurrentDrug(d.code, d.name, d.atc, d.drug_class) for d in found]


def checks(warnings) -> list[str]:
    return [w.check for w in warnings]


def test_a_safe_prescription_has_no_warnings():
    warnings = safety_warnings(
        drug("paracetamol"),
        Decimal(1000),
        "mg",
        "QDS",
        [AllergyFact("Penicillin", "medication", "severe"), AllergyFact("Peanuts", "food")],
        taking("amlodipine", "atorvastatin", "metformin"),
    )
    assert warnings == []


# --- allergy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "substance", "check"),
    [
        ("amoxicillin", "Penicillins", "allergy:penicillin"),
        ("amoxicillin", "penicillin", "allergy:penicillin"),
        ("co-amoxiclav", "Amoxicillin", "allergy:amoxicillin"),
        ("flucloxacillin", "Penicillin V", "allergy:penicillin"),
        ("cefalexin", "Cephalosporins", "allergy:cephalosporin"),
        ("ceftriaxone", "beta-lactam antibiotics", "allergy:beta-lactam"),
        ("co-trimoxazole", "Sulfonamides", "allergy:sulfonamide"),
        ("co-trimoxazole", "Sulfa drugs", "allergy:sulfonamide"),
        ("co-trimoxazole", "Cotrimoxazole", "allergy:co-trimoxazole"),
        ("piperacillin-tazobactam", "Betalactams", "allergy:beta-lactam"),
        ("cefalexin", "Cephalexin", "allergy:cefalexin"),
        ("ibuprofen", "NSAIDs", "allergy:nsaid"),
        ("aspirin", "Salicylates", "allergy:salicylate"),
        ("aspirin", "ASPIRIN", "allergy:aspirin"),
        ("paracetamol", "Paracétamol", "allergy:paracetamol"),
        ("morphine", "Allergy to morphine", "allergy:morphine"),
    ],
)
def test_allergy_matches_the_drug_its_ingredients_and_its_groups(code, substance, check):
    warnings = allergy_warnings(drug(code), [AllergyFact(substance, "medication", "severe")])
    assert checks(warnings) == [check]
    assert warnings[0].severity == "high"
    assert substance in warnings[0].message


def test_allergy_message_explains_the_group():
    (warning,) = allergy_warnings(drug("amoxicillin"), [AllergyFact("Penicillins", "medication")])
    assert warning.message == (
        "Amoxicillin: recorded allergy to Penicillins (Amoxicillin is in the penicillin group)."
    )
    (warning,) = allergy_warnings(drug("ibuprofen"), [AllergyFact("NSAIDs")])
    assert "NSAID group" in warning.message


def test_allergy_severity_follows_the_record():
    def severity(grade: str) -> str:
        return allergy_warnings(drug("amoxicillin"), [AllergyFact("penicillin", "", grade)])[
            0
        ].severity

    assert (severity("severe"), severity("moderate"), severity("mild"), severity("")) == (
        "high",
        "moderate",
        "low",
        "high",
    )


def test_food_and_environment_allergies_never_match_drugs():
    allergies = [AllergyFact("Penicillin mould", "environment"), AllergyFact("Egg", "food")]
    assert allergy_warnings(drug("amoxicillin"), allergies) == []


def test_unrelated_allergies_do_not_match():
    allergies = [AllergyFact("Penicillins", "medication"), AllergyFact("Latex", "")]
    assert allergy_warnings(drug("clarithromycin"), allergies) == []
    assert allergy_warnings(drug("trimethoprim"), [AllergyFact("Sulfonamides")]) == []


# --- duplicate therapy --------------------------------------------------------------------------


def test_duplicate_by_drug_class():
    (warning,) = duplicate_warnings(drug("amoxicillin"), taking("co-amoxiclav"))
    assert warning.message == "Amoxicillin duplicates Co-amoxiclav (both penicillins)."
    assert warning.severity == "moderate" and warning.check == "duplicate:penicillin"


def test_duplicate_by_atc_group():
    (warning,) = duplicate_warnings(drug("naproxen"), taking("ibuprofen"))
    assert warning.check == "duplicate:M01AE"
    assert warning.message == "Naproxen duplicates Ibuprofen (both NSAIDs)."
    assert checks(duplicate_warnings(drug("citalopram"), taking("sertraline"))) == [
        "duplicate:N06AB"
    ]


def test_the_same_drug_again_is_a_duplicate():
    (warning,) = duplicate_warnings(drug("ramipril"), taking("ramipril"))
    assert warning.message == "Ramipril is already prescribed."


def test_imported_drugs_without_codes_are_recognised_by_name():
    imported = [CurrentDrug("urn:rxnorm:308182", "Amoxicillin 250 MG Oral Capsule")]
    (warning,) = duplicate_warnings(drug("amoxicillin"), imported)
    assert warning.message == "Amoxicillin is already prescribed (Amoxicillin 250 MG Oral Capsule)."
    imported = [CurrentDrug("urn:rxnorm:855332", "Warfarin Sodium 5 MG Oral Tablet")]
    (warning,) = interaction_warnings(drug("naproxen"), imported)
    assert warning.check == "interaction:B01AA03+M01AE02"
    assert duplicate_warnings(drug("naproxen"), [CurrentDrug("x", "Some herbal tea")]) == []


def test_no_duplicate_for_different_classes_or_catch_all_atc_groups():
    assert duplicate_warnings(drug("amoxicillin"), taking("clarithromycin", "metformin")) == []
    # N03AX holds unrelated "other antiepileptics": not a duplicate by ATC alone
    assert duplicate_warnings(drug("levetiracetam"), taking("gabapentin")) == []
    # basal and rapid-acting insulin together are the usual regimen
    assert duplicate_warnings(drug("insulin-glargine"), taking("insulin-aspart")) == []


# --- interactions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "current", "severity"),
    [
        ("ibuprofen", "warfarin", "high"),
        ("clarithromycin", "warfarin", "high"),
        ("ciprofloxacin", "warfarin", "high"),
        ("metronidazole", "warfarin", "high"),
        ("fluconazole", "warfarin", "high"),
        ("amiodarone", "warfarin", "high"),
        ("clarithromycin", "simvastatin", "high"),
        ("spironolactone", "ramipril", "moderate"),
        ("spironolactone", "losartan", "moderate"),
        ("trimethoprim", "methotrexate", "high"),
        ("naproxen", "lithium", "high"),
        ("lisinopril", "lithium", "high"),
        ("furosemide", "lithium", "high"),
        ("amiodarone", "digoxin", "high"),
        ("tramadol", "sertraline", "high"),
        ("omeprazole", "clopidogrel", "moderate"),
        ("diazepam", "morphine", "high"),
        ("citalopram", "haloperidol", "high"),
        ("clarithromycin", "haloperidol", "high"),
    ],
)
def test_curated_interactions_fire_in_either_order(new, current, severity):
    for a, b in ((new, current), (current, new)):
        (warning,) = interaction_warnings(drug(a), taking(b))
        assert warning.severity == severity and warning.kind == "interaction"
        assert warning.source
    assert checks(interaction_warnings(drug(new), taking(current))) == checks(
        interaction_warnings(drug(current), taking(new))
    )


def test_interaction_message_and_check_id():
    (warning,) = interaction_warnings(drug("ibuprofen"), taking("warfarin"))
    assert warning.check == "interaction:B01AA03+M01AE01"
    assert warning.message.startswith("Ibuprofen with Warfarin: bleeding risk")
    assert warning.source == "BNF Appendix 1 (Interactions)"
    (warning,) = interaction_warnings(drug("oxycodone"), taking("lorazepam"))
    assert "FDA Drug Safety Communication 2016" in warning.source


def test_no_interaction_for_a_safe_pair():
    assert interaction_warnings(drug("clopidogrel"), taking("lansoprazole")) == []
    assert interaction_warnings(drug("paracetamol"), taking("warfarin", "sertraline")) == []


# --- dose ---------------------------------------------------------------------------------------


def test_a_usual_dose_is_quiet():
    assert dose_warnings(drug("amoxicillin"), Decimal(500), "mg", "TDS") == []
    assert dose_warnings(drug("digoxin"), Decimal("62.5"), "mcg", "OD") == []  # mcg = µg


def test_dose_above_the_usual_single_dose():
    (warning,) = dose_warnings(drug("amoxicillin"), Decimal(1500), "mg", "BD")
    assert warning.check == "dose:high" and warning.severity == "moderate"
    assert warning.message == "Amoxicillin 1500 mg is above the usual dose 250 mg–1000 mg."


def test_dose_below_the_usual_single_dose():
    (warning,) = dose_warnings(drug("amoxicillin"), Decimal(100), "mg", "TDS")
    assert warning.check == "dose:low" and warning.severity == "moderate"


def test_daily_dose_above_the_maximum_is_high():
    (warning,) = dose_warnings(drug("paracetamol"), Decimal(1000), "mg", "Q4H")
    assert warning.check == "dose:high-daily" and warning.severity == "high"
    assert warning.message == (
        "Daily dose 6000 mg (1000 mg Q4H) is above the maximum of 4000 mg a day."
    )
    assert dose_warnings(drug("paracetamol"), Decimal(1000), "mg", "QDS") == []


def test_prn_is_limited_by_the_maximum_daily_dose():
    assert dose_warnings(drug("paracetamol"), Decimal(1000), "mg", "PRN") == []
    assert checks(dose_warnings(drug("paracetamol"), Decimal(5000), "mg", "PRN")) == [
        "dose:high-daily",
        "dose:high",
    ]


def test_a_unit_mismatch_is_its_own_warning():
    (warning,) = dose_warnings(drug("digoxin"), Decimal(125), "mg", "OD")
    assert warning.check == "dose:unit" and warning.severity == "high"
    assert warning.message == "Dose unit mg does not match the formulary's µg."


def test_methotrexate_daily_is_refused_as_weekly_only():
    assert dose_warnings(drug("methotrexate"), Decimal(10), "mg", "WEEKLY") == []
    (warning,) = dose_warnings(drug("methotrexate"), Decimal(10), "mg", "OD")
    assert warning.check == "dose:weekly" and warning.severity == "high"


def test_all_checks_together_most_severe_first():
    warnings = safety_warnings(
        drug("ibuprofen"),
        Decimal(800),
        "mg",
        "QDS",
        [AllergyFact("Aspirin", "medication", "moderate")],
        taking("naproxen", "warfarin"),
    )
    assert set(checks(warnings)) == {
        "duplicate:M01AE",
        "interaction:B01AA03+M01AE01",
        "dose:high-daily",
    }
    assert [w.severity for w in warnings] == ["high", "high", "moderate"]
