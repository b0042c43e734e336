"""The clinical catalogues shipped in `resources/clinical/`: ICD-10 codes, the formulary, lab tests
with reference ranges, imaging studies and the drug-interaction table.

Each file is read once, checked, and cached. A malformed file raises `CatalogueError` naming the
file and the entry at fault, so a bad edit is caught at start-up rather than at a bedside.
"""

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from hms_core.rules.names import fold

CLINICAL_DIR = Path(__file__).resolve().parents[1] / "resources" / "clinical"

SEXES = ("female", "male", "any")
MODALITIES = ("xray", "us", "ct", "mri")
SEVERITIES = ("high", "moderate", "low")

# Doses per day for each frequency a prescriber can pick. "PRN" (as needed) counts one dose here;
# how many doses a day are allowed comes from the drug's max_daily (see `doses_per_day`).
FREQUENCIES: dict[str, Decimal] = {
    "OD": Decimal(1),
    "BD": Decimal(2),
    "TDS": Decimal(3),
    "QDS": Decimal(4),
    "Q4H": Decimal(6),
    "Q6H": Decimal(4),
    "Q8H": Decimal(3),
    "Q12H": Decimal(2),
    "NOCTE": Decimal(1),
    "MANE": Decimal(1),
    "STAT": Decimal(1),
    "WEEKLY": Decimal(1) / Decimal(7),
    "PRN": Decimal(1),
}


class CatalogueError(ValueError):
    """A catalogue file is missing or malformed."""


@dataclass(frozen=True)
class Icd10:
    code: str
    title: str


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    generic: str
    atc: str
    drug_class: str
    strengths: list[str]
    forms: list[str]
    routes: list[str]
    dose_unit: str
    usual_dose_min: Decimal
    usual_dose_max: Decimal
    max_daily: Decimal
    allergy_groups: list[str]
    weekly: bool = False  # given once a week (methotrexate): any other frequency is an error

    __hash__ = object.__hash__


@dataclass(frozen=True)
class RefRange:
    sex: str  # female | male | any
    age_min_days: int  # inclusive
    age_max_days: int | None  # exclusive; None = no upper age
    low: Decimal | None
    high: Decimal | None
    critical_low: Decimal | None = None
    critical_high: Decimal | None = None


@dataclass(frozen=True)
class Analyte:
    code: str  # LOINC
    name: str
    unit: str  # "" for text results
    decimals: int
    ranges: list[RefRange]
    value_type: str = "numeric"  # numeric | text
    plausible_low: Decimal | None = None  # values outside these are typing errors
    plausible_high: Decimal | None = None

    __hash__ = object.__hash__


@dataclass(frozen=True)
class LabTest:
    code: str
    name: str
    loinc: str
    specimen: str
    analytes: list[Analyte]

    __hash__ = object.__hash__


@dataclass(frozen=True)
class ImagingStudy:
    code: str
    name: str
    modality: str
    body_site: str


@dataclass(frozen=True)
class Interaction:
    """One curated pair: `a` and `b` are selectors "atc:<prefix>" or "class:<drug class>"."""

    id: str
    a: list[str]
    b: list[str]
    severity: str
    effect: str
    advice: str
    source: str

    __hash__ = object.__hash__


# --- reading ------------------------------------------------------------------------------------


def _path(name: str) -> Path:
    path = CLINICAL_DIR / name
    if not path.is_file():
        raise CatalogueError(f"The clinical catalogue {path} is missing.")
    return path


