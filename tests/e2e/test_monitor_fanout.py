"""Two `hms-server serve` processes on one PostgreSQL behave as one central station: a monitor
value received over HL7/MLLP by instance A reaches a station WebSocket connected to B."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from hms_server.db import Database, make_engine
from tests.conftest import TEST_USERS
from tests.e2e.test_cli import HMS_SERVER, free_port, wait_for_health
from tests.server.test_live_monitor import Events, station_socket
from tests.server.test_monitoring_api import make_icu

START, END = b"\x0b", b"\x1c\x0d"


def oru(device: str, bed: str, heart_rate: int, spo2: int, control_id: str) -> str:
    """An IHE PCD-01 ORU^R01 as the bedside monitor of `bed` sends it."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%d%H%M%S") + f".{now.microsecond // 1000:03d}+0000"
    segments = [
        f"MSH|^~\\&|{device}^0800190000000002^EUI-64|HMS SIM|HMS|HOSPITAL|{stamp}||"
        f"ORU^R01^ORU_R01|{control_id}|P|2.6|||AL|NE||UNICODE UTF-8|||"
        "PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        "PID|||^^^HMS^MR||",
        f"PV1||I|ICU^^{bed}",
        f"OBR|1|{control_id}^{device}|{control_id}^{device}|182777000^monitoring of patient^SCT"
        f"|||{stamp}",
        f"OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.5.1.1|{heart_rate}|"
        f"264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{stamp}",
        f"OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.5.1.2|{spo2}|262688^MDC_DIM_PERCENT^MDC"
        f"|||||R|||{stamp}",
    ]
    return "\r".join(segments) + "\r"


def send_mllp(port: int, message: str) -> str:
    """Send one framed message and return the ACK the gateway answers with."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(START + message.encode() + END)
        reply = b""
        while not reply.endswith(END):
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.strip(START + END).decode()


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on MLLP port {port}")


@pytest.fixture
def two_servers(database_url, tmp_path) -> Iterator[tuple[str, int, str]]:
    """A (HTTP url, MLLP port) and B (HTTP url): separate processes on one database."""
    env = {k: v for k, v in os.environ.items() if k != "HMS_DATABASE_URL"}
    env["HMS_DATABASE_URL"] = database_url
    processes: list[subprocess.Popen] = []
    try:
        urls = []
        mllp_port = free_port()
        for name, extra in (("a", ["--mllp-port", str(mllp_port)]), ("b", [])):
            port = free_port()
            process = subprocess.Popen(
                [HMS_SERVER, "serve", "--data-dir", str(tmp_path / name), "--port", str(port)]
                + extra,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
            wait_for_health(urls[-1], process)
        wait_for_port(mllp_port, processes[0])
        yield urls[0], mllp_port, urls[1]
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait(timeout=60)
            process.stderr.close()


def login(url: str, role: str) -> str:
    username, password = TEST_USERS[role]
    response = httpx.post(
        f"{url}/api/auth/login", json={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return response.json()["token"]


def test_a_value_received_by_a_reaches_a_station_on_b(database_url, two_servers):
    db = Database(make_engine(database_url))
    try:
        icu = make_icu(db)
    finally:
        db.engine.dispose()
    url_a, mllp_port, url_b = two_servers
    with station_socket(url_b, login(url_b, "nurse"), icu.ward_id) as ws:
        events = Events(ws)
        assert events.next()["type"] == "hello"
        ack = send_mllp(mllp_port, oru("MON-ICU-02", "ICU-02", 137, 94, "FANOUT-1"))
        assert "MSA|AA|FANOUT-1" in ack, ack
        while (got := events.next())["type"] != "vitals":
            pass
    assert got["ward_id"] == str(icu.ward_id)
    assert got["patient_id"] == str(icu.patient_id)
    assert got["device_id"] == "MON-ICU-02"
    assert got["values"]["hr"] == 137 and got["values"]["spo2"] == 94
    # B serves the same value over HTTP too: the station sees it as the latest.
    with httpx.Client(
        base_url=url_b, headers={"Authorization": f"Bearer {login(url_b, 'doctor')}"}
    ) as http:
        station = http.get("/api/monitoring/station", params={"ward_id": str(icu.ward_id)})
    bed = next(b for b in station.json()["beds"] if b["label"] == "ICU-02")
    assert bed["latest"]["hr"]["value"] == 137
