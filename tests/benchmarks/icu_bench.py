"""ICU central station end to end: 32 simulated monitors -> HL7/MLLP gateway -> live channel ->
the real IcuWorkspace offscreen, and the gateway's throughput, each against a baseline measured
in the same run (DESIGN.md §7). What it loads and measures: README.md in this folder.

    .venv/bin/python tests/benchmarks/icu_bench.py [--seconds 60] [--gateway-seconds 20]
"""

import argparse
import asyncio
import cProfile
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt loads: no display, real rendering

import bench_patients as bp  # next to this file: sys.path[0] when run as a script
import numpy as np
import psutil
import psycopg
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import Admission, Bed, Patient, Ward
from hms_core.db.base import new_id
from hms_core.schemas.ward import AdmitPatient
from hms_core.services.actor import SYSTEM
from hms_core.services.inpatients import admit_patient
from hms_server.db import Database, make_engine
from hms_server.monitoring.oru_builder import (
    MLLP_END,
    Sender,
    frame,
    numerics_message,
    parse_ack,
    unframe,
)
from hms_server.monitoring.simulator import load_ecg, resample
from hms_server.seed import DEMO_PASSWORDS, seed_demo

BEDS, ECG_HZ, SWEEP_POINTS = 32, 250, 1500  # a 6 s sweep at 250 Hz
SCREEN = (1920, 1080)
NURSE = "nurse"
FPS_TARGET, CPU_TARGET, P99_TARGET_MS, GATEWAY_TARGET = 30.0, 50.0, 250.0, 500.0
GATEWAY_VALUES = {  # one numerics message of phase B: 8 values, all inside the default limits
    "hr": 78.0,
    "pulse": 78.0,
    "spo2": 97.0,
    "rr": 16.0,
    "abp_sys": 121.0,
    "abp_dia": 79.0,
    "abp_mean": 93.0,
    "temp": 37.1,
}
COPY_COLUMNS = (
    "id patient_id bed_id device_id parameter value unit code_system code artefact source "
    "observed_at received_at message_id"
).split()


# --- the environment -------------------------------------------------------------------------


def prepare_ward(url: str) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    """The demo hospital with a patient admitted to EVERY ICU bed; bed label -> (bed, patient)."""
    db = Database(make_engine(url))
    try:
        seed_demo(db, patients=80)
        with db.unit_of_work() as session:
            ward = session.execute(select(Ward).where(Ward.code == "ICU")).scalar_one()
            beds = session.execute(select(Bed).where(Bed.ward_id == ward.id).order_by(Bed.label))
            open_ = select(Admission).where(Admission.discharged_at.is_(None))
            taken = {a.bed_id: a.patient_id for a in session.execute(open_).scalars()}
            in_bed = set(taken.values())
            free = (p for p in session.execute(select(Patient).order_by(Patient.mrn)).scalars())
            for bed in beds.scalars():
                if bed.id in taken:
                    continue
                patient = next(p for p in free if p.id not in in_bed)
                args = AdmitPatient(
                    id=new_id(),
                    patient_id=patient.id,
                    bed_id=bed.id,
                    admitted_at=datetime.now(UTC) - timedelta(hours=2),
                    reason="Benchmark: monitored ICU bed",
                )
                admit_patient(session, SYSTEM, args)
                taken[bed.id] = patient.id
            labels = {b.id: b.label for b in session.execute(select(Bed)).scalars()}
        return {labels[bed]: (bed, patient) for bed, patient in taken.items() if bed in labels}
    finally:
        db.engine.dispose()


