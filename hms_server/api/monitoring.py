"""The ICU central station over HTTP: wards, a ward's station (beds, patients, latest values,
NEWS2, active alarms), trends, alarm history and actions, alarm limits, unmatched readings.

Every route names its permission; every read of patient data is audited. Changes are announced
to the stations of every server instance with `publish_monitor` (see hms_server.api.live_monitor).
"""

import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from hms_core.db import (
    Admission,
    AlarmEvent,
    Bed,
    EarlyWarningScore,
    MonitorDevice,
    Patient,
    PatientAllergy,
    VitalSign,
    Ward,
)
from hms_core.db.base import utcnow
from hms_core.rbac import Perm
from hms_core.rules.alarms import AlarmLimits
from hms_core.rules.vitals import PARAMETERS
from hms_core.schemas.errors import ErrorResponse, field_errors
from hms_core.schemas.monitoring import (
    STATION,
    AlarmOut,
    AssignRequest,
    Latest,
    News2Out,
    SilenceRequest,
    Station,
    StationBed,
    StationPatient,
    Trends,
    UnmatchedGroup,
    WardOverview,
    event,
)
from hms_core.services import alarms as alarm_svc
from hms_core.services.audit import record_audit
from hms_core.services.errors import InvalidData, NotFound
from hms_server.api.deps import Caller, UnitOfWork, require, require_any
from hms_server.monitoring.publish import publish_monitor

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"])
_ERRORS = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}

LATEST_WINDOW = timedelta(minutes=10)  # older values are not "current" on the station
UNMATCHED_WINDOW = timedelta(hours=24)  # unmatched readings older than this are not offered
MAX_TREND_POINTS = 2000  # per parameter; beyond it, min and max per time bucket are kept
MAX_TREND_HOURS = 72
MAX_ALARM_HOURS = 24 * 7
MAX_ALARMS = 500
# How a nurse calls the parameters the limit rules name by code.
_SPOKEN = {
    "hr": "heart rate",
    "spo2": "SpO₂",
    "nibp sys": "systolic blood pressure",
    "nibp_sys": "systolic blood pressure",
    "rr": "respiration rate",
    "temp": "temperature",
}


Viewer = Annotated[Caller, Depends(require(Perm.MONITOR_VIEW))]
TrendReader = Annotated[Caller, Depends(require_any(Perm.MONITOR_VIEW, Perm.VITALS_READ))]
Manager = Annotated[Caller, Depends(require(Perm.ALARM_MANAGE))]


# --- wards and the station ----------------------------------------------------------------


@router.get("/wards", response_model=list[WardOverview])
def wards(_: Viewer, session: UnitOfWork) -> list[WardOverview]:
    """Every ward with its bed count, beds with a monitor and beds with an admitted patient."""
    monitors = (
        select(MonitorDevice.bed_id)
        .where(MonitorDevice.deleted_at.is_(None), MonitorDevice.bed_id.is_not(None))
        .distinct()
        .subquery()
    )
    occupied = (
        select(Admission.bed_id)
        .where(Admission.discharged_at.is_(None), Admission.deleted_at.is_(None))
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(
            Ward,
            func.count(Bed.id),
            func.count(monitors.c.bed_id),
            func.count(occupied.c.bed_id),
        )
        .outerjoin(Bed, and_(Bed.ward_id == Ward.id, Bed.deleted_at.is_(None)))
        .outerjoin(monitors, monitors.c.bed_id == Bed.id)
        .outerjoin(occupied, occupied.c.bed_id == Bed.id)
        .where(Ward.deleted_at.is_(None))
        .group_by(Ward.id)
        .order_by(Ward.code)
    ).all()
    return [
        WardOverview(
            id=ward.id,
            code=ward.code,
            name=ward.name,
            ward_class=ward.ward_class,
            beds=beds,
            monitors=with_monitor,
            patients=with_patient,
        )
        for ward, beds, with_monitor, with_patient in rows
    ]


