"""Bedside alarm rules: limits at their boundaries, priorities, delays, no data, validation."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hms_core.rules.alarms import (
    CLINICAL,
    HIGH,
    LOW,
    MEDIUM,
    NO_DATA,
    SENSOR_OFF,
    TECHNICAL,
    AlarmLimits,
    AlarmTracker,
    check,
)

T0 = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("parameter", "limit", "past", "direction"),
    [
        ("hr", 50, 49, "low"),
        ("hr", 120, 121, "high"),
        ("spo2", 90, 89, "low"),
        ("nibp_sys", 90, 89, "low"),
        ("nibp_sys", 160, 161, "high"),
        ("rr", 5, 4, "low"),
        ("rr", 30, 31, "high"),
        ("temp", 35.0, 34.9, "low"),
        ("temp", 39.0, 39.1, "high"),
    ],
)
def test_a_default_limit_itself_is_quiet_and_just_past_it_alarms(
    parameter: str, limit: float, past: float, direction: str
) -> None:
    assert check(parameter, limit) is None
    found = check(parameter, past)
    assert found is not None
    assert (found.condition, found.kind, found.limit) == (direction, CLINICAL, limit)
    assert str(int(limit)) in found.message


@pytest.mark.parametrize(
    ("parameter", "value", "priority"),
    [
        ("hr", 45, MEDIUM),
        ("hr", 39, HIGH),  # beyond the extreme of 40
        ("hr", 130, MEDIUM),
        ("hr", 151, HIGH),
        ("spo2", 88, MEDIUM),
        ("spo2", 84, HIGH),
        ("nibp_sys", 80, MEDIUM),
        ("nibp_sys", 69, HIGH),
        ("nibp_sys", 201, HIGH),
        ("rr", 4, HIGH),  # apnoea is always an emergency
        ("rr", 33, MEDIUM),
        ("rr", 36, HIGH),
        ("temp", 33.0, LOW),
        ("temp", 41.0, LOW),
    ],
)
def test_priorities(parameter: str, value: float, priority: str) -> None:
    found = check(parameter, value)
    assert found is not None and found.priority == priority


@pytest.mark.parametrize("parameter", ["hr", "spo2", "nibp_sys", "rr", "temp"])
def test_a_zero_reading_is_a_sensor_off_technical_alarm_of_low_priority(parameter: str) -> None:
    found = check(parameter, 0)
    assert found is not None
    assert (found.condition, found.kind, found.priority) == (SENSOR_OFF, TECHNICAL, LOW)
    assert "sensor off" in found.message


def test_unwatched_parameters_never_alarm() -> None:
    assert check("nibp_dia", 10) is None
    assert check("pulse", 300) is None


def test_spo2_waits_its_delay_before_alarming() -> None:
    tracker = AlarmTracker()
    assert tracker.observe("spo2", 88, at(0)) == []
    assert tracker.observe("spo2", 87, at(14)) == []
    assert tracker.tick(at(14.9)) == []
    started = tracker.observe("spo2", 87, at(15))
    assert [(t.started, t.condition.parameter, t.at) for t in started] == [(True, "spo2", at(15))]


def test_the_delay_also_runs_out_on_a_tick() -> None:
    tracker = AlarmTracker()
    tracker.observe("spo2", 88, at(0))
    started = tracker.tick(at(15))
    assert [t.started for t in started] == [True]
    assert tracker.tick(at(16)) == []  # once


def test_back_in_range_before_the_delay_never_alarms() -> None:
    tracker = AlarmTracker()
    assert tracker.observe("spo2", 88, at(0)) == []
    assert tracker.observe("spo2", 95, at(14)) == []
    assert tracker.tick(at(20)) == []
    assert tracker.observe("spo2", 88, at(21)) == []  # a new dip waits a full delay again
    assert tracker.tick(at(35)) == []
    assert [t.started for t in tracker.tick(at(36))] == [True]


def test_an_alarm_ends_when_the_value_is_back_in_range() -> None:
    tracker = AlarmTracker()
    assert [t.started for t in tracker.observe("nibp_sys", 170, at(0))] == [True]  # no delay
    assert tracker.observe("nibp_sys", 175, at(1)) == []  # same alarm, newer value
    ended = tracker.observe("nibp_sys", 150, at(2))
    assert [(t.started, t.condition.condition) for t in ended] == [(False, "high")]
    assert tracker.active == {}


def test_no_data_after_the_configured_silence() -> None:
    tracker = AlarmTracker()
    tracker.observe("hr", 80, at(0))
    assert tracker.tick(at(29)) == []
    raised = tracker.tick(at(30))
    assert [(t.started, t.condition.condition, t.condition.kind) for t in raised] == [
        (True, NO_DATA, TECHNICAL)
    ]
    assert tracker.tick(at(40)) == []  # raised once
    ended = tracker.observe("hr", 80, at(41))
    assert [(t.started, t.condition.condition) for t in ended] == [(False, NO_DATA)]


def test_no_data_ends_a_clinical_alarm_of_that_parameter() -> None:
    tracker = AlarmTracker(AlarmLimits(no_data_seconds=10))
    tracker.observe("temp", 39.5, at(0))
    found = tracker.tick(at(10))
    assert [(t.started, t.condition.condition) for t in found] == [(False, "high"), (True, NO_DATA)]


def test_a_cuff_pressure_between_measurements_is_no_missing_data() -> None:
    """NIBP is measured every few minutes: no technical alarm meanwhile, and a high reading
    stays alarming until the next measurement is back within limits."""
    tracker = AlarmTracker(AlarmLimits(no_data_seconds=10))
    raised = tracker.observe("nibp_sys", 170, at(0))
    assert [(t.started, t.condition.condition) for t in raised] == [(True, "high")]
    assert tracker.tick(at(600)) == []
    ended = tracker.observe("nibp_sys", 130, at(900))
    assert [(t.started, t.condition.condition) for t in ended] == [(False, "high")]


def test_sensor_off_alarms_at_once_and_ends_when_readings_return() -> None:
    tracker = AlarmTracker()
    raised = tracker.observe("spo2", 0, at(0))
    assert [(t.started, t.condition.condition) for t in raised] == [(True, SENSOR_OFF)]
    ended = tracker.observe("spo2", 97, at(5))
    assert [(t.started, t.condition.condition) for t in ended] == [(False, SENSOR_OFF)]


def test_a_priority_escalation_restarts_the_alarm() -> None:
    tracker = AlarmTracker()
    assert [t.condition.priority for t in tracker.observe("nibp_sys", 80, at(0))] == [MEDIUM]
    found = tracker.observe("nibp_sys", 65, at(5))
    assert [(t.started, t.condition.priority) for t in found] == [(False, MEDIUM), (True, HIGH)]
    assert tracker.active[("nibp_sys", CLINICAL)].priority == HIGH


def test_custom_limits_move_the_boundary() -> None:
    limits = AlarmLimits(hr_low=40, hr_high=100)
    assert check("hr", 45, limits) is None
    assert check("hr", 101, limits) is not None


@pytest.mark.parametrize(
    "bad",
    [
        {"hr_low": 120, "hr_high": 120},
        {"hr_low": 130, "hr_high": 120},
        {"nibp_sys_low": 170},
        {"rr_low": 30},
        {"temp_low": 39.0},
        {"delays": {"spo2": 500}},
        {"delays": {"glucose": 5}},
        {"spo2_scale": 3},
        {"unknown": 1},
    ],
)
def test_limits_that_make_no_sense_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        AlarmLimits(**bad)


def test_low_at_or_above_high_says_so_in_words() -> None:
    with pytest.raises(ValidationError, match="low hr limit must be below the high one"):
        AlarmLimits(hr_low=120, hr_high=120)