def wait_for_port(port: int, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server stopped while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on MLLP port {port} after 60 s")


@contextmanager
def server_process(url: str, root: Path) -> Iterator[tuple[str, int, psutil.Process]]:
    """`hms-server serve --mllp-port` in its own process: (HTTP url, MLLP port, process)."""
    port, mllp = bp.free_port(), bp.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HMS_DATABASE_URL": url, "HMS_DATA_DIR": str(root / "server")}
    command = [sys.executable, "-m", "hms_server.cli", "serve", "--port", str(port)]
    command += ["--mllp-port", str(mllp)]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        bp.wait_until_up(base_url, lambda: process.poll() is None)
        wait_for_port(mllp, lambda: process.poll() is None)
        yield base_url, mllp, psutil.Process(process.pid)
    except BaseException:
        print((root / "server.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def start_simulator(mllp: int, seconds: float, root: Path) -> subprocess.Popen:
    """`hms-server simulate-monitors --beds 32` in its own process for `seconds`."""
    command = [sys.executable, "-m", "hms_server.cli", "simulate-monitors", "--beds", str(BEDS)]
    command += ["--port", str(mllp), "--duration", f"{seconds:g}", "--seed", "2026"]
    command += ["--ecg-hz", str(ECG_HZ)]
    with open(root / "simulator.log", "wb") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


@dataclass
class SimulatorSummary:
    numerics: int = 0
    waves: int = 0
    acks: Counter = field(default_factory=Counter)
    reconnects: int = 0
    missed_ticks: int = 0


def parse_summary(text: str) -> SimulatorSummary:
    """The figures of the simulator's exit summary (`SimulatorStats.summary()`)."""
    found = SimulatorSummary()
    bed = re.compile(
        r"sent \d+ \((\d+) numerics, (\d+) ECG\), acks (.*?), reconnects (\d+), "
        r".*missed ticks (\d+)"
    )
    for match in bed.finditer(text):
        found.numerics += int(match[1])
        found.waves += int(match[2])
        for code, n in re.findall(r"(\S+)=(\d+)", match[3]):
            found.acks[code] += int(n)
        found.reconnects += int(match[4])
        found.missed_ticks += int(match[5])
    return found


# --- the desktop -----------------------------------------------------------------------------


def run_for(seconds: float) -> None:
    """Let the Qt event loop run for `seconds`."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        run_for(0.05)


class PaintCounter(QObject):
    """Counts the paint events of the widgets it is installed on: frames really rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


@dataclass
class FeedCounter:
    """What reached the desktop over the live channel."""

    vitals: int = 0
    waves: int = 0
    samples: int = 0

    def __call__(self, events: list[dict]) -> None:
        for event in events:
            kind = event.get("type")
            if kind == "vitals":
                self.vitals += 1
            elif kind == "wave":
                self.waves += 1
                self.samples += len(event.get("samples") or ())


class Desktop:
    """The real ICU workspace signed in as the nurse, 32 beds per screen at 1920x1080."""

    def __init__(self, app: QApplication, base_url: str) -> None:
        from hms_desktop.session import CredentialVault, Prefs, Session
        from hms_desktop.sync.api_client import ApiClient
        from hms_desktop.tasks import TaskManager
        from hms_desktop.widgets.context import AppContext
        from hms_desktop.workspaces.icu.workspace import IcuWorkspace

        self.app = app
        api = ApiClient(base_url, client_id="icu-bench")
        login = api.login(NURSE, DEMO_PASSWORDS[NURSE])
        session = Session(base_url, login.token, login.user)
        self.tasks = TaskManager()
        self.ctx = AppContext(session, api, self.tasks, Prefs(), CredentialVault())
        self.workspace = IcuWorkspace(self.ctx)
        self.workspace.beds_combo.setCurrentIndex(self.workspace.beds_combo.findData(BEDS))
        self.workspace.resize(*SCREEN)
        self.workspace.show()
        self.station = self.workspace.station
        wait_until(lambda: len(self.station.tiles) == BEDS, f"{BEDS} bed tiles")
        feed = self.workspace.feed
        wait_until(lambda: feed is not None and feed.connected, "the live monitor feed")
        self.feed = FeedCounter()
        feed.events_received.connect(self.feed)
        self.paints = PaintCounter()  # each tile's ECG sweep: one paint per frame drawn
        for tile in self.station.visible_tiles():
            tile.ecg.installEventFilter(self.paints)
        self.latencies: list[float] = []
        self._harvest = QTimer()
        self._harvest.timeout.connect(self.harvest)
        self._harvest.start(500)

    def harvest(self) -> None:
        """Move the station's latencies here (it keeps only the last few thousand)."""
        self.latencies.extend(self.station.latencies)
        self.station.latencies.clear()

    def visible(self) -> int:
        return len(self.station.visible_tiles())

    def ecg_plot_size(self) -> tuple[int, int]:
        size = self.station.visible_tiles()[0].ecg.size()
        return size.width(), size.height()

    def strips(self) -> int:
        """Strips the visible sweeps drew and asked to repaint (at most one a frame each)."""
        return sum(tile.ecg.strips for tile in self.station.visible_tiles())

    def shoot(self, path: Path, beds: int, settle: float) -> None:
        """Save the workspace showing `beds` beds a screen after `settle` seconds of sweep."""
        combo = self.workspace.beds_combo
        combo.setCurrentIndex(combo.findData(beds))
        run_for(settle)
        self.workspace.grab().save(str(path))
        print(f"screenshot: {path}")

    def samples_drawn(self) -> tuple[int, int]:
        """(samples drawn, samples still queued) over all tiles."""
        sweeps = [tile.sweep for tile in self.station.tiles.values()]
        return sum(s.total for s in sweeps), sum(s.pending for s in sweeps)

    def close(self) -> None:
        self._harvest.stop()
        self.workspace.shutdown()
        self.workspace.close()
        self.tasks.wait_for_done()
        self.ctx.api.close()
        self.workspace.deleteLater()
        run_for(0.2)


# --- phase A: the station under 32 live beds --------------------------------------------------


@dataclass
class Window:
    """Counters at the start of the measured window, then their differences."""

    seconds: float = 0.0
    frames: int = 0
    paints: int = 0
    strips: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    vitals: int = 0
    samples_in: int = 0
    samples_drawn: int = 0


def cpu_seconds(process: psutil.Process | None) -> float:
    """User + system CPU seconds of a process (all its threads); of the machine when None."""
    if process is None:
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def snapshot(desktop: Desktop, processes: dict[str, psutil.Process | None]) -> Window:
    return Window(
        seconds=time.perf_counter(),
        frames=desktop.station.frames,
        paints=desktop.paints.count,
        strips=desktop.strips(),
        cpu={name: cpu_seconds(p) for name, p in processes.items()},
        vitals=desktop.feed.vitals,
        samples_in=desktop.feed.samples,
        samples_drawn=desktop.samples_drawn()[0],
    )


def since(start: Window, end: Window) -> Window:
    return Window(
        seconds=end.seconds - start.seconds,
        frames=end.frames - start.frames,
        paints=end.paints - start.paints,
        strips=end.strips - start.strips,
        cpu={name: end.cpu[name] - start.cpu[name] for name in start.cpu},
        vitals=end.vitals - start.vitals,
        samples_in=end.samples_in - start.samples_in,
        samples_drawn=end.samples_drawn - start.samples_drawn,
    )


@dataclass
class StationRun:
    window: Window
    visible: int
    latencies_ms: list[float]
    summary: SimulatorSummary
    vitals_total: int
    samples_total: int
    drawn_total: int
    queued: int
    rows: tuple[int, int, int]  # vital_sign rows, distinct messages, distinct (message, param)
    plot_size: tuple[int, int]


def measure_station(
    desktop: Desktop, dsn: str, mllp: int, server: psutil.Process, args: argparse.Namespace
) -> StationRun:
    root = args.root
    began = datetime.now(UTC)
    shots = 8.0 if args.shots else 0.0  # the simulator keeps sending while they are taken
    sim = start_simulator(mllp, args.warmup + args.seconds + 1 + shots, root)
    try:
        run_for(args.warmup)
        processes = {"ui": psutil.Process(), "server": server, "simulator": psutil.Process(sim.pid)}
        processes["machine"] = None
        desktop.harvest()
        desktop.latencies.clear()
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        start = snapshot(desktop, processes)
        if profiler is not None:
            profiler.enable()
        run_for(args.seconds)
        if profiler is not None:
            profiler.disable()
        desktop.harvest()
        window = since(start, snapshot(desktop, processes))
        if profiler is not None:
            profiler.dump_stats(args.profile)
        if args.shots:
            args.shots.mkdir(parents=True, exist_ok=True)
            desktop.shoot(args.shots / "icu_station_32.png", BEDS, 0.5)
            desktop.shoot(args.shots / "icu_station_8.png", 8, 6.5)  # a whole sweep at 8 beds
            desktop.workspace.beds_combo.setCurrentIndex(
                desktop.workspace.beds_combo.findData(BEDS)
            )
        latencies = [s * 1000 for s in desktop.latencies]
        deadline = time.monotonic() + 30
        while sim.poll() is None and time.monotonic() < deadline:
            run_for(0.2)
    finally:
        if sim.poll() is None:
            sim.terminate()
        sim.wait(timeout=30)
    run_for(2.5)  # what is still in flight reaches the screen
    summary = parse_summary((root / "simulator.log").read_text(errors="replace"))
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT message_id), count(DISTINCT (message_id, parameter))"
            " FROM vital_sign WHERE device_id LIKE 'MON-ICU-%%' AND received_at >= %s",
            [began],
        ).fetchone()
    drawn, queued = desktop.samples_drawn()
    return StationRun(
        window=window,
        visible=desktop.visible(),
        latencies_ms=latencies,
        summary=summary,
        vitals_total=desktop.feed.vitals,
        samples_total=desktop.feed.samples,
        drawn_total=drawn,
        queued=queued,
        rows=tuple(rows),
        plot_size=desktop.ecg_plot_size(),
    )


def measure_bare_plot(size: tuple[int, int], seconds: float) -> tuple[float, float, float]:
    """One bare pyqtgraph PlotWidget drawing a 1,500-point sweep as fast as it can:
    (frames/s asked with setData + processEvents, frames/s really painted, CPU ms a frame)."""
    ecg = load_ecg()
    y_all = np.asarray(resample(ecg, 0.0, 20_000, 0.5))  # 80 s of the same lead at 250 Hz
    x = np.arange(SWEEP_POINTS) / ECG_HZ
    plot = pg.PlotWidget()
    plot.setBackground("#0b0f12")
    for axis in ("left", "bottom"):
        plot.getPlotItem().hideAxis(axis)
    plot.setXRange(0, SWEEP_POINTS / ECG_HZ, padding=0)
    plot.setYRange(-1.0, 2.0, padding=0)
    plot.getPlotItem().enableAutoRange(enable=False)
    curve = plot.plot(pen=pg.mkPen("#3ee06b", width=1))  # pyqtgraph's defaults otherwise
    plot.resize(*size)
    plot.show()
    paints = PaintCounter()
    plot.viewport().installEventFilter(paints)
    run_for(0.3)
    frames, painted, started, cpu = 0, paints.count, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - started) < seconds:
        shift = (frames * 9) % (y_all.size - SWEEP_POINTS)
        y = y_all[shift : shift + SWEEP_POINTS].copy()
        gap = (frames * 9) % SWEEP_POINTS
        y[gap : gap + 50] = np.nan  # the sweep's gap ahead of the writing point
        curve.setData(x, y, connect="finite")
        QApplication.processEvents()
        frames += 1
    rate, painted = frames / elapsed, (paints.count - painted) / elapsed
    cpu_ms = 1000 * (time.process_time() - cpu) / max(frames, 1)
    plot.close()
    plot.deleteLater()
    run_for(0.1)
    return rate, painted, cpu_ms


