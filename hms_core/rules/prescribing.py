"""Safety checks at the moment of prescribing: allergy, duplicate therapy, drug-drug interactions
and dose. Pure: the caller passes the drug, the dose and what it knows of the patient.

Each warning carries a stable `check` id ("allergy:penicillin", "duplicate:J01CA",
"interaction:B01AA03+M01AE01", "dose:high-daily") that an override names.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from hms_core.catalogues import Drug, doses_per_day, drugs, interactions, matches
from hms_core.rules.names import fold

_RANK = {"high": 0, "moderate": 1, "low": 2}
_ALLERGY_SEVERITY = {"severe": "high", "high": "high", "moderate": "moderate", "mild": "low"}
_NOT_DRUGS = {"food", "environment", "environmental"}
_FILLER = {"allergy", "allergic", "to", "of", "substance", "product", "containing", "drug"}
_SYNONYMS = {
    "sulfa": "sulfonamide",
    "sulpha": "sulfonamide",
    "sulphonamide": "sulfonamide",
    "cephalexin": "cefalexin",
    "amoxycillin": "amoxicillin",
    "acetaminophen": "paracetamol",
    "albuterol": "salbutamol",
    "frusemide": "furosemide",
    "salicylic": "salicylate",
}
_UNITS = {"mcg": "µg", "ug": "µg", "μg": "µg", "unit": "units", "iu": "units", "ml": "mL"}
_WORD = re.compile(r"[a-z0-9]+")
_ACRONYMS = {"nsaid": "NSAID", "ssri": "SSRI", "ace": "ACE"}


@dataclass(frozen=True)
class Warning:  # noqa: A001 - the shared API's name for a prescribing warning
    check: str
    kind: str  # allergy | duplicate | interaction | dose
    severity: str  # high | moderate | low
    message: str
    source: str = ""


@dataclass(frozen=True)
class AllergyFact:
    substance: str
    category: str = ""  # medication | food | environment | ""
    severity: str = ""  # mild | moderate | severe


@dataclass(frozen=True)
class CurrentDrug:
    code: str
    name: str
    atc: str = ""
    drug_class: str = ""


def safety_warnings(
    drug: Drug,
    dose: Decimal,
    dose_unit: str,
    frequency: str,
    allergies: list[AllergyFact],
    current: list[CurrentDrug],
) -> list[Warning]:
    """Every warning for prescribing `drug` at this dose to a patient with these allergies who
    takes the `current` drugs; the most severe first."""
    found = [
        *allergy_warnings(drug, allergies),
        *duplicate_warnings(drug, current),
        *interaction_warnings(drug, current),
        *dose_warnings(drug, dose, dose_unit, frequency),
    ]
    return sorted(found, key=lambda w: _RANK.get(w.severity, 3))


# --- allergy ------------------------------------------------------------------------------------


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return _SYNONYMS.get(word, word)


def _terms(text: str) -> list[str]:
    return [_singular(w) for w in _WORD.findall(fold(text)) if w not in _FILLER]


def _contains(words: list[str], term: list[str]) -> bool:
    """Whether `term` appears in `words` as whole words, hyphens and spaces aside
    ("co-trimoxazole" is "cotrimoxazole", "beta-lactam" is "betalactam")."""
    wanted = "".join(term)
    for start in range(len(words)):
        joined = ""
        for word in words[start:]:
            joined += word
            if joined == wanted:
                return True
            if not wanted.startswith(joined):
                break
    return False


def _allergy_match(drug: Drug, substance: str) -> str | None:
    """The drug name or allergy group the recorded substance names, or None."""
    words = _terms(substance)
    for label in (drug.generic, drug.name, *drug.allergy_groups):
        if _contains(words, _terms(label)):
            return label
    return None


def _display(label: str) -> str:
    return " ".join(_ACRONYMS.get(w.lower(), w) for w in label.split())


def allergy_warnings(drug: Drug, allergies: list[AllergyFact]) -> list[Warning]:
    warnings = []
    for allergy in allergies:
        if fold(allergy.category) in _NOT_DRUGS:
            continue
        label = _allergy_match(drug, allergy.substance)
        if label is None:
            continue
        severity = _ALLERGY_SEVERITY.get(fold(allergy.severity), "high")
        grade = f"{fold(allergy.severity)} " if fold(allergy.severity) in _ALLERGY_SEVERITY else ""
        message = f"{drug.name}: recorded {grade}allergy to {allergy.substance}"
        if fold(label) not in (fold(drug.name), fold(drug.generic)):
            message += f" ({drug.name} is in the {_display(label)} group)"
        warnings.append(
            Warning(f"allergy:{'-'.join(_terms(label))}", "allergy", severity, message + ".")
        )
    return warnings


# --- duplicate therapy --------------------------------------------------------------------------


def _plural(label: str) -> str:
    return label if label.endswith("s") else f"{label}s"


def _same_atc_group(a: str, b: str) -> bool:
    """Same ATC level 4 (first 5 characters), ignoring the catch-all "other ..." groups (…X)."""
    return len(a) >= 5 and a[:5] == b[:5] and not a[:5].endswith("X")


def known(current: CurrentDrug) -> CurrentDrug:
    """The current drug with the formulary's code, ATC and class when it came without them (an
    imported "Amoxicillin 250 MG Oral Capsule"): found by the generic name in its name."""
    if current.atc:
        return current
    words = _terms(current.name)
    for drug in sorted(drugs(), key=lambda d: -len(d.generic)):
        if _contains(words, _terms(drug.generic)) or _contains(words, _terms(drug.name)):
            return CurrentDrug(drug.code, current.name, drug.atc, drug.drug_class)
    return current


def duplicate_warnings(drug: Drug, current: list[CurrentDrug]) -> list[Warning]:
    warnings = []
    same_class = f"both {_plural(_display(drug.drug_class))}"
    for other in map(known, current):
        if other.code == drug.code and other.name != drug.name:
            check, message = (
                f"duplicate:{drug.code}",
                f"{drug.name} is already prescribed ({other.name}).",
            )
        elif other.code == drug.code:
            check, message = f"duplicate:{drug.code}", f"{drug.name} is already prescribed."
        elif _same_atc_group(drug.atc, other.atc):
            why = same_class if fold(other.drug_class) == fold(drug.drug_class) else ""
            why = why or f"same drug group, ATC {drug.atc[:5]}"
            check, message = (
                f"duplicate:{drug.atc[:5]}",
                f"{drug.name} duplicates {other.name} ({why}).",
            )
        elif other.drug_class and fold(other.drug_class) == fold(drug.drug_class):
            check = f"duplicate:{fold(drug.drug_class).replace(' ', '-')}"
            message = f"{drug.name} duplicates {other.name} ({same_class})."
        else:
            continue
        warnings.append(Warning(check, "duplicate", "moderate", message))
    return warnings


# --- interactions -------------------------------------------------------------------------------


def _picked(selectors: list[str], atc: str, drug_class: str) -> bool:
    return any(matches(s, atc, drug_class) for s in selectors)


def interaction_warnings(drug: Drug, current: list[CurrentDrug]) -> list[Warning]:
    warnings: list[Warning] = []
    seen: set[str] = set()
    for other in map(known, current):
        if other.code == drug.code:
            continue
        for item in interactions():
            new_a = _picked(item.a, drug.atc, drug.drug_class)
            new_b = _picked(item.b, drug.atc, drug.drug_class)
            old_a = _picked(item.a, other.atc, other.drug_class)
            old_b = _picked(item.b, other.atc, other.drug_class)
            if not ((new_a and old_b) or (new_b and old_a)):
                continue
            pair = sorted([drug.atc or drug.code, other.atc or other.code])
            check = f"interaction:{pair[0]}+{pair[1]}"
            if check in seen:
                continue
            seen.add(check)
            message = f"{drug.name} with {other.name}: {item.effect} {item.advice}"
            warnings.append(Warning(check, "interaction", item.severity, message, item.source))
    return warnings


# --- dose ---------------------------------------------------------------------------------------


def normal_unit(unit: str) -> str:
    """The unit as the formulary writes it: 'mcg' and 'ug' -> 'µg', 'IU' -> 'units'."""
    unit = unit.strip()
    return _UNITS.get(unit.lower(), unit)


def _amount(value: Decimal, unit: str) -> str:
    return f"{value.normalize():f} {unit}"


def dose_warnings(drug: Drug, dose: Decimal, dose_unit: str, frequency: str) -> list[Warning]:
    if normal_unit(dose_unit) != normal_unit(drug.dose_unit):
        message = f"Dose unit {dose_unit} does not match the formulary's {drug.dose_unit}."
        return [Warning("dose:unit", "dose", "high", message)]
    unit = drug.dose_unit
    warnings = []
    if drug.weekly and frequency.strip().upper() != "WEEKLY":
        message = f"{drug.name} is given once a week, not {frequency}."
        warnings.append(Warning("dose:weekly", "dose", "high", message))
    per_day = doses_per_day(frequency, drug, dose)
    daily = dose * per_day if per_day is not None else None
    if daily is not None and daily > drug.max_daily:
        message = (
            f"Daily dose {_amount(daily, unit)} ({_amount(dose, unit)} {frequency}) is above "
            f"the maximum of {_amount(drug.max_daily, unit)} a day."
        )
        warnings.append(Warning("dose:high-daily", "dose", "high", message))
    usual = f"usual dose {_amount(drug.usual_dose_min, unit)}–{_amount(drug.usual_dose_max, unit)}"
    if dose > drug.usual_dose_max:
        message = f"{drug.name} {_amount(dose, unit)} is above the {usual}."
        warnings.append(Warning("dose:high", "dose", "moderate", message))
    elif dose < drug.usual_dose_min:
        message = f"{drug.name} {_amount(dose, unit)} is below the {usual}."
        warnings.append(Warning("dose:low", "dose", "moderate", message))
    return warnings
