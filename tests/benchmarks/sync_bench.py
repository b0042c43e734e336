"""Desktop <-> server sync at scale: push, pull, first sync, live propagation and local saves.

Starts a private embedded PostgreSQL in a temporary directory, bulk-loads N patients with COPY
(timed: the raw COPY rate of patient rows is the baseline of the throughput figures), starts the
real server on 127.0.0.1 in its own process and drives real desktop clients (ApiClient +
LocalStore + SyncEngine, as tests/sync/helpers.make_pc builds them). Every figure is printed
absolute and as a ratio to a baseline measured in the same run (see DESIGN.md §7):

  1. push: N registrations queued offline, then SyncEngine.push_pending()  vs COPY rows/s
  2. pull: a fresh cache pulling the change log from seq 0                  vs COPY rows/s
  3. first sync: SyncEngine.rebuild() (snapshot) of the bulk-loaded patients vs COPY rows/s
  4. a change on PC A visible in PC B's cache (B long-polls)                vs GET /health
  5. a local save (LocalPatients.update_patient / LocalStore.mutate)         vs SQLite INSERT

    .venv/bin/python tests/benchmarks/sync_bench.py [--patients 20000] [--push 2000]
"""

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

# bench_patients.py sits next to this file (sys.path[0] when run as a script); the desktop
# clients are the ones the sync tests build.
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))
from bench_patients import (  # noqa: E402
    AUDIT_COLUMNS,
    PASSWORD,
    PATIENT_COLUMNS,
    TOKEN_COLUMNS,
    USERNAME,
    Population,
    copy_rows,
    create_bench_user,
    embedded_database,
    generate,
    new_people,
    server_process,
    server_thread,
)
from sqlalchemy import select

from hms_core.db import Patient
from hms_core.schemas.patients import PatientCreate, PatientOut, PatientUpdate
from hms_core.services.counters import FIRST_MRN_SERIAL, MRN_COUNTER
from hms_desktop.store import mrns
from tests.sync.helpers import Pc, open_pc  # noqa: E402

PUSH_TARGET_PER_S = 10_000.0
PULL_TARGET_PER_S = 50_000.0
FIRST_SYNC_TARGET_S, FIRST_SYNC_TARGET_PATIENTS = 3.0, 100_000
PROPAGATION_TARGET_MS = 100.0
LOCAL_SAVE_TARGET_MS = 2.0
PROPAGATION_TIMEOUT_S = 30.0


def make_pc(base_url: str, root: Path, name: str) -> Pc:
    """A desktop signed in as the benchmark user, its cache under root/clients."""
    return open_pc(base_url, (USERNAME, PASSWORD), root / "clients" / name, name)


# ---------------------------------------------------------------------------------------------
# Figures.


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float
    n: int

    @classmethod
    def of(cls, samples_ms: list[float]) -> "Latency":
        ordered = sorted(samples_ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered), p95, len(ordered))


@dataclass
class Rate:
    label: str
    count: int
    seconds: float
    unit: str
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Results:
    copy: Rate | None = None
    rates: list[Rate] = field(default_factory=list)
    first_sync: Rate | None = None
    health: Latency | None = None
    propagation: Latency | None = None
    sqlite_insert: Latency | None = None
    saves: list[tuple[str, Latency]] = field(default_factory=list)
    search: Latency | None = None
    search_baseline: Latency | None = None
    notes: list[str] = field(default_factory=list)


def timed_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - started) / 1e6


# ---------------------------------------------------------------------------------------------
# Bulk load: the COPY baseline.


def load(dsn: str, count: int, rng: random.Random) -> tuple[Population, Rate]:
    """COPY `count` patients (with name tokens and audit rows); the patient COPY is timed alone."""
    population, rows = generate(count, rng)
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        copy_rows(conn, "patient", PATIENT_COLUMNS, rows.patients)
        conn.commit()
        copy_rate = Rate("COPY patient rows", count, time.perf_counter() - started, "rows")
        copy_rows(conn, "patient_name_token", TOKEN_COLUMNS, rows.tokens)
        copy_rows(conn, "audit_event", AUDIT_COLUMNS, rows.audits)
        conn.execute(
            "UPDATE number_sequence SET next_value = %s WHERE name = %s",
            (FIRST_MRN_SERIAL + count, MRN_COUNTER),
        )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) patient, patient_name_token, audit_event, number_sequence")
    print(
        f"COPY baseline: {count:,} patient rows in {copy_rate.seconds:.2f} s "
        f"= {copy_rate.per_s:,.0f} rows/s (name tokens and audit rows copied after, untimed)"
    )
    return population, copy_rate


