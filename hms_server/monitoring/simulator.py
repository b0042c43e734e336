"""Bedside monitors that replay a real MIMIC-II ICU recording over HL7/MLLP.

Each simulated bed holds one MLLP connection, as a real monitor does, and sends on an absolute
real-time schedule (ticks every 0.25 s, so nothing drifts): one ECG chunk every tick (the 0.25 s
just acquired) and one numerics message every fourth tick, each waiting for the receiver's ACK.
Ticks missed while disconnected (or more than 2 s behind) are dropped, not replayed. Beds start
at different places in the recording, vary it by a few percent, and have synthetic temperature
and now and then a probe-off artefact (resources/monitoring/README.md: what is real, what not).

Python API: `run_simulator(host, port, beds, duration, ...) -> SimulatorStats`, or `Simulator`
for a run stopped by cancellation (Ctrl+C); `stats.summary()` is what the CLI prints.
"""

import asyncio
import contextlib
import csv
import gzip
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from hms_server.monitoring.oru_builder import (
    MLLP_END,
    Sender,
    frame,
    numerics_message,
    parse_ack,
    unframe,
    waveform_message,
)

log = logging.getLogger("hms_server.simulator")

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "monitoring"
NUMERICS_FILE = RESOURCES / "mimic2_s00001_numerics_1min.csv"
ECG_FILE = RESOURCES / "mimic2_s00001_ecg_mcl1_125hz_10min.csv.gz"
ECG_SOURCE_HZ = 125
ECG_RATES = (250, 125)

TICK = 0.25  # seconds between ECG chunks
TICKS_PER_NUMERICS = 4  # numerics once a second
MAX_LAG = 2.0  # seconds behind schedule before ticks are dropped instead of sent late
ACK_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 5.0
NIBP_LOOKBACK_MINUTES = 60  # the last cuff reading a monitor still shows when it connects
LOGGED_REJECTIONS_PER_BED = 3

# parameter -> CSV column of the recording; NIBP is a cuff measurement, not a trend
TREND_COLUMNS = {
    "hr": "HR_bpm",
    "pulse": "PULSE_bpm",
    "spo2": "SpO2_%",
    "rr": "RESP_pm",
    "abp_sys": "ABPSys_mmHg",
    "abp_dia": "ABPDias_mmHg",
    "abp_mean": "ABPMean_mmHg",
}
NIBP_COLUMNS = {"nibp_sys": "NBPSys_mmHg", "nibp_dia": "NBPDias_mmHg", "nibp_mean": "NBPMean_mmHg"}

# Per-bed variation. Parameters of one group share a scale (HR and pulse agree; sys/dia/mean
# stay in order); the scale lies within ±SCALE_SPREAD, the noise within ±NOISE (before rounding).
GROUPS = {
    "hr": "rate",
    "pulse": "rate",
    "spo2": "spo2",
    "rr": "rr",
    "abp_sys": "abp",
    "abp_dia": "abp",
    "abp_mean": "abp",
    "nibp_sys": "nibp",
    "nibp_dia": "nibp",
    "nibp_mean": "nibp",
}
SCALE_SPREAD = {"rate": 0.04, "spo2": 0.01, "rr": 0.04, "abp": 0.04, "nibp": 0.04}
NOISE = {"rate": 1.0, "spo2": 0.5, "rr": 0.5, "abp": 1.0, "nibp": 0.0}
TEMP_RANGE = (36.2, 38.4)
PROBE_OFF_SECONDS = (15.0, 25.0)
DEFAULT_ARTEFACT_EVERY = 600.0  # mean seconds between probe-off episodes per bed


