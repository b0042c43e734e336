"""A doctor's weekly sessions as the editor holds them: rows, their problems, and a preview."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from hms_core.db import AvailabilityException, AvailabilityRule
from hms_core.rules import slots
from hms_core.schemas.errors import friendly_message
from hms_core.schemas.scheduling import WeeklySessionIn

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WORKDAYS = range(1, 5)  # Tuesday to Friday: what "copy Monday" fills


@dataclass(frozen=True)
class SessionRow:
    """One weekly session being edited (times are wall-clock in the doctor's zone)."""

    weekday: int = 0
    start: time = time(9)
    end: time = time(17)
    slot_minutes: int = 15
    break_start: time | None = None
    break_end: time | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def hours(self) -> str:
        """'08:00–12:00'."""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def row_from_rule(rule: AvailabilityRule) -> SessionRow:
    """The editable row of a stored weekly session."""
    return SessionRow(
        rule.weekday,
        rule.start_time,
        rule.end_time,
        rule.slot_minutes,
        rule.break_start,
        rule.break_end,
        rule.valid_from,
        rule.valid_until,
    )


def payload(row: SessionRow) -> dict[str, Any]:
    """The row as the JSON-ready dict `LocalScheduling.set_weekly` takes."""

    def clock(value: time | None) -> str | None:
        return None if value is None else value.strftime("%H:%M:%S")

    def day(value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "weekday": row.weekday,
        "start_time": clock(row.start),
        "end_time": clock(row.end),
        "slot_minutes": row.slot_minutes,
        "break_start": clock(row.break_start),
        "break_end": clock(row.break_end),
        "valid_from": day(row.valid_from),
        "valid_until": day(row.valid_until),
    }


@dataclass(frozen=True)
class Problem:
    """What is wrong with a row: which part ('hours', 'break', 'valid', 'overlap') and why."""

    part: str
    message: str
    other: int | None = None  # for an overlap: the row it overlaps


def row_error(row: SessionRow) -> Problem | None:
    """What is wrong with one row, in plain words (None when it is fine)."""
    try:
        WeeklySessionIn.model_validate(payload(row))
    except ValidationError as exc:
        error = exc.errors()[0]
        part = error["type"] if error["type"] in ("hours", "break", "valid") else "hours"
        return Problem(part, friendly_message(error))
    return None


def _dates_meet(a: SessionRow, b: SessionRow) -> bool:
    return (a.valid_from or date.min) <= (b.valid_until or date.max) and (
        b.valid_from or date.min
    ) <= (a.valid_until or date.max)


def overlap_errors(rows: Sequence[SessionRow]) -> dict[int, Problem]:
    """Rows whose hours overlap another session of the same day, with what they overlap."""
    found: dict[int, Problem] = {}
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            clash = i != j and a.weekday == b.weekday and a.start < b.end and b.start < a.end
            if clash and _dates_meet(a, b) and i not in found:
                message = f"Overlaps the other {DAY_NAMES[b.weekday]} session, {b.hours()}"
                found[i] = Problem("overlap", message, j)
    return found


def problems(rows: Sequence[SessionRow]) -> dict[int, Problem]:
    """Every row's problem (its own first, then overlaps), by row index."""
    found = {i: e for i, row in enumerate(rows) if (e := row_error(row)) is not None}
    for i, problem in overlap_errors(rows).items():
        found.setdefault(i, problem)
    return found


def copy_monday(rows: Sequence[SessionRow]) -> list[SessionRow]:
    """Tuesday to Friday replaced by copies of Monday's sessions; the weekend kept."""
    monday = [r for r in rows if r.weekday == 0]
    kept = [r for r in rows if r.weekday not in WORKDAYS]
    copies = [replace(r, weekday=day) for day in WORKDAYS for r in monday]
    return sorted(kept + copies, key=sort_key)


def sort_key(row: SessionRow) -> tuple[int, time]:
    return (row.weekday, row.start)


def next_row(rows: Sequence[SessionRow], model: SessionRow | None) -> SessionRow:
    """A sensible new session: `model`'s hours on the first day without sessions."""
    base = model or SessionRow(break_start=time(12), break_end=time(13))
    used = {r.weekday for r in rows}
    free = [d for d in range(7) if d not in used]
    return replace(base, weekday=free[0] if free else base.weekday)


# --- preview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayPreview:
    """What one day of the previewed week offers."""

    day: date
    slots: int
    first: time | None  # local start of the first slot
    last: time | None  # local end of the last slot
    leave: bool  # some leave falls on this day
    extra: bool  # an extra session falls on this day

    def label(self) -> str:
        """'Mon 28 slots'."""
        return f"{self.day:%a} {self.slots} slot{'' if self.slots == 1 else 's'}"


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def _weekly(rows: Iterable[SessionRow]) -> list[slots.WeeklySession]:
    return [
        slots.WeeklySession(
            r.weekday,
            r.start,
            r.end,
            r.slot_minutes,
            r.break_start,
            r.break_end,
            r.valid_from,
            r.valid_until,
        )
        for r in rows
        if row_error(r) is None
    ]


def _changes(changes: Iterable[AvailabilityException]) -> list[slots.AvailabilityChange]:
    return [
        slots.AvailabilityChange(c.kind, utc(c.starts_at), utc(c.ends_at), c.slot_minutes)
        for c in changes
    ]


def utc(moment: datetime) -> datetime:
    """A stored moment as aware UTC (the cache hands back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def preview(
    rows: Sequence[SessionRow],
    changes: Sequence[AvailabilityException],
    zone: ZoneInfo,
    monday: date,
) -> list[DayPreview]:
    """Slots per day of the week from `monday`, from the (unsaved) rows and the changes."""
    offered = slots.candidate_slots(
        _weekly(rows), _changes(changes), zone, monday, monday + timedelta(days=6)
    )
    days: list[DayPreview] = []
    for n in range(7):
        day = monday + timedelta(days=n)
        mine = [s for s in offered if s.starts_at.astimezone(zone).date() == day]
        touching = [c for c in changes if _touches(c, day, zone)]
        days.append(
            DayPreview(
                day,
                len(mine),
                mine[0].starts_at.astimezone(zone).time() if mine else None,
                mine[-1].ends_at.astimezone(zone).time() if mine else None,
                any(c.kind == "leave" for c in touching),
                any(c.kind == "extra" for c in touching),
            )
        )
    return days


def _touches(change: AvailabilityException, day: date, zone: ZoneInfo) -> bool:
    start = datetime.combine(day, time.min, zone)
    end = datetime.combine(day + timedelta(days=1), time.min, zone)
    return utc(change.starts_at) < end and start < utc(change.ends_at)


def zone_of(name: str) -> ZoneInfo:
    """The doctor's time zone (UTC when the name is unknown to this PC)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
