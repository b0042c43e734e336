"""NEWS2 on the server: each patient's score from the latest observations of any source,
stored when it changes, sent live, and escalated to the ward's staff when the band rises.

What counts (documented choice)
    Monitor values count for 10 minutes after the server received them (a monitor sends every
    few seconds, so an older one means the probe is gone); charted values count for 12 hours
    from the time the nurse took them (the longest interval the RCP chart allows, at total 0).
    Artefacts (sensor off) never count. Systolic pressure is the cuff's (nibp_sys), else the
    arterial line's; pulse is the ECG heart rate (hr), else the pulse rate. Consciousness
    (ACVPU) and air/oxygen come only from charted sets; when none counts the patient is assumed
    Alert and on air, and the score lists them in `assumed`. The SpO2 scale is the one set with
    the patient's alarm limits, else the one on the latest charted set, else scale 1.

Escalation
    When the band rises (hms_core.rules.news2.band_rank) every active user whose role may view
    monitors gets a bell notification saying what response the chart asks for, unless the
    patient was already at that band or higher in the last hour (a score flickering across a
    boundary must not ring the bell each second).
"""

import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from hms_core.db.auth import User
from hms_core.db.base import new_id
from hms_core.db.hospital import Bed
from hms_core.db.inpatients import Admission
from hms_core.db.monitoring import MANUAL, MONITOR, EarlyWarningScore, VitalsEntry, VitalSign
from hms_core.db.notifications import UserNotification
from hms_core.db.patients import Patient
from hms_core.rbac import Perm, role_allows
from hms_core.rules import news2
from hms_core.schemas.monitoring import NEWS2, News2Out, event
from hms_core.services.alarms import has_own_limits, limits_for
from hms_server.monitoring.model import ObservedValue
from hms_server.monitoring.rollback import on_rollback
from hms_server.notify.bell import ring

MONITOR_MAX_AGE = timedelta(minutes=10)
CHARTED_MAX_AGE = timedelta(hours=12)
ESCALATION_WINDOW = timedelta(hours=1)
ESCALATION = "news2.escalation"
ACVPU, O2 = "acvpu", "o2"
SCORED = ("rr", "spo2", "nibp_sys", "abp_sys", "hr", "pulse", "temp", ACVPU, O2)
# NEWS2 field -> the parameters that supply it, preferred first
SOURCES = {
    news2.RESPIRATION_RATE: ("rr",),
    news2.SPO2: ("spo2",),
    news2.SYSTOLIC_BP: ("nibp_sys", "abp_sys"),
    news2.PULSE: ("hr", "pulse"),
    news2.TEMPERATURE_C: ("temp",),
}


@dataclass(frozen=True)
class Value:
    """The latest value of one parameter: number or code, when it counts from, its source."""

    value: float | None
    code: str | None
    at: datetime
    source: str

    def counts(self, now: datetime) -> bool:
        age = CHARTED_MAX_AGE if self.source == MANUAL else MONITOR_MAX_AGE
        return now - self.at <= age


@dataclass(frozen=True)
class Result:
    """A NEWS2 result and the observations it assumed."""

    score: news2.News2
    assumed: list[str]

    @property
    def key(self) -> tuple[int | None, str | None, bool]:
        return self.score.total, self.score.band, self.score.red_score


# --------------------------------------------------------------------------- pure scoring


def compute(latest: dict[str, Value], spo2_scale: int, now: datetime) -> Result:
    """NEWS2 from the latest values that still count."""
    live = {name: v for name, v in latest.items() if v.counts(now)}
    numbers: dict[str, float | None] = {}
    for field_name, parameters in SOURCES.items():
        numbers[field_name] = next(
            (
                live[p].value
                for p in parameters
                if p in live and _plausible(field_name, live[p].value)
            ),
            None,
        )
    assumed: list[str] = []
    consciousness = live[ACVPU].code if ACVPU in live else None
    if consciousness not in ("A", "C", "V", "P", "U"):
        consciousness = "A"
        assumed.append(news2.CONSCIOUSNESS)
    on_oxygen = live[O2].code if O2 in live else None
    if on_oxygen not in ("oxygen", "air"):
        on_oxygen = "air"
        assumed.append(news2.ON_OXYGEN)
    observations = news2.Observations(
        respiration_rate=numbers[news2.RESPIRATION_RATE],
        spo2=numbers[news2.SPO2],
        on_oxygen=on_oxygen == "oxygen",
        systolic_bp=numbers[news2.SYSTOLIC_BP],
        pulse=numbers[news2.PULSE],
        consciousness=news2.Consciousness(consciousness),
        temperature_c=numbers[news2.TEMPERATURE_C],
        spo2_scale=spo2_scale,
    )
    return Result(news2.score(observations), assumed)


def _plausible(field_name: str, value: float | None) -> bool:
    if value is None:
        return False
    try:
        news2.points_for(field_name, value)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- database side


