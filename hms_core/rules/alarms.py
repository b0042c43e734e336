"""Bedside alarm rules: adult default limits, what condition a value raises, its priority, and
a tracker that applies each condition's delay and reports alarms starting and ending.

Priorities follow IEC 60601-1-8: high (red, flashing about 2 Hz), medium (yellow, about
0.5 Hz), low (cyan or yellow, constant). Technical alarms (sensor off, no data) are about the
equipment, not the patient, and are kept apart from clinical ones. Pure: times are passed in.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

HIGH, MEDIUM, LOW = "high", "medium", "low"
PRIORITY_RANK = {LOW: 1, MEDIUM: 2, HIGH: 3}
CLINICAL, TECHNICAL = "clinical", "technical"
SENSOR_OFF, NO_DATA = "sensor_off", "no_data"

# Readings that go beyond these are always high priority, whatever the limits.
EXTREMES: dict[str, tuple[float | None, float | None]] = {
    "hr": (40, 150),
    "spo2": (85, None),
    "nibp_sys": (70, 200),
    "rr": (None, 35),
}
# A limit breach at the low end of these is treated as high priority (apnoea, hypoxia...).
LOW_IS_HIGH = {"rr"}
LOW_PRIORITY = {"temp"}  # a temperature breach matters, but is not an emergency


class AlarmLimits(BaseModel):
    """One patient's limits (adult defaults) and delays in seconds before a condition alarms."""

    model_config = ConfigDict(extra="forbid")

    hr_low: float = Field(50, ge=20, le=200)
    hr_high: float = Field(120, ge=40, le=300)
    spo2_low: float = Field(90, ge=50, le=100)
    nibp_sys_low: float = Field(90, ge=40, le=200)
    nibp_sys_high: float = Field(160, ge=60, le=300)
    rr_low: float = Field(5, ge=0, le=60)
    rr_high: float = Field(30, ge=5, le=100)
    temp_low: float = Field(35.0, ge=25, le=40)
    temp_high: float = Field(39.0, ge=35, le=44)
    spo2_scale: int = Field(1, ge=1, le=2)  # NEWS2 SpO2 scale (2: hypercapnic respiratory failure)
    delays: dict[str, float] = Field(
        default_factory=lambda: {"spo2": 15, "hr": 10, "rr": 10, "nibp_sys": 0, "temp": 0}
    )
    no_data_seconds: float = Field(30, ge=5, le=600)

    @model_validator(mode="after")
    def _ordered(self) -> "AlarmLimits":
        for name in ("hr", "nibp_sys", "rr", "temp"):
            if getattr(self, f"{name}_low") >= getattr(self, f"{name}_high"):
                raise ValueError(f"The low {name} limit must be below the high one.")
        for name, seconds in self.delays.items():
            if name not in ("spo2", "hr", "rr", "nibp_sys", "temp") or not 0 <= seconds <= 120:
                raise ValueError(f"A delay for {name} must be between 0 and 120 seconds.")
        return self

    def bounds(self, parameter: str) -> tuple[float | None, float | None]:
        if parameter == "spo2":
            return self.spo2_low, None
        if parameter in ("hr", "nibp_sys", "rr", "temp"):
            return getattr(self, f"{parameter}_low"), getattr(self, f"{parameter}_high")
        return None, None

    def delay(self, parameter: str) -> float:
        return self.delays.get(parameter, 0.0)


DEFAULT_LIMITS = AlarmLimits()
WATCHED = ("hr", "spo2", "nibp_sys", "rr", "temp")
# Measured all the time: silence means the equipment stopped. A cuff pressure is measured every
# few minutes, so its absence between measurements is no alarm.
CONTINUOUS = ("hr", "spo2", "rr", "temp")
LABELS = {"hr": "HR", "spo2": "SpO₂", "nibp_sys": "NIBP sys", "rr": "RR", "temp": "Temp"}


@dataclass(frozen=True)
class Condition:
    """What is wrong with one parameter right now."""

    parameter: str
    condition: str  # high | low | sensor_off | no_data
    priority: str
    kind: str
    message: str
    value: float | None = None
    limit: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.parameter, self.kind