@router.get("/station", response_model=Station, responses=_ERRORS)
def station(caller: Viewer, session: UnitOfWork, ward_id: uuid.UUID) -> Station:
    """Every bed of the ward in label order: monitor, patient, limits, latest values, NEWS2,
    active alarms; and how many monitor readings wait to be assigned (audited once)."""
    ward = session.get(Ward, ward_id)
    if ward is None or ward.deleted_at is not None:
        raise NotFound("This ward does not exist.")
    now = utcnow()
    beds = list(
        session.execute(
            select(Bed).where(Bed.ward_id == ward_id, Bed.deleted_at.is_(None)).order_by(Bed.label)
        ).scalars()
    )
    bed_ids = [b.id for b in beds]
    devices = _devices(session, bed_ids)
    admissions = _open_admissions(session, bed_ids)
    patient_ids = [a.patient_id for a in admissions.values()]
    patients = _patients(session, patient_ids, now.date())
    empty_beds = [b for b in bed_ids if b not in admissions]
    by_patient = _latest(session, VitalSign.patient_id, patient_ids, now)
    by_bed = _latest(session, VitalSign.bed_id, empty_beds, now, unmatched=True)
    scores = _news2(session, patient_ids)
    alarms = _active_alarms(session, bed_ids, patient_ids)
    bed_of_patient = {a.patient_id: bed for bed, a in admissions.items()}
    station_beds: list[StationBed] = []
    for bed in beds:
        admission = admissions.get(bed.id)
        pid = admission.patient_id if admission else None
        station_beds.append(
            StationBed(
                bed_id=bed.id,
                label=bed.label,
                device_id=devices.get(bed.id),
                admission_id=admission.id if admission else None,
                patient=patients.get(pid) if pid else None,
                limits=alarm_svc.limits_for(session, pid) if pid else AlarmLimits(),
                latest=by_patient.get(pid, {}) if pid else by_bed.get(bed.id, {}),
                news2=scores.get(pid) if pid else None,
                alarms=[
                    AlarmOut.model_validate(a)
                    for a in alarms
                    if (a.bed_id or bed_of_patient.get(a.patient_id)) == bed.id
                ],
            )
        )
    record_audit(
        session,
        caller.actor,
        "monitor.station",
        detail={"ward_id": str(ward_id), "patients": [str(p) for p in patient_ids]},
    )
    return Station(
        ward_id=ward.id,
        ward_code=ward.code,
        ward_name=ward.name,
        beds=station_beds,
        unmatched=_unmatched_count(session, bed_ids, now),
        server_time=now,
    )


