"""Scheduling at scale: free-slot search and concurrent desk bookings, each against a baseline
measured in the same run (DESIGN.md §7). What it loads and measures: README.md in this folder.

    .venv/bin/python tests/benchmarks/scheduling_bench.py [--doctors 30] [--weeks 4] [--clients 50]
"""

import argparse
import gc
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import bench_patients as bp  # next to this file: sys.path[0] when run as a script
import httpx
import psycopg
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import make_url

from hms_core import SCHEMA_VERSION
from hms_core.db import AvailabilityException, AvailabilityRule, Department, DoctorProfile
from hms_core.db.base import new_id
from hms_core.schemas.scheduling import SlotQuery
from hms_core.services import availability
from hms_server.db import Database, make_engine, migrate

TZ, SLOT = ZoneInfo("Europe/Berlin"), timedelta(minutes=15)
HOURS = {"start_time": clock(8), "end_time": clock(17), "slot_minutes": 15}
LUNCH = {"break_start": clock(12), "break_end": clock(13)}
BOOKED, CANCELLED, CONTENDED = 0.4, 0.05, 0.2  # shares of the slots, and of the attempts
LIMIT, SEARCH_TARGET_MS, PATIENTS = 5000, 50.0, 2000

# What availability.free_slots reads, as it reads it: the direct-read baseline.
DIRECT_READ = [
    "SELECT * FROM doctor_profile WHERE active AND deleted_at IS NULL AND department_id = %(dep)s"
    " ORDER BY display_name",
    "SELECT * FROM availability_rule WHERE doctor_id = ANY(%(ids)s) AND deleted_at IS NULL",
    "SELECT * FROM availability_exception WHERE doctor_id = ANY(%(ids)s) AND deleted_at IS NULL",
    "SELECT doctor_id, starts_at, ends_at FROM appointment WHERE doctor_id = ANY(%(ids)s)"
    " AND status NOT IN ('cancelled', 'no_show') AND deleted_at IS NULL"
    " AND starts_at < %(end)s AND ends_at > %(start)s",
]
# The free slots in one hand-written query (weekly sessions, leave). Its appointment test suits the
# GiST index of ex_appointment_no_overlap (plain starts_at/ends_at tests: ~5x slower anti join).
SQL_SLOTS = """
WITH offered AS (
    SELECT d.id AS doctor_id, d.number, d.display_name, make_interval(mins => r.slot_minutes) len,
           t.local AT TIME ZONE d.timezone AS starts_at
    FROM doctor_profile d
    JOIN availability_rule r ON r.doctor_id = d.id AND r.deleted_at IS NULL
    CROSS JOIN generate_series(%(first)s::timestamp, %(last)s::timestamp, '1 day') AS g(day)
    CROSS JOIN LATERAL generate_series(g.day + r.start_time::interval,
        g.day + r.end_time::interval - make_interval(mins => r.slot_minutes),
        make_interval(mins => r.slot_minutes)) AS t(local)
    WHERE d.department_id = %(dep)s AND d.active AND d.deleted_at IS NULL
      AND extract(isodow FROM g.day) - 1 = r.weekday
      AND (r.valid_from IS NULL OR r.valid_from <= g.day::date)
      AND (r.valid_until IS NULL OR g.day::date <= r.valid_until)
      AND (r.break_start IS NULL OR t.local::time + make_interval(mins => r.slot_minutes)
           <= r.break_start OR t.local::time >= r.break_end)
)
SELECT o.doctor_id, o.starts_at FROM offered o
WHERE o.starts_at >= now()
  AND NOT EXISTS (SELECT FROM availability_exception e WHERE e.doctor_id = o.doctor_id
      AND e.kind = 'leave' AND e.deleted_at IS NULL
      AND e.starts_at < o.starts_at + o.len AND e.ends_at > o.starts_at)
  AND NOT EXISTS (SELECT FROM appointment a
      WHERE int4range(a.doctor_number, a.doctor_number, '[]') && int4range(o.number, o.number, '[]')
      AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(o.starts_at, o.starts_at + o.len)
      AND a.status NOT IN ('cancelled', 'no_show') AND a.deleted_at IS NULL)
ORDER BY o.starts_at, o.display_name LIMIT %(limit)s
"""
# Live appointments starting before an earlier one of their doctor ends (0 when none overlap).
OVERLAPS = """
SELECT count(*) FROM (SELECT starts_at, max(ends_at) OVER (PARTITION BY doctor_id
    ORDER BY starts_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
  FROM appointment WHERE status NOT IN ('cancelled', 'no_show') AND deleted_at IS NULL) live
WHERE earlier_end > starts_at
"""
APPOINTMENT_COLUMNS = (
    "id patient_id doctor_id doctor_number department_id starts_at ends_at status reason source "
    "booked_by row_version created_at updated_at confirmed_at cancelled_at"
).split()
RAW = "bench_raw_appointment"  # the table of the INSERT+COMMIT baseline
INSERT_RAW = f"INSERT INTO {RAW} ({', '.join(APPOINTMENT_COLUMNS)}) VALUES ({'%s, ' * 15}%s)"  # noqa: S608