# --- the recording ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """The numerics, one row a minute: None = not measured, 0 = sensor off."""

    columns: dict[str, tuple[float | None, ...]]
    minutes: int

    def value_at(self, parameter: str, minute: float) -> float | None:
        """The value at a fractional minute: linear between two measured rows, held when the
        next row is 0 or empty; 0 for a whole minute whose row is 0; None when not measured."""
        column = self.columns[parameter]
        position = minute % self.minutes
        index = int(position)
        here = column[index]
        if not here:  # None (not measured) or 0 (sensor off)
            return here
        after = column[index + 1] if index + 1 < self.minutes else None
        if not after:
            return here
        return here + (after - here) * (position - index)

    def nibp_row(self, minute: int) -> dict[str, float] | None:
        """The cuff measurement of a minute row (all three values), or None."""
        values = {p: self.columns[p][minute % self.minutes] for p in NIBP_COLUMNS}
        if any(v is None for v in values.values()):
            return None
        return values  # type: ignore[return-value]


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


@cache
def load_recording(path: Path = NUMERICS_FILE) -> Recording:
    """The shipped MIMIC-II numerics (cached)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    wanted = {**TREND_COLUMNS, **NIBP_COLUMNS}
    columns = {p: tuple(_number(row[c]) for row in rows) for p, c in wanted.items()}
    return Recording(columns=columns, minutes=len(rows))


@cache
def load_ecg(path: Path = ECG_FILE) -> tuple[float, ...]:
    """The shipped MCL1 ECG lead at 125 Hz, in mV (cached)."""
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        return tuple(float(row["MCL1_mV"]) for row in csv.DictReader(handle))


def resample(ecg: tuple[float, ...], start: float, count: int, step: float) -> list[float]:
    """`count` samples from source position `start`, `step` source samples apart, linearly
    interpolated and looping at the end of the recording."""
    size = len(ecg)
    out = []
    for n in range(count):
        position = (start + n * step) % size
        index = int(position)
        fraction = position - index
        here = ecg[index]
        out.append(here + (ecg[(index + 1) % size] - here) * fraction if fraction else here)
    return out


# --- one bed ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BedProfile:
    """What makes one simulated bed its own patient: where it starts and how it varies."""

    number: int
    ward: str
    bed_label: str
    device_id: str
    eui64: str
    start_minute: float  # recording minute replayed at the run's origin
    ecg_offset: int  # ECG source sample shown at the run's origin
    scales: dict[str, float]  # group -> factor
    temp_baseline: float
    temp_phases: tuple[float, float]


def bed_profile(
    number: int,
    *,
    ward: str = "ICU",
    seed: int | None = None,
    minutes: int = 1936,
    ecg_samples: int = 75_000,
    start_minute: float | None = None,
) -> BedProfile:
    """A bed's profile: deterministic for a given seed, beds spread over the recording."""
    rng = random.Random(f"{seed}/{ward}/{number}") if seed is not None else random.Random()
    label = f"{ward}-{number:02d}"
    if start_minute is None:
        spread = ((number - 1) * 0.618034 * minutes) % minutes  # golden-ratio spacing
        start_minute = (spread + rng.uniform(0, 30)) % minutes
    scales = {g: 1 + rng.uniform(-s, s) for g, s in SCALE_SPREAD.items()}
    return BedProfile(
        number=number,
        ward=ward,
        bed_label=label,
        device_id=device_id_for(label),
        eui64=f"0800190000{number:06X}",
        start_minute=start_minute,
        ecg_offset=rng.randrange(ecg_samples),
        scales=scales,
        temp_baseline=rng.uniform(36.6, 37.6),
        temp_phases=(rng.uniform(0, math.tau), rng.uniform(0, math.tau)),
    )


def device_id_for(bed_label: str) -> str:
    """The bed's monitor id, as the demo seed registers it (hms_server.seed.monitor_id); kept
    here so the simulator does not load the database layer."""
    return f"MON-{bed_label}"


def monitor_round(parameter: str, value: float) -> float:
    """Rounded as the monitor displays it (half up): whole numbers, SpO2 at most 100."""
    rounded = math.floor(value + 0.5)
    return float(min(rounded, 100) if parameter == "spo2" else rounded)


def vary(profile: BedProfile, parameter: str, raw: float, rng: random.Random) -> float:
    """The bed's version of a recorded value: scaled, a little noise, rounded; 0 stays 0."""
    if raw == 0:
        return 0.0
    group = GROUPS[parameter]
    noise = NOISE[group]
    value = raw * profile.scales[group] + (rng.uniform(-noise, noise) if noise else 0.0)
    return max(1.0, monitor_round(parameter, value))