# --- phase B: the gateway at full speed -------------------------------------------------------


@dataclass
class Blast:
    acks: Counter = field(default_factory=Counter)
    per_second: Counter = field(default_factory=Counter)  # whole second -> AA
    wrong_ids: int = 0
    seconds: float = 0.0
    ack_ms: list[float] = field(default_factory=list)


async def blast(port: int, connections: int, seconds: float, prefix: str) -> Blast:
    """`connections` monitors sending numerics messages, each the next one as soon as the ACK
    of the last is back, for `seconds`."""
    result = Blast()
    loop = asyncio.get_running_loop()
    started = loop.time()
    end = started + seconds

    async def monitor(i: int) -> None:
        label = f"ICU-{i + 1:02d}"
        sender = Sender(f"MON-{label}", "ICU", label, f"0800190000{i + 1:06X}")
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        n = 0
        try:
            while loop.time() < end:
                n += 1
                control_id = f"{prefix}{i:02d}{n:07d}"
                at = datetime.now(UTC)
                message = numerics_message(sender, GATEWAY_VALUES, at, control_id=control_id)
                sent = loop.time()
                writer.write(frame(message))
                await writer.drain()
                ack = parse_ack(unframe(await reader.readuntil(MLLP_END)))
                now = loop.time()
                result.ack_ms.append((now - sent) * 1000)
                result.acks[ack.code] += 1
                result.wrong_ids += ack.control_id != control_id
                if ack.code == "AA":
                    result.per_second[int(now - started)] += 1
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(monitor(i) for i in range(connections)))
    result.seconds = loop.time() - started
    return result


