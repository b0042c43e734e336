"""Pure scheduling rules: slots from weekly sessions, leave, extra sessions and bookings."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hms_core.rules.slots import (
    AvailabilityChange,
    Slot,
    WeeklySession,
    candidate_slots,
    fits_availability,
    free_slots,
    overlaps,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# June 2024: Monday the 3rd; Berlin is UTC+2 all month.
JUNE_MON = date(2024, 6, 3)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def at(tz, day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """Local wall time `hour:minute` on `day` in `tz`, as aware UTC."""
    return datetime.combine(day, time(hour, minute, fold=fold), tzinfo=tz).astimezone(UTC)


def local_times(slots: list[Slot], tz) -> list[str]:
    return [s.starts_at.astimezone(tz).strftime("%H:%M") for s in slots]


def monday_clinic(**kwargs) -> WeeklySession:
    fields = {"weekday": MON, "start": time(9), "end": time(12), "slot_minutes": 15} | kwargs
    return WeeklySession(**fields)


def leave(tz, day: date, start: tuple[int, int], end_day: date, end: tuple[int, int]):
    return AvailabilityChange("leave", at(tz, day, *start), at(tz, end_day, *end))


# --------------------------------------------------------------------------- weekly sessions


def test_weekly_session_gives_its_slots_in_utc():
    slots = candidate_slots([monday_clinic()], [], BERLIN, JUNE_MON, JUNE_MON + timedelta(days=6))
    assert len(slots) == 12
    assert slots[0] == Slot(
        datetime(2024, 6, 3, 7, tzinfo=UTC), datetime(2024, 6, 3, 7, 15, tzinfo=UTC)
    )
    assert slots[-1].ends_at == datetime(2024, 6, 3, 10, tzinfo=UTC)
    assert slots == sorted(slots)
    assert all(s.starts_at.tzinfo is UTC and s.ends_at.tzinfo is UTC for s in slots)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=15) for s in slots)


def test_several_weeks_and_days():
    sessions = [monday_clinic(), WeeklySession(THU, time(14), time(16), 30)]
    slots = candidate_slots(sessions, [], BERLIN, JUNE_MON, date(2024, 6, 30))
    assert len(slots) == 4 * 12 + 4 * 4
    days = {s.starts_at.astimezone(BERLIN).date() for s in slots}
    assert days == {JUNE_MON + timedelta(days=7 * w + d) for w in range(4) for d in (0, 3)}


def test_days_outside_the_range_are_left_out():
    slots = candidate_slots([monday_clinic()], [], BERLIN, date(2024, 6, 4), date(2024, 6, 9))
    assert slots == []


def test_break_is_excluded():
    session = WeeklySession(MON, time(8), time(12), 15, time(10), time(10, 30))
    slots = candidate_slots([session], [], BERLIN, JUNE_MON, JUNE_MON)
    assert len(slots) == 14
    assert "10:00" not in local_times(slots, BERLIN)
    assert "10:15" not in local_times(slots, BERLIN)
    assert local_times(slots, BERLIN)[8] == "10:30"


def test_slots_overlapping_a_break_off_the_grid_are_dropped():
    session = WeeklySession(MON, time(8), time(12), 15, time(10, 10), time(10, 20))
    times = local_times(candidate_slots([session], [], BERLIN, JUNE_MON, JUNE_MON), BERLIN)
    assert "09:45" in times and "10:30" in times
    assert "10:00" not in times and "10:15" not in times
    assert len(times) == 14


def test_session_not_a_multiple_of_slot_length():
    session = monday_clinic(start=time(9), end=time(10, 50), slot_minutes=20)
    slots = candidate_slots([session], [], BERLIN, JUNE_MON, JUNE_MON)
    assert local_times(slots, BERLIN) == ["09:00", "09:20", "09:40", "10:00", "10:20"]
    assert slots[-1].ends_at.astimezone(BERLIN).time() == time(10, 40)


def test_valid_from_and_valid_until_are_inclusive():
    session = monday_clinic(valid_from=date(2024, 6, 10), valid_until=date(2024, 6, 17))
    slots = candidate_slots([session], [], BERLIN, JUNE_MON, date(2024, 6, 30))
    assert {s.starts_at.astimezone(BERLIN).date() for s in slots} == {
        date(2024, 6, 10),
        date(2024, 6, 17),
    }


def test_hours_change_from_a_date():
    old = monday_clinic(valid_until=date(2024, 6, 9))
    new = monday_clinic(start=time(13), end=time(14), valid_from=date(2024, 6, 10))
    slots = candidate_slots([old, new], [], BERLIN, JUNE_MON, date(2024, 6, 10))
    assert local_times(slots, BERLIN) == [
        *(f"{h:02d}:{m:02d}" for h in (9, 10, 11) for m in (0, 15, 30, 45)),
        "13:00",
        "13:15",
        "13:30",
        "13:45",
    ]


# --------------------------------------------------------------------------- leave and extras


def test_leave_over_part_of_a_day():
    changes = [leave(BERLIN, JUNE_MON, (10, 5), JUNE_MON, (10, 50))]
    times = local_times(
        candidate_slots([monday_clinic()], changes, BERLIN, JUNE_MON, JUNE_MON), BERLIN
    )
    assert times == ["09:00", "09:15", "09:30", "09:45", "11:00", "11:15", "11:30", "11:45"]


def test_leave_touching_a_slot_does_not_remove_it():
    changes = [leave(BERLIN, JUNE_MON, (10, 0), JUNE_MON, (10, 15))]
    times = local_times(
        candidate_slots([monday_clinic()], changes, BERLIN, JUNE_MON, JUNE_MON), BERLIN
    )
    assert "09:45" in times and "10:15" in times and "10:00" not in times


def test_leave_over_several_days():
    sessions = [WeeklySession(day, time(9), time(10), 30) for day in (MON, TUE, WED, THU, FRI)]
    changes = [leave(BERLIN, date(2024, 6, 4), (0, 0), date(2024, 6, 7), (0, 0))]
    slots = candidate_slots(sessions, changes, BERLIN, JUNE_MON, date(2024, 6, 9))
    assert [s.starts_at.astimezone(BERLIN).date().day for s in slots] == [3, 3, 7, 7]


def test_extra_session_on_a_day_off():
    saturday = date(2024, 6, 8)
    extra = AvailabilityChange("extra", at(BERLIN, saturday, 9), at(BERLIN, saturday, 10), 20)
    slots = candidate_slots([monday_clinic()], [extra], BERLIN, saturday, saturday)
    assert local_times(slots, BERLIN) == ["09:00", "09:20", "09:40"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=20) for s in slots)


def test_extra_session_defaults_to_15_minutes_and_drops_a_short_tail():
    saturday = date(2024, 6, 8)
    extra = AvailabilityChange("extra", at(BERLIN, saturday, 9), at(BERLIN, saturday, 9, 50))
    slots = candidate_slots([], [extra], BERLIN, saturday, saturday)
    assert local_times(slots, BERLIN) == ["09:00", "09:15", "09:30"]


def test_extra_session_over_a_weekly_one_is_merged():
    extra = AvailabilityChange("extra", at(BERLIN, JUNE_MON, 11), at(BERLIN, JUNE_MON, 13))
    slots = candidate_slots([monday_clinic()], [extra], BERLIN, JUNE_MON, JUNE_MON)
    assert len(slots) == len(set(slots)) == 16
    assert local_times(slots, BERLIN)[-1] == "12:45"


def test_extra_session_outside_the_range_is_left_out():
    saturday = date(2024, 6, 8)
    extra = AvailabilityChange("extra", at(BERLIN, saturday, 9), at(BERLIN, saturday, 10))
    assert candidate_slots([], [extra], BERLIN, JUNE_MON, date(2024, 6, 7)) == []
    assert candidate_slots([], [extra], BERLIN, date(2024, 6, 9), date(2024, 6, 9)) == []


def test_leave_wins_over_an_extra_session():
    saturday = date(2024, 6, 8)
    extra = AvailabilityChange("extra", at(BERLIN, saturday, 9), at(BERLIN, saturday, 10))
    off = leave(BERLIN, saturday, (9, 30), saturday, (12, 0))
    slots = candidate_slots([], [extra, off], BERLIN, saturday, saturday)
    assert local_times(slots, BERLIN) == ["09:00", "09:15"]


def test_changes_given_in_another_zone_are_stored_as_utc():
    plus_two = timezone(timedelta(hours=2))
    change = AvailabilityChange(
        "leave",
        datetime(2024, 6, 3, 10, tzinfo=plus_two),
        datetime(2024, 6, 3, 11, tzinfo=plus_two),
    )
    assert change.starts_at == datetime(2024, 6, 3, 8, tzinfo=UTC)
    assert change.starts_at.tzinfo is UTC


# ------------------------------------------------------------------ busy, not_before, limit


def free(busy, *, not_before=EPOCH, limit=None, sessions=None, changes=()):
    sessions = [monday_clinic()] if sessions is None else sessions
    return free_slots(sessions, list(changes), busy, BERLIN, JUNE_MON, JUNE_MON, not_before, limit)


def test_busy_intervals_are_removed():
    booked = (at(BERLIN, JUNE_MON, 9, 15), at(BERLIN, JUNE_MON, 9, 30))
    times = local_times(free([booked]), BERLIN)
    assert len(times) == 11
    assert "09:15" not in times and "09:00" in times and "09:30" in times


def test_a_30_minute_booking_covers_two_15_minute_slots():
    booked = (at(BERLIN, JUNE_MON, 10), at(BERLIN, JUNE_MON, 10, 30))
    times = local_times(free([booked]), BERLIN)
    assert "10:00" not in times and "10:15" not in times
    assert "09:45" in times and "10:30" in times
    assert len(times) == 10


def test_a_booking_straddling_a_slot_edge_blocks_both_slots():
    booked = (at(BERLIN, JUNE_MON, 9, 10), at(BERLIN, JUNE_MON, 9, 25))
    times = local_times(free([booked]), BERLIN)
    assert times[:2] == ["09:30", "09:45"]


def test_unsorted_overlapping_and_empty_busy_intervals():
    busy = [
        (at(BERLIN, JUNE_MON, 11), at(BERLIN, JUNE_MON, 11, 15)),
        (at(BERLIN, JUNE_MON, 9), at(BERLIN, JUNE_MON, 9, 45)),
        (at(BERLIN, JUNE_MON, 9, 30), at(BERLIN, JUNE_MON, 10)),
        (at(BERLIN, JUNE_MON, 10, 20), at(BERLIN, JUNE_MON, 10, 20)),  # empty: blocks nothing
        (at(BERLIN, JUNE_MON - timedelta(days=7), 9), at(BERLIN, JUNE_MON - timedelta(days=7), 12)),
    ]
    times = local_times(free(busy), BERLIN)
    assert times == ["10:00", "10:15", "10:30", "10:45", "11:15", "11:30", "11:45"]


def test_busy_in_another_zone_counts_by_instant():
    new_york = NEW_YORK
    booked = (
        datetime(2024, 6, 3, 3, 0, tzinfo=new_york),  # 09:00 in Berlin
        datetime(2024, 6, 3, 3, 15, tzinfo=new_york),
    )
    assert local_times(free([booked]), BERLIN)[0] == "09:15"


def test_not_before_drops_slots_that_started_earlier():
    times = local_times(free([], not_before=at(BERLIN, JUNE_MON, 9, 20)), BERLIN)
    assert times[0] == "09:30"
    times = local_times(free([], not_before=at(BERLIN, JUNE_MON, 9, 30)), BERLIN)
    assert times[0] == "09:30"
    assert free([], not_before=at(BERLIN, JUNE_MON, 12)) == []


def test_not_before_on_a_later_day():
    sessions = [monday_clinic()]
    slots = free_slots(
        sessions, [], [], BERLIN, JUNE_MON, date(2024, 6, 30), at(BERLIN, date(2024, 6, 10), 11, 50)
    )
    assert slots[0].starts_at == at(BERLIN, date(2024, 6, 17), 9)
    assert len(slots) == 24


def test_limit():
    slots = free([(at(BERLIN, JUNE_MON, 9), at(BERLIN, JUNE_MON, 9, 15))], limit=3)
    assert local_times(slots, BERLIN) == ["09:15", "09:30", "09:45"]
    assert free([], limit=0) == []
    assert len(free([], limit=100)) == 12


def test_free_slots_respect_leave_and_extras():
    extra = AvailabilityChange("extra", at(BERLIN, JUNE_MON, 14), at(BERLIN, JUNE_MON, 15), 30)
    off = leave(BERLIN, JUNE_MON, (9, 0), JUNE_MON, (11, 30))
    times = local_times(free([], changes=[extra, off]), BERLIN)
    assert times == ["11:30", "11:45", "14:00", "14:30"]


# --------------------------------------------------------------------------- daylight saving time


@pytest.mark.parametrize(
    ("tz", "day", "before", "after"),
    [
        # Berlin: CET (+1) -> CEST (+2) on 31 March, back on 27 October 2024.
        (BERLIN, date(2024, 3, 31), 7, 6),
        (BERLIN, date(2024, 10, 27), 6, 7),
        # New York: EST (-5) -> EDT (-4) on 10 March, back on 3 November 2024.
        (NEW_YORK, date(2024, 3, 10), 13, 12),
        (NEW_YORK, date(2024, 11, 3), 12, 13),
    ],
)
def test_local_start_times_survive_a_clock_change(tz, day, before, after):
    """An 08:00-12:00 session stays at 08:00 local; the UTC hour moves with the offset."""
    sessions = [WeeklySession(wd, time(8), time(12), 15) for wd in range(7)]
    saturday, sunday, monday = day - timedelta(days=1), day, day + timedelta(days=1)
    slots = candidate_slots(sessions, [], tz, saturday, monday)
    assert len(slots) == 3 * 16
    by_day = {
        d: [s for s in slots if s.starts_at.astimezone(tz).date() == d]
        for d in (saturday, sunday, monday)
    }
    for d, day_slots in by_day.items():
        assert local_times(day_slots, tz)[0] == "08:00"
        assert local_times(day_slots, tz)[-1] == "11:45"
        assert all(s.ends_at - s.starts_at == timedelta(minutes=15) for s in day_slots)
        assert day_slots[0].starts_at.hour == (before if d == saturday else after)


def test_berlin_spring_forward_skips_the_missing_hour():
    day = date(2024, 3, 31)
    session = WeeklySession(SUN, time(1), time(4), 15)
    slots = candidate_slots([session], [], BERLIN, day, day)
    assert local_times(slots, BERLIN) == [
        "01:00", "01:15", "01:30", "01:45", "03:00", "03:15", "03:30", "03:45",
    ]  # fmt: skip
    assert slots[3].ends_at == slots[4].starts_at == datetime(2024, 3, 31, 1, tzinfo=UTC)


def test_berlin_fall_back_uses_the_first_occurrence():
    day = date(2024, 10, 27)
    session = WeeklySession(SUN, time(1), time(4), 15)
    slots = candidate_slots([session], [], BERLIN, day, day)
    assert len(slots) == 12  # 02:00-02:45 once, at fold=0 (CEST)
    assert all(s.starts_at.astimezone(BERLIN).fold == 0 for s in slots)
    assert slots[4].starts_at == datetime(2024, 10, 27, 0, 0, tzinfo=UTC)  # 02:00 CEST
    assert slots[7].ends_at == datetime(2024, 10, 27, 1, 0, tzinfo=UTC)  # 15 real minutes
    assert slots[8].starts_at == datetime(2024, 10, 27, 2, 0, tzinfo=UTC)  # 03:00 CET
    assert all(a.ends_at <= b.starts_at for a, b in zip(slots, slots[1:], strict=False))


def test_new_york_spring_forward_and_fall_back_at_night():
    spring, autumn = date(2024, 3, 10), date(2024, 11, 3)
    session = WeeklySession(SUN, time(0, 30), time(3), 30)
    spring_slots = candidate_slots([session], [], NEW_YORK, spring, spring)
    assert local_times(spring_slots, NEW_YORK) == ["00:30", "01:00", "01:30"]
    # 01:30 EST lasts until 03:00 EDT: 30 real minutes.
    assert spring_slots[-1].ends_at == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    autumn_slots = candidate_slots([session], [], NEW_YORK, autumn, autumn)
    assert local_times(autumn_slots, NEW_YORK) == ["00:30", "01:00", "01:30", "02:00", "02:30"]
    assert autumn_slots[1].starts_at == datetime(2024, 11, 3, 5, 0, tzinfo=UTC)  # 01:00 EDT
    assert autumn_slots[3].starts_at == datetime(2024, 11, 3, 7, 0, tzinfo=UTC)  # 02:00 EST


def test_a_session_starting_inside_the_gap_starts_when_the_clocks_jump():
    day = date(2024, 3, 31)
    session = WeeklySession(SUN, time(2, 30), time(4), 15)
    slots = candidate_slots([session], [], BERLIN, day, day)
    assert local_times(slots, BERLIN) == ["03:00", "03:15", "03:30", "03:45"]
    assert fits_availability([session], [], BERLIN, slots[0].starts_at, slots[1].ends_at)
    before = datetime(2024, 3, 31, 0, 45, tzinfo=UTC)  # 01:45 CET
    assert not fits_availability([session], [], BERLIN, before, before + timedelta(minutes=15))


def test_slot_lengths_across_a_gap_never_overlap():
    day = date(2024, 3, 31)
    session = WeeklySession(SUN, time(1), time(4), 40)
    slots = candidate_slots([session], [], BERLIN, day, day)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=40) for s in slots)
    assert all(a.ends_at <= b.starts_at for a, b in zip(slots, slots[1:], strict=False))
    assert local_times(slots, BERLIN)[:2] == ["01:00", "01:40"]


def test_a_slot_running_across_the_gap_past_the_session_end_is_dropped():
    day = date(2024, 3, 31)
    session = WeeklySession(SUN, time(1), time(3, 10), 40)
    # 01:40 CET plus 40 real minutes is 03:20 CEST, after the session's end.
    assert local_times(candidate_slots([session], [], BERLIN, day, day), BERLIN) == ["01:00"]


# --------------------------------------------------------------------------- fits_availability


BREAK_CLINIC = WeeklySession(MON, time(8), time(12), 15, time(10), time(10, 30))


def fits(start: tuple[int, int], end: tuple[int, int], changes=(), sessions=None, day=JUNE_MON):
    sessions = [BREAK_CLINIC] if sessions is None else sessions
    return fits_availability(
        sessions, list(changes), BERLIN, at(BERLIN, day, *start), at(BERLIN, day, *end)
    )


def test_fits_inside_a_session():
    assert fits((8, 0), (8, 15))
    assert fits((8, 0), (8, 30))  # two 15-minute slots
    assert fits((8, 5), (8, 25))  # off the slot grid, still inside the hours
    assert fits((10, 30), (12, 0))


def test_does_not_fit_across_the_break_or_outside_hours():
    assert not fits((9, 45), (10, 15))
    assert not fits((10, 15), (10, 30))
    assert not fits((11, 45), (12, 15))
    assert not fits((7, 45), (8, 15))
    assert not fits((13, 0), (13, 15))
    assert not fits((8, 0), (8, 15), day=date(2024, 6, 4))  # a Tuesday


def test_does_not_fit_on_leave():
    off = leave(BERLIN, JUNE_MON, (8, 20), JUNE_MON, (9, 0))
    assert not fits((8, 15), (8, 30), [off])
    assert fits((8, 0), (8, 15), [off])
    assert fits((9, 0), (9, 15), [off])


def test_fits_an_extra_session():
    saturday = date(2024, 6, 8)
    extra = AvailabilityChange("extra", at(BERLIN, saturday, 9), at(BERLIN, saturday, 11), 30)
    assert fits((9, 0), (10, 0), [extra], day=saturday)
    assert fits((10, 30), (11, 0), [extra], day=saturday)
    assert not fits((10, 45), (11, 15), [extra], day=saturday)
    assert not fits((8, 45), (9, 15), [extra], day=saturday)


def test_does_not_fit_outside_valid_dates():
    session = monday_clinic(valid_from=date(2024, 6, 10), valid_until=date(2024, 6, 17))
    assert not fits((9, 0), (9, 15), sessions=[session], day=JUNE_MON)
    assert fits((9, 0), (9, 15), sessions=[session], day=date(2024, 6, 10))
    assert fits((9, 0), (9, 15), sessions=[session], day=date(2024, 6, 17))
    assert not fits((9, 0), (9, 15), sessions=[session], day=date(2024, 6, 24))


def test_does_not_fit_across_two_sessions_or_days():
    morning = monday_clinic(start=time(8), end=time(10))
    late = monday_clinic(start=time(10), end=time(12))
    assert fits((9, 45), (10, 0), sessions=[morning, late])
    assert not fits((9, 45), (10, 15), sessions=[morning, late])
    start, end = at(BERLIN, JUNE_MON, 11, 45), at(BERLIN, JUNE_MON + timedelta(days=7), 9, 15)
    assert not fits_availability([monday_clinic()], [], BERLIN, start, end)


# --------------------------------------------------------------------------- overlaps


def test_overlaps_is_half_open():
    t = [EPOCH + timedelta(minutes=m) for m in range(5)]
    assert overlaps(t[0], t[2], t[1], t[3])
    assert overlaps(t[0], t[4], t[1], t[2])
    assert not overlaps(t[0], t[1], t[1], t[2])
    assert not overlaps(t[1], t[2], t[0], t[1])
    assert not overlaps(t[0], t[4], t[2], t[2])  # an empty interval overlaps nothing


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slot_minutes": 4}, "between 5 and 240"),
        ({"slot_minutes": 241}, "between 5 and 240"),
        ({"slot_minutes": 15.0}, "whole number"),
        ({"end": time(9)}, "after its start"),
        ({"end": time(8)}, "after its start"),
        ({"weekday": 7}, "weekday"),
        ({"break_start": time(10)}, "both"),
        ({"break_start": time(8), "break_end": time(9, 30)}, "inside the session hours"),
        ({"break_start": time(11), "break_end": time(12, 30)}, "inside the session hours"),
        ({"break_start": time(10), "break_end": time(10)}, "break end"),
        ({"start": time(9, tzinfo=UTC)}, "wall-clock"),
        ({"valid_from": date(2024, 6, 2), "valid_until": date(2024, 6, 1)}, "valid_until"),
        ({"valid_from": datetime(2024, 6, 1)}, "datetime.date"),
    ],
)
def test_bad_weekly_sessions(kwargs, message):
    with pytest.raises(ValueError, match=message):
        monday_clinic(**kwargs)


def test_bad_availability_changes():
    start, end = datetime(2024, 6, 3, 8, tzinfo=UTC), datetime(2024, 6, 3, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="'leave' or 'extra'"):
        AvailabilityChange("holiday", start, end)
    with pytest.raises(ValueError, match="timezone-aware"):
        AvailabilityChange("leave", start.replace(tzinfo=None), end)
    with pytest.raises(ValueError, match="after starts_at"):
        AvailabilityChange("extra", end, start)
    with pytest.raises(ValueError, match="after starts_at"):
        AvailabilityChange("leave", start, start)
    with pytest.raises(ValueError, match="between 5 and 240"):
        AvailabilityChange("extra", start, end, 2)


def test_bad_function_arguments():
    sessions, naive = [monday_clinic()], datetime(2024, 6, 3, 9)
    start, end = at(BERLIN, JUNE_MON, 9), at(BERLIN, JUNE_MON, 9, 15)
    with pytest.raises(ValueError, match="before first_day"):
        candidate_slots(sessions, [], BERLIN, JUNE_MON, JUNE_MON - timedelta(days=1))
    with pytest.raises(ValueError, match="first_day must be a datetime.date"):
        candidate_slots(sessions, [], BERLIN, naive, JUNE_MON)
    with pytest.raises(ValueError, match="tz must be a time zone"):
        candidate_slots(sessions, [], "Europe/Berlin", JUNE_MON, JUNE_MON)
    with pytest.raises(ValueError, match="WeeklySession"):
        candidate_slots([("Monday", "9-12")], [], BERLIN, JUNE_MON, JUNE_MON)
    with pytest.raises(ValueError, match="AvailabilityChange"):
        candidate_slots(sessions, [("leave", start, end)], BERLIN, JUNE_MON, JUNE_MON)
    with pytest.raises(ValueError, match="not_before must be timezone-aware"):
        free_slots(sessions, [], [], BERLIN, JUNE_MON, JUNE_MON, naive)
    with pytest.raises(ValueError, match=r"busy\[0\] start must be timezone-aware"):
        free_slots(sessions, [], [(naive, end)], BERLIN, JUNE_MON, JUNE_MON, EPOCH)
    with pytest.raises(ValueError, match=r"busy\[1\] ends"):
        free_slots(sessions, [], [(start, end), (end, start)], BERLIN, JUNE_MON, JUNE_MON, EPOCH)
    with pytest.raises(ValueError, match=r"busy\[0\] must be a \(start, end\) pair"):
        free_slots(sessions, [], [(start,)], BERLIN, JUNE_MON, JUNE_MON, EPOCH)
    with pytest.raises(ValueError, match="limit"):
        free_slots(sessions, [], [], BERLIN, JUNE_MON, JUNE_MON, EPOCH, limit=-1)
    with pytest.raises(ValueError, match="starts_at must be timezone-aware"):
        fits_availability(sessions, [], BERLIN, naive, end)
    with pytest.raises(ValueError, match="after starts_at"):
        fits_availability(sessions, [], BERLIN, end, start)


# --------------------------------------------------------------------------- properties

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",  # 30-minute DST shift
        "America/Santiago",  # clocks change at midnight
        "Asia/Kathmandu",  # +05:45
    )
]
# 2024 clock changes of those zones, with the local hours (minutes after midnight) in which sessions
# should start to run into them, so that the properties meet them often.
CLOCK_CHANGES = [
    ("America/New_York", date(2024, 3, 10), 0, 180),
    ("America/New_York", date(2024, 11, 3), 0, 180),
    ("Europe/Berlin", date(2024, 3, 31), 0, 240),
    ("Europe/Berlin", date(2024, 10, 27), 0, 240),
    ("Australia/Lord_Howe", date(2024, 4, 7), 0, 150),  # 02:00 -> 01:30
    ("Australia/Lord_Howe", date(2024, 10, 6), 0, 150),  # 02:00 -> 02:30
    ("America/Santiago", date(2024, 4, 6), 21 * 60, 23 * 60 + 50),  # 24:00 -> 23:00
    ("America/Santiago", date(2024, 9, 8), 0, 90),  # 00:00 -> 01:00
]
SLOT_LENGTHS = [5, 10, 15, 20, 25, 30, 40, 45, 60, 90]


@st.composite
def weekly_sessions(draw, weekday=None, earliest=0, latest=24 * 60 - 10):
    slot_minutes = draw(st.sampled_from(SLOT_LENGTHS))
    start = draw(st.integers(earliest // 5, latest // 5)) * 5
    end = draw(st.integers(start // 5 + 1, 24 * 12 - 1)) * 5
    to_time = lambda minutes: time(minutes // 60, minutes % 60)  # noqa: E731
    break_start = break_end = None
    if end - start >= 10 and draw(st.booleans()):
        bs = draw(st.integers(start // 5, end // 5 - 1)) * 5
        be = draw(st.integers(bs // 5 + 1, end // 5)) * 5
        break_start, break_end = to_time(bs), to_time(be)
    valid_from = draw(st.none() | st.dates(date(2024, 1, 1), date(2024, 12, 31)))
    valid_until = draw(st.none() | st.dates(valid_from or date(2024, 1, 1), date(2025, 1, 31)))
    return WeeklySession(
        draw(st.integers(0, 6)) if weekday is None else weekday,
        to_time(start),
        to_time(end),
        slot_minutes,
        break_start,
        break_end,
        valid_from,
        valid_until,
    )


@st.composite
def scenarios(draw):
    clock_change = draw(st.none() | st.sampled_from(CLOCK_CHANGES))
    if clock_change is None:
        tz = draw(st.sampled_from(ZONES))
        first_day = draw(st.dates(date(2024, 1, 1), date(2024, 12, 20)))
        sessions = draw(st.lists(weekly_sessions(), max_size=5))
    else:
        zone, day, earliest, latest = clock_change
        tz = ZoneInfo(zone)
        first_day = day - timedelta(days=draw(st.integers(0, 2)))
        sessions = draw(st.lists(weekly_sessions(), max_size=2)) + draw(
            st.lists(weekly_sessions(day.weekday(), earliest, latest), min_size=1, max_size=3)
        )
    last_day = first_day + timedelta(days=draw(st.integers(0, 9)))
    origin = datetime.combine(first_day, time(), tzinfo=UTC) - timedelta(days=1)
    span = (last_day - first_day).days * 24 * 12 + 3 * 24 * 12  # in 5-minute steps

    def interval(max_minutes):
        start = origin + timedelta(minutes=5 * draw(st.integers(0, span)))
        return start, start + timedelta(minutes=draw(st.integers(0, max_minutes)))

    changes = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["leave", "extra"]))
        start, end = interval(48 * 60)
        if end > start:
            minutes = draw(st.none() | st.sampled_from(SLOT_LENGTHS)) if kind == "extra" else None
            changes.append(AvailabilityChange(kind, start, end, minutes))
    busy = [interval(180) for _ in range(draw(st.integers(0, 12)))]
    return {
        "sessions": sessions,
        "changes": changes,
        "busy": busy,
        "tz": tz,
        "first_day": first_day,
        "last_day": last_day,
        "not_before": interval(0)[0],
        "limit": draw(st.none() | st.integers(0, 40)),
    }


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_free_slots_are_disjoint_free_and_inside_availability(case):
    sessions, changes, tz = case["sessions"], case["changes"], case["tz"]
    candidates = candidate_slots(sessions, changes, tz, case["first_day"], case["last_day"])
    slots = free_slots(**case)

    # free_slots is exactly the filtered candidate list.
    expected = [
        c
        for c in candidates
        if c.starts_at >= case["not_before"]
        and not any(overlaps(c.starts_at, c.ends_at, b0, b1) for b0, b1 in case["busy"])
    ]
    if case["limit"] is not None:
        expected = expected[: case["limit"]]
    assert slots == expected

    assert candidates == sorted(candidates)
    for earlier, later in zip(candidates, candidates[1:], strict=False):
        assert earlier.ends_at <= later.starts_at
    leaves = [c for c in changes if c.kind == "leave"]
    for slot in candidates:
        assert slot.starts_at.tzinfo is UTC and slot.ends_at.tzinfo is UTC
        assert slot.ends_at > slot.starts_at
        assert not any(
            overlaps(slot.starts_at, slot.ends_at, c.starts_at, c.ends_at) for c in leaves
        )
        assert fits_availability(sessions, changes, tz, slot.starts_at, slot.ends_at)
        local_day = slot.starts_at.astimezone(tz).date()
        assert case["first_day"] <= local_day <= case["last_day"]
    for slot in slots:
        assert not any(overlaps(slot.starts_at, slot.ends_at, b0, b1) for b0, b1 in case["busy"])


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_weekly_slots_start_on_the_local_grid(case):
    sessions, tz = case["sessions"], case["tz"]
    first_day, last_day = case["first_day"], case["last_day"]
    for slot in candidate_slots(sessions, [], tz, first_day, last_day):
        local = slot.starts_at.astimezone(tz)
        assert local.fold == 0
        wall = datetime.combine(local.date(), local.time())
        assert any(
            session.in_force(local.date())
            and datetime.combine(local.date(), session.start) <= wall
            and (wall - datetime.combine(local.date(), session.start))
            % timedelta(minutes=session.slot_minutes)
            == timedelta(0)
            and slot.ends_at - slot.starts_at == timedelta(minutes=session.slot_minutes)
            for session in sessions
        )