def _devices(session: Session, bed_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(
        select(MonitorDevice.bed_id, MonitorDevice.device_id)
        .where(MonitorDevice.bed_id.in_(bed_ids), MonitorDevice.deleted_at.is_(None))
        .order_by(MonitorDevice.device_id)
    ).all()
    found: dict[uuid.UUID, str] = {}
    for bed_id, device_id in rows:
        found.setdefault(bed_id, device_id)
    return found


def _open_admissions(session: Session, bed_ids: list[uuid.UUID]) -> dict[uuid.UUID, Admission]:
    rows = session.execute(
        select(Admission).where(
            Admission.bed_id.in_(bed_ids),
            Admission.discharged_at.is_(None),
            Admission.deleted_at.is_(None),
        )
    ).scalars()
    return {a.bed_id: a for a in rows}


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _patients(
    session: Session, patient_ids: list[uuid.UUID], today: date
) -> dict[uuid.UUID, StationPatient]:
    allergies: dict[uuid.UUID, list[str]] = {}
    for pid, substance in session.execute(
        select(PatientAllergy.patient_id, PatientAllergy.substance)
        .where(PatientAllergy.patient_id.in_(patient_ids), PatientAllergy.deleted_at.is_(None))
        .order_by(PatientAllergy.substance)
    ):
        allergies.setdefault(pid, []).append(substance)
    rows = session.execute(select(Patient).where(Patient.id.in_(patient_ids))).scalars()
    return {
        p.id: StationPatient(
            id=p.id,
            mrn=p.mrn,
            name=f"{p.family_name}, {p.given_name}",
            sex=p.sex,
            age=_age(p.birth_date, today),
            allergies=allergies.get(p.id, []),
        )
        for p in rows
    }


def _latest(
    session: Session,
    column: Any,
    keys: list[uuid.UUID],
    now: datetime,
    *,
    unmatched: bool = False,
) -> dict[uuid.UUID, dict[str, Latest]]:
    """The newest value per parameter of the last LATEST_WINDOW, per patient (or per bed)."""
    if not keys:
        return {}
    stmt = (
        select(VitalSign)
        .ext(distinct_on(column, VitalSign.parameter))
        .where(column.in_(keys), VitalSign.observed_at >= now - LATEST_WINDOW)
        .order_by(column, VitalSign.parameter, VitalSign.observed_at.desc())
    )
    if unmatched:
        stmt = stmt.where(VitalSign.patient_id.is_(None))
    found: dict[uuid.UUID, dict[str, Latest]] = {}
    for sign in session.execute(stmt).scalars():
        key = sign.patient_id if column is VitalSign.patient_id else sign.bed_id
        found.setdefault(key, {})[sign.parameter] = Latest(
            value=sign.value,
            value_code=sign.value_code,
            at=sign.observed_at,
            artefact=sign.artefact,
            source=sign.source,
        )
    return found


def _news2(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, News2Out]:
    rows = session.execute(
        select(EarlyWarningScore)
        .ext(distinct_on(EarlyWarningScore.patient_id))
        .where(EarlyWarningScore.patient_id.in_(patient_ids))
        .order_by(EarlyWarningScore.patient_id, EarlyWarningScore.computed_at.desc())
    ).scalars()
    return {s.patient_id: News2Out.model_validate(s) for s in rows}


def _active_alarms(
    session: Session, bed_ids: list[uuid.UUID], patient_ids: list[uuid.UUID]
) -> list[AlarmEvent]:
    return list(
        session.execute(
            select(AlarmEvent)
            .where(
                AlarmEvent.ended_at.is_(None),
                or_(AlarmEvent.bed_id.in_(bed_ids), AlarmEvent.patient_id.in_(patient_ids)),
            )
            .order_by(AlarmEvent.started_at.desc())
        ).scalars()
    )


def _unmatched_filter(bed_ids: list[uuid.UUID], now: datetime) -> list[Any]:
    return [
        VitalSign.patient_id.is_(None),
        VitalSign.received_at >= now - UNMATCHED_WINDOW,
        or_(VitalSign.bed_id.is_(None), VitalSign.bed_id.in_(bed_ids)),
    ]


def _unmatched_count(session: Session, bed_ids: list[uuid.UUID], now: datetime) -> int:
    stmt = select(func.count(VitalSign.id)).where(*_unmatched_filter(bed_ids, now))
    return session.execute(stmt).scalar_one()


# --- trends -------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/trends", response_model=Trends, responses=_ERRORS)
def trends(
    caller: TrendReader,
    session: UnitOfWork,
    patient_id: uuid.UUID,
    hours: Annotated[float, Query(gt=0, le=MAX_TREND_HOURS)] = 4,
    parameters: Annotated[list[str] | None, Query()] = None,
) -> Trends:
    """A patient's values over the last `hours`, at most about MAX_TREND_POINTS per parameter;
    longer series keep each time bucket's lowest and highest value, so spikes survive."""
    _patient(session, patient_id)
    wanted = _parameters(parameters)
    until = utcnow()
    since = until - timedelta(hours=hours)
    series = {
        name: _series(session, patient_id, name, since, until)
        for name in (wanted or _recorded(session, patient_id, since))
    }
    record_audit(
        session,
        caller.actor,
        "monitor.trends",
        patient_id=patient_id,
        detail={"hours": hours, "parameters": sorted(series)},
    )
    return Trends(patient_id=patient_id, since=since, until=until, series=series)


def _parameters(raw: list[str] | None) -> list[str]:
    """Parameter names from repeated or comma-separated query values, each checked."""
    names = [n.strip() for item in raw or [] for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in PARAMETERS]
    if unknown:
        raise InvalidData(
            f"Unknown vital sign: {', '.join(unknown)}. Known: {', '.join(PARAMETERS)}.",
            fields={"parameters": "Unknown vital sign"},
        )
    return list(dict.fromkeys(names))


def _recorded(session: Session, patient_id: uuid.UUID, since: datetime) -> list[str]:
    stmt = (
        select(VitalSign.parameter)
        .where(VitalSign.patient_id == patient_id, VitalSign.observed_at >= since)
        .distinct()
        .order_by(VitalSign.parameter)
    )
    return list(session.execute(stmt).scalars())


_BUCKETED = text(
    """
    SELECT t, v FROM (
      SELECT extract(epoch FROM observed_at)::float8 AS t, value AS v,
             row_number() OVER (PARTITION BY b ORDER BY value, observed_at) AS lo,
             row_number() OVER (PARTITION BY b ORDER BY value DESC, observed_at) AS hi
      FROM (
        SELECT observed_at, value,
               floor(extract(epoch FROM observed_at - :since) / :width) AS b
        FROM vital_sign
        WHERE patient_id = :patient_id AND parameter = :parameter AND NOT artefact
          AND value IS NOT NULL AND observed_at >= :since AND observed_at <= :until
      ) raw
    ) ranked
    WHERE lo = 1 OR hi = 1
    ORDER BY t
    """
)


def _series(
    session: Session, patient_id: uuid.UUID, parameter: str, since: datetime, until: datetime
) -> list[tuple[float, float]]:
    """(epoch seconds, value) in time order; downsampled by min and max per bucket."""
    where = (
        VitalSign.patient_id == patient_id,
        VitalSign.parameter == parameter,
        VitalSign.artefact.is_(False),
        VitalSign.value.is_not(None),
        VitalSign.observed_at >= since,
        VitalSign.observed_at <= until,
    )
    count = session.execute(select(func.count(VitalSign.id)).where(*where)).scalar_one()
    if count <= MAX_TREND_POINTS:
        epoch = func.extract("epoch", VitalSign.observed_at)
        rows = session.execute(
            select(epoch, VitalSign.value).where(*where).order_by(VitalSign.observed_at)
        )
        return [(float(t), float(v)) for t, v in rows]
    width = (until - since).total_seconds() / (MAX_TREND_POINTS // 2)
    rows = session.execute(
        _BUCKETED,
        {
            "patient_id": patient_id,
            "parameter": parameter,
            "since": since,
            "until": until,
            "width": width,
        },
    )
    return [(float(t), float(v)) for t, v in rows]


def _patient(session: Session, patient_id: uuid.UUID) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("This patient does not exist.")
    return patient


# --- alarms -------------------------------------------------------------------------------


@router.get("/alarms", response_model=list[AlarmOut], responses=_ERRORS)
def alarm_history(
    caller: Viewer,
    session: UnitOfWork,
    bed_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    hours: Annotated[float, Query(gt=0, le=MAX_ALARM_HOURS)] = 24,
) -> list[AlarmOut]:
    """Alarms that started in the last `hours` (of a bed, a patient, or all), newest first."""
    stmt = select(AlarmEvent).where(AlarmEvent.started_at >= utcnow() - timedelta(hours=hours))
    if bed_id is not None:
        stmt = stmt.where(AlarmEvent.bed_id == bed_id)
    if patient_id is not None:
        stmt = stmt.where(AlarmEvent.patient_id == patient_id)
    rows = session.execute(
        stmt.order_by(AlarmEvent.started_at.desc(), AlarmEvent.id.desc()).limit(MAX_ALARMS)
    ).scalars()
    found = [AlarmOut.model_validate(a) for a in rows]
    detail = {"bed_id": str(bed_id) if bed_id else None, "hours": hours, "alarms": len(found)}
    record_audit(session, caller.actor, "monitor.alarms", patient_id=patient_id, detail=detail)
    return found


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut, responses=_ERRORS)
def acknowledge(caller: Manager, session: UnitOfWork, alarm_id: uuid.UUID) -> AlarmOut:
    """Acknowledge an alarm (once; again changes nothing); every station is told."""
    alarm = alarm_svc.acknowledge_alarm(session, caller.actor, alarm_id)
    return _announce(session, alarm)


@router.post("/alarms/{alarm_id}/silence", response_model=AlarmOut, responses=_ERRORS)
def silence(
    caller: Manager, session: UnitOfWork, alarm_id: uuid.UUID, body: SilenceRequest
) -> AlarmOut:
    """Pause an active alarm's sound for a few minutes; every station is told."""
    alarm = alarm_svc.silence_alarm(session, caller.actor, alarm_id, body.minutes)
    return _announce(session, alarm)


def _announce(session: Session, alarm: AlarmEvent) -> AlarmOut:
    """Publish the alarm as it now is to the stations of its ward."""
    bed_id = alarm.bed_id or _bed_of(session, alarm.patient_id)
    ward_id = alarm_svc.ward_of_bed(session, bed_id)
    publish_monitor(session, [alarm_svc.alarm_event_payload(alarm, ward_id)])
    return AlarmOut.model_validate(alarm)


def _bed_of(session: Session, patient_id: uuid.UUID | None) -> uuid.UUID | None:
    """The bed of the patient's open admission."""
    if patient_id is None:
        return None
    return session.execute(
        select(Admission.bed_id).where(
            Admission.patient_id == patient_id,
            Admission.discharged_at.is_(None),
            Admission.deleted_at.is_(None),
        )
    ).scalar_one_or_none()


# --- limits -------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/limits", response_model=AlarmLimits, responses=_ERRORS)
def get_limits(caller: Viewer, session: UnitOfWork, patient_id: uuid.UUID) -> AlarmLimits:
    """The patient's alarm limits (the adult defaults when none were set)."""
    _patient(session, patient_id)
    record_audit(session, caller.actor, "monitor.limits.read", patient_id=patient_id)
    return alarm_svc.limits_for(session, patient_id)


_LIMITS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AlarmLimits"}}},
    }
}


