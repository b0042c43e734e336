"""Alarms on the server against a real PostgreSQL: rows from start to end, live events, the
nurse's acknowledge and silence, and limits that take effect at once."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hms_core.db import Admission, AlarmEvent, AuditEvent
from hms_core.db import AlarmLimits as AlarmLimitsRow
from hms_core.rules.alarms import AlarmLimits
from hms_core.services.alarms import (
    acknowledge_alarm,
    alarm_event_payload,
    limits_for,
    set_limits,
    silence_alarm,
)
from hms_core.services.errors import Conflict, InvalidData, NotFound, PermissionDenied
from hms_server.db import Database
from hms_server.monitoring.alarm_service import AlarmService
from tests.server.icu_helpers import Icu, actor, make_icu, reading

T0 = datetime.now(UTC).replace(microsecond=0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def icu(db: Database) -> Icu:
    return make_icu(db, {"ICU-03": ("Jane", "Doe"), "ICU-04": ("John", "Roe")})


def _feed(db: Database, service: AlarmService, values: list, now: datetime) -> list[dict]:
    with db.unit_of_work() as session:
        return service.observe(session, values, now)


def _rows(db: Database) -> list[AlarmEvent]:
    with db.unit_of_work() as session:
        return list(session.execute(select(AlarmEvent).order_by(AlarmEvent.started_at)).scalars())


def _audits(db: Database, action: str) -> list[AuditEvent]:
    with db.unit_of_work() as session:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.execute(stmt).scalars())


def _start_alarm(db: Database, icu: Icu) -> AlarmEvent:
    _feed(db, AlarmService(), [reading(icu.place("ICU-03"), "nibp_sys", 175, at(0))], at(0))
    return _rows(db)[0]


def test_an_alarm_is_stored_from_start_to_end_and_sent_live(db: Database, icu: Icu) -> None:
    service = AlarmService()
    place = icu.place("ICU-03")
    events = _feed(db, service, [reading(place, "nibp_sys", 175, at(0))], at(0))
    assert len(events) == 1
    sent = json.loads(json.dumps(events[0]))  # JSON-ready as it is
    assert sent["type"] == "alarm" and sent["ward_id"] == str(icu.ward_id)
    alarm = sent["alarm"]
    assert alarm["patient_id"] == str(icu.patients["ICU-03"])
    assert alarm["bed_id"] == str(icu.beds["ICU-03"])
    assert (alarm["parameter"], alarm["condition"], alarm["priority"]) == (
        "nibp_sys",
        "high",
        "medium",
    )
    assert alarm["message"] == "NIBP sys high 175 (limit 160)" and alarm["ended_at"] is None
    [row] = _rows(db)
    assert row.ended_at is None and row.value == 175 and row.limit == 160

    assert _feed(db, service, [reading(place, "nibp_sys", 178, at(1))], at(1)) == []
    ended = _feed(db, service, [reading(place, "nibp_sys", 140, at(2))], at(2))
    assert [e["alarm"]["id"] for e in ended] == [str(row.id)]
    assert ended[0]["alarm"]["ended_at"] is not None
    [row] = _rows(db)
    assert row.ended_at == at(2)


def test_spo2_alarms_only_after_its_delay_when_time_passes(db: Database, icu: Icu) -> None:
    service = AlarmService()
    place = icu.place("ICU-03")
    assert _feed(db, service, [reading(place, "spo2", 86, at(0))], at(0)) == []
    with db.unit_of_work() as session:
        assert service.tick(session, at(14)) == []
    with db.unit_of_work() as session:
        events = service.tick(session, at(15))
    assert [e["alarm"]["message"] for e in events] == ["SpO₂ low 86 (limit 90)"]
    assert len(_rows(db)) == 1


def test_a_silent_monitor_raises_a_no_data_alarm(db: Database, icu: Icu) -> None:
    service = AlarmService()
    _feed(db, service, [reading(icu.place("ICU-04"), "hr", 80, at(0))], at(0))
    with db.unit_of_work() as session:
        events = service.tick(session, at(30))
    assert [(e["alarm"]["kind"], e["alarm"]["condition"]) for e in events] == [
        ("technical", "no_data")
    ]
    assert events[0]["alarm"]["patient_id"] == str(icu.patients["ICU-04"])


def test_a_zero_artefact_is_a_sensor_off_alarm(db: Database, icu: Icu) -> None:
    service = AlarmService()
    events = _feed(db, service, [reading(icu.place("ICU-03"), "spo2", 0, at(0))], at(0))
    assert [(e["alarm"]["kind"], e["alarm"]["priority"]) for e in events] == [("technical", "low")]
    assert events[0]["alarm"]["message"] == "SpO₂ sensor off"


def test_unmatched_and_other_artefacts_raise_nothing(db: Database, icu: Icu) -> None:
    service = AlarmService()
    place = icu.place("ICU-03")
    stray = reading(place, "hr", 200, at(0))
    stray = type(stray)(type(place)(None, None, None, "MON-X"), stray.reading, at(0))
    odd = reading(place, "hr", 400, at(0), artefact=True)
    assert _feed(db, service, [stray, odd], at(0)) == []
    assert _rows(db) == []


def test_open_alarms_of_a_previous_run_are_taken_over(db: Database, icu: Icu) -> None:
    first = AlarmService()
    place = icu.place("ICU-03")
    _feed(db, first, [reading(place, "spo2", 97, at(0))], at(0))
    _feed(db, first, [reading(icu.place("ICU-04"), "hr", 80, at(0))], at(0))
    with db.unit_of_work() as session:
        first.tick(session, at(40))  # ICU-04 no HR, ICU-03 no SpO2
    assert sum(r.ended_at is None for r in _rows(db)) == 2  # the two no-data alarms

    restarted = AlarmService()
    with db.unit_of_work() as session:
        events = restarted.tick(session, at(41))
    # a no-data alarm says nothing about now: ended on start, and raised again if still silent
    assert {e["alarm"]["condition"] for e in events} == {"no_data"}
    assert all(e["alarm"]["ended_at"] for e in events)
    assert all(r.ended_at is not None for r in _rows(db))


def test_a_still_present_alarm_keeps_its_row_after_a_restart(db: Database, icu: Icu) -> None:
    place = icu.place("ICU-03")
    row = _start_alarm(db, icu)
    with db.unit_of_work() as session:
        acknowledge_alarm(session, actor(db, "nurse"), row.id)

    restarted = AlarmService()
    assert _feed(db, restarted, [reading(place, "nibp_sys", 180, at(5))], at(5)) == []
    [kept] = _rows(db)
    assert kept.id == row.id and kept.ended_at is None and kept.acknowledged_by == "test-nurse"
    ended = _feed(db, restarted, [reading(place, "nibp_sys", 130, at(6))], at(6))
    assert [e["alarm"]["id"] for e in ended] == [str(row.id)]


def test_acknowledge_is_audited_and_idempotent(db: Database, icu: Icu) -> None:
    row = _start_alarm(db, icu)
    nurse = actor(db, "nurse")
    with db.unit_of_work() as session:
        alarm = acknowledge_alarm(session, nurse, row.id)
        payload = alarm_event_payload(alarm, icu.ward_id)
    assert payload["alarm"]["acknowledged_by"] == "test-nurse"
    first = datetime.fromisoformat(payload["alarm"]["acknowledged_at"])
    with db.unit_of_work() as session:
        again = acknowledge_alarm(session, nurse, row.id)
        assert again.acknowledged_at == first
    [audit] = _audits(db, "alarm.acknowledge")
    assert audit.patient_id == icu.patients["ICU-03"] and audit.actor_username == "test-nurse"
    assert audit.detail["alarm_id"] == str(row.id)


def test_silence_pauses_the_sound_for_the_chosen_minutes(db: Database, icu: Icu) -> None:
    row = _start_alarm(db, icu)
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        alarm = silence_alarm(session, actor(db, "nurse"), row.id, 2, now=now)
        assert alarm.silenced_until == now + timedelta(minutes=2)
        assert alarm.silenced_by == "test-nurse" and alarm.acknowledged_at is None
    [audit] = _audits(db, "alarm.silence")
    assert audit.detail["minutes"] == 2


@pytest.mark.parametrize("minutes", [0, 16, -1])
def test_silence_outside_1_to_15_minutes_is_refused(db: Database, icu: Icu, minutes: int) -> None:
    row = _start_alarm(db, icu)
    with db.unit_of_work() as session, pytest.raises(InvalidData, match="1 to 15 minutes"):
        silence_alarm(session, actor(db, "nurse"), row.id, minutes)
    assert _rows(db)[0].silenced_until is None


def test_an_ended_alarm_cannot_be_silenced(db: Database, icu: Icu) -> None:
    service = AlarmService()
    place = icu.place("ICU-03")
    _feed(db, service, [reading(place, "nibp_sys", 175, at(0))], at(0))
    _feed(db, service, [reading(place, "nibp_sys", 130, at(1))], at(1))
    with db.unit_of_work() as session, pytest.raises(Conflict, match="already ended"):
        silence_alarm(session, actor(db, "nurse"), _rows(db)[0].id, 2)


def test_a_role_without_alarm_manage_is_refused_and_nothing_changes(db: Database, icu: Icu) -> None:
    row = _start_alarm(db, icu)
    for role in ("reception", "doctor"):
        someone = actor(db, role)
        with db.unit_of_work() as session, pytest.raises(PermissionDenied):
            acknowledge_alarm(session, someone, row.id)
        with db.unit_of_work() as session, pytest.raises(PermissionDenied):
            silence_alarm(session, someone, row.id, 2)
        with db.unit_of_work() as session, pytest.raises(PermissionDenied):
            set_limits(session, someone, icu.patients["ICU-03"], AlarmLimits(hr_high=100))
    [unchanged] = _rows(db)
    assert unchanged.acknowledged_at is None and unchanged.silenced_until is None
    assert _audits(db, "alarm.acknowledge") == [] and _audits(db, "alarm.limits") == []


def test_an_unknown_alarm_is_not_found(db: Database, icu: Icu) -> None:
    with db.unit_of_work() as session, pytest.raises(NotFound, match="does not exist"):
        acknowledge_alarm(session, actor(db, "nurse"), icu.patients["ICU-03"])


def test_new_limits_are_audited_and_used_at_once(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    place = icu.place("ICU-03")
    service = AlarmService()
    assert _feed(db, service, [reading(place, "nibp_sys", 150, at(0))], at(0)) == []
    with db.unit_of_work() as session:
        assert limits_for(session, patient) == AlarmLimits()
        set_limits(session, actor(db, "nurse"), patient, AlarmLimits(nibp_sys_high=140))
    service.limits_changed(patient)
    events = _feed(db, service, [reading(place, "nibp_sys", 150, at(1))], at(1))
    assert [e["alarm"]["message"] for e in events] == ["NIBP sys high 150 (limit 140)"]
    with db.unit_of_work() as session:
        assert limits_for(session, patient).nibp_sys_high == 140
        assert limits_for(session, icu.patients["ICU-04"]).nibp_sys_high == 160
    [audit] = _audits(db, "alarm.limits")
    assert audit.patient_id == patient
    assert audit.detail["before"]["nibp_sys_high"] == 160
    assert audit.detail["after"]["nibp_sys_high"] == 140


def test_limits_are_read_again_after_a_while_without_being_told(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    place = icu.place("ICU-03")
    service = AlarmService(refresh_seconds=30)
    _feed(db, service, [reading(place, "nibp_sys", 150, at(0))], at(0))
    with db.unit_of_work() as session:  # as another server process would leave it
        limits = AlarmLimits(nibp_sys_high=140).model_dump(mode="json")
        session.add(AlarmLimitsRow(patient_id=patient, limits=limits, updated_by="elsewhere"))
    assert _feed(db, service, [reading(place, "nibp_sys", 150, at(10))], at(10)) == []
    assert len(_feed(db, service, [reading(place, "nibp_sys", 150, at(31))], at(31))) == 1


def test_limits_that_make_no_sense_are_refused_in_words(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    nurse = actor(db, "nurse")
    with db.unit_of_work() as session, pytest.raises(InvalidData, match="must be below the high"):
        set_limits(session, nurse, patient, {"hr_low": 130, "hr_high": 120})
    with db.unit_of_work() as session, pytest.raises(NotFound, match="patient does not exist"):
        set_limits(session, nurse, icu.beds["ICU-01"], AlarmLimits())
    with db.unit_of_work() as session:
        assert session.execute(select(AlarmLimitsRow)).first() is None
    assert _audits(db, "alarm.limits") == []


def test_a_second_edit_replaces_the_first(db: Database, icu: Icu) -> None:
    patient = icu.patients["ICU-03"]
    nurse = actor(db, "nurse")
    with db.unit_of_work() as session:
        set_limits(session, nurse, patient, AlarmLimits(hr_high=110))
    with db.unit_of_work() as session:
        set_limits(session, nurse, patient, AlarmLimits(hr_high=100, spo2_scale=2))
    with db.unit_of_work() as session:
        assert len(session.execute(select(AlarmLimitsRow)).all()) == 1
        assert limits_for(session, patient).spo2_scale == 2
    second = _audits(db, "alarm.limits")
    assert sorted(a.detail["before"]["hr_high"] for a in second) == [110, 120]


def test_limits_committed_elsewhere_reach_the_service_at_once(db: Database, icu: Icu) -> None:
    place = icu.place("ICU-03")
    service = AlarmService(refresh_seconds=600)
    _feed(db, service, [reading(place, "hr", 110, at(0))], at(0))
    with db.unit_of_work() as session:  # as the HTTP route would: no call on the service
        set_limits(session, actor(db, "nurse"), icu.patients["ICU-03"], {"hr_high": 100})
    events = _feed(db, service, [reading(place, "hr", 110, at(1))], at(1))
    assert events == []  # HR waits its 10 s delay
    events = _feed(db, service, [reading(place, "hr", 110, at(11))], at(11))
    assert [e["alarm"]["message"] for e in events] == ["HR high 110 (limit 100)"]


def test_an_alarm_whose_transaction_rolled_back_is_raised_again(db: Database, icu: Icu) -> None:
    service = AlarmService()
    place = icu.place("ICU-03")
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        assert len(service.observe(session, [reading(place, "nibp_sys", 175, at(0))], at(0))) == 1
        raise RuntimeError("the gateway's transaction failed")
    assert _rows(db) == []
    events = _feed(db, service, [reading(place, "nibp_sys", 176, at(1))], at(1))
    assert [e["alarm"]["condition"] for e in events] == ["high"]
    [row] = _rows(db)
    assert row.ended_at is None


def test_an_end_whose_transaction_rolled_back_ends_again(db: Database, icu: Icu) -> None:
    service = AlarmService()
    place = icu.place("ICU-03")
    _feed(db, service, [reading(place, "nibp_sys", 175, at(0))], at(0))
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        service.observe(session, [reading(place, "nibp_sys", 130, at(1))], at(1))
        raise RuntimeError("the gateway's transaction failed")
    assert _rows(db)[0].ended_at is None
    ended = _feed(db, service, [reading(place, "nibp_sys", 131, at(2))], at(2))
    assert len(ended) == 1 and _rows(db)[0].ended_at == at(2)


def test_a_discharged_silent_patient_leaves_no_alarm_open(db: Database, icu: Icu) -> None:
    service = AlarmService(refresh_seconds=30)
    place = icu.place("ICU-04")
    _feed(db, service, [reading(place, "nibp_sys", 175, at(0))], at(0))
    with db.unit_of_work() as session:
        admission = session.execute(
            select(Admission).where(Admission.patient_id == icu.patients["ICU-04"])
        ).scalar_one()
        admission.discharged_at, admission.discharged_by = at(1), "test-nurse"
    with db.unit_of_work() as session:
        ended = service.tick(session, at(60))
    assert [e["alarm"]["ended_at"] is not None for e in ended] == [True]
    assert all(r.ended_at is not None for r in _rows(db))
    assert service.active(icu.patients["ICU-04"]) == []
    with db.unit_of_work() as session:
        assert service.tick(session, at(120)) == []