# ---------------------------------------------------------------------------------------------
# 3. First sync: a snapshot into a fresh cache.


def measure_first_sync(pc: Pc, patients: int) -> Rate:
    started = time.perf_counter()
    pc.engine.rebuild()
    seconds = time.perf_counter() - started
    held = pc.store.read(lambda s: len(s.execute(select(Patient.id)).all()))
    if held != patients:
        raise AssertionError(f"snapshot brought {held} patients, expected {patients}")
    return Rate("first sync (snapshot)", held, seconds, "patients")


# ---------------------------------------------------------------------------------------------
# 1. Push.


def lease_enough(pc: Pc, needed: int) -> None:
    while mrns.remaining(pc.store) < needed + mrns.REFILL_BELOW:
        start, stop = pc.api.lease_mrn_block()
        mrns.add_block(pc.store, start, stop)


def queue_registrations(pc: Pc, people: list) -> tuple[list[uuid.UUID], float]:  # noqa: ANN001
    lease_enough(pc, len(people))
    started = time.perf_counter()
    ids = [pc.patients.register_patient(PatientCreate.model_validate(p.body())).id for p in people]
    return ids, time.perf_counter() - started


def measure_push(pc: Pc, registrations: int) -> Rate:
    queued = len(pc.store.pending(1_000_000))
    in_http = 0.0
    push = pc.api.push

    def timed_push(batch: list) -> object:  # noqa: ANN001
        nonlocal in_http
        started = time.perf_counter()
        try:
            return push(batch)
        finally:
            in_http += time.perf_counter() - started

    pc.api.push = timed_push  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        answered = pc.engine.push_pending()
        seconds = time.perf_counter() - started
    finally:
        del pc.api.push
    if answered != queued:
        raise AssertionError(f"pushed {answered} of {queued} queued mutations")
    rejected = pc.store.counts()["attention"]
    note = (
        f"{registrations:,} register_patient + {answered - registrations:,} record_access; "
        f"{registrations / seconds:,.0f} registrations/s; {rejected} rejected; "
        f"{in_http / seconds:.0%} of the time waiting on POST /sync/push"
    )
    return Rate("push (push_pending)", answered, seconds, "mutations", note)


# ---------------------------------------------------------------------------------------------
# 2. Pull from seq 0 into a fresh cache.


def measure_pull(pc: Pc) -> Rate:
    pc.store.set_state("last_seq", 0)
    started = time.perf_counter()
    applied = pc.engine.pull_changes()
    seconds = time.perf_counter() - started
    held = pc.store.read(lambda s: len(s.execute(select(Patient.id)).all()))
    return Rate("pull (pull_changes)", applied, seconds, "rows", f"{held:,} patients in cache")


# ---------------------------------------------------------------------------------------------
# 4. A change made on PC A, visible in PC B's cache.


def measure_health(base_url: str, count: int) -> Latency:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for _ in range(10):
            http.get("/health").raise_for_status()
        return Latency.of(
            [timed_ms(lambda: http.get("/health").raise_for_status()) for _ in range(count)]
        )


class PullLoop:
    """PC B's pull side, as SyncWorker runs it: long polls, one after the other."""

    def __init__(self, pc: Pc) -> None:
        self.pc = pc
        self.changed = threading.Event()
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="bench-pull", daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.pc.engine.pull_changes(wait=20):
                    self.changed.set()
            except Exception as exc:  # noqa: BLE001 - reported by the measuring thread
                self.errors.append(exc)
                self.changed.set()
                return


def measure_propagation(a: Pc, b: Pc, patient_id: uuid.UUID, rounds: int) -> Latency:
    original: PatientOut = a.patients.get_patient(patient_id)
    loop = PullLoop(b)
    loop.thread.start()
    time.sleep(0.5)  # B's first long poll is waiting on the server
    samples: list[float] = []
    address = ""
    try:
        for i in range(rounds + 1):
            last = i == rounds
            address = f"{i + 1} Propagation Street"
            original = a.patients.update_patient(
                patient_id, PatientUpdate(address_line=address), original
            )
            loop.changed.clear()
            if last:
                loop.stopping.set()  # this change wakes B one last time; then it stops
            started = time.perf_counter_ns()
            a.engine.push_pending()
            if not loop.changed.wait(PROPAGATION_TIMEOUT_S):
                raise AssertionError(f"B did not see change {i + 1} in {PROPAGATION_TIMEOUT_S} s")
            elapsed = (time.perf_counter_ns() - started) / 1e6
            if loop.errors:
                raise loop.errors[0]
            if not last:
                samples.append(elapsed)
                time.sleep(0.02)  # B back in its long poll, as between two real edits
    finally:
        loop.stopping.set()
        loop.thread.join(timeout=25)
    seen = b.store.read(lambda s: s.get(Patient, patient_id).address_line)
    if seen != address:
        raise AssertionError(f"B's cache shows {seen!r}, expected {address!r}")
    return Latency.of(samples)


