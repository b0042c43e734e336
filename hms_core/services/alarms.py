"""Alarm limits and the nurse's actions on alarms: set a patient's limits, acknowledge an
alarm, pause its audio for a few minutes. Every action is checked and audited.

Services never publish: the caller sends `alarm_event_payload(...)` to the central stations
(hms_server.monitoring.publish.publish_monitor) and tells the alarm service that limits changed.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.base import utcnow
from hms_core.db.hospital import Bed
from hms_core.db.monitoring import AlarmEvent
from hms_core.db.monitoring import AlarmLimits as AlarmLimitsRow
from hms_core.db.patients import Patient
from hms_core.rbac import Perm
from hms_core.rules.alarms import AlarmLimits
from hms_core.schemas.monitoring import ALARM, AlarmOut, event
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import Conflict, InvalidData, NotFound
from hms_core.services.unit import emit

SILENCE_MINUTES = (1, 15)
LIMITS_CHANGED = "alarm.limits_changed"  # domain event: data {patient_id}


def limits_for(session: Session, patient_id: uuid.UUID) -> AlarmLimits:
    """The patient's stored limits, or the adult defaults when none were set."""
    row = _limits_row(session, patient_id)
    return AlarmLimits.model_validate(row.limits) if row is not None else AlarmLimits()


def has_own_limits(session: Session, patient_id: uuid.UUID) -> bool:
    """Whether someone set limits for this patient (otherwise the adult defaults apply)."""
    return _limits_row(session, patient_id) is not None


def set_limits(
    session: Session, actor: Actor, patient_id: uuid.UUID, limits: AlarmLimits | dict[str, Any]
) -> AlarmLimits:
    """Store a patient's alarm limits (replacing the previous ones); audited with before/after."""
    actor.require(Perm.ALARM_MANAGE)
    new = _validated(limits)
    if session.get(Patient, patient_id) is None:
        raise NotFound("This patient does not exist, so no alarm limits were saved.")
    row = _limits_row(session, patient_id, lock=True)
    before = AlarmLimits.model_validate(row.limits) if row is not None else AlarmLimits()
    after = new.model_dump(mode="json")
    if row is None:
        session.add(AlarmLimitsRow(patient_id=patient_id, limits=after, updated_by=actor.username))
    else:
        row.limits = after
        row.updated_by = actor.username
        row.updated_at = utcnow()
    detail = {"before": before.model_dump(mode="json"), "after": after}
    record_audit(session, actor, "alarm.limits", patient_id=patient_id, detail=detail)
    emit(session, LIMITS_CHANGED, patient_id=str(patient_id))
    session.flush()
    return new


def acknowledge_alarm(session: Session, actor: Actor, alarm_id: uuid.UUID) -> AlarmEvent:
    """Mark an alarm seen by the actor (once; acknowledging again changes nothing)."""
    actor.require(Perm.ALARM_MANAGE)
    alarm = _alarm(session, alarm_id)
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at = utcnow()
        alarm.acknowledged_by = actor.username
        record_audit(
            session, actor, "alarm.acknowledge", patient_id=alarm.patient_id, detail=_what(alarm)
        )
        session.flush()
    return alarm


def silence_alarm(
    session: Session,
    actor: Actor,
    alarm_id: uuid.UUID,
    minutes: int,
    *,
    now: datetime | None = None,
) -> AlarmEvent:
    """Pause an alarm's sound for `minutes` (1 to 15); the visual signal stays."""
    actor.require(Perm.ALARM_MANAGE)
    low, high = SILENCE_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
        raise InvalidData(
            f"An alarm can be silenced for {low} to {high} minutes.",
            fields={"minutes": f"Choose between {low} and {high} minutes."},
        )
    alarm = _alarm(session, alarm_id)
    if alarm.ended_at is not None:
        raise Conflict("This alarm has already ended; there is nothing to silence.")
    alarm.silenced_until = (now or utcnow()) + timedelta(minutes=minutes)
    alarm.silenced_by = actor.username
    detail = {**_what(alarm), "minutes": minutes, "until": alarm.silenced_until.isoformat()}
    record_audit(session, actor, "alarm.silence", patient_id=alarm.patient_id, detail=detail)
    session.flush()
    return alarm


def ward_of_bed(session: Session, bed_id: uuid.UUID | None) -> uuid.UUID | None:
    """The ward a bed belongs to (None for no bed)."""
    if bed_id is None:
        return None
    bed = session.get(Bed, bed_id)
    return bed.ward_id if bed is not None else None


def alarm_event_payload(alarm: AlarmEvent, ward_id: uuid.UUID | None) -> dict[str, Any]:
    """The `alarm` live event for the central stations: the whole row as it now is."""
    return event(ALARM, ward_id, alarm=AlarmOut.model_validate(alarm).model_dump(mode="json"))


def alarm_live_event(session: Session, alarm: AlarmEvent) -> dict[str, Any]:
    """The `alarm` live event of a row, for the ward its bed belongs to."""
    return alarm_event_payload(alarm, ward_of_bed(session, alarm.bed_id))


def _validated(limits: AlarmLimits | dict[str, Any]) -> AlarmLimits:
    try:
        return AlarmLimits.model_validate(
            limits.model_dump() if isinstance(limits, AlarmLimits) else limits
        )
    except ValidationError as exc:
        fields = {
            ".".join(str(p) for p in err["loc"]) or "limits": err["msg"] for err in exc.errors()
        }
        first = next(iter(fields.values()), "The alarm limits are not valid.")
        raise InvalidData(
            f"These alarm limits cannot be used: {first.removeprefix('Value error, ')}",
            fields=fields,
        ) from None


def _limits_row(
    session: Session, patient_id: uuid.UUID, *, lock: bool = False
) -> AlarmLimitsRow | None:
    stmt = select(AlarmLimitsRow).where(AlarmLimitsRow.patient_id == patient_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _alarm(session: Session, alarm_id: uuid.UUID) -> AlarmEvent:
    alarm = session.get(AlarmEvent, alarm_id, with_for_update=True)
    if alarm is None:
        raise NotFound("This alarm does not exist.")
    return alarm


def _what(alarm: AlarmEvent) -> dict[str, Any]:
    return {"alarm_id": str(alarm.id), "parameter": alarm.parameter, "message": alarm.message}
