"""A patient's chart read from the desk cache: allergies, problems, encounters with what
happened in each, medications, procedures, immunizations, vital-sign history, a cumulative lab
table, documents and the care plan.

Each part is one set-based query (columns, not ORM objects), grouped in Python, so a record of
ten years opens at once. `chart_summary` is the first paint (header, allergies, problems,
current medications, plan); `chart` is everything. Opening a chart is audited once per session
and patient ("patient.read", view "chart").
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from hms_core.db import Patient, PatientAllergy, VitalsEntry
from hms_core.db.clinical import (
    RX_ACTIVE,
    CarePlan,
    ClinicalDocument,
    ClinicalNote,
    ClinicalOrder,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    Problem,
    ProcedureRecord,
)
from hms_core.services.audit import record_audit
from hms_core.services.errors import NotFound
from hms_desktop.store.cache import LocalStore

CHART_READ = "patient.read"
AllergyStatus = Literal["recorded", "none_known", "not_recorded"]
# "No known allergy" statements (SNOMED CT) and their plain spellings: a record that says so.
NO_KNOWN_CODES = {"716186003", "409137002", "428607008", "429625007", "428197003"}
NO_KNOWN_WORDS = {"no known allergies", "no known allergy", "nka", "nkda", "no known drug allergy"}
INACTIVE_PROBLEM = {"resolved", "inactive", "remission", "refuted", "entered-in-error"}
VOID_STATUSES = {"entered-in-error", "cancelled"}


@dataclass(frozen=True)
class VitalKind:
    """A vital sign the chart plots: LOINC codes that carry it, label, unit and panel."""

    key: str
    label: str
    unit: str
    panel: str
    codes: tuple[str, ...]


VITAL_KINDS = (
    VitalKind("hr", "Heart rate", "/min", "Heart rate", ("8867-4",)),
    VitalKind("sbp", "Systolic", "mmHg", "Blood pressure", ("8480-6",)),
    VitalKind("dbp", "Diastolic", "mmHg", "Blood pressure", ("8462-4",)),
    VitalKind("rr", "Respiratory rate", "/min", "Respiratory rate", ("9279-1",)),
    VitalKind("spo2", "SpO₂", "%", "SpO₂", ("2708-6", "59408-5")),
    VitalKind("temp", "Temperature", "°C", "Temperature", ("8310-5",)),
    VitalKind("weight", "Weight", "kg", "Weight", ("29463-7",)),
    VitalKind("bmi", "BMI", "kg/m²", "BMI", ("39156-5",)),
)
VITAL_BY_CODE = {code: kind for kind in VITAL_KINDS for code in kind.codes}
# Imported records whose vital signs carry a local code: recognised by their display text
VITAL_BY_DISPLAY = {
    "heart rate": "hr",
    "pulse": "hr",
    "systolic blood pressure": "sbp",
    "diastolic blood pressure": "dbp",
    "respiratory rate": "rr",
    "blood oxygen saturation": "spo2",
    "oxygen saturation": "spo2",
    "body temperature": "temp",
    "temperature": "temp",
    "body weight": "weight",
    "weight": "weight",
    "body mass index": "bmi",
}
VITAL_BY_KEY = {kind.key: kind for kind in VITAL_KINDS}
# Categories whose numeric observations belong in the results table (imports use "exam" too)
RESULT_CATEGORIES = frozenset({"laboratory", "exam"})
# The ward's charted sets: VitalsEntry column -> vital kind
WARD_FIELDS = {
    "pulse": "hr",
    "systolic_bp": "sbp",
    "diastolic_bp": "dbp",
    "respiration_rate": "rr",
    "spo2": "spo2",
    "temperature_c": "temp",
}


# --- the views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientHeader:
    id: uuid.UUID
    name: str
    mrn: str
    birth_date: date
    age: str
    sex: str


@dataclass(frozen=True)
class AllergyLine:
    substance: str
    reaction: str
    severity: str
    kind: str  # allergy | intolerance
    category: str


@dataclass(frozen=True)
class Allergies:
    """What the record says about allergies: a list, "none known", or nothing at all."""

    status: AllergyStatus
    items: tuple[AllergyLine, ...] = ()

    @property
    def severe(self) -> bool:
        return any(a.severity == "severe" for a in self.items)


@dataclass(frozen=True)
class ProblemLine:
    id: uuid.UUID
    code: str
    display: str
    kind: str
    clinical_status: str
    onset: date | None
    resolved: date | None

    @property
    def active(self) -> bool:
        return self.clinical_status not in INACTIVE_PROBLEM


@dataclass(frozen=True)
class MedicationLine:
    """The latest version of a prescription."""

    id: uuid.UUID
    drug_name: str
    strength: str
    form: str
    dose: Decimal | None
    dose_unit: str
    route: str
    frequency: str
    duration_days: int | None
    instructions: str
    status: str
    prescriber: str
    prescribed_at: datetime
    change: str
    encounter_id: uuid.UUID | None

    @property
    def current(self) -> bool:
        return self.status == RX_ACTIVE

    @property
    def dosage(self) -> str:
        """ "500 mg oral TDS for 7 days" from what is filled in."""
        dose = f"{_plain(self.dose)} {self.dose_unit}".strip() if self.dose is not None else ""
        days = f"for {self.duration_days} days" if self.duration_days else ""
        return " ".join(p for p in (dose, self.route, self.frequency, days) if p)


@dataclass(frozen=True)
class CarePlanLine:
    text: str
    author: str
    written_at: datetime
    reason: str


@dataclass(frozen=True)
class NoteLine:
    id: uuid.UUID
    author: str
    status: str
    written_at: datetime
    complaint: str
    assessment: str
    plan: str
    amend_reason: str


@dataclass(frozen=True)
class OrderLine:
    id: uuid.UUID
    number: str
    kind: str
    test_name: str
    priority: str
    status: str
    ordered_at: datetime


@dataclass(frozen=True)
class EncounterLine:
    """A visit or admission with what happened in it."""

    id: uuid.UUID
    encounter_class: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    type_display: str
    reason: str
    clinician: str
    location: str
    notes: tuple[NoteLine, ...] = ()
    orders: tuple[OrderLine, ...] = ()
    prescriptions: tuple[str, ...] = ()

    @property
    def happened(self) -> str:
        """ "2 notes · 1 order · 1 prescription" (what the timeline row says)."""
        parts = [
            _count(len(self.notes), "note"),
            _count(len(self.orders), "order"),
            _count(len(self.prescriptions), "prescription"),
        ]
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class ProcedureLine:
    code: str
    display: str
    performed_at: datetime
    performer: str


@dataclass(frozen=True)
class ImmunizationLine:
    code: str
    display: str
    given_at: datetime
    status: str


@dataclass(frozen=True)
class VitalSeries:
    """One vital sign over time (times as epoch seconds, for plotting)."""

    kind: VitalKind
    times: tuple[float, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class LabPoint:
    at: datetime
    value: float | None
    text: str
    flag: str  # N, L, H, LL, HH, A or ""


@dataclass(frozen=True)
class LabAnalyte:
    """One analyte (by LOINC) across time: its cells by date and its series for a trend."""

    code: str
    name: str
    unit: str
    ref_low: float | None
    ref_high: float | None
    points: tuple[LabPoint, ...]  # oldest first
    by_day: dict[date, LabPoint] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class LabTable:
    """The cumulative table: rows are analytes, columns are days (newest first)."""

    days: tuple[date, ...] = ()
    analytes: tuple[LabAnalyte, ...] = ()


@dataclass(frozen=True)
class DocumentLine:
    id: uuid.UUID
    title: str
    written_at: datetime
    author: str
    content_type: str


@dataclass(frozen=True)
class ChartSummary:
    """The first paint: who, allergies, problems, current medications, the plan."""

    header: PatientHeader
    allergies: Allergies
    problems: tuple[ProblemLine, ...]
    current_medications: tuple[MedicationLine, ...]
    care_plan: CarePlanLine | None


@dataclass(frozen=True)
class ChartData:
    """The whole chart."""

    summary: ChartSummary
    encounters: tuple[EncounterLine, ...]  # newest first
    medications: tuple[MedicationLine, ...]  # latest version of each, newest first
    procedures: tuple[ProcedureLine, ...]
    immunizations: tuple[ImmunizationLine, ...]
    vitals: tuple[VitalSeries, ...]
    labs: LabTable
    documents: tuple[DocumentLine, ...]

    @property
    def past_medications(self) -> tuple[MedicationLine, ...]:
        return tuple(m for m in self.medications if not m.current)


# --- the reader -----------------------------------------------------------------------------


class LocalChart:
    """Patients' charts on the cache (reads only; writing is LocalClinical's)."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited: set[uuid.UUID] = set()  # charts already audited in this session

    def chart_summary(self, patient_id: uuid.UUID) -> ChartSummary:
        """Header, allergies, problems, current medications and plan (audited once)."""
        return self._read(
            patient_id, lambda s: _summary(s, patient_id, _latest_meds(s, patient_id))
        )

    def chart(self, patient_id: uuid.UUID) -> ChartData:
        """Everything in the patient's chart (audited once)."""
        return self._read(patient_id, lambda s: _chart(s, patient_id))

    def document_text(self, document_id: uuid.UUID) -> str:
        """The text of one document (read when it is opened)."""
        query = select(ClinicalDocument.text).where(ClinicalDocument.id == document_id)
        return self.store.read(lambda s: s.connection().execute(query).scalar() or "")

    def _read(self, patient_id: uuid.UUID, build: Any) -> Any:  # noqa: ANN401
        def read(session: Session) -> Any:  # noqa: ANN401
            found = build(session)
            if patient_id not in self._audited:
                detail = {"view": "chart"}
                record_audit(
                    session, self.store.actor, CHART_READ, patient_id=patient_id, detail=detail
                )
                session.flush()  # hands the record to the cache's access log
            return found

        found = self.store.read(read)
        self._audited.add(patient_id)
        return found


