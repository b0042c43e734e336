"""The bedside-monitor simulator against a real MLLP receiver on loopback."""

import asyncio
import csv
import gzip
import math
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import hl7
import pytest

from hms_server.cli import build_parser
from hms_server.monitoring.simulator import (
    NOISE,
    SCALE_SPREAD,
    TEMP_RANGE,
    ProbeOff,
    SimulatorStats,
    run_simulator,
)
from hms_server.seed import monitor_id
from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]
SHARED_NUMERICS = shared_data("vitals/mimic2_s00001_numerics_1min.csv")
SHARED_ECG = ROOT.parent / "shared" / "data" / "vitals" / "mimic2_s00001_ecg_125hz_10min.csv"
SHIPPED = ROOT / "resources" / "monitoring"
SHIPPED_ECG = SHIPPED / "mimic2_s00001_ecg_mcl1_125hz_10min.csv.gz"
COLUMNS = {
    "147842": ("hr", "HR_bpm", "rate"),
    "149530": ("pulse", "PULSE_bpm", "rate"),
    "150456": ("spo2", "SpO2_%", "spo2"),
    "151562": ("rr", "RESP_pm", "rr"),
    "150017": ("abp_sys", "ABPSys_mmHg", "abp"),
    "150018": ("abp_dia", "ABPDias_mmHg", "abp"),
    "150019": ("abp_mean", "ABPMean_mmHg", "abp"),
    "150021": ("nibp_sys", "NBPSys_mmHg", "nibp"),
    "150022": ("nibp_dia", "NBPDias_mmHg", "nibp"),
    "150023": ("nibp_mean", "NBPMean_mmHg", "nibp"),
    "150344": ("temp", None, None),
}
MLLP_END = b"\x1c\x0d"


# --- a loopback MLLP receiver --------------------------------------------------------------


@dataclass
class Received:
    connection: int
    message: hl7.Message
    text: str


@dataclass
class Receiver:
    """An asyncio MLLP server that keeps every message and answers with `answer(n)`."""

    answer: Callable[[int], tuple[str, str]] = lambda n: ("AA", "")
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", port)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                block = await reader.readuntil(MLLP_END)
                text = block[1:-2].decode()
                message = hl7.parse(text)
                self.messages.append(Received(number, message, text))
                code, reason = self.answer(len(self.messages))
                control = str(message.segment("MSH")[10])
                ack = f"MSH|^~\\&|HMS|HOSPITAL|||20261206||ACK|a{control}|P|2.6\r"
                ack += f"MSA|{code}|{control}|{reason}\r"
                writer.write(b"\x0b" + ack.encode() + MLLP_END)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def simulate(receiver: Receiver, **options: object) -> SimulatorStats:
    """Start the receiver, run the simulator against it, stop the receiver."""

    async def main() -> SimulatorStats:
        port = await receiver.start()
        try:
            return await run_simulator("127.0.0.1", port, **options)  # type: ignore[arg-type]
        finally:
            await receiver.stop()

    return asyncio.run(main())


# --- what the recording says ----------------------------------------------------------------


def recording() -> list[dict[str, str]]:
    with SHARED_NUMERICS.open(newline="") as handle:
        return list(csv.DictReader(handle))


def expected(rows: list[dict[str, str]], column: str, minute: float) -> float | None:
    """The recording at a fractional minute: empty = None, 0 = 0, else linear to the next row
    (held when the next row is empty or 0)."""
    index = int(minute) % len(rows)
    here = rows[index][column]
    if here == "" or float(here) == 0:
        return None if here == "" else 0.0
    after = rows[index + 1][column] if index + 1 < len(rows) else ""
    if after == "" or float(after) == 0:
        return float(here)
    return float(here) + (float(after) - float(here)) * (minute - int(minute))


def obx_values(message: hl7.Message) -> dict[str, tuple[str, datetime]]:
    """code -> (value text, observation time) for the numerics of a message."""
    out = {}
    for obx in message.segments("OBX"):
        if str(obx[2]) == "NM" and "MDC_ATTR_SAMP_RATE" not in str(obx[3]):
            stamp = datetime.strptime(str(obx[14]), "%Y%m%d%H%M%S.%f%z")
            out[str(obx[3][0][0])] = (str(obx[5]), stamp)
    return out


def device_of(message: hl7.Message) -> str:
    return str(message.segment("MSH")[3][0][0])


def is_wave(message: hl7.Message) -> bool:
    return any(str(obx[2]) == "NA" for obx in message.segments("OBX"))