def temperature(profile: BedProfile, recording_seconds: float) -> float:
    """Synthetic body temperature: slow drift around the bed's baseline, 0.1 °C steps."""
    slow = 0.35 * math.sin(math.tau * recording_seconds / 10_800 + profile.temp_phases[0])
    slower = 0.15 * math.sin(math.tau * recording_seconds / 2_820 + profile.temp_phases[1])
    value = min(max(profile.temp_baseline + slow + slower, TEMP_RANGE[0]), TEMP_RANGE[1])
    return round(value, 1)


class ProbeOff:
    """When the bed's SpO2 probe is off: episodes of 15–25 s, `every` seconds apart on average."""

    def __init__(self, rng: random.Random, every: float | None) -> None:
        self._rng, self._every = rng, every
        self._start = self._end = -1.0
        if every:
            self._schedule(after=0.0)

    def _schedule(self, after: float) -> None:
        assert self._every
        self._start = after + self._rng.expovariate(1 / self._every)
        self._end = self._start + self._rng.uniform(*PROBE_OFF_SECONDS)

    def off(self, elapsed: float) -> bool:
        """Whether the probe is off `elapsed` seconds into the run."""
        if not self._every:
            return False
        while elapsed >= self._end:
            self._schedule(after=self._end)
        return self._start <= elapsed


# --- statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """One message's journey, for benchmarks: times are epoch seconds (time.time())."""

    device_id: str
    control_id: str
    kind: str  # "numerics" or "wave"
    scheduled_at: float
    sent_at: float
    acked_at: float
    ack_code: str


@dataclass
class BedStats:
    device_id: str
    bed_label: str
    numerics_sent: int = 0
    waves_sent: int = 0
    acks: Counter = field(default_factory=Counter)  # MSA-1 code -> count
    reasons: Counter = field(default_factory=Counter)  # AE/AR reason -> count
    connects: int = 0
    connect_failures: int = 0
    connection_losses: int = 0
    reconnects: int = 0  # connections made after a failed attempt or a lost connection
    missed_ticks: int = 0  # ticks not sent: disconnected or too far behind
    ack_seconds_max: float = 0.0
    ack_seconds_total: float = 0.0

    @property
    def sent(self) -> int:
        return self.numerics_sent + self.waves_sent


@dataclass
class SimulatorStats:
    host: str
    port: int
    ecg_hz: int
    speed: float
    origin: datetime  # wall clock of the run's start: recording minute = start_minute here
    profiles: dict[str, BedProfile]
    beds: dict[str, BedStats]
    elapsed: float = 0.0

    def position_at(self, device_id: str, moment: datetime) -> float:
        """The recording minute (unwrapped) that a bed's numerics observed at `moment` replay."""
        seconds = (moment - self.origin).total_seconds()
        return self.profiles[device_id].start_minute + seconds * self.speed / 60

    def ack_counts(self) -> Counter:
        return sum((b.acks for b in self.beds.values()), Counter())

    @property
    def sent(self) -> int:
        return sum(b.sent for b in self.beds.values())

    @property
    def reconnects(self) -> int:
        return sum(b.reconnects for b in self.beds.values())

    def summary(self) -> str:
        """What the CLI prints at exit: per bed, then totals."""
        lines = [
            f"monitor simulator: {len(self.beds)} beds to {self.host}:{self.port} for "
            f"{self.elapsed:.1f} s (ECG {self.ecg_hz} Hz, numerics speed x{self.speed:g})"
        ]
        for bed in self.beds.values():
            acks = " ".join(f"{code or '?'}={n}" for code, n in sorted(bed.acks.items())) or "-"
            lines.append(
                f"  {bed.device_id}: sent {bed.sent} ({bed.numerics_sent} numerics, "
                f"{bed.waves_sent} ECG), acks {acks}, reconnects {bed.reconnects}, "
                f"failed connects {bed.connect_failures}, missed ticks {bed.missed_ticks}"
            )
        totals = " ".join(f"{c or '?'}={n}" for c, n in sorted(self.ack_counts().items())) or "-"
        lines.append(f"  total: sent {self.sent}, acks {totals}, reconnects {self.reconnects}")
        reasons = sum((b.reasons for b in self.beds.values()), Counter())
        for reason, count in reasons.most_common(5):
            lines.append(f"  rejected x{count}: {reason}")
        return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------