def _chart(session: Session, patient_id: uuid.UUID) -> ChartData:
    medications = _latest_meds(session, patient_id)
    observations = _observations(session, patient_id)
    return ChartData(
        summary=_summary(session, patient_id, medications),
        encounters=_encounters(session, patient_id, medications),
        medications=medications,
        procedures=_procedures(session, patient_id),
        immunizations=_immunizations(session, patient_id),
        vitals=_vitals(session, patient_id, observations),
        labs=_labs(observations),
        documents=_documents(session, patient_id),
    )


def _summary(
    session: Session, patient_id: uuid.UUID, medications: tuple[MedicationLine, ...]
) -> ChartSummary:
    return ChartSummary(
        header=_header(session, patient_id),
        allergies=_allergies(session, patient_id),
        problems=_problems(session, patient_id),
        current_medications=tuple(m for m in medications if m.current),
        care_plan=_care_plan(session, patient_id),
    )


def _header(session: Session, patient_id: uuid.UUID) -> PatientHeader:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("This patient is not on this computer.")
    return PatientHeader(
        id=patient.id,
        name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        birth_date=patient.birth_date,
        age=age_text(patient.birth_date, datetime.now(UTC).date()),
        sex=patient.sex,
    )


def age_text(born: date, today: date) -> str:
    """ "42 y", "7 mo" or "12 d"."""
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 2:
        return f"{years} y"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return f"{months} mo" if months >= 1 else f"{(today - born).days} d"