# ---------------------------------------------------------------------------------------------
# 5. Local saves.


def measure_cache_search(pc: Pc, count: int, rng: random.Random) -> tuple[Latency, Latency]:
    """Type-ahead search in the cache ('fam giv' fragments, any order) against a bare indexed
    SQLite lookup of one patient by MRN on the same file."""
    people = pc.store.read(
        lambda s: s.execute(select(Patient.given_name, Patient.family_name, Patient.mrn)).all()
    )
    sample = [people[rng.randrange(len(people))] for _ in range(count)]
    queries = [
        f"{f[:4]} {g[:3]}" if i % 2 else f"{g[:3]} {f[:5]}" for i, (g, f, _) in enumerate(sample)
    ]
    for query in queries[:10]:
        pc.patients.search_patients(query)
    found = [timed_ms(lambda q=q: pc.patients.search_patients(q)) for q in queries]
    conn = sqlite3.connect(pc.store.path)
    try:
        bare = [
            timed_ms(
                lambda m=m: conn.execute("SELECT * FROM patient WHERE mrn = ?", (m,)).fetchall()
            )
            for _, _, m in sample
        ]
    finally:
        conn.close()
    return Latency.of(found), Latency.of(bare)


def measure_sqlite_insert(root: Path, count: int) -> Latency:
    """INSERT + COMMIT on a bare SQLite file, WAL, synchronous=FULL, same disk as the caches."""
    path = root / "clients" / "bare.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")

        def insert() -> None:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t VALUES (?, ?)", (str(uuid.uuid4()), "x" * 400))
            conn.execute("COMMIT")

        for _ in range(10):
            insert()
        return Latency.of([timed_ms(insert) for _ in range(count)])
    finally:
        conn.close()


def measure_local_saves(pc: Pc, patient_id: uuid.UUID, count: int) -> list[tuple[str, Latency]]:
    original = pc.patients.get_patient(patient_id)

    def save(i: int) -> None:
        nonlocal original
        original = pc.patients.update_patient(
            patient_id, PatientUpdate(address_line=f"{i} Save Lane"), original
        )

    for i in range(10):
        save(i)
    facade = [timed_ms(lambda i=i: save(i)) for i in range(10, 10 + count)]

    def mutate(i: int) -> None:
        args = {"patient_id": str(patient_id), "changes": {"phone": f"+1 555 {i:07d}"}}
        pc.store.mutate("update_patient", args)

    mutate_ms = [timed_ms(lambda i=i: mutate(i)) for i in range(count)]
    return [
        ("LocalPatients.update_patient", Latency.of(facade)),
        ("LocalStore.mutate only", Latency.of(mutate_ms)),
    ]


# ---------------------------------------------------------------------------------------------
# The run.


def run(args: argparse.Namespace, root: Path) -> Results:
    rng = random.Random(args.seed)
    results = Results()
    with embedded_database(root) as url, ExitStack() as stack:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        create_bench_user(url)
        population, results.copy = load(dsn, args.patients, rng)
        people = new_people(rng, population, args.push + 1)
        start_server = server_process if args.server == "process" else server_thread
        base_url = stack.enter_context(start_server(url, root))

        def pc(name: str) -> Pc:
            made = make_pc(base_url, root, name)
            stack.callback(made.close)
            return made

        # 3. first sync of the bulk-loaded patients (this PC is B later)
        b = pc("pc-b")
        results.first_sync = measure_first_sync(b, args.patients)
        print(f"first sync done: {results.first_sync.seconds:.2f} s")
        results.search, results.search_baseline = measure_cache_search(b, 200, rng)
        print("search in the cache done")

        # 1. push
        a = pc("pc-a")
        ids, queue_s = queue_registrations(a, people[: args.push])
        results.notes.append(
            f"queueing {args.push:,} registrations offline took {queue_s:.1f} s "
            f"({queue_s / args.push * 1000:.2f} ms each, not part of the push figure)"
        )
        results.rates.append(measure_push(a, args.push))
        print(f"push done: {results.rates[-1].seconds:.2f} s")

        # 2. pull from seq 0 into a fresh cache
        results.rates.append(measure_pull(pc("pc-pull")))
        print(f"pull done: {results.rates[-1].seconds:.2f} s")

        # 4. propagation A -> B (both caught up first)
        a.engine.pull_changes()
        b.engine.pull_changes()
        results.health = measure_health(base_url, 200)
        results.propagation = measure_propagation(a, b, ids[0], args.rounds)
        print("propagation done")

        # 5. local saves
        results.sqlite_insert = measure_sqlite_insert(root, args.saves)
        results.saves = measure_local_saves(a, ids[1], args.saves)
    return results