def copy_baseline(dsn: str, beds: dict, count: int) -> float:
    """Raw psycopg COPY of `count` vital_sign rows like the gateway's; rows/s (then removed)."""
    pairs = [beds[f"ICU-{n:02d}"] for n in range(1, 17)]
    now = datetime.now(UTC)
    rows = []
    for k in range(count // len(GATEWAY_VALUES) + 1):
        bed_id, patient_id = pairs[k % len(pairs)]
        for parameter, value in GATEWAY_VALUES.items():
            device = f"MON-ICU-{k % len(pairs) + 1:02d}"
            rows.append(
                (new_id(), patient_id, bed_id, device, parameter, value, "", "MDC", "0", False)
                + ("monitor", now, now, f"RAW-{k:09d}")
            )
    rows = rows[:count]
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        bp.copy_rows(conn, "vital_sign", COPY_COLUMNS, rows)
        conn.commit()
        rate = len(rows) / (time.perf_counter() - started)
        conn.execute("DELETE FROM vital_sign WHERE message_id LIKE 'RAW-%%'")
    return rate


def measure_gateway(
    dsn: str, mllp: int, beds: dict, server: psutil.Process, args: argparse.Namespace
) -> dict:
    prefix = f"GW{uuid.uuid4().hex[:6]}"
    cpu = {"server": cpu_seconds(server), "bench": cpu_seconds(psutil.Process())}
    cpu["machine"] = cpu_seconds(None)
    result = asyncio.run(blast(mllp, args.connections, args.gateway_seconds, prefix))
    cpu = {"server": cpu_seconds(server) - cpu["server"],
           "bench": cpu_seconds(psutil.Process()) - cpu["bench"],
           "machine": cpu_seconds(None) - cpu["machine"]}  # fmt: skip
    with psycopg.connect(dsn) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT message_id), count(DISTINCT (message_id, parameter))"
            " FROM vital_sign WHERE message_id LIKE %s",
            [prefix + "%"],
        ).fetchone()
    accepted = result.acks["AA"]
    copy_rate = copy_baseline(dsn, beds, max(stored[0], 1000))
    whole = [n for s, n in sorted(result.per_second.items()) if s < int(result.seconds)]
    return {
        "blast": result,
        "accepted": accepted,
        "stored": stored,
        "expected_rows": accepted * len(GATEWAY_VALUES),
        "copy_rate": copy_rate,
        "slowest_second": min(whole) if whole else 0,
        "cpu": {name: 100 * used / result.seconds for name, used in cpu.items()},
    }