def _allergies(session: Session, patient_id: uuid.UUID) -> Allergies:
    t = PatientAllergy
    rows = (
        session.connection()
        .execute(
            select(t.substance, t.reaction, t.severity, t.kind, t.category, t.code)
            .where(t.patient_id == patient_id, t.deleted_at.is_(None))
            .order_by(t.created_at)
        )
        .all()
    )
    items = tuple(
        AllergyLine(r.substance, r.reaction or "", r.severity, r.kind or "allergy", r.category)
        for r in rows
        if not _no_known(r.substance, r.code)
    )
    if items:
        severe = tuple(a for a in items if a.severity == "severe")
        return Allergies("recorded", severe + tuple(a for a in items if a not in severe))
    return Allergies("none_known" if rows else "not_recorded")


def _no_known(substance: str, code: str) -> bool:
    return code in NO_KNOWN_CODES or substance.strip().lower().rstrip(".") in NO_KNOWN_WORDS


def _problems(session: Session, patient_id: uuid.UUID) -> tuple[ProblemLine, ...]:
    t = Problem
    rows = (
        session.connection()
        .execute(
            select(t.id, t.code, t.display, t.kind, t.clinical_status, t.onset, t.resolved)
            .where(t.patient_id == patient_id, t.deleted_at.is_(None), t.voided_at.is_(None))
            .order_by(t.recorded_at.desc())
        )
        .all()
    )
    lines = [ProblemLine(*r) for r in rows]
    return tuple(sorted(lines, key=lambda p: not p.active))  # stable: active first, newest first