def _fmt(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"


def check(parameter: str, value: float, limits: AlarmLimits = DEFAULT_LIMITS) -> Condition | None:
    """The condition a monitor reading raises (None when within limits or not watched)."""
    if parameter not in WATCHED:
        return None
    label = LABELS[parameter]
    if value == 0:  # no person reads 0, a temperature neither: the probe is off
        return Condition(parameter, SENSOR_OFF, LOW, TECHNICAL, f"{label} sensor off", value)
    low, high = limits.bounds(parameter)
    if low is not None and value < low:
        return Condition(
            parameter,
            "low",
            _priority(parameter, value, "low"),
            CLINICAL,
            f"{label} low {_fmt(value)} (limit {_fmt(low)})",
            value,
            low,
        )
    if high is not None and value > high:
        return Condition(
            parameter,
            "high",
            _priority(parameter, value, "high"),
            CLINICAL,
            f"{label} high {_fmt(value)} (limit {_fmt(high)})",
            value,
            high,
        )
    return None


def _priority(parameter: str, value: float, direction: str) -> str:
    if parameter in LOW_PRIORITY:
        return LOW
    if direction == "low" and parameter in LOW_IS_HIGH:
        return HIGH
    low, high = EXTREMES.get(parameter, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        return HIGH
    return MEDIUM


def no_data(parameter: str, seconds: float) -> Condition:
    """The technical alarm for a parameter that stopped arriving."""
    label = LABELS.get(parameter, parameter)
    return Condition(
        parameter, NO_DATA, MEDIUM, TECHNICAL, f"{label}: no data for {int(seconds)} s"
    )


@dataclass
class Transition:
    """An alarm starting (`started`) or ending; `condition` says which."""

    started: bool
    condition: Condition
    at: datetime


@dataclass
class _Pending:
    condition: Condition
    since: datetime


@dataclass
class AlarmTracker:
    """One patient's (or bed's) alarm state: conditions wait out their delay before alarming,
    an alarm ends when its parameter is back within limits, a priority change restarts it."""

    limits: AlarmLimits = field(default_factory=AlarmLimits)
    pending: dict[tuple[str, str], _Pending] = field(default_factory=dict)
    active: dict[tuple[str, str], Condition] = field(default_factory=dict)
    last_seen: dict[str, datetime] = field(default_factory=dict)

    def observe(self, parameter: str, value: float, at: datetime) -> list[Transition]:
        """Feed one reading; returns the alarms that start or end because of it."""
        if parameter not in WATCHED:
            return []
        self.last_seen[parameter] = at
        found = check(parameter, value, self.limits)
        out: list[Transition] = []
        for kind in (CLINICAL, TECHNICAL):
            if found is None or found.kind != kind:
                out += self._clear((parameter, kind), at)
        if found is not None:
            out += self._raise(found, at, self.limits.delay(parameter))
        return out

    def tick(self, at: datetime) -> list[Transition]:
        """Time passes: delays run out, silent parameters raise a no-data alarm."""
        out: list[Transition] = []
        for pending in list(self.pending.values()):
            delay = self.limits.delay(pending.condition.parameter)
            if at - pending.since >= timedelta(seconds=delay):
                out += self._start(pending.condition, at)
        for parameter, seen in self.last_seen.items():
            if parameter not in CONTINUOUS:
                continue
            silent = (at - seen).total_seconds()
            if silent >= self.limits.no_data_seconds and (parameter, TECHNICAL) not in self.active:
                self.pending.pop((parameter, CLINICAL), None)
                out += self._end((parameter, CLINICAL), at)
                out += self._start(no_data(parameter, self.limits.no_data_seconds), at)
        return out

    def _raise(self, condition: Condition, at: datetime, delay: float) -> list[Transition]:
        current = self.active.get(condition.key)
        if current is not None:
            if current.priority == condition.priority and current.condition == condition.condition:
                self.active[condition.key] = condition  # same alarm, newer value
                return []
            return [*self._end(condition.key, at), *self._start(condition, at)]
        if delay <= 0 or condition.kind == TECHNICAL:
            self.pending.pop(condition.key, None)
            return self._start(condition, at)
        pending = self.pending.get(condition.key)
        if pending is None:
            self.pending[condition.key] = _Pending(condition, at)
            return []
        pending.condition = condition
        if at - pending.since >= timedelta(seconds=delay):
            return self._start(condition, at)
        return []

    def _start(self, condition: Condition, at: datetime) -> list[Transition]:
        self.pending.pop(condition.key, None)
        self.active[condition.key] = condition
        return [Transition(True, condition, at)]

    def _end(self, key: tuple[str, str], at: datetime) -> list[Transition]:
        ended = self.active.pop(key, None)
        return [Transition(False, ended, at)] if ended is not None else []

    def _clear(self, key: tuple[str, str], at: datetime) -> list[Transition]:
        self.pending.pop(key, None)
        return self._end(key, at)