def _json(name: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(_path(name).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise CatalogueError(f"{name} must hold a list of entries.")
    return data


def _dec(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise CatalogueError(f"{where}: {value!r} is not a number.") from exc


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    value = entry.get(key)
    if value in (None, "", []):
        raise CatalogueError(f"{where}: '{key}' is missing.")
    return value


def _unique(items: Iterable[Any], key: Callable[[Any], str], name: str) -> None:
    seen: set[str] = set()
    for item in items:
        k = key(item)
        if k in seen:
            raise CatalogueError(f"{name}: the code {k} appears twice.")
        seen.add(k)


# --- ICD-10 -------------------------------------------------------------------------------------

_ICD_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")
_WORD = re.compile(r"[a-z0-9]+")


@cache
def _icd10_rows() -> tuple[Icd10, ...]:
    rows: list[Icd10] = []
    with _path("icd10.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["code", "title"]:
            raise CatalogueError("icd10.csv must have the header 'code,title'.")
        for line, row in enumerate(reader, start=2):
            code, title = (row["code"] or "").strip(), (row["title"] or "").strip()
            if not _ICD_CODE.match(code) or not title:
                raise CatalogueError(f"icd10.csv line {line}: '{code}' is not a code with a title.")
            rows.append(Icd10(code, title))
    _unique(rows, lambda r: r.code, "icd10.csv")
    return tuple(sorted(rows, key=lambda r: r.code))


@cache
def _icd10_index() -> dict[str, Icd10]:
    return {row.code: row for row in _icd10_rows()}


@cache
def _icd10_words() -> tuple[tuple[Icd10, frozenset[str]], ...]:
    return tuple((row, _icd10_terms(row)) for row in _icd10_rows())


def _icd10_terms(row: Icd10) -> frozenset[str]:
    """The folded words of the title, plus the code and its category ("e119", "e11")."""
    code = row.code.lower()
    return frozenset([*_WORD.findall(fold(row.title)), code.replace(".", ""), code[:3]])


def _normal_code(text: str) -> str:
    return text.strip().upper().replace(" ", "")


def icd10(code: str) -> Icd10 | None:
    """The ICD-10 entry for `code` ("I10", "e11.9"), or None."""
    return _icd10_index().get(_normal_code(code))


def search_icd10(text: str, limit: int = 20) -> list[Icd10]:
    """Entries whose code starts with `text`, else whose title holds every word typed (as word
    beginnings, in any order, case and accents ignored)."""
    query = text.strip()
    if not query:
        return []
    code = _normal_code(query)
    if re.match(r"^[A-Z][0-9]", code):
        bare = code.replace(".", "")
        by_code = [r for r in _icd10_rows() if r.code.replace(".", "").startswith(bare)]
        if by_code:
            return by_code[:limit]
    words = _WORD.findall(fold(query))
    found = [row for row, title in _icd10_words() if _all_words(words, title)]
    return found[:limit]


def _all_words(words: list[str], title: frozenset[str]) -> bool:
    return all(any(t.startswith(w) for t in title) for w in words)


# --- formulary ----------------------------------------------------------------------------------


def _drug(entry: dict[str, Any]) -> Drug:
    where = f"formulary.json, drug {entry.get('code', '?')}"
    lo, hi, daily = (
        _dec(_need(entry, key, where), where) or Decimal(0)
        for key in ("usual_dose_min", "usual_dose_max", "max_daily")
    )
    if not (0 < lo <= hi <= daily):
        raise CatalogueError(f"{where}: doses must satisfy 0 < min <= max <= max daily.")
    atc = str(_need(entry, "atc", where))
    if not re.match(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$", atc):
        raise CatalogueError(f"{where}: '{atc}' is not a 7-character ATC code.")
    return Drug(
        code=str(_need(entry, "code", where)),
        name=str(_need(entry, "name", where)),
        generic=str(_need(entry, "generic", where)),
        atc=atc,
        drug_class=str(_need(entry, "drug_class", where)),
        strengths=list(_need(entry, "strengths", where)),
        forms=list(_need(entry, "forms", where)),
        routes=list(_need(entry, "routes", where)),
        dose_unit=str(_need(entry, "dose_unit", where)),
        usual_dose_min=lo,
        usual_dose_max=hi,
        max_daily=daily,
        allergy_groups=[str(g) for g in entry.get("allergy_groups", [])],
        weekly=bool(entry.get("weekly", False)),
    )


@cache
def drugs() -> tuple[Drug, ...]:
    """Every drug in the formulary, by name."""
    items = [_drug(e) for e in _json("formulary.json")]
    _unique(items, lambda d: d.code, "formulary.json")
    return tuple(sorted(items, key=lambda d: fold(d.name)))


@cache
def _drug_index() -> dict[str, Drug]:
    return {d.code: d for d in drugs()}


def drug(code: str) -> Drug | None:
    return _drug_index().get(code.strip().lower())


def search_drugs(text: str, limit: int = 30) -> list[Drug]:
    """Drugs whose name, generic name, ATC code or class holds every word typed."""
    words = _WORD.findall(fold(text))
    if not words:
        return []
    found = []
    for d in drugs():
        hay = frozenset(_WORD.findall(fold(f"{d.name} {d.generic} {d.atc} {d.drug_class}")))
        if _all_words(words, hay):
            found.append(d)
    found.sort(key=lambda d: (not fold(d.name).startswith(words[0]), fold(d.name)))
    return found[:limit]


def doses_per_day(frequency: str, drug: Drug, dose: Decimal) -> Decimal | None:
    """Doses a day the frequency means; for PRN, as many as max_daily allows; None if unknown."""
    freq = frequency.strip().upper()
    if freq == "PRN":
        return Decimal(max(int(drug.max_daily // dose), 1)) if dose > 0 else None
    return FREQUENCIES.get(freq)


# --- lab tests ----------------------------------------------------------------------------------


def _range(entry: dict[str, Any], where: str) -> RefRange:
    sex = entry.get("sex", "any")
    if sex not in SEXES:
        raise CatalogueError(f"{where}: sex '{sex}' must be one of {', '.join(SEXES)}.")
    ref = RefRange(
        sex=sex,
        age_min_days=int(entry.get("age_min_days", 0)),
        age_max_days=None if entry.get("age_max_days") is None else int(entry["age_max_days"]),
        low=_dec(entry.get("low"), where),
        high=_dec(entry.get("high"), where),
        critical_low=_dec(entry.get("critical_low"), where),
        critical_high=_dec(entry.get("critical_high"), where),
    )
    ordered = [v for v in (ref.critical_low, ref.low, ref.high, ref.critical_high) if v is not None]
    if ordered != sorted(ordered) or (ref.low is not None and ref.low == ref.high):
        raise CatalogueError(
            f"{where}: limits must rise: critical low < low < high < critical high."
        )
    if ref.age_max_days is not None and ref.age_max_days <= ref.age_min_days:
        raise CatalogueError(f"{where}: the age band is empty.")
    return ref


def _analyte(entry: dict[str, Any], test: str) -> Analyte:
    where = f"lab_tests.json, test {test}, analyte {entry.get('code', '?')}"
    value_type = entry.get("value_type", "numeric")
    if value_type not in ("numeric", "text"):
        raise CatalogueError(f"{where}: value_type must be numeric or text.")
    numeric = value_type == "numeric"
    analyte = Analyte(
        code=str(_need(entry, "code", where)),
        name=str(_need(entry, "name", where)),
        unit=str(_need(entry, "unit", where)) if numeric else str(entry.get("unit", "")),
        decimals=int(entry.get("decimals", 0)),
        ranges=[_range(r, where) for r in entry.get("ranges", [])],
        value_type=value_type,
        plausible_low=_dec(entry.get("plausible_low"), where),
        plausible_high=_dec(entry.get("plausible_high"), where),
    )
    if numeric and (analyte.plausible_low is None or analyte.plausible_high is None):
        raise CatalogueError(f"{where}: a numeric result needs plausible_low and plausible_high.")
    low, high = analyte.plausible_low or Decimal(0), analyte.plausible_high or Decimal(0)
    for ref in analyte.ranges:
        limits = [v for v in vars(ref).values() if isinstance(v, Decimal)]
        if numeric and any(not (low <= v <= high) for v in limits):
            raise CatalogueError(f"{where}: a reference limit lies outside the plausible values.")
    return analyte


def _lab_test(entry: dict[str, Any]) -> LabTest:
    where = f"lab_tests.json, test {entry.get('code', '?')}"
    code = str(_need(entry, "code", where))
    test = LabTest(
        code=code,
        name=str(_need(entry, "name", where)),
        loinc=str(_need(entry, "loinc", where)),
        specimen=str(_need(entry, "specimen", where)),
        analytes=[_analyte(a, code) for a in _need(entry, "analytes", where)],
    )
    _unique(test.analytes, lambda a: a.code, where)
    return test


@cache
def _lab_tests() -> tuple[LabTest, ...]:
    items = [_lab_test(e) for e in _json("lab_tests.json")]
    _unique(items, lambda t: t.code, "lab_tests.json")
    return tuple(items)


def lab_tests() -> list[LabTest]:
    return list(_lab_tests())


@cache
def _lab_index() -> dict[str, LabTest]:
    return {t.code: t for t in _lab_tests()}


def lab_test(code: str) -> LabTest | None:
    return _lab_index().get(code.strip().upper())


@cache
def _analyte_index() -> dict[str, Analyte]:
    index: dict[str, Analyte] = {}
    for test in _lab_tests():
        for analyte in test.analytes:
            index.setdefault(analyte.code, analyte)
    return index


def analyte(code: str) -> Analyte | None:
    """The analyte with this LOINC code, from whichever test first lists it."""
    return _analyte_index().get(code.strip())


def reference_range(analyte: Analyte, sex: str | None, age_days: int) -> RefRange | None:
    """The range for this sex and age; a sex-specific range beats "any". For an unknown sex, the
    male and female ranges are joined (lowest low, highest high)."""
    fits = [
        r
        for r in analyte.ranges
        if r.age_min_days <= age_days and (r.age_max_days is None or age_days < r.age_max_days)
    ]
    sex = (sex or "").strip().lower()
    for wanted in (sex, "any"):
        for ref in fits:
            if ref.sex == wanted:
                return ref
    if sex in ("female", "male"):
        return None
    return _joined([r for r in fits if r.sex in ("female", "male")])


def _joined(ranges: list[RefRange]) -> RefRange | None:
    if not ranges:
        return None

    def pick(values: list[Decimal | None], f: Callable[..., Decimal]) -> Decimal | None:
        present = [v for v in values if v is not None]
        return f(present) if len(present) == len(values) else None

    return RefRange(
        sex="any",
        age_min_days=max(r.age_min_days for r in ranges),
        age_max_days=None,
        low=pick([r.low for r in ranges], min),
        high=pick([r.high for r in ranges], max),
        critical_low=pick([r.critical_low for r in ranges], min),
        critical_high=pick([r.critical_high for r in ranges], max),
    )


# --- imaging ------------------------------------------------------------------------------------


def _study(entry: dict[str, Any]) -> ImagingStudy:
    where = f"imaging.json, study {entry.get('code', '?')}"
    study = ImagingStudy(
        code=str(_need(entry, "code", where)),
        name=str(_need(entry, "name", where)),
        modality=str(_need(entry, "modality", where)),
        body_site=str(_need(entry, "body_site", where)),
    )
    if study.modality not in MODALITIES:
        raise CatalogueError(f"{where}: modality must be one of {', '.join(MODALITIES)}.")
    return study


@cache
def _studies() -> tuple[ImagingStudy, ...]:
    items = [_study(e) for e in _json("imaging.json")]
    _unique(items, lambda s: s.code, "imaging.json")
    return tuple(items)


def imaging_studies() -> list[ImagingStudy]:
    return list(_studies())


def imaging_study(code: str) -> ImagingStudy | None:
    return next((s for s in _studies() if s.code == code.strip().upper()), None)


# --- interactions -------------------------------------------------------------------------------


def _selectors(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise CatalogueError(f"{where}: each side must be a list of selectors.")
    for sel in value:
        kind, _, what = str(sel).partition(":")
        if kind not in ("atc", "class") or not what:
            raise CatalogueError(f"{where}: '{sel}' must read 'atc:<code>' or 'class:<class>'.")
    return [str(s) for s in value]


def _interaction(entry: dict[str, Any]) -> Interaction:
    where = f"interactions.json, entry {entry.get('id', '?')}"
    item = Interaction(
        id=str(_need(entry, "id", where)),
        a=_selectors(entry.get("a"), where),
        b=_selectors(entry.get("b"), where),
        severity=str(_need(entry, "severity", where)),
        effect=str(_need(entry, "effect", where)),
        advice=str(_need(entry, "advice", where)),
        source=str(_need(entry, "source", where)),
    )
    if item.severity not in SEVERITIES:
        raise CatalogueError(f"{where}: severity must be one of {', '.join(SEVERITIES)}.")
    return item


@cache
def interactions() -> tuple[Interaction, ...]:
    items = tuple(_interaction(e) for e in _json("interactions.json"))
    _unique(items, lambda i: i.id, "interactions.json")
    return items


def clear_caches() -> None:
    """Forget every loaded catalogue, so the next use reads the files again."""
    for loader in (_icd10_rows, _icd10_index, _icd10_words, drugs, _drug_index, _lab_tests,
                   _lab_index, _analyte_index, _studies, interactions):  # fmt: skip
        loader.cache_clear()


def matches(selector: str, atc: str, drug_class: str) -> bool:
    """Whether a drug with this ATC code and class is picked by an interaction selector."""
    kind, _, what = selector.partition(":")
    if kind == "atc":
        return bool(atc) and atc.upper().startswith(what.upper())
    return bool(drug_class) and fold(drug_class) == fold(what)