# --- the report -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def station_report(run: StationRun, bare: tuple[float, ...], args: argparse.Namespace) -> list:
    """Prints phase A's details; its table rows."""
    w, s = run.window, run.summary
    fps, painted = w.frames / w.seconds, w.paints / w.seconds / max(run.visible, 1)
    strips = w.strips / w.seconds / max(run.visible, 1)
    cpu = {name: 100 * used / w.seconds for name, used in w.cpu.items()}
    cpu_ms = 1000 * w.cpu["ui"] / max(w.frames, 1)
    p50, p99 = percentile(run.latencies_ms, 50), percentile(run.latencies_ms, 99)
    bare_rate, bare_painted, bare_ms = bare[0], bare[1], bare[2] * BEDS
    aa_sim = s.acks.get("AA", 0)
    sent_samples = s.waves * ECG_HZ // 4  # 62 or 63 samples a chunk, 62.5 on average
    print(
        f"\nphase A: {BEDS} beds, {run.visible} on screen ({SCREEN[0]}x{SCREEN[1]}), "
        f"{w.seconds:.1f} s measured after {args.warmup:g} s warm-up"
        f"\n  station: {w.frames} frames ({fps:.1f}/s), ECG sweeps drew {strips:.1f} strips/s and "
        f"were painted {painted:.1f}/s each, "
        f"{len(run.latencies_ms)} vitals drawn, latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
        f"max {max(run.latencies_ms, default=float('nan')):.0f} ms"
        f"\n  CPU (% of one core): UI {cpu['ui']:.0f}, server {cpu['server']:.0f}, simulator "
        f"{cpu['simulator']:.0f}, whole machine {cpu['machine']:.0f} of {psutil.cpu_count() * 100}"
        f"\n  window: {w.vitals} vitals events in ({w.vitals / w.seconds:.1f}/s), "
        f"{w.samples_in:,} ECG samples in ({w.samples_in / w.seconds:,.0f}/s), "
        f"{w.samples_drawn:,} drawn ({w.samples_drawn / w.seconds:,.0f}/s; "
        f"{BEDS * ECG_HZ:,}/s sent)"
        f"\n  simulator (whole run): {s.numerics} numerics + {s.waves} ECG messages, acks "
        f"{dict(s.acks)}, reconnects {s.reconnects}, missed ticks {s.missed_ticks}"
        f"\n  desktop (whole run): {run.vitals_total} vitals events for {s.numerics} "
        f"numerics messages; ECG samples sent ~{sent_samples:,}, received {run.samples_total:,},"
        f" drawn {run.drawn_total:,} + {run.queued:,} queued"
        f"\n  stored: {run.rows[0]:,} vital_sign rows from {run.rows[1]} messages "
        f"({run.rows[2]:,} distinct message+parameter) for {s.numerics} numerics messages sent"
        f"\n  bare pyqtgraph ({run.plot_size[0]}x{run.plot_size[1]}, {SWEEP_POINTS} points): "
        f"{bare_rate:.0f} setData+processEvents/s, {bare_painted:.0f} paints/s, "
        f"{bare[2]:.2f} ms CPU each"
    )
    station_lossless = (
        aa_sim == s.numerics + s.waves
        and run.rows[1] == s.numerics
        and run.rows[0] == run.rows[2]
        and run.vitals_total == s.numerics
    )
    return [
        ("station frames/s", f"{fps:.1f}", f"bare plot {bare_painted:.0f}/s",
         f"{fps / bare_painted:.3g}x", f">= {FPS_TARGET:.0f}", met(round(fps, 1) >= FPS_TARGET)),
        ("", "", f"bare / {BEDS} = {bare_painted / BEDS:.1f}/s",
         f"{fps / (bare_painted / BEDS):.3g}x", "", ""),
        ("ECG sweep paints/s (each)", f"{painted:.1f}", f"bare plot {bare_painted:.0f}/s",
         f"{painted / bare_painted:.3g}x", "", ""),
        ("UI process CPU", f"{cpu['ui']:.0f} % of a core", "", "", f"<= {CPU_TARGET:.0f} %",
         met(cpu["ui"] <= CPU_TARGET)),
        ("UI CPU per frame", f"{cpu_ms:.1f} ms", f"bare plot x {BEDS}: {bare_ms:.1f} ms",
         f"{cpu_ms / bare_ms:.3g}x", "", ""),
        ("receipt -> drawn p50", f"{p50:.0f} ms", "", "", "", ""),
        ("receipt -> drawn p99", f"{p99:.0f} ms", "", "", f"< {P99_TARGET_MS:.0f} ms",
         met(p99 < P99_TARGET_MS)),
        ("station: nothing lost", "PASS" if station_lossless else "FAIL", "", "", "PASS",
         met(station_lossless)),
    ]  # fmt: skip