@router.put(
    "/patients/{patient_id}/limits",
    response_model=AlarmLimits,
    responses=_ERRORS,
    openapi_extra=_LIMITS_BODY,
)
def put_limits(
    caller: Manager,
    session: UnitOfWork,
    patient_id: uuid.UUID,
    body: Annotated[dict[str, Any], Body()],
) -> AlarmLimits:
    """Replace the patient's alarm limits (audited); the ward's stations are told.
    A low limit at or above its high one is refused in plain words and nothing is stored."""
    limits = alarm_svc.set_limits(session, caller.actor, patient_id, _limits(body))
    ward_id = alarm_svc.ward_of_bed(session, _bed_of(session, patient_id))
    publish_monitor(session, [event(STATION, ward_id)])
    return limits


def _limits(body: dict[str, Any]) -> AlarmLimits:
    """The limits sent, or a refusal naming each problem in the words a nurse uses."""
    try:
        return AlarmLimits.model_validate(body)
    except ValidationError as exc:
        problems = field_errors(exc)
    fields = {p.field: _spoken(_plain(p.message)) for p in problems}
    name, message = next(iter(fields.items()))
    said = message if name == "request" else f"{_spoken(name.replace('_', ' '))}: {message}"
    raise InvalidData(f"These alarm limits cannot be used: {said}", fields=fields)


