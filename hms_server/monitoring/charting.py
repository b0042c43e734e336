"""Nurses' charted vital signs become observations: at commit, each new `vitals_entry` adds one
`vital_sign` row per recorded value (source "manual"), the patient is scored again, and the
central stations get `vitals` and `news2` events.

Installed on the server's session factory by `hms_server.db.Database`, like the notify hooks.
A unit of work that adds no entry pays only a scan of the objects its flushes inserted.

After the commit, the alarm services and NEWS2 scorers of this process are told which patients
were charted or had their alarm limits set (`alarm.limits_changed` domain events), so they read
them again at once; other processes catch up within their refresh interval. The listener must
run before `hms_server.notify.hooks`, which takes the domain events away: `Database` installs
it after the notify hooks, with `insert=True`, so it goes first.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hms_core.db.base import new_id, utcnow
from hms_core.db.monitoring import MANUAL, VitalsEntry, VitalSign
from hms_core.rules.vitals import PARAMETERS
from hms_core.schemas.monitoring import VITALS
from hms_core.schemas.monitoring import event as live_event
from hms_core.services.alarms import LIMITS_CHANGED
from hms_core.services.unit import EVENTS
from hms_server.monitoring import alarm_service, scoring
from hms_server.monitoring.publish import publish_monitor

ADDED = "hms_charted_entries"  # session.info: ids of vitals_entry rows added in this unit
RESCORED = "hms_charted_patients"  # session.info: patients to re-read after commit
RELIMITED = "hms_limits_patients"  # session.info: patients whose limits changed

# VitalsEntry column -> (parameter, LOINC code)
NUMBERS: dict[str, tuple[str, str]] = {
    "respiration_rate": ("rr", "9279-1"),
    "spo2": ("spo2", "59408-5"),
    "systolic_bp": ("nibp_sys", "8480-6"),
    "diastolic_bp": ("nibp_dia", "8462-4"),
    "pulse": ("pulse", "8867-4"),
    "temperature_c": ("temp", "8310-5"),
}
ACVPU_LOINC = "67775-7"  # level of responsiveness


def install(factory: sessionmaker) -> None:
    """Chart each committed unit's new vitals entries, before the change log is written."""
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", _before_commit, insert=True)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_soft_rollback", _after_rollback)


def _collect(session: Session, _context: object) -> None:
    for obj in session.new:
        if isinstance(obj, VitalsEntry):
            session.info.setdefault(ADDED, set()).add(obj.id)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # the outermost commit charts, once
    _note_limits(session)
    unflushed = any(isinstance(obj, VitalsEntry) for obj in session.new)
    if not unflushed and not session.info.get(ADDED):
        return
    session.flush()  # ids and defaults assigned; _collect notes the unflushed ones
    ids = session.info.pop(ADDED, set())
    now = utcnow()
    entries = [e for e in (session.get(VitalsEntry, i) for i in ids) if e is not None]
    events: list[dict[str, Any]] = []
    for entry in sorted(entries, key=lambda e: e.taken_at):
        events += chart_entry(session, entry, now)
    patients = sorted({e.patient_id for e in entries})
    for patient_id in patients:
        events += scoring.rescore_from_db(session, patient_id, now)
    session.flush()
    if events:
        publish_monitor(session, events)
    session.info[RESCORED] = patients


def _note_limits(session: Session) -> None:
    changed = [e for e in session.info.get(EVENTS) or () if e.kind == LIMITS_CHANGED]
    if changed:
        session.info[RELIMITED] = {uuid.UUID(str(e.data["patient_id"])) for e in changed}


def _after_commit(session: Session) -> None:
    patients = session.info.pop(RESCORED, None)
    if patients:
        scoring.charted(patients)
    relimited = session.info.pop(RELIMITED, None)
    if relimited:
        alarm_service.limits_changed(relimited)
        scoring.charted(relimited)


def _after_rollback(session: Session, _previous: object) -> None:
    if not session.in_transaction():
        for key in (ADDED, RESCORED, RELIMITED):
            session.info.pop(key, None)


def chart_entry(session: Session, entry: VitalsEntry, now: datetime) -> list[dict[str, Any]]:
    """Add the entry's `vital_sign` rows; returns its `vitals` live event."""
    bed_id, ward_id = scoring.placement(session, entry.patient_id)
    values: dict[str, float] = {}
    codes: dict[str, str] = {}
    for column, (parameter, loinc) in NUMBERS.items():
        value = getattr(entry, column)
        if value is not None:
            unit = PARAMETERS[parameter].unit
            _add(session, entry, bed_id, now, parameter, value, None, unit, "LOINC", loinc)
            values[parameter] = value
    if entry.consciousness:
        code = entry.consciousness.upper()
        _add(session, entry, bed_id, now, scoring.ACVPU, None, code, "", "LOINC", ACVPU_LOINC)
        codes[scoring.ACVPU] = code
    if entry.on_oxygen is not None:
        code = "oxygen" if entry.on_oxygen else "air"
        _add(session, entry, bed_id, now, scoring.O2, None, code, "", "local", "o2")
        codes[scoring.O2] = code
    return [
        live_event(
            VITALS,
            ward_id,
            bed_id=str(bed_id) if bed_id else None,
            patient_id=str(entry.patient_id),
            device_id=None,
            at=entry.taken_at.isoformat(),
            received=now.timestamp(),
            values=values,
            artefacts=[],
            codes=codes,
            source=MANUAL,
        )
    ]


def _add(
    session: Session,
    entry: VitalsEntry,
    bed_id: uuid.UUID | None,
    now: datetime,
    parameter: str,
    value: float | None,
    value_code: str | None,
    unit: str,
    system: str,
    code: str,
) -> None:
    session.add(
        VitalSign(
            id=new_id(),
            patient_id=entry.patient_id,
            bed_id=bed_id,
            parameter=parameter,
            value=value,
            value_code=value_code,
            unit=unit,
            code_system=system,
            code=code,
            source=MANUAL,
            observed_at=entry.taken_at,
            received_at=now,
            entry_id=entry.id,
        )
    )
