import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hms_core.rules.news2 import (
    HIGH,
    LOW,
    LOW_MEDIUM,
    MEDIUM,
    PARAMETERS,
    Consciousness,
    News2,
    Observations,
    band_rank,
    points_for,
    score,
)

NORMAL = Observations(
    respiration_rate=16,
    spo2=97,
    on_oxygen=False,
    systolic_bp=120,
    pulse=70,
    consciousness=Consciousness.ALERT,
    temperature_c=37.0,
)


def obs(**changes) -> Observations:
    return dataclasses.replace(NORMAL, **changes)


# --------------------------------------------------------------------------- every boundary


@pytest.mark.parametrize(
    ("value", "points"),
    [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (100, 3)],
)
def test_respiration_rate(value, points):
    assert points_for("respiration_rate", value) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [(0, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)],
)
@pytest.mark.parametrize("on_oxygen", [False, True])
def test_spo2_scale_1_ignores_oxygen(value, points, on_oxygen):
    assert points_for("spo2", value, spo2_scale=1, on_oxygen=on_oxygen) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [(0, 3), (83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0)],
)
@pytest.mark.parametrize("on_oxygen", [False, True])
def test_spo2_scale_2_up_to_target(value, points, on_oxygen):
    assert points_for("spo2", value, spo2_scale=2, on_oxygen=on_oxygen) == points


@pytest.mark.parametrize("value", [93, 94, 95, 96, 97, 100])
def test_spo2_scale_2_above_target_on_air_scores_nothing(value):
    assert points_for("spo2", value, spo2_scale=2, on_oxygen=False) == 0
    assert points_for("spo2", value, spo2_scale=2) == 0


@pytest.mark.parametrize(
    ("value", "points"),
    [(92, 0), (93, 1), (94, 1), (95, 2), (96, 2), (97, 3), (100, 3)],
)
def test_spo2_scale_2_above_target_on_oxygen(value, points):
    assert points_for("spo2", value, spo2_scale=2, on_oxygen=True) == points


@pytest.mark.parametrize(("on_oxygen", "points"), [(True, 2), (False, 0)])
def test_air_or_oxygen(on_oxygen, points):
    assert points_for("on_oxygen", on_oxygen) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (0, 3),
        (90, 3),
        (91, 2),
        (100, 2),
        (101, 1),
        (110, 1),
        (111, 0),
        (219, 0),
        (220, 3),
        (350, 3),
    ],
)
def test_systolic_bp(value, points):
    assert points_for("systolic_bp", value) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (0, 3),
        (40, 3),
        (41, 1),
        (50, 1),
        (51, 0),
        (90, 0),
        (91, 1),
        (110, 1),
        (111, 2),
        (130, 2),
        (131, 3),
        (350, 3),
    ],
)
def test_pulse(value, points):
    assert points_for("pulse", value) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (20.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (45.0, 2),
    ],
)
def test_temperature(value, points):
    assert points_for("temperature_c", value) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (Consciousness.ALERT, 0),
        (Consciousness.CONFUSION, 3),
        (Consciousness.VOICE, 3),
        (Consciousness.PAIN, 3),
        (Consciousness.UNRESPONSIVE, 3),
        ("A", 0),
        ("C", 3),
    ],
)
def test_consciousness(value, points):
    assert points_for("consciousness", value) == points


# --------------------------------------------------------------------------- values between rows


@pytest.mark.parametrize(
    ("parameter", "value", "points"),
    [
        ("respiration_rate", 8.4, 3),
        ("respiration_rate", 8.5, 1),
        ("respiration_rate", 20.4, 0),
        ("respiration_rate", 20.5, 2),
        ("respiration_rate", 24.49, 2),
        ("respiration_rate", 24.5, 3),
        ("spo2", 91.5, 2),
        ("spo2", 95.49, 1),
        ("spo2", 95.5, 0),
        ("systolic_bp", 90.5, 2),
        ("systolic_bp", 110.4, 1),
        ("systolic_bp", 110.5, 0),
        ("systolic_bp", 219.5, 3),
        ("pulse", 50.5, 0),
        ("pulse", 90.5, 1),
        ("pulse", 130.5, 3),
        ("temperature_c", 35.04, 3),
        ("temperature_c", 35.05, 1),
        ("temperature_c", 36.05, 0),
        ("temperature_c", 38.04, 0),
        ("temperature_c", 38.05, 1),
        ("temperature_c", 39.05, 2),
    ],
)
def test_fractional_values_score_by_the_row_they_round_half_up_into(parameter, value, points):
    assert points_for(parameter, value) == points


def test_fractional_spo2_on_scale_2():
    assert points_for("spo2", 87.5, spo2_scale=2) == 0
    assert points_for("spo2", 92.5, spo2_scale=2, on_oxygen=True) == 1
    assert points_for("spo2", 92.5, spo2_scale=2, on_oxygen=False) == 0
    assert points_for("spo2", 96.5, spo2_scale=2, on_oxygen=True) == 3