def _plain(message: str) -> str:
    return "Must be a number" if message.startswith("Input should be a valid number") else message


def _spoken(message: str) -> str:
    """`message` with parameter codes (hr, nibp_sys...) in the words a nurse uses."""
    for code, words in _SPOKEN.items():
        message = re.sub(rf"\b{code}\b", words, message)
    return message


# --- unmatched readings -------------------------------------------------------------------


@router.get("/unmatched", response_model=list[UnmatchedGroup])
def unmatched(caller: Viewer, session: UnitOfWork) -> list[UnmatchedGroup]:
    """Monitor readings no admitted patient could be matched to, grouped by monitor and what
    the message said (last 24 hours), newest group first."""
    now = utcnow()
    hint = func.coalesce(VitalSign.unmatched_hint, "")
    rows = session.execute(
        select(
            VitalSign.device_id,
            hint,
            func.count(VitalSign.id),
            func.min(VitalSign.observed_at),
            func.max(VitalSign.observed_at),
        )
        .where(VitalSign.patient_id.is_(None), VitalSign.received_at >= now - UNMATCHED_WINDOW)
        .group_by(VitalSign.device_id, hint)
        .order_by(func.max(VitalSign.observed_at).desc())
    ).all()
    record_audit(session, caller.actor, "monitor.unmatched", detail={"groups": len(rows)})
    return [
        UnmatchedGroup(device_id=d, hint=h, readings=n, first_at=first, last_at=last)
        for d, h, n, first, last in rows
    ]


@router.post("/unmatched/assign", responses=_ERRORS)
def assign(caller: Manager, session: UnitOfWork, body: AssignRequest) -> dict[str, int]:
    """Give a monitor's unmatched readings (by device and/or hint) to a patient (audited)."""
    if body.device_id is None and body.hint is None:
        raise InvalidData(
            "Say which monitor's readings to assign (its device or what the message said).",
            fields={"device_id": "Choose a monitor"},
        )
    _patient(session, body.patient_id)
    # only what the nurse was shown: an older reading from this monitor may be another patient's
    conditions = [
        VitalSign.patient_id.is_(None),
        VitalSign.received_at >= utcnow() - UNMATCHED_WINDOW,
    ]
    if body.device_id is not None:
        conditions.append(VitalSign.device_id == body.device_id)
    if body.hint is not None:
        conditions.append(func.coalesce(VitalSign.unmatched_hint, "") == body.hint)
    beds = session.execute(select(VitalSign.bed_id).where(*conditions).distinct()).scalars()
    ward_ids = _wards_of(session, [*beds, _bed_of(session, body.patient_id)])
    result = session.execute(
        update(VitalSign)
        .where(*conditions)
        .values(patient_id=body.patient_id, assigned_by=caller.actor.username)
        .execution_options(synchronize_session=False)
    )
    assigned = result.rowcount or 0
    if not assigned:
        raise NotFound("There are no unassigned readings from this monitor any more.")
    record_audit(
        session,
        caller.actor,
        "monitor.unmatched.assign",
        patient_id=body.patient_id,
        detail={"device_id": body.device_id, "hint": body.hint, "readings": assigned},
    )
    publish_monitor(session, [event(STATION, w) for w in ward_ids or [None]])
    return {"assigned": assigned}


def _wards_of(session: Session, bed_ids: Iterable[uuid.UUID | None]) -> list[uuid.UUID]:
    found = {alarm_svc.ward_of_bed(session, b) for b in bed_ids}
    return sorted(w for w in found if w is not None)
