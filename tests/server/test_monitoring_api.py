"""The central station's HTTP API: wards, station, trends, alarms, limits, unmatched readings."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from hms_core.db import (
    Admission,
    AlarmEvent,
    AuditEvent,
    Bed,
    EarlyWarningScore,
    MonitorDevice,
    Patient,
    PatientAllergy,
    VitalSign,
    Ward,
)
from hms_core.db.base import utcnow
from hms_core.db.monitoring import AlarmLimits as AlarmLimitsRow
from hms_server.db import Database


@dataclass
class Icu:
    """A small ICU (ICU-01..03, a monitor each) with a patient in ICU-02, and a general ward."""

    ward_id: uuid.UUID
    other_ward_id: uuid.UUID
    beds: dict[str, uuid.UUID]
    other_bed_id: uuid.UUID
    patient_id: uuid.UUID
    admission_id: uuid.UUID


def make_patient(session, given: str = "Amina", family: str = "Otieno") -> Patient:  # noqa: ANN001
    patient = Patient(
        mrn=str(uuid.uuid4().int)[:9],
        given_name=given,
        family_name=family,
        birth_date=date(1960, 1, 1),
        sex="female",
        sort_name=f"{family} {given}".lower(),
    )
    session.add(patient)
    session.flush()
    return patient


def make_icu(db: Database, beds: int = 3) -> Icu:
    """The wards, beds, monitors and one admitted patient (with an allergy)."""
    with db.unit_of_work() as session:
        icu = Ward(code="ICU", name="Intensive Care", ward_class="icu")
        general = Ward(code="GEN", name="General Ward", ward_class="general")
        session.add_all([icu, general])
        session.flush()
        made = {
            f"ICU-{n:02d}": Bed(ward_id=icu.id, label=f"ICU-{n:02d}") for n in range(beds, 0, -1)
        }
        other = Bed(ward_id=general.id, label="GEN-01")
        session.add_all([*made.values(), other])
        session.flush()
        session.add_all(
            MonitorDevice(device_id=f"MON-{label}", label=label, bed_id=bed.id)
            for label, bed in made.items()
        )
        patient = make_patient(session)
        session.add(PatientAllergy(patient_id=patient.id, substance="Penicillin", severity="high"))
        admission = Admission(
            patient_id=patient.id,
            bed_id=made["ICU-02"].id,
            admitted_at=utcnow() - timedelta(hours=6),
            admitted_by="test-nurse",
        )
        session.add(admission)
        session.flush()
        return Icu(
            icu.id,
            general.id,
            {label: bed.id for label, bed in made.items()},
            other.id,
            patient.id,
            admission.id,
        )


def add_signs(db: Database, rows: list[dict]) -> None:
    with db.unit_of_work() as session:
        session.execute(insert(VitalSign), [{"source": "monitor", **row} for row in rows])


def add_alarm(db: Database, icu: Icu, **fields) -> uuid.UUID:  # noqa: ANN003
    values = {
        "patient_id": icu.patient_id,
        "bed_id": icu.beds["ICU-02"],
        "kind": "clinical",
        "priority": "medium",
        "parameter": "hr",
        "condition": "high",
        "message": "HR high 135 (limit 120)",
        "value": 135.0,
        "limit": 120.0,
        "started_at": utcnow() - timedelta(seconds=30),
        **fields,
    }
    with db.unit_of_work() as session:
        alarm = AlarmEvent(**values)
        session.add(alarm)
        session.flush()
        return alarm.id


def audits(db: Database, action: str) -> list[AuditEvent]:
    with db.unit_of_work() as session:
        rows = session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        return list(rows)


def sign(icu: Icu, parameter: str, value: float | None, at: datetime, **more) -> dict:  # noqa: ANN003
    return {
        "patient_id": icu.patient_id,
        "bed_id": icu.beds["ICU-02"],
        "device_id": "MON-ICU-02",
        "parameter": parameter,
        "value": value,
        "observed_at": at,
        "received_at": at,
        **more,
    }


# --- wards and the station ----------------------------------------------------------------


def test_wards_count_beds_monitors_and_patients(live_server):
    make_icu(live_server.db)
    with live_server.client("doctor") as doctor:
        wards = {w["code"]: w for w in doctor.get("/api/monitoring/wards").json()}
    assert (wards["ICU"]["beds"], wards["ICU"]["monitors"], wards["ICU"]["patients"]) == (3, 3, 1)
    assert (wards["GEN"]["beds"], wards["GEN"]["monitors"], wards["GEN"]["patients"]) == (1, 0, 0)


def test_station_shows_latest_values_score_and_active_alarms(live_server):
    db = live_server.db
    icu = make_icu(db)
    now = utcnow()
    add_signs(
        db,
        [
            sign(icu, "hr", 80, now - timedelta(seconds=60)),
            sign(icu, "hr", 95, now - timedelta(seconds=5)),
            sign(icu, "spo2", 97, now - timedelta(seconds=30)),
            sign(icu, "spo2", 0, now - timedelta(seconds=3), artefact=True),
            sign(icu, "rr", 18, now - timedelta(minutes=20)),  # too old to be current
            # A reading from ICU-03's monitor that no patient matched.
            {
                **sign(icu, "hr", 70, now - timedelta(seconds=2)),
                "patient_id": None,
                "bed_id": icu.beds["ICU-03"],
                "device_id": "MON-ICU-03",
                "unmatched_hint": "ICU^^ICU-03",
            },
        ],
    )
    active = add_alarm(db, icu)
    add_alarm(db, icu, parameter="spo2", message="SpO₂ low", ended_at=now)
    with db.unit_of_work() as session:
        session.add_all(
            [
                EarlyWarningScore(
                    patient_id=icu.patient_id,
                    computed_at=now - timedelta(minutes=5),
                    total=3,
                    band="low-medium",
                ),
                EarlyWarningScore(
                    patient_id=icu.patient_id,
                    computed_at=now - timedelta(minutes=1),
                    total=5,
                    band="medium",
                    points={"pulse": 1, "spo2": 2},
                ),
            ]
        )
    with live_server.client("nurse") as nurse:
        response = nurse.get("/api/monitoring/station", params={"ward_id": str(icu.ward_id)})
    assert response.status_code == 200, response.text
    station = response.json()
    assert station["ward_code"] == "ICU"
    assert [b["label"] for b in station["beds"]] == ["ICU-01", "ICU-02", "ICU-03"]
    empty, bed, unmatched_bed = station["beds"]
    assert empty["patient"] is None and empty["latest"] == {} and empty["alarms"] == []
    assert bed["device_id"] == "MON-ICU-02" and bed["admission_id"] == str(icu.admission_id)
    patient = bed["patient"]
    assert patient["name"] == "Otieno, Amina" and patient["sex"] == "female"
    assert patient["allergies"] == ["Penicillin"] and patient["age"] >= 66
    latest = bed["latest"]
    assert latest["hr"]["value"] == 95 and not latest["hr"]["artefact"]
    assert latest["spo2"]["value"] == 0 and latest["spo2"]["artefact"]
    assert "rr" not in latest
    assert bed["news2"]["total"] == 5 and bed["news2"]["points"] == {"pulse": 1, "spo2": 2}
    assert [a["id"] for a in bed["alarms"]] == [str(active)]
    assert bed["limits"]["hr_high"] == 120  # the adult defaults
    assert unmatched_bed["patient"] is None and unmatched_bed["latest"]["hr"]["value"] == 70
    assert station["unmatched"] == 1
    [audit] = audits(db, "monitor.station")
    assert audit.actor_username == "test-nurse"
    assert audit.detail["patients"] == [str(icu.patient_id)]


def test_station_of_an_unknown_ward_is_404(live_server):
    with live_server.client("nurse") as nurse:
        response = nurse.get("/api/monitoring/station", params={"ward_id": str(uuid.uuid4())})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "This ward does not exist."


# --- trends -------------------------------------------------------------------------------


def test_trends_downsample_but_keep_the_spike(live_server):
    db = live_server.db
    icu = make_icu(db)
    start = utcnow() - timedelta(hours=3)
    rows = [sign(icu, "hr", 80 + (i % 3), start + timedelta(seconds=i)) for i in range(10_000)]
    rows[6_123]["value"] = 190  # one beat-to-beat spike
    rows[2_001]["value"] = 31  # and one dip
    rows[4_000].update(value=0, artefact=True)  # sensor off: never a trend point
    rows += [sign(icu, "spo2", 96 + i, start + timedelta(minutes=i)) for i in range(3)]
    add_signs(db, rows)
    with live_server.client("doctor") as doctor:
        response = doctor.get(
            f"/api/monitoring/patients/{icu.patient_id}/trends",
            params={"hours": 4, "parameters": "hr,spo2"},
        )
    assert response.status_code == 200, response.text
    series = response.json()["series"]
    hr = series["hr"]
    assert 500 < len(hr) <= 2_100
    values = [v for _, v in hr]
    assert max(values) == 190 and min(values) == 31 and 0 not in values
    times = [t for t, _ in hr]
    assert times == sorted(times)
    spike_at = rows[6_123]["observed_at"].timestamp()
    assert any(abs(t - spike_at) < 0.01 and v == 190 for t, v in hr)
    assert series["spo2"] == [
        [pytest.approx(start.timestamp() + 60 * i, abs=1e-3), 96 + i] for i in range(3)
    ]
    [audit] = audits(db, "monitor.trends")
    assert audit.patient_id == icu.patient_id and audit.actor_username == "test-doctor"


def test_trends_refuse_an_unknown_parameter_and_patient(live_server):
    icu = make_icu(live_server.db)
    with live_server.client("nurse") as nurse:
        bad = nurse.get(
            f"/api/monitoring/patients/{icu.patient_id}/trends", params={"parameters": "heart"}
        )
        missing = nurse.get(f"/api/monitoring/patients/{uuid.uuid4()}/trends")
    assert bad.status_code == 422 and "Unknown vital sign: heart" in bad.json()["error"]["message"]
    assert missing.status_code == 404


# --- alarms -------------------------------------------------------------------------------


def test_alarm_history_newest_first(live_server):
    db = live_server.db
    icu = make_icu(db)
    now = utcnow()
    old = add_alarm(db, icu, started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1))
    new = add_alarm(db, icu, started_at=now - timedelta(minutes=1))
    add_alarm(db, icu, started_at=now - timedelta(days=3))  # outside the window
    with live_server.client("doctor") as doctor:
        found = doctor.get(
            "/api/monitoring/alarms",
            params={"patient_id": str(icu.patient_id), "hours": 24},
        ).json()
        by_bed = doctor.get(
            "/api/monitoring/alarms", params={"bed_id": str(icu.beds["ICU-01"])}
        ).json()
    assert [a["id"] for a in found] == [str(new), str(old)]
    assert by_bed == []
    assert audits(db, "monitor.alarms")[0].patient_id == icu.patient_id


def test_nurse_acknowledges_and_silences_reception_may_not(live_server):
    db = live_server.db
    icu = make_icu(db)
    alarm_id = add_alarm(db, icu)
    with live_server.client("reception") as reception:
        refused = reception.post(f"/api/monitoring/alarms/{alarm_id}/acknowledge")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        refused = reception.post(f"/api/monitoring/alarms/{alarm_id}/silence", json={"minutes": 2})
        assert refused.status_code == 403
    with live_server.client("nurse") as nurse:
        acked = nurse.post(f"/api/monitoring/alarms/{alarm_id}/acknowledge")
        assert acked.status_code == 200, acked.text
        assert acked.json()["acknowledged_by"] == "test-nurse"
        silenced = nurse.post(f"/api/monitoring/alarms/{alarm_id}/silence", json={"minutes": 5})
        assert silenced.status_code == 200, silenced.text
        until = datetime.fromisoformat(silenced.json()["silenced_until"])
        assert timedelta(minutes=4) < until - utcnow() <= timedelta(minutes=5)
        too_long = nurse.post(f"/api/monitoring/alarms/{alarm_id}/silence", json={"minutes": 60})
        assert too_long.status_code == 422
        unknown = nurse.post(f"/api/monitoring/alarms/{uuid.uuid4()}/acknowledge")
        assert unknown.status_code == 404
    with db.unit_of_work() as session:
        alarm = session.get(AlarmEvent, alarm_id)
        assert alarm.acknowledged_by == "test-nurse" and alarm.silenced_by == "test-nurse"
    [ack] = audits(db, "alarm.acknowledge")
    [mute] = audits(db, "alarm.silence")
    assert ack.patient_id == mute.patient_id == icu.patient_id
    denied = audits(db, "access.denied")
    assert {d.actor_username for d in denied} == {"test-reception"}


# --- limits -------------------------------------------------------------------------------


def test_limits_refuse_low_above_high_in_plain_words_and_store_nothing(live_server):
    db = live_server.db
    icu = make_icu(db)
    url = f"/api/monitoring/patients/{icu.patient_id}/limits"
    with live_server.client("nurse") as nurse:
        assert nurse.get(url).json()["hr_low"] == 50
        bad = nurse.put(url, json={"hr_low": 130, "hr_high": 120})
        assert bad.status_code == 422
        error = bad.json()["error"]
        assert error["code"] == "validation_error"
        assert "low heart rate limit must be below the high one" in error["message"]
        assert "hr" not in error["message"].replace("heart rate", "").split()
        assert nurse.get(url).json()["hr_low"] == 50
        with db.unit_of_work() as session:
            assert session.execute(select(func.count(AlarmLimitsRow.id))).scalar_one() == 0
        good = nurse.put(url, json={"hr_low": 40, "hr_high": 140, "spo2_low": 88})
        assert good.status_code == 200, good.text
        assert nurse.get(url).json() == good.json()
        assert good.json()["hr_low"] == 40 and good.json()["spo2_low"] == 88
    with live_server.client("doctor") as doctor:
        assert doctor.get(url).status_code == 200
        assert doctor.put(url, json={"hr_low": 45}).status_code == 403
    with live_server.client("nurse") as nurse:
        station = nurse.get("/api/monitoring/station", params={"ward_id": str(icu.ward_id)})
    assert station.json()["beds"][1]["limits"]["hr_high"] == 140
    assert len(audits(db, "alarm.limits")) == 1


# --- unmatched readings -------------------------------------------------------------------


def test_unmatched_readings_are_grouped_and_assigned(live_server):
    db = live_server.db
    icu = make_icu(db)
    now = utcnow()
    stray = {"patient_id": None, "bed_id": None, "device_id": "MON-X9", "unmatched_hint": "PID 123"}
    add_signs(
        db,
        [
            {**sign(icu, p, 80, now - timedelta(seconds=s)), **stray}
            for s, p in ((30, "hr"), (20, "spo2"), (10, "hr"))
        ],
    )
    with db.unit_of_work() as session:
        newcomer = make_patient(session, "Baraka", "Mwangi").id
    with live_server.client("nurse") as nurse:
        groups = nurse.get("/api/monitoring/unmatched").json()
        assert len(groups) == 1
        assert groups[0]["device_id"] == "MON-X9" and groups[0]["readings"] == 3
        assert groups[0]["hint"] == "PID 123"
        nothing = nurse.post("/api/monitoring/unmatched/assign", json={"patient_id": str(newcomer)})
        assert nothing.status_code == 422
        done = nurse.post(
            "/api/monitoring/unmatched/assign",
            json={"patient_id": str(newcomer), "device_id": "MON-X9"},
        )
        assert done.status_code == 200, done.text
        assert done.json() == {"assigned": 3}
        assert nurse.get("/api/monitoring/unmatched").json() == []
    with db.unit_of_work() as session:
        owners = session.execute(
            select(VitalSign.patient_id, VitalSign.assigned_by).where(
                VitalSign.device_id == "MON-X9"
            )
        ).all()
    assert set(owners) == {(newcomer, "test-nurse")}
    [audit] = audits(db, "monitor.unmatched.assign")
    assert audit.patient_id == newcomer and audit.detail["readings"] == 3