# --------------------------------------------------------------------------- totals and bands


def test_all_normal_scores_zero_routine_monitoring():
    result = score(NORMAL)
    assert result == News2(
        total=0,
        points=dict.fromkeys(PARAMETERS, 0),
        missing=(),
        band=LOW,
        red_score=False,
        response=result.response,
        monitoring="at least 12-hourly",
    )
    assert "routine" in result.response.lower()


@pytest.mark.parametrize(
    ("changes", "total"),
    [
        ({"pulse": 95}, 1),
        ({"pulse": 95, "temperature_c": 38.5}, 2),
        ({"pulse": 95, "temperature_c": 38.5, "respiration_rate": 10}, 3),
        ({"pulse": 115, "temperature_c": 38.5, "respiration_rate": 10}, 4),
    ],
)
def test_one_to_four_without_a_red_score_is_low(changes, total):
    result = score(obs(**changes))
    assert (result.total, result.band, result.red_score) == (total, LOW, False)
    assert result.monitoring == "at least 4-6-hourly"
    assert result.response.startswith("Ward-based response")


@pytest.mark.parametrize(
    ("changes", "total"),
    [
        ({"consciousness": Consciousness.CONFUSION}, 3),
        ({"respiration_rate": 26, "pulse": 95}, 4),
    ],
)
def test_a_red_score_below_five_is_low_medium(changes, total):
    result = score(obs(**changes))
    assert (result.total, result.band, result.red_score) == (total, LOW_MEDIUM, True)
    assert result.monitoring == "at least hourly"
    assert result.response.startswith("Urgent ward-based response")


@pytest.mark.parametrize(
    ("changes", "total", "red"),
    [
        ({"on_oxygen": True, "pulse": 115, "temperature_c": 38.5}, 5, False),
        ({"on_oxygen": True, "pulse": 115, "respiration_rate": 22}, 6, False),
        ({"consciousness": Consciousness.VOICE, "on_oxygen": True}, 5, True),
    ],
)
def test_five_or_six_is_medium(changes, total, red):
    result = score(obs(**changes))
    assert (result.total, result.band, result.red_score) == (total, MEDIUM, red)
    assert result.monitoring == "at least hourly"
    assert result.response.startswith("Urgent response: inform the medical team now")


@pytest.mark.parametrize(
    ("changes", "total"),
    [
        ({"on_oxygen": True, "pulse": 115, "respiration_rate": 22, "temperature_c": 38.5}, 7),
        (
            {
                "respiration_rate": 30,
                "spo2": 85,
                "on_oxygen": True,
                "systolic_bp": 80,
                "pulse": 140,
                "consciousness": Consciousness.UNRESPONSIVE,
                "temperature_c": 40.0,
            },
            19,
        ),
    ],
)
def test_seven_or_more_is_high(changes, total):
    result = score(obs(**changes))
    assert (result.total, result.band) == (total, HIGH)
    assert result.monitoring.startswith("continuous")
    assert result.response.startswith("Emergency response")


def test_scale_2_in_an_observation_set():
    on_air = score(obs(spo2=95, spo2_scale=2))
    assert on_air.points["spo2"] == 0 and on_air.total == 0
    on_oxygen = score(obs(spo2=95, spo2_scale=2, on_oxygen=True))
    assert on_oxygen.points["spo2"] == 2 and on_oxygen.points["on_oxygen"] == 2
    assert on_oxygen.total == 4
    # The same saturation on scale 1 scores 1 whatever the oxygen.
    assert score(obs(spo2=95, on_oxygen=True)).points["spo2"] == 1


@pytest.mark.parametrize(
    ("band", "rank"),
    [(None, 0), (LOW, 0), (LOW_MEDIUM, 1), (MEDIUM, 2), (HIGH, 3)],
)
def test_band_rank(band, rank):
    assert band_rank(band) == rank


def test_band_rank_rejects_unknown_bands():
    with pytest.raises(ValueError, match="band"):
        band_rank("critical")


# --------------------------------------------------------------------------- missing values


def test_one_missing_parameter_gives_no_total():
    result = score(obs(temperature_c=None))
    assert result.total is None and result.band is None
    assert result.response is None and result.monitoring is None
    assert result.missing == ("temperature_c",)
    assert "temperature_c" not in result.points
    assert set(result.points) == set(PARAMETERS) - {"temperature_c"}


def test_several_missing_parameters_are_listed_in_chart_order():
    result = score(obs(pulse=None, respiration_rate=None, consciousness=None))
    assert result.missing == ("respiration_rate", "pulse", "consciousness")
    assert result.total is None


def test_nothing_recorded():
    result = score(Observations(None, None, None, None, None, None, None))
    assert result.missing == PARAMETERS
    assert result.points == {}
    assert (result.total, result.band, result.red_score) == (None, None, False)