def wave_samples(message: hl7.Message) -> tuple[list[float], int]:
    obxs = message.segments("OBX")
    samples = [float(str(s)) for s in obxs[0][5][0]]
    rate = next(int(str(o[5])) for o in obxs if "MDC_ATTR_SAMP_RATE" in str(o[3]))
    return samples, rate


# --- tests ----------------------------------------------------------------------------------


def test_three_beds_send_numerics_each_second_and_ecg_four_times_a_second() -> None:
    receiver = Receiver()
    stats = simulate(
        receiver,
        beds=3,
        duration=3.0,
        seed=7,
        artefact_every=None,
        start_minutes={1: 0.0, 2: 101.99},
    )
    by_device: dict[str, list[hl7.Message]] = defaultdict(list)
    connections: dict[str, set[int]] = defaultdict(set)
    for item in receiver.messages:
        by_device[device_of(item.message)].append(item.message)
        connections[device_of(item.message)].add(item.connection)
    assert sorted(by_device) == ["MON-ICU-01", "MON-ICU-02", "MON-ICU-03"]
    for k in (1, 2, 3):
        device = monitor_id(f"ICU-{k:02d}")  # what the demo seed registers for the bed
        messages = by_device[device]
        assert len(connections[device]) == 1, "a monitor keeps one connection"
        for message in messages:
            assert str(message.segment("PV1")[3]) == f"ICU^^ICU-{k:02d}"
            assert str(message.segment("PID")[3]) == ""
            assert str(message.segment("OBR")[3]).endswith(f"^{device}")
        waves = [m for m in messages if is_wave(m)]
        numerics = [m for m in messages if not is_wave(m)]
        assert 2 <= len(numerics) <= 4, len(numerics)
        assert 10 <= len(waves) <= 13, len(waves)
        for wave in waves:
            samples, rate = wave_samples(wave)
            assert rate == 250 and len(samples) in (62, 63)
        assert stats.beds[device].numerics_sent == len(numerics)
        assert stats.beds[device].waves_sent == len(waves)
    assert stats.ack_counts() == Counter({"AA": len(receiver.messages)})
    assert len({str(i.message.segment("MSH")[10]) for i in receiver.messages}) == len(
        receiver.messages
    ), "control ids are unique"


def fits(value: float, raw: float | None, group: str, parameter: str) -> bool:
    """Whether a sent value is the recorded one within the per-bed variation (0 stays 0)."""
    if raw == 0:
        return value == 0
    assert raw is not None
    spread, noise = SCALE_SPREAD[group], NOISE[group] + 0.5
    low, high = raw * (1 - spread) - noise, raw * (1 + spread) + noise
    if parameter == "spo2":
        high = min(high, 100)
    return low <= value <= high


def test_numerics_follow_the_recording_within_the_bed_variation() -> None:
    receiver = Receiver()
    stats = simulate(
        receiver,
        beds=3,
        duration=3.2,
        seed=11,
        speed=20.0,  # a minute of recording every 3 s: interpolation is exercised
        artefact_every=None,
        start_minutes={1: 0.0, 2: 101.5, 3: 700.25},
    )
    rows = recording()
    checked = 0
    for item in receiver.messages:
        if is_wave(item.message):
            continue
        device = device_of(item.message)
        values = obx_values(item.message)
        assert TEMP_RANGE[0] <= float(values["150344"][0]) <= TEMP_RANGE[1]
        for code, (text, at) in values.items():
            parameter, column, group = COLUMNS[code]
            if column is None or parameter.startswith("nibp"):
                continue
            minute = stats.position_at(device, at)
            # OBX-14 carries milliseconds: near a minute boundary either side may apply
            candidates = {expected(rows, column, minute + d) for d in (-0.001, 0.0, 0.001)}
            assert None not in candidates, f"{parameter} sent although not in the recording"
            value = float(text)
            assert value == round(value), "monitors send whole numbers"
            assert any(fits(value, raw, group, parameter) for raw in candidates), (
                device,
                parameter,
                minute,
                candidates,
                value,
            )
            checked += 1
    assert checked > 40


def test_zeros_arrive_as_zero_and_empty_cells_are_not_sent() -> None:
    receiver = Receiver()
    simulate(receiver, beds=1, duration=1.6, seed=3, artefact_every=None, start_minutes={1: 0.2})
    numerics = [obx_values(i.message) for i in receiver.messages if not is_wave(i.message)]
    assert numerics
    for values in numerics:
        # minute 0 of the recording: HR, SpO2, pulse and arterial BP 0 (sensor off), RR 23,
        # NIBP not measured
        for code in ("147842", "150456", "149530", "150017", "150018", "150019"):
            assert values[code][0] == "0"
        rr = expected(recording(), "RESP_pm", 0.2)  # 23 -> 12.7 over the minute
        assert fits(float(values["151562"][0]), rr, "rr", "rr"), values["151562"]
        assert not {"150021", "150022", "150023"} & set(values)