class _Lost(Exception):
    """The connection broke or the receiver stopped answering."""


class _Bed:
    """One simulated monitor: its connection, its schedule, its messages."""

    def __init__(self, sim: "Simulator", profile: BedProfile, phase: float) -> None:
        self.sim, self.profile, self.phase = sim, profile, phase
        self.stats = sim.stats.beds[profile.device_id]
        self.sender = Sender(profile.device_id, profile.ward, profile.bed_label, profile.eui64)
        self.rng = random.Random(f"{sim.seed}/noise/{profile.number}")
        self.probe = ProbeOff(random.Random(f"{sim.seed}/probe/{profile.number}"), sim.artefacts)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.fresh_connection = False
        self.last_nibp_minute: int | None = None
        self.checked_minute: int | None = None
        self.rejections_logged = 0

    # schedule
    def due(self, tick: int) -> float:
        return self.sim.origin_loop + self.phase + tick * TICK

    def next_tick(self, now: float) -> int:
        return max(0, math.ceil((now - self.sim.origin_loop - self.phase) / TICK))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        tick = 0
        try:
            while self.sim.end_loop is None or self.due(tick) < self.sim.end_loop:
                if self.writer is None:
                    if not await self.connect():
                        return
                    # ticks missed while disconnected are dropped, as a monitor does
                    skipped = max(tick, self.next_tick(loop.time() - TICK)) - tick
                    self.stats.missed_ticks += skipped
                    tick += skipped
                    continue
                lag = loop.time() - self.due(tick)
                if lag < 0:
                    await asyncio.sleep(-lag)
                elif lag > MAX_LAG:
                    skipped = self.next_tick(loop.time()) - tick
                    self.stats.missed_ticks += skipped
                    tick += skipped
                    continue
                try:
                    await self.send_tick(tick)
                except _Lost as lost:
                    self.stats.connection_losses += 1
                    self.stats.missed_ticks += 1
                    log.warning(
                        "%s: connection lost (%s); reconnecting", self.sender.device_id, lost
                    )
                    await self.close()
                tick += 1
        finally:
            await self.close()

    # connection
    async def connect(self) -> bool:
        """Connect, backing off while the receiver is down; False when the run ended first."""
        delay, reported = BACKOFF_FIRST, False
        loop = asyncio.get_running_loop()
        end = self.sim.end_loop
        while end is None or loop.time() < end:
            try:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection(self.sim.host, self.sim.port), CONNECT_TIMEOUT
                )
            except OSError as exc:  # refused, unreachable, timed out
                self.stats.connect_failures += 1
                if not reported:
                    reported = True
                    log.warning(
                        "%s: cannot reach %s:%s (%s); retrying",
                        self.sender.device_id,
                        self.sim.host,
                        self.sim.port,
                        exc.strerror or type(exc).__name__,
                    )
            else:
                self.stats.connects += 1
                self.fresh_connection = True
                if reported or self.stats.connects > 1:
                    self.stats.reconnects += 1
                    log.info(
                        "%s: connected to %s:%s",
                        self.sender.device_id,
                        self.sim.host,
                        self.sim.port,
                    )
                return True
            await asyncio.sleep(delay if end is None else max(0.0, min(delay, end - loop.time())))
            delay = min(delay * 2, BACKOFF_MAX)
        return False

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def exchange(self, message: str, control_id: str, kind: str, scheduled: float) -> None:
        """Send one message and wait for its ACK; count the answer."""
        assert self.reader is not None and self.writer is not None
        sent_at = time.time()
        started = time.perf_counter()
        try:
            self.writer.write(frame(message))
            await self.writer.drain()
            block = await asyncio.wait_for(self.reader.readuntil(MLLP_END), ACK_TIMEOUT)
        except TimeoutError as exc:
            raise _Lost(f"no acknowledgement within {ACK_TIMEOUT:g} s") from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise _Lost(str(exc) or type(exc).__name__) from exc
        seconds = time.perf_counter() - started
        ack = parse_ack(unframe(block))
        self.count(ack.code, ack.reason, seconds)
        if kind == "numerics":
            self.stats.numerics_sent += 1
        else:
            self.stats.waves_sent += 1
        if self.sim.on_message is not None:
            self.sim.on_message(
                SentMessage(
                    self.sender.device_id,
                    control_id,
                    kind,
                    scheduled,
                    sent_at,
                    sent_at + seconds,
                    ack.code,
                )
            )

    def count(self, code: str, reason: str, seconds: float) -> None:
        self.stats.acks[code] += 1
        self.stats.ack_seconds_total += seconds
        self.stats.ack_seconds_max = max(self.stats.ack_seconds_max, seconds)
        if code in ("AA", "CA"):
            return
        self.stats.reasons[f"{code}: {reason}" if reason else code] += 1
        if self.rejections_logged < LOGGED_REJECTIONS_PER_BED:
            self.rejections_logged += 1
            log.warning(
                "%s: receiver answered %s: %s",
                self.sender.device_id,
                code or "(no code)",
                reason or "no reason given",
            )

    # messages
    def wall(self, loop_time: float) -> datetime:
        return self.sim.origin + timedelta(seconds=loop_time - self.sim.origin_loop)

    async def send_tick(self, tick: int) -> None:
        due = self.due(tick)
        scheduled = self.wall(due)
        if tick % TICKS_PER_NUMERICS == 0:
            control_id, message = self.numerics(scheduled)
            await self.exchange(message, control_id, "numerics", scheduled.timestamp())
        if tick > 0:  # a chunk goes out once its last sample has been "acquired"
            control_id, message = self.wave(tick - 1)
            await self.exchange(message, control_id, "wave", scheduled.timestamp())

    def numerics(self, at: datetime) -> tuple[str, str]:
        """The numerics message observed at `at`."""
        recording = self.sim.recording
        elapsed = (at - self.sim.origin).total_seconds()
        minute = self.sim.stats.position_at(self.profile.device_id, at)
        values: dict[str, float] = {}
        for parameter in TREND_COLUMNS:
            raw = recording.value_at(parameter, minute)
            if raw is not None:
                values[parameter] = vary(self.profile, parameter, raw, self.rng)
        if self.probe.off(elapsed):
            for parameter in ("spo2", "pulse"):
                if parameter in values:
                    values[parameter] = 0.0
        times: dict[str, datetime] = {}
        nibp_minute = self.nibp_due(minute)
        if nibp_minute is not None:
            row = recording.nibp_row(nibp_minute)
            assert row is not None
            measured = at + timedelta(seconds=(nibp_minute - minute) * 60 / self.sim.speed)
            for parameter, raw in row.items():
                values[parameter] = vary(self.profile, parameter, raw, self.rng)
                times[parameter] = min(measured, at)
        values["temp"] = temperature(self.profile, elapsed * self.sim.speed)
        control_id = self.control_id()
        message = numerics_message(self.sender, values, at, control_id=control_id, times=times)
        return control_id, message

    def nibp_due(self, minute: float) -> int | None:
        """The cuff measurement to send now: the newest one the timeline passed since the last
        message, or, right after a (re)connection, the last one the monitor still shows."""
        newest = math.floor(minute)
        if self.fresh_connection or self.checked_minute is None:
            oldest = max(0, newest - NIBP_LOOKBACK_MINUTES)  # not back across the start
        else:
            oldest = self.checked_minute + 1
        if self.last_nibp_minute is not None:
            oldest = max(oldest, self.last_nibp_minute + 1)
        self.fresh_connection, self.checked_minute = False, newest
        for row in range(newest, oldest - 1, -1):
            if self.sim.recording.nibp_row(row) is not None:
                self.last_nibp_minute = row
                return row
        return None

    def wave(self, tick: int) -> tuple[str, str]:
        """ECG chunk `tick`: output samples [tick*per_tick, (tick+1)*per_tick), the first one
        taken at the tick's due time; it is sent one tick later, when the chunk is complete."""
        hz = self.sim.ecg_hz
        first = math.floor(tick * TICK * hz)
        count = math.floor((tick + 1) * TICK * hz) - first
        step = ECG_SOURCE_HZ / hz
        samples = resample(self.sim.ecg, self.profile.ecg_offset + first * step, count, step)
        at = self.wall(self.sim.origin_loop + self.phase + first / hz)
        control_id = self.control_id()
        return control_id, waveform_message(self.sender, samples, hz, at, control_id=control_id)

    def control_id(self) -> str:
        self.sim.sequence += 1
        return f"{self.sim.run_id}{self.sim.sequence:09d}"