def _latest_meds(session: Session, patient_id: uuid.UUID) -> tuple[MedicationLine, ...]:
    """The newest version of each prescription chain, newest first."""
    t = MedicationOrder
    rows = (
        session.connection()
        .execute(
            select(
                t.id,
                t.drug_name,
                t.strength,
                t.form,
                t.dose,
                t.dose_unit,
                t.route,
                t.frequency,
                t.duration_days,
                t.instructions,
                t.status,
                t.prescriber,
                t.prescribed_at,
                t.change,
                t.encounter_id,
                t.previous_id,
            )
            .where(t.patient_id == patient_id, t.deleted_at.is_(None))
            .order_by(t.prescribed_at.desc(), t.id.desc())
        )
        .all()
    )
    replaced = {r.previous_id for r in rows if r.previous_id is not None}
    return tuple(
        MedicationLine(*r[:12], _utc(r.prescribed_at), *r[13:15])
        for r in rows
        if r.id not in replaced
    )


def _care_plan(session: Session, patient_id: uuid.UUID) -> CarePlanLine | None:
    t = CarePlan
    row = (
        session.connection()
        .execute(
            select(t.text, t.author, t.written_at, t.reason)
            .where(t.patient_id == patient_id, t.deleted_at.is_(None))
            .order_by(t.written_at.desc(), t.id.desc())
            .limit(1)
        )
        .first()
    )
    return (
        None
        if row is None
        else CarePlanLine(row.text, row.author, _utc(row.written_at), row.reason)
    )


def _encounters(
    session: Session, patient_id: uuid.UUID, medications: tuple[MedicationLine, ...]
) -> tuple[EncounterLine, ...]:
    t = Encounter
    rows = (
        session.connection()
        .execute(
            select(
                t.id,
                t.encounter_class,
                t.status,
                t.started_at,
                t.ended_at,
                t.type_display,
                t.reason_display,
                t.reason_code,
                t.clinician,
                t.location,
            )
            .where(t.patient_id == patient_id, t.deleted_at.is_(None))
            .order_by(t.started_at.desc())
        )
        .all()
    )
    notes = _notes_by_encounter(session, patient_id)
    orders = _orders_by_encounter(session, patient_id)
    prescribed: dict[uuid.UUID, list[str]] = defaultdict(list)
    for med in _all_prescriptions(session, patient_id):
        prescribed[med[0]].append(med[1])
    return tuple(
        EncounterLine(
            id=r.id,
            encounter_class=r.encounter_class,
            status=r.status,
            started_at=_utc(r.started_at),
            ended_at=_utc(r.ended_at) if r.ended_at else None,
            type_display=r.type_display,
            reason=r.reason_display or r.reason_code,
            clinician=r.clinician,
            location=r.location,
            notes=tuple(notes.get(r.id, ())),
            orders=tuple(orders.get(r.id, ())),
            prescriptions=tuple(prescribed.get(r.id, ())),
        )
        for r in rows
    )


def _notes_by_encounter(session: Session, patient_id: uuid.UUID) -> dict[uuid.UUID, list[NoteLine]]:
    t = ClinicalNote
    rows = (
        session.connection()
        .execute(
            select(
                t.encounter_id,
                t.id,
                t.author,
                t.status,
                t.signed_at,
                t.created_at,
                t.complaint,
                t.assessment,
                t.plan,
                t.amend_reason,
            )
            .where(t.patient_id == patient_id, t.deleted_at.is_(None))
            .order_by(t.created_at)
        )
        .all()
    )
    found: dict[uuid.UUID, list[NoteLine]] = defaultdict(list)
    for r in rows:
        written = _utc(r.signed_at or r.created_at)
        found[r.encounter_id].append(
            NoteLine(
                r.id, r.author, r.status, written, r.complaint, r.assessment, r.plan, r.amend_reason
            )
        )
    return found