def test_nibp_is_sent_when_the_cuff_measures() -> None:
    receiver = Receiver()
    stats = simulate(
        receiver, beds=1, duration=2.2, seed=5, artefact_every=None, start_minutes={1: 101.99}
    )
    rows = recording()
    nibp = [
        obx_values(i.message)
        for i in receiver.messages
        if not is_wave(i.message) and "150021" in obx_values(i.message)
    ]
    # on connecting: the last cuff reading (minute 97) with its own, earlier time; then the
    # measurement of minute 102 when the replay reaches it
    assert len(nibp) == 2
    earlier, now = nibp
    for values, minute in ((earlier, 97), (now, 102)):
        at = values["150021"][1]
        assert round(stats.position_at("MON-ICU-01", at), 3) == minute
        for code, column in (("150021", "NBPSys_mmHg"), ("150022", "NBPDias_mmHg")):
            raw = float(rows[minute][column])
            assert raw * 0.96 - 0.5 <= float(values[code][0]) <= raw * 1.04 + 0.5
    assert earlier["150021"][1] < earlier["147842"][1]


def test_ecg_replays_the_recorded_lead() -> None:
    """At 125 Hz the samples are the recording's; at 250 Hz every other one is interpolated."""
    with gzip.open(SHIPPED_ECG, "rt") as handle:
        lead = [float(r["MCL1_mV"]) for r in csv.DictReader(handle)]
    if SHARED_ECG.exists():  # the shipped lead is the recording's, unchanged
        with SHARED_ECG.open(newline="") as handle:
            assert [float(row["MCL1_mV"]) for row in csv.DictReader(handle)] == lead
    for hz, sizes in ((125, {31, 32}), (250, {62, 63})):
        receiver = Receiver()
        stats = simulate(receiver, beds=1, duration=1.2, seed=9, ecg_hz=hz, artefact_every=None)
        stream: list[float] = []
        for item in receiver.messages:
            if is_wave(item.message):
                samples, rate = wave_samples(item.message)
                assert rate == hz and len(samples) in sizes
                stream += samples
        offset = stats.profiles["MON-ICU-01"].ecg_offset
        step = 125 / hz
        for n, sample in enumerate(stream):
            position = offset + n * step
            low = lead[int(position) % len(lead)]
            high = lead[(int(position) + 1) % len(lead)]
            want = low + (high - low) * (position - int(position))
            assert sample == pytest.approx(want, abs=0.0006)


def test_an_error_reply_is_counted_and_the_monitor_keeps_sending() -> None:
    receiver = Receiver(
        answer=lambda n: ("AE", "unknown device") if n % 3 == 0 else ("AA", ""),
    )
    stats = simulate(receiver, beds=2, duration=2.2, seed=1, artefact_every=None)
    acks = stats.ack_counts()
    assert acks["AE"] == len(receiver.messages) // 3
    assert acks["AA"] + acks["AE"] == len(receiver.messages)
    assert len(receiver.messages) >= 2 * 9, "the AE answers did not stop the monitors"
    reasons = sum((b.reasons for b in stats.beds.values()), Counter())
    assert reasons == Counter({"AE: unknown device": acks["AE"]})
    assert "AE=" in stats.summary()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_receiver_that_is_down_at_start_is_reached_when_it_comes_up() -> None:
    port = free_port()
    receiver = Receiver()

    async def main() -> SimulatorStats:
        run = asyncio.create_task(
            run_simulator("127.0.0.1", port, beds=2, duration=4.0, artefact_every=None)
        )
        await asyncio.sleep(1.2)
        assert not run.done(), "a refused connection must not end the simulator"
        await receiver.start(port)
        try:
            return await run
        finally:
            await receiver.stop()

    stats = asyncio.run(main())
    devices = Counter(device_of(i.message) for i in receiver.messages)
    assert set(devices) == {"MON-ICU-01", "MON-ICU-02"}
    for bed in stats.beds.values():
        assert bed.connect_failures >= 1
        assert bed.connects == 1 and bed.reconnects == 1
        assert bed.missed_ticks >= 4, "ticks while down are dropped, not replayed"
        assert bed.sent == devices[bed.device_id]
        assert bed.numerics_sent >= 1 and bed.waves_sent >= 4


