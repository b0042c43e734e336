"""NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017): pure functions.

Seven routine observations each score 0-3 points; their sum, the aggregate score, sets the
clinical response band and the minimum monitoring frequency:

    total 0                           low         routine monitoring, at least 12-hourly
    total 1-4                         low         ward-based response, at least 4-6-hourly
    one parameter at 3, total < 5     low-medium  urgent ward-based response, at least hourly
    total 5-6                         medium      urgent response, at least hourly
    total 7 or more                   high        emergency response, continuous monitoring

SpO2 has two scales. Scale 1 is the default. Scale 2 is for patients with hypercapnic
respiratory failure whose target saturation (88-92%) has been set by a clinician; on it a
saturation of 93% or more scores 0 on air but 1-3 on oxygen, since it means too much oxygen.

Values between the chart's rows
    The chart lists whole numbers (one decimal for temperature). A value in between is scored by
    the row it rounds into, rounding half up to the chart's precision: whole numbers for
    respiration rate, SpO2, systolic blood pressure and pulse; one decimal place for temperature.
    So a respiration rate of 20.5 scores as 21 (2 points), 20.4 as 20 (0 points), and a
    temperature of 36.05 as 36.1 (0 points). Rounding works on the decimal text of the number
    (repr), so 36.05 rounds up even though the binary float is a hair below it.

Missing observations
    A total from some parameters only would look reassuringly low, so when any parameter has no
    value `score` gives no total, band, response or monitoring; it still lists the points of the
    parameters it could score, the names of those missing, and whether any of them scored 3.
    On SpO2 scale 2 a saturation of 93% or more cannot be scored without knowing whether the
    patient is on oxygen, so it is left out of the points (the missing `on_oxygen` is listed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

RESPIRATION_RATE = "respiration_rate"
SPO2 = "spo2"
ON_OXYGEN = "on_oxygen"
SYSTOLIC_BP = "systolic_bp"
PULSE = "pulse"
CONSCIOUSNESS = "consciousness"
TEMPERATURE_C = "temperature_c"

PARAMETERS = (
    RESPIRATION_RATE,
    SPO2,
    ON_OXYGEN,
    SYSTOLIC_BP,
    PULSE,
    CONSCIOUSNESS,
    TEMPERATURE_C,
)

SPO2_SCALES = (1, 2)
RED_POINTS = 3

LOW = "low"
LOW_MEDIUM = "low-medium"
MEDIUM = "medium"
HIGH = "high"
BANDS = (LOW, LOW_MEDIUM, MEDIUM, HIGH)

_PLAIN_NAMES = {
    RESPIRATION_RATE: "respiration rate",
    SPO2: "SpO2 (oxygen saturation)",
    ON_OXYGEN: "air or oxygen",
    SYSTOLIC_BP: "systolic blood pressure",
    PULSE: "pulse",
    CONSCIOUSNESS: "consciousness",
    TEMPERATURE_C: "temperature",
}

# Plausible limits (inclusive) and the chart's precision, in decimal places.
_LIMITS: dict[str, tuple[float, float, str]] = {
    RESPIRATION_RATE: (0, 100, "breaths per minute"),
    SPO2: (0, 100, "%"),
    SYSTOLIC_BP: (0, 350, "mmHg"),
    PULSE: (0, 350, "beats per minute"),
    TEMPERATURE_C: (20, 45, "degrees C"),
}
_PLACES = {RESPIRATION_RATE: 0, SPO2: 0, SYSTOLIC_BP: 0, PULSE: 0, TEMPERATURE_C: 1}

# Each chart is a list of (upper bound inclusive, points); the last row catches the rest.
_Chart = tuple[tuple[Decimal | None, int], ...]


def _chart(*rows: tuple[str | None, int]) -> _Chart:
    return tuple((None if upper is None else Decimal(upper), points) for upper, points in rows)


_RESPIRATION_CHART = _chart(("8", 3), ("11", 1), ("20", 0), ("24", 2), (None, 3))
_SPO2_SCALE_1_CHART = _chart(("91", 3), ("93", 2), ("95", 1), (None, 0))
_SPO2_SCALE_2_CHART = _chart(("83", 3), ("85", 2), ("87", 1), ("92", 0))
_SPO2_SCALE_2_OXYGEN_CHART = _chart(("94", 1), ("96", 2), (None, 3))
_SYSTOLIC_CHART = _chart(("90", 3), ("100", 2), ("110", 1), ("219", 0), (None, 3))
_PULSE_CHART = _chart(("40", 3), ("50", 1), ("90", 0), ("110", 1), ("130", 2), (None, 3))
_TEMPERATURE_CHART = _chart(("35.0", 3), ("36.0", 1), ("38.0", 0), ("39.0", 1), (None, 2))
_CHARTS = {
    RESPIRATION_RATE: _RESPIRATION_CHART,
    SYSTOLIC_BP: _SYSTOLIC_CHART,
    PULSE: _PULSE_CHART,
    TEMPERATURE_C: _TEMPERATURE_CHART,
}
_SPO2_SCALE_2_ON_AIR_ABOVE_TARGET = 0

_RESPONSES = {
    "zero": (
        LOW,
        "Routine response: continue NEWS monitoring",
        "at least 12-hourly",
    ),
    LOW: (
        LOW,
        "Ward-based response: inform a registered nurse, who decides whether to monitor"
        " more often or escalate care",
        "at least 4-6-hourly",
    ),
    LOW_MEDIUM: (
        LOW_MEDIUM,
        "Urgent ward-based response: a registered nurse informs the medical team caring for"
        " the patient, who decides whether escalation is needed",
        "at least hourly",
    ),
    MEDIUM: (
        MEDIUM,
        "Urgent response: inform the medical team now; urgent review by a clinician skilled"
        " in assessing acutely ill patients, in a setting with monitoring facilities",
        "at least hourly",
    ),
    HIGH: (
        HIGH,
        "Emergency response: inform the medical team now (at least specialist registrar"
        " level); emergency assessment by a critical care outreach team; consider moving the"
        " patient to a higher level of care",
        "continuous monitoring of vital signs",
    ),
}
_BAND_RANK = {None: 0, LOW: 0, LOW_MEDIUM: 1, MEDIUM: 2, HIGH: 3}


class Consciousness(StrEnum):
    """ACVPU: alert, or new confusion, or responds to voice, to pain, or not at all."""

    ALERT = "A"
    CONFUSION = "C"
    VOICE = "V"
    PAIN = "P"
    UNRESPONSIVE = "U"


# --------------------------------------------------------------------------- inputs and outputs


@dataclass(frozen=True)
class Observations:
    """One set of bedside observations; None means not recorded."""

    respiration_rate: float | None
    spo2: float | None
    on_oxygen: bool | None
    systolic_bp: float | None
    pulse: float | None
    consciousness: Consciousness | None
    temperature_c: float | None
    spo2_scale: int = 1

    def __post_init__(self) -> None:
        _check_scale(self.spo2_scale)
        for name in _LIMITS:
            value = getattr(self, name)
            if value is not None:
                _rounded(name, value)
        if self.on_oxygen is not None:
            _check_on_oxygen(self.on_oxygen)
        if self.consciousness is not None:
            _consciousness(self.consciousness)


@dataclass(frozen=True)
class News2:
    """The NEWS2 result: total and band, or None for both when a parameter is missing."""

    total: int | None
    points: dict[str, int]
    missing: tuple[str, ...]
    band: str | None
    red_score: bool
    response: str | None
    monitoring: str | None


# --------------------------------------------------------------------------- checks


def _check_scale(scale: object) -> None:
    if isinstance(scale, bool) or scale not in SPO2_SCALES:
        raise ValueError(f"SpO2 scale must be 1 or 2, got {scale!r}")


def _check_on_oxygen(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"air or oxygen must be True (oxygen) or False (air), got {value!r}")
    return value


def _consciousness(value: object) -> Consciousness:
    try:
        return Consciousness(value)
    except ValueError:
        raise ValueError(
            f"consciousness must be one of A, C, V, P or U (ACVPU), got {value!r}"
        ) from None


def _rounded(parameter: str, value: object) -> Decimal:
    """`value` checked against the plausible limits and rounded half up to the chart's precision."""
    plain = _PLAIN_NAMES[parameter]
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{plain} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{plain} must be a finite number, got {value!r}")
    low, high, unit = _LIMITS[parameter]
    if not low <= value <= high:
        raise ValueError(f"{plain} must be between {low} and {high} {unit}, got {value}")
    step = Decimal(1).scaleb(-_PLACES[parameter])
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