def _orders_by_encounter(
    session: Session, patient_id: uuid.UUID
) -> dict[uuid.UUID | None, list[OrderLine]]:
    t = ClinicalOrder
    rows = (
        session.connection()
        .execute(
            select(
                t.encounter_id,
                t.id,
                t.number,
                t.kind,
                t.test_name,
                t.priority,
                t.status,
                t.ordered_at,
            )
            .where(t.patient_id == patient_id, t.deleted_at.is_(None))
            .order_by(t.ordered_at)
        )
        .all()
    )
    found: dict[uuid.UUID | None, list[OrderLine]] = defaultdict(list)
    for r in rows:
        found[r.encounter_id].append(OrderLine(*r[1:7], _utc(r.ordered_at)))
    return found


def _all_prescriptions(session: Session, patient_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(encounter, "drug strength (change)") of every prescription version made in an encounter."""
    t = MedicationOrder
    rows = (
        session.connection()
        .execute(
            select(t.encounter_id, t.drug_name, t.strength, t.change)
            .where(t.patient_id == patient_id, t.deleted_at.is_(None), t.encounter_id.is_not(None))
            .order_by(t.prescribed_at)
        )
        .all()
    )
    return [
        (r.encounter_id, " ".join(p for p in (r.drug_name, r.strength) if p) + _change(r.change))
        for r in rows
    ]


def _change(change: str) -> str:
    return "" if change in ("", "new") else f" ({change})"


def _live_rows(
    session: Session, table: Any, patient_id: uuid.UUID, columns: list[Any], newest: Any
) -> list[Any]:
    """The patient's rows of `table` that are neither deleted nor voided, newest first."""
    query = (
        select(*columns)
        .where(
            table.patient_id == patient_id,
            table.deleted_at.is_(None),
            table.voided_at.is_(None),
        )
        .order_by(newest.desc())
    )
    return list(session.connection().execute(query).all())


def _procedures(session: Session, patient_id: uuid.UUID) -> tuple[ProcedureLine, ...]:
    t = ProcedureRecord
    columns = [t.code, t.display, t.performed_at, t.performer]
    rows = _live_rows(session, t, patient_id, columns, t.performed_at)
    return tuple(ProcedureLine(r.code, r.display, _utc(r.performed_at), r.performer) for r in rows)


def _immunizations(session: Session, patient_id: uuid.UUID) -> tuple[ImmunizationLine, ...]:
    t = Immunization
    rows = _live_rows(session, t, patient_id, [t.code, t.display, t.given_at, t.status], t.given_at)
    return tuple(ImmunizationLine(r.code, r.display, _utc(r.given_at), r.status) for r in rows)


def _documents(session: Session, patient_id: uuid.UUID) -> tuple[DocumentLine, ...]:
    t = ClinicalDocument
    columns = [t.id, t.title, t.display, t.written_at, t.author, t.content_type]
    rows = _live_rows(session, t, patient_id, columns, t.written_at)
    return tuple(
        DocumentLine(
            r.id, r.title or r.display or "Document", _utc(r.written_at), r.author, r.content_type
        )
        for r in rows
    )


# --- observations ---------------------------------------------------------------------------


class _Obs(NamedTuple):
    """An observation in force, as the chart uses it."""

    code: str
    display: str
    category: str
    at: datetime
    value: float | None
    text: str  # the value as recorded ("5.6"), or the text result
    unit: str
    ref_low: float | None
    ref_high: float | None
    flag: str


def _observations(session: Session, patient_id: uuid.UUID) -> list[_Obs]:
    """The patient's observations in force (not amended by a later row, not voided).

    Numbers and times are read as the text SQLite keeps and parsed here: converting 5,000
    rows through the column types (Decimal, UUID, datetime) would cost more than the query.
    """
    t = Observation
    amended = (
        select(t.amends_id)
        .where(t.patient_id == patient_id, t.amends_id.is_not(None))
        .scalar_subquery()
    )
    rows = (
        session.connection()
        .execute(  # Core: plain rows, no ORM loading
            select(
                t.code,
                t.display,
                t.category,
                _text(t.effective_at),
                _text(t.value_num),
                t.value_text,
                t.unit,
                _text(t.ref_low),
                _text(t.ref_high),
                t.flag,
            )
            .where(
                t.patient_id == patient_id,
                t.deleted_at.is_(None),
                t.status.not_in(VOID_STATUSES),
                t.id.not_in(amended),
            )
            .order_by(t.effective_at)
        )
        .all()
    )
    return [
        _Obs(
            r[0],
            r[1],
            r[2],
            _time(r[3]),
            None if r[4] is None else float(r[4]),
            r[5] if r[4] is None else r[4],
            r[6],
            None if r[7] is None else float(r[7]),
            None if r[8] is None else float(r[8]),
            r[9] or "",
        )
        for r in rows
    ]


def _text(column: Any) -> Any:  # noqa: ANN401
    """The column as SQLite stores it (no conversion)."""
    return type_coerce(column, String)


def _time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _vitals(
    session: Session, patient_id: uuid.UUID, observations: list[_Obs]
) -> tuple[VitalSeries, ...]:
    """Each vital sign's series, from coded observations and the ward's charted sets."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in observations:
        kind = vital_kind(r.code, r.display)
        if kind is not None and r.value is not None:
            points[kind.key].append((r.at.timestamp(), r.value))
    for taken_at, values in _ward_sets(session, patient_id):
        for column, key in WARD_FIELDS.items():
            if values.get(column) is not None:
                points[key].append((taken_at, float(values[column])))
    series = []
    for kind in VITAL_KINDS:
        found = sorted(points.get(kind.key, ()))
        if found:
            times, values = zip(*found, strict=True)
            series.append(VitalSeries(kind, tuple(times), tuple(values)))
    return tuple(series)


def vital_kind(code: str, display: str) -> VitalKind | None:
    """The vital sign an observation measures: by its LOINC code, else (imported records with
    local codes) by its display text."""
    kind = VITAL_BY_CODE.get(code)
    if kind is None:
        key = VITAL_BY_DISPLAY.get(display.strip().lower())
        kind = VITAL_BY_KEY.get(key) if key else None
    return kind


def _ward_sets(session: Session, patient_id: uuid.UUID) -> Iterable[tuple[float, dict[str, Any]]]:
    t = VitalsEntry
    columns = [getattr(t, name) for name in WARD_FIELDS]
    rows = (
        session.connection()
        .execute(
            select(t.taken_at, *columns).where(t.patient_id == patient_id, t.deleted_at.is_(None))
        )
        .all()
    )
    for r in rows:
        yield _utc(r.taken_at).timestamp(), r._asdict()


def _labs(observations: list[_Obs]) -> LabTable:
    """The cumulative table of the laboratory observations (vital signs are plotted apart)."""
    by_code: dict[str, list[_Obs]] = defaultdict(list)
    for r in observations:
        if r.category in RESULT_CATEGORIES and r.code and not vital_kind(r.code, r.display):
            by_code[r.code].append(r)
    analytes = [_analyte(code, rows) for code, rows in by_code.items()]
    analytes.sort(key=lambda a: a.name.lower())
    days = sorted({d for a in analytes for d in a.by_day}, reverse=True)
    return LabTable(tuple(days), tuple(analytes))


def _analyte(code: str, rows: list[_Obs]) -> LabAnalyte:
    latest = rows[-1]
    points = tuple(LabPoint(r.at, r.value, r.text, r.flag) for r in rows)
    by_day = {p.at.date(): p for p in points}  # the day's last value
    return LabAnalyte(
        code=code,
        name=latest.display or code,
        unit=latest.unit,
        ref_low=latest.ref_low,
        ref_high=latest.ref_high,
        points=points,
        by_day=by_day,
    )


# --- small helpers --------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    """The cache keeps naive UTC: make it aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent ("5.60" -> "5.6", "1E+1" -> "10")."""
    return format(value.normalize(), "f")


def _count(n: int, noun: str) -> str:
    return "" if n == 0 else f"{n} {noun}" + ("" if n == 1 else "s")