@dataclass
class Clinic:
    department_id: uuid.UUID
    first_day: date
    days: int
    doctors: list[tuple[uuid.UUID, int]]  # (id, number)
    leave: dict[int, list[tuple[datetime, datetime]]]  # doctor index -> UTC periods
    patients: list[uuid.UUID] = field(default_factory=list)
    free: list[tuple[int, datetime]] = field(default_factory=list)  # (doctor index, UTC start)


@dataclass
class Attempt:
    doctor: int
    starts_at: datetime
    contended: bool
    appointment_id: uuid.UUID = field(default_factory=new_id)
    status: str = "error"  # "applied", "rejected <error code>" or "error" (no answer)
    ms: float = 0.0


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, clock(hour, minute), TZ).astimezone(UTC)


def leave_periods(rng: random.Random, doctors: int, first_day: date, days: int) -> dict:
    """A few doctors on leave: a working week, two days, or an afternoon."""
    periods = {}
    for k, i in enumerate(rng.sample(range(doctors), min(doctors, max(3, doctors // 10)))):
        monday = first_day + timedelta(weeks=rng.randrange(max(1, days // 7)))
        day = monday + timedelta(days=rng.randrange(4))
        week = (local(monday), local(monday + timedelta(5)))
        two_days = (local(day), local(day + timedelta(2)))
        afternoon = (local(day, 13), local(day, 18))
        periods[i] = [(week, two_days, afternoon)[k % 3]]
    return periods


def create_clinic(url: str, args: argparse.Namespace, rng: random.Random) -> Clinic:
    days, first_day = 7 * args.weeks, datetime.now(UTC).date() + timedelta(days=1)
    first_day += timedelta(days=-first_day.weekday() % 7)  # a Monday, and then: no DST change
    while local(first_day).utcoffset() != local(first_day + timedelta(days)).utcoffset():
        first_day += timedelta(weeks=1)
    leave = leave_periods(rng, args.doctors, first_day, days)
    department = Department(id=new_id(), code="BENCH", name="Bench Medicine", specialty="GP")
    doctors = [
        DoctorProfile(id=new_id(), number=1000 + i, display_name=f"Dr. Bench {i:03d}")
        for i in range(args.doctors)
    ]
    db = Database(make_engine(url))
    with db.unit_of_work() as session:
        session.add(department)
        session.flush()
        for i, doctor in enumerate(doctors):
            doctor.department_id, doctor.timezone = department.id, TZ.key
            session.add(doctor)
            session.flush()
            for w in range(5):
                session.add(AvailabilityRule(doctor_id=doctor.id, weekday=w, **HOURS, **LUNCH))
            for start, end in leave.get(i, []):
                period = {"kind": "leave", "starts_at": start, "ends_at": end}
                session.add(AvailabilityException(doctor_id=doctor.id, **period))
    db.engine.dispose()
    return Clinic(department.id, first_day, days, [(d.id, d.number) for d in doctors], leave)


def appointment_row(clinic: Clinic, doctor: int, start: datetime, status: str, at: datetime):  # noqa: ANN201
    """A row as the booking service writes it (APPOINTMENT_COLUMNS)."""
    doctor_id, number = clinic.doctors[doctor]
    patient = clinic.patients[(int(start.timestamp()) // 900 + doctor) % len(clinic.patients)]
    cancelled = at if status == "cancelled" else None
    head = (new_id(), patient, doctor_id, number, clinic.department_id, start, start + SLOT)
    return (*head, status, "", "desk", bp.USERNAME, 1, at, at, None if cancelled else at, cancelled)


def appointment_rows(clinic: Clinic, rng: random.Random) -> tuple[list, Counter]:
    """~40 % of the slots booked, 5 % more with a cancelled booking (so still free)."""
    minutes = [m for m in range(8 * 60, 17 * 60, 15) if m + 15 <= 12 * 60 or m >= 13 * 60]
    days = [clinic.first_day + timedelta(n) for n in range(clinic.days)]
    starts = [local(day, m // 60, m % 60) for day in days if day.weekday() < 5 for m in minutes]
    rows, counts = [], Counter()
    for i in range(len(clinic.doctors)):
        for start in starts:
            if any(lo < start + SLOT and start < hi for lo, hi in clinic.leave.get(i, [])):
                counts["on leave"] += 1
                continue
            at, roll = datetime.now(UTC) - timedelta(days=rng.randrange(1, 60)), rng.random()
            if roll < BOOKED:
                rows.append(appointment_row(clinic, i, start, "confirmed", at))
                counts["booked"] += 1
                continue
            if roll > 1 - CANCELLED:
                rows.append(appointment_row(clinic, i, start, "cancelled", at))
            clinic.free.append((i, start))
    return rows, counts


def load(dsn: str, clinic: Clinic, args: argparse.Namespace, rng: random.Random) -> None:
    started = time.perf_counter()
    _, people = bp.generate(PATIENTS, rng)
    clinic.patients = [row[0] for row in people.patients]
    rows, counts = appointment_rows(clinic, rng)
    with psycopg.connect(dsn) as conn:
        bp.copy_rows(conn, "patient", bp.PATIENT_COLUMNS, people.patients)
        bp.copy_rows(conn, "appointment", APPOINTMENT_COLUMNS, rows)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    booked, offered = counts["booked"], counts["booked"] + len(clinic.free)
    print(
        f"loaded {len(rows):,} appointments in {time.perf_counter() - started:.1f} s: "
        f"{len(clinic.doctors)} doctors, {offered:,} slots in {clinic.days} days from "
        f"{clinic.first_day} ({TZ.key}, no DST change), {booked:,} booked ({booked / offered:.0%}),"
        f" {counts['on leave']:,} on leave ({sum(map(len, clinic.leave.values()))} periods)"
    )


# 1. Free-slot search.
def measure_search(url: str, dsn: str, base_url: str, clinic: Clinic, runs: int) -> dict:
    """p50/p95 of the service, the HTTP API, the direct read and the SQL slot query."""
    c, last_day = clinic, clinic.first_day + timedelta(days=clinic.days - 1)
    query = SlotQuery(
        department_id=c.department_id, first_day=c.first_day, days=c.days, limit=LIMIT
    )
    params = {"dep": c.department_id, "ids": [d for d, _ in c.doctors], "limit": LIMIT}
    params |= {"first": c.first_day, "last": last_day}  # the service's window: the local days,
    params["start"] = datetime.combine(c.first_day, clock.min, UTC) - timedelta(days=1)  # in UTC
    params["end"] = datetime.combine(last_day, clock.max, UTC) + timedelta(days=1)  # plus a day
    with ExitStack() as stack:
        db = Database(make_engine(url))
        stack.callback(db.engine.dispose)
        http = stack.enter_context(closing(sign_in(base_url, "bench-slots")))
        conn = stack.enter_context(psycopg.connect(dsn, autocommit=True))

        def service() -> list:
            with db.unit_of_work() as session:  # a fresh session per search
                found = availability.free_slots(session, query)
            return [(s.doctor_id, s.starts_at) for s in found]

        def api() -> list:
            answer = http.get("/api/scheduling/slots", params=query.model_dump(exclude_none=True))
            return answer.raise_for_status().json()

        def direct() -> None:
            with conn.transaction():
                for statement in DIRECT_READ:
                    conn.execute(statement, params).fetchall()

        def sql_slots() -> list:
            return conn.execute(SQL_SLOTS, params).fetchall()

        found = service()
        if sql_slots() != found or len(api()) != len(found):
            raise AssertionError("the service, the HTTP API and the SQL query find other slots")
        print(f"slot search: the service, HTTP and SQL find the same {len(found):,} free slots")
        figures = {"service": service, "HTTP": api, "direct": direct, "sql": sql_slots}
        for name, fn in figures.items():
            samples = bp.timed(lambda _, fn=fn: fn(), range(5 + runs))
            figures[name] = bp.Latency.of(samples[5:])  # after 5 to warm up
        return figures


# 2. Desk bookings from many clients at once.
def plan_attempts(rng: random.Random, clinic: Clinic, clients: int, each: int) -> list[list]:
    """`each` attempts per desk at free slots; contended ones in pairs at one slot, by two desks
    at about the same moment (neighbours in the round-robin deal)."""
    pairs = round(clients * each * CONTENDED / 2)
    slots = rng.sample(clinic.free, clients * each - pairs)
    blocks = [[Attempt(d, s, True), Attempt(d, s, True)] for d, s in slots[:pairs]]
    blocks += [[Attempt(d, s, False)] for d, s in slots[pairs:]]
    rng.shuffle(blocks)
    dealt = [a for block in blocks for a in block]
    return [dealt[c::clients] for c in range(clients)]


def sign_in(base_url: str, client_id: str) -> httpx.Client:
    http = httpx.Client(base_url=base_url, timeout=60, headers={"X-HMS-Client": client_id})
    login = http.post("/api/auth/login", json={"username": bp.USERNAME, "password": bp.PASSWORD})
    http.headers["Authorization"] = f"Bearer {login.raise_for_status().json()['token']}"
    return http


def push_bookings(http: httpx.Client, client_id: str, clinic: Clinic, plan: list[Attempt]) -> None:
    """A desk's bookings, one per push, one after the other."""
    for a in plan:
        doctor = clinic.doctors[a.doctor][0]
        patient = clinic.patients[a.appointment_id.int % PATIENTS]
        args = {"id": str(a.appointment_id), "patient_id": str(patient), "doctor_id": str(doctor)}
        args["starts_at"] = a.starts_at.isoformat()
        mutation = {"mutation_id": str(new_id()), "name": "book_appointment", "args": args}
        body = {"client_id": client_id, "schema_version": SCHEMA_VERSION, "mutations": [mutation]}
        started = time.perf_counter_ns()
        answer = http.post("/sync/push", json=body)
        a.ms = (time.perf_counter_ns() - started) / 1e6
        for result in answer.json().get("results", []):
            a.status = f"{result['status']} {(result['error'] or {}).get('code', '')}".strip()


def run_threads(work: list[Callable[[], object]]) -> float:
    """Each callable in a thread of its own, all released at once; the wall time in seconds."""
    barrier = threading.Barrier(len(work) + 1)
    with ThreadPoolExecutor(len(work)) as pool:
        futures = [pool.submit(lambda fn=fn: (barrier.wait(), fn())) for fn in work]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def measure_bookings(base_url: str, clinic: Clinic, plans: list[list[Attempt]]) -> float:
    names = [f"bench-desk-{c:02d}" for c in range(len(plans))]
    with ExitStack() as stack:
        desks = [stack.enter_context(closing(sign_in(base_url, name))) for name in names]
        work = zip(desks, names, plans, strict=True)
        return run_threads([partial(push_bookings, d, n, clinic, p) for d, n, p in work])


def check_integrity(dsn: str, attempts: list[Attempt], since: datetime) -> list[str]:
    """Live appointments overlapping; an applied booking without its row or a row without one."""
    with psycopg.connect(dsn) as conn:
        overlapping = conn.execute(OVERLAPS).fetchone()[0]
        ids = [a.appointment_id for a in attempts]
        found = conn.execute("SELECT id FROM appointment WHERE id = ANY(%s)", [ids])
        stored = {row[0] for row in found}
        new = conn.execute("SELECT count(*) FROM appointment WHERE created_at >= %s", [since])
        new_rows = new.fetchone()[0]
    applied = {a.appointment_id for a in attempts if a.status == "applied"}
    checks = {
        f"{overlapping} live appointments overlap an earlier one": overlapping == 0,
        f"{len(applied - stored)} applied bookings have no row": applied <= stored,
        f"{len(stored - applied)} rows of attempts not applied": stored <= applied,
        f"{new_rows} new appointment rows for {len(applied)} applied": new_rows == len(applied),
    }
    return [failure for failure, ok in checks.items() if not ok]


def measure_raw_inserts(dsn: str, clinic: Clinic, plans: list[list[Attempt]]) -> tuple:
    """The same rows, one INSERT+COMMIT each, from as many connections as desks (PK-only copy)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {RAW} (LIKE appointment INCLUDING DEFAULTS, PRIMARY KEY (id))")
    samples: list[float] = []

    def desk(conn: psycopg.Connection, plan: list[Attempt]) -> None:
        now = datetime.now(UTC)
        rows = [appointment_row(clinic, a.doctor, a.starts_at, "confirmed", now) for a in plan]
        samples.extend(bp.timed(lambda r: (conn.execute(INSERT_RAW, r), conn.commit()), rows))

    try:
        with ExitStack() as stack:
            conns = [stack.enter_context(psycopg.connect(dsn)) for _ in plans]
            seconds = run_threads([partial(desk, c, p) for c, p in zip(conns, plans, strict=True)])
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {RAW}")
    return len(samples) / seconds, bp.Latency.of(samples)


@contextmanager
def database(root: Path) -> Iterator[str]:
    """A migrated database of its own: on HMS_TEST_DATABASE_URL's server, else embedded."""
    admin = os.environ.get("HMS_TEST_DATABASE_URL", "").replace("+psycopg", "")
    if not admin:
        with bp.embedded_database(root) as url:
            yield url
        return
    name = f"hms_scheduling_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    try:
        url = make_url(admin.replace("postgresql://", "postgresql+psycopg://")).set(database=name)
        migrate(url.render_as_string(hide_password=False))
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


def run(args: argparse.Namespace, root: Path) -> list[tuple[str, ...]]:
    rng = random.Random(args.seed)
    with database(root) as url, ExitStack() as stack:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        bp.create_bench_user(url)
        clinic = create_clinic(url, args, rng)
        load(dsn, clinic, args, rng)
        gc.freeze()  # else full collections over the loaded data add tens of ms to in-process p95s
        base_url = stack.enter_context(bp.server_process(url, root))
        search = measure_search(url, dsn, base_url, clinic, args.runs)
        plans = plan_attempts(rng, clinic, args.clients, args.bookings)
        attempts, since = [a for plan in plans for a in plan], datetime.now(UTC)
        seconds = measure_bookings(base_url, clinic, plans)
        failures = check_integrity(dsn, attempts, since)
        raw_rate, raw = measure_raw_inserts(dsn, clinic, plans)
    outcomes = Counter(f"{'contended ' * a.contended}{a.status}" for a in attempts)
    contended = [(a.doctor, a.starts_at, a.status == "applied") for a in attempts if a.contended]
    won = Counter((doctor, start) for doctor, start, applied in contended if applied)
    print(
        f"bookings: {len(attempts):,} in {seconds:.1f} s: "
        f"{', '.join(f'{what} {n}' for what, n in sorted(outcomes.items()))}; contended slots "
        f"won once: {sum(n == 1 for n in won.values())} of {len(contended) // 2}"
        + "".join(f"\nINTEGRITY FAILURE: {failure}" for failure in failures)
    )

    def row(figure: str, got: float, base_name: str, base: float, unit: str, target: str = ""):  # noqa: ANN202
        measured = f"{got:,.2f} {unit}" if figure else ""  # no figure: another baseline
        return (figure, measured, f"{base_name} {base:,.2f} {unit}", f"{got / base:.3g}x", target)

    rows = []
    for key, pct in [(key, pct) for key in ("service", "HTTP") for pct in ("p50", "p95")]:
        got, direct, sql = (getattr(search[k], pct) for k in (key, "direct", "sql"))
        met = f"< {SEARCH_TARGET_MS:.0f} ms: " + ("met" if got < SEARCH_TARGET_MS else "MISSED")
        met = met if pct == "p95" else ""
        rows.append(row(f"slot search {pct}, {key}", got, "direct read", direct, "ms", met))
        rows.append(row("", got, "SQL slot query", sql, "ms"))
    decided = sum(a.status != "error" for a in attempts)
    rows.append(row("bookings/s (decisions)", decided / seconds, "INSERT+COMMIT", raw_rate, "/s"))
    push = bp.Latency.of([a.ms for a in attempts])
    for pct in ("p50", "p95"):
        got, base = getattr(push, pct), getattr(raw, pct)
        rows.append(row(f"push latency {pct}", got, "INSERT+COMMIT", base, "ms"))
    rows.append(("booking integrity", "FAIL" if failures else "PASS", "", "", "PASS"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--doctors", type=int, default=30, help="doctors in the department")
    add("--weeks", type=int, default=4, choices=range(1, 9), help="weeks searched and booked")
    add("--clients", type=int, default=50, help="desks booking at the same time")
    add("--bookings", type=int, default=20, help="booking attempts per desk")
    add("--runs", type=int, default=100, help="measured slot searches per figure (>= 50)")
    add("--seed", type=int, default=2026, help="random seed of the data")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hms-scheduling-bench-"))
    try:
        rows = run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    header = ("figure", "measured", "baseline (same run)", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