def _lookup(chart: _Chart, value: Decimal) -> int | None:
    for upper, points in chart:
        if upper is None or value <= upper:
            return points
    return None


# --------------------------------------------------------------------------- scoring


def _spo2_points(value: object, scale: int, on_oxygen: bool | None) -> int | None:
    """SpO2 points on `scale`; None on scale 2 at 93% or more when the oxygen status is unknown."""
    _check_scale(scale)
    saturation = _rounded(SPO2, value)
    if scale == 1:
        return _lookup(_SPO2_SCALE_1_CHART, saturation)
    points = _lookup(_SPO2_SCALE_2_CHART, saturation)
    if points is not None:
        return points
    if on_oxygen is None:
        return None
    if not _check_on_oxygen(on_oxygen):
        return _SPO2_SCALE_2_ON_AIR_ABOVE_TARGET
    return _lookup(_SPO2_SCALE_2_OXYGEN_CHART, saturation)


def points_for(
    parameter: str, value: object, *, spo2_scale: int = 1, on_oxygen: bool = False
) -> int:
    """Points (0-3) for one observation; `parameter` is an `Observations` field name."""
    if value is None:
        raise ValueError(f"{_PLAIN_NAMES.get(parameter, parameter)} has no value to score")
    if parameter == SPO2:
        points = _spo2_points(value, spo2_scale, on_oxygen)
        assert points is not None  # on_oxygen is always a bool here
        return points
    if parameter == ON_OXYGEN:
        return 2 if _check_on_oxygen(value) else 0
    if parameter == CONSCIOUSNESS:
        return 0 if _consciousness(value) is Consciousness.ALERT else RED_POINTS
    if parameter in _CHARTS:
        points = _lookup(_CHARTS[parameter], _rounded(parameter, value))
        assert points is not None  # every chart but SpO2 scale 2 ends with a catch-all row
        return points
    raise ValueError(f"unknown NEWS2 parameter {parameter!r}; expected one of {PARAMETERS}")