def test_a_red_score_is_still_flagged_when_another_value_is_missing():
    result = score(obs(systolic_bp=85, temperature_c=None))
    assert result.total is None and result.red_score is True


def test_scale_2_above_target_with_unknown_oxygen_is_not_scored():
    result = score(obs(spo2=95, spo2_scale=2, on_oxygen=None))
    assert result.missing == ("on_oxygen",)
    assert "spo2" not in result.points and result.total is None
    # Below the target the oxygen status does not matter, so SpO2 is still scored.
    assert score(obs(spo2=85, spo2_scale=2, on_oxygen=None)).points["spo2"] == 2


def test_points_for_a_missing_value_is_an_error():
    with pytest.raises(ValueError, match="pulse has no value"):
        points_for("pulse", None)


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("respiration_rate", -1, "respiration rate"),
        ("respiration_rate", 100.1, "respiration rate"),
        ("spo2", -0.5, "SpO2"),
        ("spo2", 101, "SpO2"),
        ("systolic_bp", -1, "systolic blood pressure"),
        ("systolic_bp", 351, "systolic blood pressure"),
        ("pulse", -1, "pulse"),
        ("pulse", 350.5, "pulse"),
        ("temperature_c", 19.9, "temperature"),
        ("temperature_c", 45.1, "temperature"),
        ("temperature_c", math.nan, "temperature"),
        ("pulse", math.inf, "pulse"),
        ("pulse", "80", "pulse"),
        ("pulse", True, "pulse"),
        ("on_oxygen", "yes", "air or oxygen"),
        ("on_oxygen", 1, "air or oxygen"),
        ("consciousness", "X", "consciousness"),
    ],
)
def test_impossible_values_are_rejected_naming_the_parameter(field, value, words):
    with pytest.raises(ValueError, match=words):
        obs(**{field: value})
    with pytest.raises(ValueError, match=words):
        points_for(field, value)


@pytest.mark.parametrize("scale", [0, 3, True, "1", None])
def test_spo2_scale_must_be_1_or_2(scale):
    with pytest.raises(ValueError, match="SpO2 scale must be 1 or 2"):
        obs(spo2_scale=scale)
    with pytest.raises(ValueError, match="SpO2 scale must be 1 or 2"):
        points_for("spo2", 95, spo2_scale=scale)


def test_unknown_parameter():
    with pytest.raises(ValueError, match="unknown NEWS2 parameter"):
        points_for("heart_rate", 80)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("respiration_rate", 0),
        ("respiration_rate", 100),
        ("spo2", 0),
        ("spo2", 100),
        ("systolic_bp", 0),
        ("systolic_bp", 350),
        ("pulse", 0),
        ("pulse", 350),
        ("temperature_c", 20),
        ("temperature_c", 45),
    ],
)
def test_plausible_limits_are_inclusive(parameter, value):
    assert points_for(parameter, value) in (0, 1, 2, 3)


# --------------------------------------------------------------------------- properties


def _maybe(strategy):
    return st.one_of(st.none(), strategy)


def _number(low, high):
    return st.one_of(st.integers(low, high), st.floats(low, high, allow_nan=False))


observations = st.builds(
    Observations,
    respiration_rate=_maybe(_number(0, 100)),
    spo2=_maybe(_number(0, 100)),
    on_oxygen=_maybe(st.booleans()),
    systolic_bp=_maybe(_number(0, 350)),
    pulse=_maybe(_number(0, 350)),
    consciousness=_maybe(st.sampled_from(Consciousness)),
    temperature_c=_maybe(_number(20, 45)),
    spo2_scale=st.sampled_from([1, 2]),
)


@given(observations)
def test_score_is_consistent(o):
    result = score(o)
    assert all(0 <= p <= 3 for p in result.points.values())
    assert result.red_score == any(p == 3 for p in result.points.values())
    assert set(result.points).isdisjoint(result.missing)
    if result.missing:
        assert (result.total, result.band, result.response, result.monitoring) == (None,) * 4
        return
    assert set(result.points) == set(PARAMETERS)
    assert result.total == sum(result.points.values())
    assert 0 <= result.total <= 20  # 3 (RR) + 3 (SpO2) + 2 (air) + 3 (BP) + 3 (pulse) + 3 + 3
    if result.total >= 7:
        expected = HIGH
    elif result.total >= 5:
        expected = MEDIUM
    elif result.red_score:
        expected = LOW_MEDIUM
    else:
        expected = LOW
    assert result.band == expected
    assert result.response and result.monitoring
    assert band_rank(result.band) == [LOW, LOW_MEDIUM, MEDIUM, HIGH].index(expected)


@given(observations)
def test_each_point_matches_points_for(o):
    result = score(o)
    on_oxygen = bool(o.on_oxygen)
    for name, points in result.points.items():
        value = getattr(o, name)
        assert points_for(name, value, spo2_scale=o.spo2_scale, on_oxygen=on_oxygen) == points
