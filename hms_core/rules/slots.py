"""Appointment slots from a doctor's availability: pure functions, standard library only.

A doctor's availability is a set of weekly sessions (wall-clock hours in the doctor's time zone,
cut into slots of a fixed length, with an optional break and dates in force) plus changes:
leave (no slots in a period) and extra one-off sessions (slots added). From these,
`candidate_slots` lists what the availability offers, `free_slots` what is still bookable given
the doctor's busy intervals, and `fits_availability` checks one requested booking.

Time zones
    Session hours are wall-clock times in `tz`. Every slot starts at the session start plus a whole
    number of slot lengths in local time, so on a daylight-saving change day an 08:00-12:00
    session still offers 08:00, 08:15 ... local; only the UTC offset shifts. A slot whose local
    start does not exist (the spring-forward gap) is skipped; a local start that occurs twice
    (fall-back) means its first occurrence (fold=0), and the repeated hour offers no second set of
    slots. A slot lasts exactly `slot_minutes` of real time. A session boundary that falls in a gap
    means the moment the clocks jump. Everything returned is aware UTC.

Overlaps
    The slots offered never overlap one another: identical slots (an extra session over a weekly
    one) are merged, and where two offered slots would overlap (two overlapping sessions, an extra
    session off the weekly grid, a slot running across a spring-forward gap) the earlier-starting
    one is kept. Leave wins over everything, extra sessions included; to work one day of a week of
    leave, record the leave as two periods.

Intervals are half-open, [start, end): a booking ending at 10:00 does not touch a slot at 10:00.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

LEAVE = "leave"
EXTRA = "extra"
CHANGE_KINDS = (LEAVE, EXTRA)
MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 240
DEFAULT_EXTRA_SLOT_MINUTES = 15

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)

Interval = tuple[datetime, datetime]


# --------------------------------------------------------------------------- inputs and outputs


def _check_slot_minutes(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} slot_minutes must be a whole number of minutes, got {value!r}")
    if not MIN_SLOT_MINUTES <= value <= MAX_SLOT_MINUTES:
        raise ValueError(
            f"{what} slot_minutes must be between {MIN_SLOT_MINUTES} and {MAX_SLOT_MINUTES},"
            f" got {value}"
        )


def _check_wall_time(value: object, name: str) -> None:
    if not isinstance(value, time):
        raise ValueError(f"session {name} must be a datetime.time, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"session {name} is a wall-clock time and must not carry a tzinfo")


def _check_day(value: object, name: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a datetime.date, got {value!r}")


def _utc(value: object, name: str) -> datetime:
    """`value` as aware UTC; ValueError for anything but a timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class WeeklySession:
    """One weekly session of a doctor, in the doctor's time zone."""

    weekday: int  # 0 = Monday ... 6 = Sunday
    start: time
    end: time
    slot_minutes: int
    break_start: time | None = None
    break_end: time | None = None
    valid_from: date | None = None  # inclusive
    valid_until: date | None = None  # inclusive

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or self.weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday!r}")
        _check_wall_time(self.start, "start")
        _check_wall_time(self.end, "end")
        if self.end <= self.start:
            raise ValueError(f"session end {self.end} must be after its start {self.start}")
        _check_slot_minutes(self.slot_minutes, "session")
        if (self.break_start is None) != (self.break_end is None):
            raise ValueError("a break needs both break_start and break_end")
        if self.break_start is not None and self.break_end is not None:
            _check_wall_time(self.break_start, "break_start")
            _check_wall_time(self.break_end, "break_end")
            if self.break_end <= self.break_start:
                raise ValueError(
                    f"break end {self.break_end} must be after break start {self.break_start}"
                )
            if self.break_start < self.start or self.break_end > self.end:
                raise ValueError(
                    f"break {self.break_start}-{self.break_end} must lie inside the session hours"
                    f" {self.start}-{self.end}"
                )
        if self.valid_from is not None:
            _check_day(self.valid_from, "valid_from")
        if self.valid_until is not None:
            _check_day(self.valid_until, "valid_until")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until < self.valid_from
        ):
            raise ValueError(
                f"valid_until {self.valid_until} must not be before valid_from {self.valid_from}"
            )

    def in_force(self, day: date) -> bool:
        """Whether the session applies on local `day` (weekday and valid dates)."""
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class AvailabilityChange:
    """Leave (no slots in [starts_at, ends_at)) or an extra one-off session (slots added).

    Datetimes must be timezone-aware; they are stored as UTC.
    """

    kind: str  # "leave" | "extra"
    starts_at: datetime  # aware UTC
    ends_at: datetime
    slot_minutes: int | None = None  # for "extra"; default 15

    def __post_init__(self) -> None:
        if self.kind not in CHANGE_KINDS:
            raise ValueError(
                f"availability change kind must be 'leave' or 'extra', not {self.kind!r}"
            )
        starts_at = _utc(self.starts_at, "starts_at")
        ends_at = _utc(self.ends_at, "ends_at")
        if ends_at <= starts_at:
            raise ValueError(f"{self.kind} ends_at {ends_at} must be after starts_at {starts_at}")
        if self.slot_minutes is not None:
            _check_slot_minutes(self.slot_minutes, self.kind)
        object.__setattr__(self, "starts_at", starts_at)
        object.__setattr__(self, "ends_at", ends_at)

    @property
    def slot_length(self) -> timedelta:
        minutes = self.slot_minutes if self.slot_minutes is not None else DEFAULT_EXTRA_SLOT_MINUTES
        return timedelta(minutes=minutes)


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    """A bookable interval [starts_at, ends_at), aware UTC."""

    starts_at: datetime
    ends_at: datetime


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether half-open intervals [a_start, a_end) and [b_start, b_end) share a moment.

    An empty interval (end <= start) overlaps nothing; touching intervals do not overlap.
    """
    return a_start < b_end and b_start < a_end and a_start < a_end and b_start < b_end


# --------------------------------------------------------------------------- local time


def _local_to_utc(wall: datetime, tz: tzinfo) -> tuple[datetime, bool]:
    """Naive local `wall` as UTC (fold=0), and whether that wall time exists in `tz`."""
    moment = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return moment, moment.astimezone(tz).replace(tzinfo=None) == wall


def _boundary(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC moment local clocks reach `wall`: its first occurrence, or, for a wall time in a
    spring-forward gap, the moment the clocks jump over it."""
    moment, exists = _local_to_utc(wall, tz)
    if exists:
        return moment
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(moment, other), max(moment, other)  # clocks read < wall at lo, > wall at hi
    # Transitions fall on whole seconds: binary search the first second reading >= wall.
    steps = int((hi - lo) // _SECOND)
    low, high = 0, steps
    while low < high:
        mid = (low + high) // 2
        if (lo + mid * _SECOND).astimezone(tz).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid + 1
    return lo + low * _SECOND


def _check_tz(tz: object) -> tzinfo:
    if not isinstance(tz, tzinfo):
        raise ValueError(f"tz must be a time zone such as ZoneInfo('Europe/Berlin'), got {tz!r}")
    return tz


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


# --------------------------------------------------------------------------- sessions


class _Plan:
    """A weekly session prepared for fast expansion on many days."""

    __slots__ = ("session", "start", "end", "break_start", "break_end", "step", "offsets")

    def __init__(self, session: WeeklySession) -> None:
        if not isinstance(session, WeeklySession):
            raise ValueError(f"sessions must be WeeklySession objects, got {session!r}")
        self.session = session
        self.start = _since_midnight(session.start)
        self.end = _since_midnight(session.end)
        self.break_start = (
            None if session.break_start is None else _since_midnight(session.break_start)
        )
        self.break_end = None if session.break_end is None else _since_midnight(session.break_end)
        self.step = timedelta(minutes=session.slot_minutes)
        # Offsets from the session start of the slots that end by the session end and do not
        # overlap the break, in local wall-clock time: the same on every day.
        self.offsets: list[timedelta] = []
        for k in range((self.end - self.start) // self.step):
            slot_start = self.start + k * self.step
            if (
                self.break_start is not None
                and self.break_end is not None
                and slot_start < self.break_end
                and slot_start + self.step > self.break_start
            ):
                continue
            self.offsets.append(k * self.step)

    def windows(self, midnight: datetime, tz: tzinfo) -> list[Interval]:
        """The session's bookable hours on the local day starting at naive `midnight`, in UTC:
        one interval, or two around the break."""
        start = _boundary(midnight + self.start, tz)
        end = _boundary(midnight + self.end, tz)
        if self.break_start is None or self.break_end is None:
            return [(start, end)]
        return [
            (start, _boundary(midnight + self.break_start, tz)),
            (_boundary(midnight + self.break_end, tz), end),
        ]

    def expand(self, midnight: datetime, tz: tzinfo, out: list[Interval]) -> None:
        """Append the slots of the session on the local day starting at naive `midnight`."""
        step = self.step
        first, first_exists = _local_to_utc(midnight + self.start, tz)
        last, last_exists = _local_to_utc(midnight + self.end, tz)
        if first_exists and last_exists and last - first == self.end - self.start:
            # No clock change inside the session (the usual case): a constant UTC offset.
            for offset in self.offsets:
                slot_start = first + offset
                out.append((slot_start, slot_start + step))
            return
        # The clocks change during the session: convert each local slot start on its own.
        windows = self.windows(midnight, tz)
        for offset in self.offsets:
            slot_start, exists = _local_to_utc(midnight + self.start + offset, tz)
            if not exists:
                continue
            slot_end = slot_start + step
            if any(lo <= slot_start and slot_end <= hi for lo, hi in windows):
                out.append((slot_start, slot_end))


def _plans_by_weekday(sessions: Iterable[WeeklySession]) -> list[list[_Plan]]:
    by_weekday: list[list[_Plan]] = [[] for _ in range(7)]
    for session in sessions:
        plan = _Plan(session)
        by_weekday[session.weekday].append(plan)
    return by_weekday


def _split_changes(
    changes: Iterable[AvailabilityChange],
) -> tuple[list[Interval], list[AvailabilityChange]]:
    """Leave as sorted, merged, disjoint intervals; and the extra sessions."""
    leave: list[Interval] = []
    extras: list[AvailabilityChange] = []
    for change in changes:
        if not isinstance(change, AvailabilityChange):
            raise ValueError(f"changes must be AvailabilityChange objects, got {change!r}")
        if change.kind == LEAVE:
            leave.append((change.starts_at, change.ends_at))
        else:
            extras.append(change)
    return _merge(leave), extras


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same moments (empty ones dropped)."""
    intervals = sorted(i for i in intervals if i[0] < i[1])
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _without(slots: list[Interval], blocked: Sequence[Interval]) -> list[Interval]:
    """`slots` (sorted by start) minus those overlapping any of `blocked` (sorted, disjoint):
    one sweep with two pointers, O(len(slots) + len(blocked))."""
    if not blocked:
        return slots
    kept: list[Interval] = []
    j, n = 0, len(blocked)
    for slot_start, slot_end in slots:
        while j < n and blocked[j][1] <= slot_start:
            j += 1
        if j < n and blocked[j][0] < slot_end:
            continue
        kept.append((slot_start, slot_end))
    return kept


def _check_range(first_day: object, last_day: object) -> None:
    _check_day(first_day, "first_day")
    _check_day(last_day, "last_day")
    if last_day < first_day:  # type: ignore[operator]
        raise ValueError(f"last_day {last_day} is before first_day {first_day}")


def _offered(
    sessions: Iterable[WeeklySession],
    changes: Iterable[AvailabilityChange],
    tz: tzinfo,
    first_day: date,
    last_day: date,
) -> tuple[Interval, ...]:
    """Offered slots as sorted, disjoint (start, end) UTC tuples, remembered: availability
    changes rarely and every desk asks for the same weeks (the inputs are frozen values)."""
    return _remembered(tuple(sessions), tuple(changes), tz, first_day, last_day)


@lru_cache(maxsize=1024)
def _remembered(
    sessions: tuple[WeeklySession, ...],
    changes: tuple[AvailabilityChange, ...],
    tz: tzinfo,
    first_day: date,
    last_day: date,
) -> tuple[Interval, ...]:
    return tuple(_candidates(sessions, changes, tz, first_day, last_day))


def _candidates(
    sessions: Iterable[WeeklySession],
    changes: Iterable[AvailabilityChange],
    tz: tzinfo,
    first_day: date,
    last_day: date,
) -> list[Interval]:
    """Offered slots as sorted, disjoint (start, end) UTC tuples."""
    by_weekday = _plans_by_weekday(sessions)
    leave, extras = _split_changes(changes)
    raw: list[Interval] = []
    day = first_day
    while day <= last_day:
        plans = by_weekday[day.weekday()]
        if plans:
            midnight = datetime(day.year, day.month, day.day)
            for plan in plans:
                if plan.session.in_force(day):
                    plan.expand(midnight, tz, raw)
        day += _DAY
    if extras:
        range_start = _boundary(datetime.combine(first_day, time()), tz)
        range_end = _boundary(datetime.combine(last_day + _DAY, time()), tz)
        for extra in extras:
            step = extra.slot_length
            slot_start = extra.starts_at
            if slot_start < range_start:  # jump to the first slot on or after the range start
                slot_start += -((slot_start - range_start) // step) * step
            while slot_start + step <= extra.ends_at and slot_start < range_end:
                if slot_start >= range_start:
                    raw.append((slot_start, slot_start + step))
                slot_start += step
    raw.sort()
    offered = _without(raw, leave)
    # Merge duplicates and resolve overlaps: the earlier-starting slot wins.
    disjoint: list[Interval] = []
    last_end: datetime | None = None
    for slot_start, slot_end in offered:
        if last_end is None or slot_start >= last_end:
            disjoint.append((slot_start, slot_end))
            last_end = slot_end
    return disjoint


# --------------------------------------------------------------------------- public functions


def candidate_slots(
    sessions: Iterable[WeeklySession],
    changes: Iterable[AvailabilityChange],
    tz: tzinfo,
    first_day: date,
    last_day: date,
) -> list[Slot]:
    """Every slot the availability offers on local days first_day..last_day (inclusive), sorted.

    Slots run from each session start in steps of its slot length; a slot overlapping the break
    or running past the session end is dropped, as is any slot overlapping leave. Extra sessions
    add slots of their own length from their start. Duplicates are merged and the result never
    holds two overlapping slots (see the module docstring).
    """
    tz = _check_tz(tz)
    _check_range(first_day, last_day)
    return [Slot(s, e) for s, e in _offered(sessions, changes, tz, first_day, last_day)]


def free_slots(
    sessions: Iterable[WeeklySession],
    changes: Iterable[AvailabilityChange],
    busy: Iterable[tuple[datetime, datetime]],
    tz: tzinfo,
    first_day: date,
    last_day: date,
    not_before: datetime,
    limit: int | None = None,
) -> list[Slot]:
    """candidate_slots minus those overlapping any busy interval [start, end) and those starting
    before not_before; the first `limit` of them (all when limit is None)."""
    found = free_intervals(sessions, changes, busy, tz, first_day, last_day, not_before, limit)
    return [Slot(s, e) for s, e in found]


def free_intervals(
    sessions: Iterable[WeeklySession],
    changes: Iterable[AvailabilityChange],
    busy: Iterable[tuple[datetime, datetime]],
    tz: tzinfo,
    first_day: date,
    last_day: date,
    not_before: datetime,
    limit: int | None = None,
) -> list[Interval]:
    """free_slots as plain (start, end) tuples, for callers that search many doctors."""
    tz = _check_tz(tz)
    _check_range(first_day, last_day)
    not_before = _utc(not_before, "not_before")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be None or a whole number >= 0, got {limit!r}")
    intervals: list[Interval] = []
    for index, pair in enumerate(busy):
        try:
            start, end = pair
        except (TypeError, ValueError):
            raise ValueError(f"busy[{index}] must be a (start, end) pair, got {pair!r}") from None
        start = _utc(start, f"busy[{index}] start")
        end = _utc(end, f"busy[{index}] end")
        if end < start:
            raise ValueError(f"busy[{index}] ends ({end}) before it starts ({start})")
        intervals.append((start, end))
    if limit == 0:
        return []
    # Days wholly before not_before can offer nothing: skip expanding them.
    first_day = max(first_day, not_before.astimezone(tz).date() - _DAY)
    if first_day > last_day:
        return []
    candidates = _offered(sessions, changes, tz, first_day, last_day)
    candidates = [c for c in candidates if c[0] >= not_before]
    free = _without(candidates, _merge(intervals))
    return free if limit is None else free[:limit]


def fits_availability(
    sessions: Iterable[WeeklySession],
    changes: Iterable[AvailabilityChange],
    tz: tzinfo,
    starts_at: datetime,
    ends_at: datetime,
) -> bool:
    """Whether [starts_at, ends_at) lies inside offered availability.

    It must lie inside one session's hours on a day the session is in force, on one side of its
    break, or inside one extra session; and it must not overlap leave. It need not match slot
    boundaries (a 30-minute booking over two 15-minute slots of one session fits).
    """
    tz = _check_tz(tz)
    starts_at = _utc(starts_at, "starts_at")
    ends_at = _utc(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ValueError(f"ends_at {ends_at} must be after starts_at {starts_at}")
    by_weekday = _plans_by_weekday(sessions)
    leave, extras = _split_changes(changes)
    if any(overlaps(starts_at, ends_at, lo, hi) for lo, hi in leave):
        return False
    if any(e.starts_at <= starts_at and ends_at <= e.ends_at for e in extras):
        return True
    day = starts_at.astimezone(tz).date()
    midnight = datetime(day.year, day.month, day.day)
    for plan in by_weekday[day.weekday()]:
        if plan.session.in_force(day):
            for lo, hi in plan.windows(midnight, tz):
                if lo <= starts_at and ends_at <= hi:
                    return True
    return False


__all__ = [
    "DEFAULT_EXTRA_SLOT_MINUTES",
    "EXTRA",
    "LEAVE",
    "MAX_SLOT_MINUTES",
    "MIN_SLOT_MINUTES",
    "AvailabilityChange",
    "Slot",
    "WeeklySession",
    "candidate_slots",
    "fits_availability",
    "free_slots",
    "overlaps",
]