def _response_key(total: int, red_score: bool) -> str:
    if total >= 7:
        return HIGH
    if total >= 5:
        return MEDIUM
    if red_score:
        return LOW_MEDIUM
    return LOW if total > 0 else "zero"


def score(obs: Observations) -> News2:
    """The NEWS2 score, band and response for one set of observations."""
    _check_scale(obs.spo2_scale)
    points: dict[str, int] = {}
    missing: list[str] = []
    for name in PARAMETERS:
        value = getattr(obs, name)
        if value is None:
            missing.append(name)
        elif name == SPO2:
            spo2 = _spo2_points(value, obs.spo2_scale, obs.on_oxygen)
            if spo2 is not None:
                points[name] = spo2
        else:
            points[name] = points_for(name, value)
    red_score = any(p == RED_POINTS for p in points.values())
    if missing:
        return News2(None, points, tuple(missing), None, red_score, None, None)
    total = sum(points.values())
    band, response, monitoring = _RESPONSES[_response_key(total, red_score)]
    return News2(total, points, (), band, red_score, response, monitoring)


def band_rank(band: str | None) -> int:
    """Order of a band, 0 (none or low) to 3 (high), so a rise in band can be spotted."""
    if band not in _BAND_RANK:
        raise ValueError(f"unknown NEWS2 band {band!r}; expected None or one of {BANDS}")
    return _BAND_RANK[band]
