"""Chart a nurse's set of vital signs, scored with NEWS2 (the same rule the ICU station uses).

The entry is append-only. Values are checked against what a person could have and what a
nurse could sensibly enter by hand; each refusal names the field in a nurse's words.
Timing is checked against the moment the nurse saved the set (`recorded_at`, carried in the
arguments), so a set charted offline is judged the same when the server sees it a day later.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hms_core.db import VitalsEntry
from hms_core.db.base import utcnow
from hms_core.rbac import Perm
from hms_core.rules import news2
from hms_core.rules.vitals import PARAMETERS
from hms_core.schemas.ward import RecordVitals
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import InvalidData
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit

CLOCK_SKEW = timedelta(minutes=10)  # a ward PC's clock may run this far ahead
MAX_AGE = timedelta(hours=24)  # older observations belong in a retrospective note


@dataclass(frozen=True)
class EntryRange:
    """What a nurse may chart for one value: plain name, unit, entry limits."""

    name: str
    unit: str
    low: float
    high: float
    parameter: str  # hms_core.rules.vitals.PARAMETERS key


def _range(name: str, unit: str, low: float, high: float, parameter: str) -> EntryRange:
    """Entry limits, never wider than the values a person could possibly have."""
    possible_low, possible_high = PARAMETERS[parameter].possible
    return EntryRange(name, unit, max(low, possible_low), min(high, possible_high), parameter)


ENTRY_RANGES: dict[str, EntryRange] = {
    "respiration_rate": _range("Respiration rate", "breaths/min", 1, 80, "rr"),
    "spo2": _range("SpO2", "%", 50, 100, "spo2"),
    "systolic_bp": _range("Systolic blood pressure", "mmHg", 40, 300, "nibp_sys"),
    "diastolic_bp": _range("Diastolic blood pressure", "mmHg", 20, 200, "nibp_dia"),
    "pulse": _range("Pulse", "beats/min", 20, 300, "pulse"),
    "temperature_c": _range("Temperature", "°C", 25, 45, "temp"),
}
VALUE_FIELDS = (*ENTRY_RANGES, "consciousness")

# NEWS2 band/total -> how soon the next set is due (None: monitor continuously)
HOURLY = timedelta(hours=1)


def record_vitals(session: Session, actor: Actor, args: RecordVitals) -> VitalsEntry:
    """Chart one set of observations with its NEWS2 score (audited)."""
    actor.require(Perm.VITALS_RECORD)
    existing = session.get(VitalsEntry, args.id)
    if existing is not None:
        return existing  # a replay: already charted
    patient = active_patient(session, args.patient_id)
    recorded_at = _aware(args.recorded_at) if args.recorded_at else utcnow()
    problems = {**check_timing(args.taken_at, recorded_at), **check_values(args)}
    if problems:
        raise InvalidData(_summary(problems), fields=problems)
    result = news2.score(observations(args))
    entry = VitalsEntry(
        id=args.id,
        patient_id=patient.id,
        taken_at=args.taken_at,
        recorded_by=actor.username,
        created_at=recorded_at,
        **{name: getattr(args, name) for name in (*ENTRY_RANGES, "consciousness")},
        spo2_scale=args.spo2_scale,
        on_oxygen=args.on_oxygen,
        news2_total=result.total,
        news2_band=result.band,
        note=args.note,
    )
    session.add(entry)
    session.flush()
    record_audit(
        session,
        actor,
        "vitals.record",
        patient_id=patient.id,
        detail={
            "entry_id": str(entry.id),
            "taken_at": args.taken_at.isoformat(),
            "news2_total": result.total,
            "news2_band": result.band,
        },
    )
    emit(session, "vitals.recorded", entry_id=str(entry.id), patient_id=str(patient.id))
    return entry


def observations(values: RecordVitals) -> news2.Observations:
    """The NEWS2 inputs of a set (call only after `check_values` found no problem)."""
    consciousness = values.consciousness
    return news2.Observations(
        respiration_rate=values.respiration_rate,
        spo2=values.spo2,
        on_oxygen=values.on_oxygen,
        systolic_bp=values.systolic_bp,
        pulse=values.pulse,
        consciousness=news2.Consciousness(consciousness) if consciousness else None,
        temperature_c=values.temperature_c,
        spo2_scale=values.spo2_scale,
    )


def check_values(values: RecordVitals) -> dict[str, str]:
    """Per-field problems of a set, in a nurse's words (empty when it can be charted)."""
    if all(getattr(values, name) is None for name in VALUE_FIELDS):
        return {"values": "Enter at least one observation before saving."}
    problems: dict[str, str] = {}
    for name, limits in ENTRY_RANGES.items():
        value = getattr(values, name)
        if value is not None and not limits.low <= value <= limits.high:
            problems[name] = (
                f"{limits.name} must be between {limits.low:g} and {limits.high:g} "
                f"{limits.unit} (entered {value:g})."
            )
    systolic, diastolic = values.systolic_bp, values.diastolic_bp
    if (
        systolic is not None
        and diastolic is not None
        and not {"systolic_bp", "diastolic_bp"} & problems.keys()
        and diastolic >= systolic
    ):
        problems["diastolic_bp"] = "Diastolic pressure must be lower than systolic."
    return problems


def check_timing(taken_at: datetime, recorded_at: datetime) -> dict[str, str]:
    """Problems with when the set was taken, judged from when it was saved."""
    taken_at, recorded_at = _aware(taken_at), _aware(recorded_at)
    if recorded_at > utcnow() + CLOCK_SKEW:
        return {"taken_at": "This computer's clock is ahead of the server's; check the clock."}
    if taken_at > recorded_at + CLOCK_SKEW:
        return {"taken_at": "The time taken is in the future. Check the time."}
    if taken_at < recorded_at - MAX_AGE:
        return {"taken_at": "Observations older than 24 hours cannot be charted here."}
    return {}


def next_due(total: int | None, band: str | None) -> timedelta | None:
    """How soon the next set is due after one scoring `total` (None: continuous monitoring).

    RCP NEWS2 minimum frequencies: 0 -> 12-hourly; 1-4 -> 4-6-hourly (4 h used);
    3 in one parameter or 5-6 -> hourly; 7 or more -> continuous. An incomplete set (no
    total) is due again within the hour, so the missing values get measured.
    """
    if total is None:
        return HOURLY
    if band == news2.HIGH:
        return None
    if band in (news2.MEDIUM, news2.LOW_MEDIUM):
        return HOURLY
    return timedelta(hours=12) if total == 0 else timedelta(hours=4)


def due_words(total: int | None, band: str | None) -> str:
    """'12-hourly', '4-6-hourly', 'hourly' or 'continuous', as the ward chart says it."""
    interval = next_due(total, band)
    if interval is None:
        return "continuous"
    if interval == HOURLY:
        return "hourly"
    return "12-hourly" if interval == timedelta(hours=12) else "4-6-hourly"


def _summary(problems: dict[str, str]) -> str:
    if len(problems) == 1:
        return next(iter(problems.values()))
    return "Some observations cannot be charted: " + " ".join(problems.values())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