# ---------------------------------------------------------------------------------------------
# Reporting.


def verdict(ok: bool) -> str:
    return "holds" if ok else "MISSED"


def print_report(args: argparse.Namespace, r: Results) -> None:
    assert r.copy and r.first_sync and r.health and r.propagation and r.sqlite_insert
    copy_rate = r.copy.per_s
    print(f"\nbaseline: raw psycopg COPY of patient rows = {copy_rate:,.0f} rows/s")
    header = f"{'throughput':<26} {'count':>8} {'seconds':>8} {'per s':>10}  {'/ COPY':>7}"
    print(header)
    print("-" * len(header))
    for rate in [*r.rates, r.first_sync]:
        print(
            f"{rate.label:<26} {rate.count:>8,} {rate.seconds:>8.2f} {rate.per_s:>10,.0f}"
            f"  {rate.per_s / copy_rate:>6.3f}x  {rate.unit}"
            + (f"  ({rate.note})" if rate.note else "")
        )
    scale = FIRST_SYNC_TARGET_PATIENTS / r.first_sync.count
    at_target = r.first_sync.seconds * scale
    how = "measured" if scale == 1 else "extrapolated linearly"
    print(f"first sync of {FIRST_SYNC_TARGET_PATIENTS:,} patients: {at_target:.2f} s ({how})")

    print("\nlatency in ms (p50 / p95); ratio = figure / baseline (same run)")
    header = f"{'figure':<30} {'p50':>8} {'p95':>8}  {'baseline':<24} {'p50':>7} {'p95':>7}" + (
        f" {'ratio p50':>9} {'ratio p95':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = [("change visible on PC B", r.propagation, "GET /health round trip", r.health)]
    rows += [(label, lat, "SQLite INSERT+COMMIT", r.sqlite_insert) for label, lat in r.saves]
    if r.search and r.search_baseline:
        rows.append(
            (
                f"search in cache ({r.first_sync.count:,} pts)",
                r.search,
                "SQLite MRN lookup",
                r.search_baseline,
            )
        )
    for label, lat, base_label, base in rows:
        print(
            f"{label:<30} {lat.p50:8.2f} {lat.p95:8.2f}  {base_label:<24} {base.p50:7.2f}"
            f" {base.p95:7.2f} {lat.p50 / base.p50:8.1f}x {lat.p95 / base.p95:8.1f}x"
        )
    print(
        f"({r.propagation.n} propagation rounds, {r.health.n} health requests, "
        f"{r.sqlite_insert.n} saves per save figure)"
    )

    push, pull = r.rates[0], r.rates[1]
    facade = r.saves[0][1]
    print("\ntargets (informational):")
    print(
        f"  push            {push.per_s:>10,.0f} mutations/s >= {PUSH_TARGET_PER_S:,.0f}: "
        f"{verdict(push.per_s >= PUSH_TARGET_PER_S)}"
    )
    print(
        f"  pull            {pull.per_s:>10,.0f} rows/s      >= {PULL_TARGET_PER_S:,.0f}: "
        f"{verdict(pull.per_s >= PULL_TARGET_PER_S)}"
    )
    print(
        f"  first sync 100k {at_target:>10.2f} s           <= {FIRST_SYNC_TARGET_S:.0f} s: "
        f"{verdict(at_target <= FIRST_SYNC_TARGET_S)} ({how})"
    )
    print(
        f"  change on PC B  {r.propagation.p95:>10.2f} ms p95      <= "
        f"{PROPAGATION_TARGET_MS:.0f} ms: {verdict(r.propagation.p95 <= PROPAGATION_TARGET_MS)}"
    )
    print(
        f"  local save      {facade.p95:>10.2f} ms p95      <= {LOCAL_SAVE_TARGET_MS:.0f} ms: "
        f"{verdict(facade.p95 <= LOCAL_SAVE_TARGET_MS)}"
    )
    for note in r.notes:
        print(f"note: {note}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000, help="patients to bulk-load")
    parser.add_argument("--push", type=int, default=2000, help="registrations queued and pushed")
    parser.add_argument("--rounds", type=int, default=50, help="propagation rounds A -> B")
    parser.add_argument("--saves", type=int, default=300, help="measured local saves")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="run the server in its own process (default) or in a thread of this one",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hms-sync-bench-"))
    try:
        results = run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