class Simulator:
    """A set of simulated bedside monitors sending to one MLLP receiver."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2575,
        beds: int = 32,
        *,
        duration: float | None = None,
        ecg_hz: int = 250,
        speed: float = 1.0,
        ward: str = "ICU",
        first_bed: int = 1,
        seed: int | None = None,
        artefact_every: float | None = DEFAULT_ARTEFACT_EVERY,
        start_minutes: Mapping[int, float] | None = None,
        on_message: Callable[[SentMessage], None] | None = None,
    ) -> None:
        """`artefact_every` None turns probe-off episodes off; `start_minutes` pins beds
        (by bed number) to a recording minute; `on_message` sees every acknowledged message."""
        if beds < 1:
            raise ValueError("simulate at least one bed")
        if ecg_hz not in ECG_RATES:
            raise ValueError("the ECG rate must be 250 or 125 samples per second")
        if speed <= 0:
            raise ValueError("the speed must be more than 0")
        if duration is not None and duration <= 0:
            raise ValueError("the duration must be more than 0 seconds")
        self.host, self.port, self.ecg_hz, self.speed = host, port, ecg_hz, speed
        self.duration, self.seed, self.artefacts = duration, seed, artefact_every
        self.on_message = on_message
        self.recording = load_recording()
        self.ecg = load_ecg()
        pinned = start_minutes or {}
        self.profiles = [
            bed_profile(
                number,
                ward=ward,
                seed=seed,
                minutes=self.recording.minutes,
                ecg_samples=len(self.ecg),
                start_minute=pinned.get(number),
            )
            for number in range(first_bed, first_bed + beds)
        ]
        self.run_id = f"{random.getrandbits(32):08x}"
        self.sequence = 0
        self.origin = datetime.now(UTC)
        self.origin_loop = 0.0
        self.end_loop: float | None = None
        self.stats = SimulatorStats(
            host=host,
            port=port,
            ecg_hz=ecg_hz,
            speed=speed,
            origin=self.origin,
            profiles={p.device_id: p for p in self.profiles},
            beds={p.device_id: BedStats(p.device_id, p.bed_label) for p in self.profiles},
        )

    async def run(self) -> SimulatorStats:
        """Run every bed until the duration ends (or the task is cancelled); the statistics."""
        loop = asyncio.get_running_loop()
        self.origin_loop = loop.time()
        self.origin = self.stats.origin = datetime.now(UTC)
        if self.duration is not None:
            self.end_loop = self.origin_loop + self.duration
        count = len(self.profiles)
        beds = [_Bed(self, p, phase=i * TICK / count) for i, p in enumerate(self.profiles)]
        try:
            await asyncio.gather(*(bed.run() for bed in beds))
        finally:
            self.stats.elapsed = loop.time() - self.origin_loop
        return self.stats


async def run_simulator(
    host: str,
    port: int,
    beds: int,
    duration: float | None,
    ecg_hz: int = 250,
    **options: object,
) -> SimulatorStats:
    """Simulate `beds` monitors sending to host:port for `duration` seconds (None: until
    cancelled); options as `Simulator` (speed, ward, first_bed, seed, artefact_every,
    start_minutes, on_message)."""
    simulator = Simulator(host, port, beds, duration=duration, ecg_hz=ecg_hz, **options)  # type: ignore[arg-type]
    return await simulator.run()