def gateway_report(gw: dict, args: argparse.Namespace) -> list:
    """Prints phase B's details; its table rows."""
    b = gw["blast"]
    gw_rate = gw["accepted"] / b.seconds
    values_rate = gw_rate * len(GATEWAY_VALUES)
    rows_ok = gw["stored"][0] == gw["expected_rows"] == gw["stored"][2]
    rows_ok = rows_ok and gw["stored"][1] == gw["accepted"] and b.wrong_ids == 0
    print(
        f"\nphase B: {args.connections} MLLP connections for {b.seconds:.1f} s: acks "
        f"{dict(b.acks)}, {gw_rate:.0f} msg/s ({values_rate:,.0f} values/s), slowest whole "
        f"second {gw['slowest_second']} msg, ACK p50 {percentile(b.ack_ms, 50):.1f} ms p99 "
        f"{percentile(b.ack_ms, 99):.1f} ms; stored {gw['stored'][0]:,} rows of "
        f"{gw['expected_rows']:,} expected, {gw['stored'][1]:,} messages, "
        f"{gw['stored'][2]:,} distinct message+parameter; COPY {gw['copy_rate']:,.0f} rows/s"
        f"\n  CPU (% of one core): server {gw['cpu']['server']:.0f} (PostgreSQL not included), "
        f"blasting client {gw['cpu']['bench']:.0f}, whole machine {gw['cpu']['machine']:.0f}"
    )
    return [
        ("gateway msg/s", f"{gw_rate:.0f}", f"COPY {gw['copy_rate'] / len(GATEWAY_VALUES):,.0f}"
         " msg-worth/s", f"{values_rate / gw['copy_rate']:.3g}x", f">= {GATEWAY_TARGET:.0f}",
         met(gw_rate >= GATEWAY_TARGET)),
        ("gateway values/s", f"{values_rate:,.0f}", f"COPY {gw['copy_rate']:,.0f} rows/s",
         f"{values_rate / gw['copy_rate']:.3g}x", "", ""),
        ("gateway: stored exactly once", "PASS" if rows_ok else "FAIL", "", "", "PASS",
         met(rows_ok)),
    ]  # fmt: skip