def test_a_lost_connection_is_reopened() -> None:
    receiver = Receiver()
    original = receiver.handle

    async def drop_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if receiver.connections == 0:
            receiver.connections += 1
            await reader.readuntil(MLLP_END)  # read one message, never answer, hang up
            writer.close()
            return
        await original(reader, writer)

    receiver.handle = drop_first  # type: ignore[method-assign]
    stats = simulate(receiver, beds=1, duration=2.5, seed=2, artefact_every=None)
    bed = stats.beds["MON-ICU-01"]
    assert bed.connection_losses == 1 and bed.connects == 2 and bed.reconnects == 1
    assert len(receiver.messages) >= 5 and bed.acks["AA"] == len(receiver.messages)


def test_probe_off_episodes_last_about_twenty_seconds() -> None:
    probe = ProbeOff(random.Random(4), every=600.0)
    off = [t for t in range(36_000) if probe.off(float(t))]
    episodes = [[off[0]]]
    for second in off[1:]:
        if second == episodes[-1][-1] + 1:
            episodes[-1].append(second)
        else:
            episodes.append([second])
    assert 30 <= len(episodes) <= 110  # ~60 expected in 10 hours
    assert all(14 <= len(e) <= 26 for e in episodes)
    assert not any(ProbeOff(random.Random(4), every=None).off(float(t)) for t in range(3600))


def test_probe_off_sends_spo2_and_pulse_as_zero() -> None:
    receiver = Receiver()
    # probe-off episodes back to back: most numerics fall inside one
    stats = simulate(
        receiver, beds=1, duration=2.2, seed=8, artefact_every=0.5, start_minutes={1: 700.0}
    )
    rows = recording()
    numerics = [obx_values(i.message) for i in receiver.messages if not is_wave(i.message)]
    off = [v for v in numerics if v["150456"][0] == "0"]
    assert off, "no probe-off episode reached the receiver"
    for values in off:
        minute = stats.position_at("MON-ICU-01", values["150456"][1])
        assert expected(rows, "SpO2_%", minute), "the recording itself has SpO2 here"
        assert values["149530"][0] == "0", "the pleth pulse goes with the probe"
        assert float(values["147842"][0]) > 0, "the ECG heart rate is unaffected"


def test_the_cli_help_and_arguments() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hms_server.cli", "simulate-monitors", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and "--ecg-hz" in done.stdout
    args = build_parser().parse_args(
        ["simulate-monitors", "--beds", "32", "--ecg-hz", "125", "--speed", "10", "--seed", "4"]
    )
    assert (args.beds, args.host, args.port, args.ward, args.first_bed) == (
        32,
        "127.0.0.1",
        2575,
        "ICU",
        1,
    )
    assert (args.duration, args.ecg_hz, args.speed, args.seed) == (None, 125, 10.0, 4)
    with pytest.raises(SystemExit) as bad:
        build_parser().parse_args(["simulate-monitors", "--beds", "2", "--ecg-hz", "300"])
    assert bad.value.code == 2


@contextmanager
def receiver_thread() -> Iterator[tuple[Receiver, int]]:
    """A Receiver on its own event loop in a thread, for a simulator in another process."""
    receiver = Receiver()
    loop = asyncio.new_event_loop()
    port = loop.run_until_complete(receiver.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield receiver, port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(receiver.stop())
        loop.close()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hms_server.cli", "simulate-monitors", *args]


def test_the_cli_runs_and_prints_a_summary() -> None:
    with receiver_thread() as (receiver, port):
        command = cli("--beds", "2", "--first-bed", "5", "--port", str(port), "--duration", "1.5")
        done = subprocess.run(
            [*command, "--ecg-hz", "125"], capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 0, done.stderr
    assert "MON-ICU-05: sent" in done.stdout and "MON-ICU-06: sent" in done.stdout
    assert "AA=" in done.stdout
    assert {device_of(i.message) for i in receiver.messages} == {"MON-ICU-05", "MON-ICU-06"}
    waves = [wave_samples(i.message) for i in receiver.messages if is_wave(i.message)]
    assert waves and all(rate == 125 for _, rate in waves)
    assert math.isclose(sum(len(s) for s, _ in waves) / len(waves), 31.25, abs_tol=1.0)


def test_ctrl_c_stops_the_cli_with_a_summary() -> None:
    with receiver_thread() as (receiver, port):
        process = subprocess.Popen(
            cli("--beds", "1", "--port", str(port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while len(receiver.messages) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "MON-ICU-01: sent" in out and "Traceback" not in err


def test_the_cli_refuses_nonsense_in_words() -> None:
    done = subprocess.run(cli("--beds", "0"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "at least one bed" in done.stderr