def latest_from_db(session: Session, patient_id: uuid.UUID, now: datetime) -> dict[str, Value]:
    """The newest non-artefact value of each scored parameter that may still count (one
    index lookup per parameter, however long the patient has been monitored)."""
    newest = [
        select(VitalSign.id)
        .where(
            VitalSign.patient_id == patient_id,
            VitalSign.parameter == parameter,
            VitalSign.artefact.is_(False),
            VitalSign.observed_at >= now - CHARTED_MAX_AGE,
        )
        .order_by(VitalSign.observed_at.desc())
        .limit(1)
        .subquery()
        for parameter in SCORED
    ]
    ids = union_all(*(select(part.c.id) for part in newest))
    rows = session.execute(select(VitalSign).where(VitalSign.id.in_(ids))).scalars()
    return {row.parameter: _value(row) for row in rows}


def _value(row: VitalSign) -> Value:
    at = row.observed_at if row.source == MANUAL else row.received_at
    return Value(row.value, row.value_code, at, row.source)


def spo2_scale(session: Session, patient_id: uuid.UUID) -> int:
    """The patient's SpO2 scale: set with the alarm limits, else on the latest charted set."""
    if has_own_limits(session, patient_id):
        return limits_for(session, patient_id).spo2_scale
    stmt = (
        select(VitalsEntry.spo2_scale)
        .where(VitalsEntry.patient_id == patient_id, VitalsEntry.deleted_at.is_(None))
        .order_by(VitalsEntry.taken_at.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none() or 1


def last_score(session: Session, patient_id: uuid.UUID) -> EarlyWarningScore | None:
    stmt = (
        select(EarlyWarningScore)
        .where(EarlyWarningScore.patient_id == patient_id)
        .order_by(EarlyWarningScore.computed_at.desc(), EarlyWarningScore.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def placement(session: Session, patient_id: uuid.UUID) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(bed_id, ward_id) of the patient's open admission, or (None, None)."""
    stmt = (
        select(Admission.bed_id, Bed.ward_id)
        .join(Bed, Bed.id == Admission.bed_id)
        .where(Admission.patient_id == patient_id, Admission.discharged_at.is_(None))
        .limit(1)
    )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else (None, None)


def record(
    session: Session,
    patient_id: uuid.UUID,
    result: Result,
    now: datetime,
    *,
    previous_band: str | None,
    bed_id: uuid.UUID | None,
    ward_id: uuid.UUID | None,
) -> list[dict[str, Any]]:
    """Store a changed score, escalate a risen band; returns the `news2` live event."""
    score = result.score
    if news2.band_rank(score.band) > news2.band_rank(previous_band) and not _recently_at(
        session, patient_id, score.band, now
    ):
        escalate(session, patient_id, score, bed_id, now)
    row = EarlyWarningScore(
        id=new_id(),
        patient_id=patient_id,
        computed_at=now,
        total=score.total,
        band=score.band,
        red_score=score.red_score,
        points=dict(score.points),
        assumed=list(result.assumed),
        missing=list(score.missing),
    )
    session.add(row)
    session.flush()
    out = News2Out.model_validate(row).model_dump(mode="json")
    ids = {"bed_id": str(bed_id) if bed_id else None, "patient_id": str(patient_id)}
    return [event(NEWS2, ward_id, **ids, score=out)]


def _recently_at(session: Session, patient_id: uuid.UUID, band: str | None, now: datetime) -> bool:
    """Whether the patient scored `band` or higher within the escalation window."""
    stmt = select(EarlyWarningScore.band).where(
        EarlyWarningScore.patient_id == patient_id,
        EarlyWarningScore.computed_at >= now - ESCALATION_WINDOW,
        EarlyWarningScore.band.is_not(None),
    )
    rank = news2.band_rank(band)
    return any(news2.band_rank(b) >= rank for b in session.execute(stmt).scalars())


def escalate(
    session: Session,
    patient_id: uuid.UUID,
    score: news2.News2,
    bed_id: uuid.UUID | None,
    now: datetime,
) -> list[UserNotification]:
    """Tell every active user who watches monitors that the patient's NEWS2 band rose."""
    title = _title(session, patient_id, score, bed_id)
    body = f"{score.response}. Monitoring: {score.monitoring}."
    users = session.execute(select(User).where(User.is_active.is_(True))).scalars()
    return [
        ring(session, user.id, ESCALATION, title, body, patient_id=patient_id, at=now)
        for user in users
        if role_allows(user.role, Perm.MONITOR_VIEW)
    ]


def _title(
    session: Session, patient_id: uuid.UUID, score: news2.News2, bed_id: uuid.UUID | None
) -> str:
    patient = session.get(Patient, patient_id)
    name = f"{patient.given_name} {patient.family_name}" if patient else "A patient"
    bed = session.get(Bed, bed_id) if bed_id else None
    where = f", bed {bed.label}" if bed is not None else ""
    return f"NEWS2 {score.total} ({score.band}) — {name}{where}"


def rescore_from_db(session: Session, patient_id: uuid.UUID, now: datetime) -> list[dict]:
    """Score a patient from the stored observations; store, escalate and return the `news2`
    event when the score changed (nothing otherwise)."""
    result = compute(latest_from_db(session, patient_id, now), spo2_scale(session, patient_id), now)
    previous = last_score(session, patient_id)
    if previous is not None and (previous.total, previous.band, previous.red_score) == result.key:
        return []
    bed_id, ward_id = placement(session, patient_id)
    return record(
        session,
        patient_id,
        result,
        now,
        previous_band=previous.band if previous else None,
        bed_id=bed_id,
        ward_id=ward_id,
    )


# --------------------------------------------------------------------------- the processor


@dataclass
class _Patient:
    latest: dict[str, Value]
    scale: int
    key: tuple[int | None, str | None, bool] | None
    band: str | None
    loaded_at: datetime
    bed_id: uuid.UUID | None = None
    ward_id: uuid.UUID | None = None
    stale: bool = False
    scored: tuple | None = None  # what the last score was computed from (see _inputs)


def _inputs(state: _Patient, now: datetime) -> tuple:
    """Everything `compute` reads: the values that still count, and the SpO2 scale."""
    live = tuple((name, v.value, v.code) for name, v in state.latest.items() if v.counts(now))
    return state.scale, live


_SCORERS: "weakref.WeakSet[Scorer]" = weakref.WeakSet()


def charted(patient_ids: Iterable[uuid.UUID]) -> None:
    """Nurses charted for these patients (committed): scorers re-read them from the database."""
    for scorer in list(_SCORERS):
        for patient_id in patient_ids:
            scorer.forget(patient_id)


class Scorer:
    """NEWS2 for monitored patients, kept in memory and re-read every `refresh_seconds`."""

    def __init__(self, *, refresh_seconds: float = 30.0) -> None:
        self.refresh_seconds = refresh_seconds
        self.patients: dict[uuid.UUID, _Patient] = {}
        self._lock = threading.Lock()  # the ingest may call from more than one thread
        _SCORERS.add(self)

    def observe(self, session: Session, values: list[ObservedValue], now: datetime) -> list[dict]:
        """Take in matched monitor readings; return `news2` events of changed scores."""
        with self._lock:
            on_rollback(session, self, self.reset)
            try:
                return self._observe(session, values, now)
            except BaseException:
                self.reset()
                raise

    def reset(self) -> None:
        """Forget everything (a transaction rolled back): read patients again when seen."""
        self.patients = {}

    def _observe(self, session: Session, values: list[ObservedValue], now: datetime) -> list[dict]:
        touched: dict[uuid.UUID, list[ObservedValue]] = defaultdict(list)
        for value in values:
            r = value.reading
            if value.placement.patient_id is None or r.artefact or r.parameter not in SCORED:
                continue
            touched[value.placement.patient_id].append(value)
        events: list[dict] = []
        for patient_id, readings in touched.items():
            state = self._state(session, patient_id, now)
            for value in readings:
                self._take(state, value)
            events += self._score(session, patient_id, state, now)
        return events

    def forget(self, patient_id: uuid.UUID) -> None:
        """Read this patient from the database again at the next reading."""
        state = self.patients.get(patient_id)
        if state is not None:
            state.stale = True

    def limits_changed(self, patient_id: uuid.UUID) -> None:
        """The patient's limits (and maybe SpO2 scale) changed."""
        self.forget(patient_id)

    def _state(self, session: Session, patient_id: uuid.UUID, now: datetime) -> _Patient:
        state = self.patients.get(patient_id)
        due = state is None or state.stale
        due = due or now - state.loaded_at >= timedelta(seconds=self.refresh_seconds)
        if not due:
            return state
        latest = latest_from_db(session, patient_id, now)
        if state is not None:  # keep what arrived in memory but is not stored yet
            for name, value in state.latest.items():
                if name not in latest or latest[name].at < value.at:
                    latest[name] = value
        previous = last_score(session, patient_id)
        fresh = _Patient(
            latest=latest,
            scale=spo2_scale(session, patient_id),
            key=(previous.total, previous.band, previous.red_score) if previous else None,
            band=previous.band if previous else None,
            loaded_at=now,
        )
        if state is not None:
            fresh.bed_id, fresh.ward_id = state.bed_id, state.ward_id
        else:
            fresh.bed_id, fresh.ward_id = placement(session, patient_id)
        self.patients[patient_id] = fresh
        return fresh

    def _take(self, state: _Patient, observed: ObservedValue) -> None:
        r, place = observed.reading, observed.placement
        if place.bed_id is not None:
            state.bed_id, state.ward_id = place.bed_id, place.ward_id
        at = observed.received_at  # how recent the server heard it; a monitor's clock may be off
        current = state.latest.get(r.parameter)
        if current is None or current.at <= at:
            state.latest[r.parameter] = Value(r.value, r.value_code, at, MONITOR)

    def _score(
        self, session: Session, patient_id: uuid.UUID, state: _Patient, now: datetime
    ) -> list[dict]:
        inputs = _inputs(state, now)
        if inputs == state.scored:
            return []  # same inputs as last time: same score, already stored (or unchanged)
        state.scored = inputs
        result = compute(state.latest, state.scale, now)
        if result.key == state.key:
            return []
        events = record(
            session,
            patient_id,
            result,
            now,
            previous_band=state.band,
            bed_id=state.bed_id,
            ward_id=state.ward_id,
        )
        state.key, state.band = result.key, result.score.band
        return events