def run(args: argparse.Namespace) -> list:
    root: Path = args.root
    for name in ("xdg-data", "xdg-config", "settings"):
        (root / name).mkdir(parents=True, exist_ok=True)
    os.environ["XDG_DATA_HOME"], os.environ["XDG_CONFIG_HOME"] = (
        str(root / "xdg-data"),
        str(root / "xdg-config"),
    )
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(root / "settings"))
    app = QApplication.instance() or QApplication([])
    from hms_desktop.app import apply_style
    from hms_desktop.tasks import MainThreadGarbageCollector

    apply_style(app)
    collector = MainThreadGarbageCollector()  # as in the app: GC only on the UI thread
    with bp.embedded_database(root) as url, ExitStack() as stack:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        started = time.perf_counter()
        beds = prepare_ward(url)
        print(f"demo hospital seeded, every ICU bed occupied in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        base_url, mllp, server = stack.enter_context(server_process(url, root))
        rows = []
        if args.only in (None, "station"):
            desktop = Desktop(app, base_url)
            try:
                station = measure_station(desktop, dsn, mllp, server, args)
            finally:
                desktop.close()
            bare = measure_bare_plot(station.plot_size, args.baseline_seconds)
            rows += station_report(station, bare, args)
        if args.only in (None, "gateway"):
            rows += gateway_report(measure_gateway(dsn, mllp, beds, server, args), args)
    collector.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seconds", type=float, default=60, help="measured seconds of the live station")
    add("--warmup", type=float, default=5, help="seconds of live station before measuring")
    add("--baseline-seconds", type=float, default=5, help="seconds of the bare pyqtgraph plot")
    add("--gateway-seconds", type=float, default=20, help="seconds of the gateway blast")
    add("--connections", type=int, default=16, help="MLLP connections of the gateway blast")
    add("--only", choices=("station", "gateway"), help="run one phase only")
    add("--profile", metavar="FILE", help="cProfile the UI process's measured window into FILE")
    add("--shots", metavar="DIR", type=Path, help="save screenshots of 32 and 8 live beds here")
    args = parser.parse_args(argv)
    args.root = Path(tempfile.mkdtemp(prefix="hms-icu-bench-"))
    try:
        rows = run(args)
    finally:
        shutil.rmtree(args.root, ignore_errors=True)
    header = ("figure", "measured", "baseline (same run)", "ratio", "target", "met?")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
