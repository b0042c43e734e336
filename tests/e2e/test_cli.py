"""The `hms-server` command as an operator uses it: embedded PostgreSQL, shared between commands."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hms_core.db import (
    Appointment,
    Bed,
    Charge,
    Claim,
    Department,
    DoctorProfile,
    Invoice,
    Patient,
    User,
)
from hms_core.schemas.scheduling import SlotQuery
from hms_core.services.availability import free_slots
from hms_server.db import Database, head_revision, make_engine

HMS_SERVER = str(Path(sys.executable).parent / "hms-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if k != "HMS_DATABASE_URL"}
    return subprocess.run(
        [HMS_SERVER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env={**environment, **(env or {})},
    )


def wait_for_health(url: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()}")
        try:
            return httpx.get(f"{url}/health", timeout=2).json()
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not answer /health in time")


@pytest.fixture
def served(tmp_path):
    """`hms-server serve` on a brand-new data directory, as a separate process."""
    data_dir, port = tmp_path / "data", free_port()
    process = subprocess.Popen(
        [HMS_SERVER, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "HMS_DATABASE_URL"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, data_dir, wait_for_health(url, process)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        process.stderr.close()


def test_serve_starts_embedded_postgres_and_admin_commands_share_it(served):
    url, data_dir, health = served
    assert health == {
        "status": "ok",
        "database": "ok",
        "schema": head_revision(),
        "hospital": "hms Demo Hospital",
    }
    created = cli(
        "create-user",
        "dr.test",
        "--role",
        "doctor",
        "--password-stdin",
        "--data-dir",
        str(data_dir),
        stdin="a-long-password\n",
    )
    assert created.returncode == 0, created.stderr
    login = httpx.post(
        f"{url}/api/auth/login", json={"username": "dr.test", "password": "a-long-password"}
    )
    assert login.status_code == 200
    assert login.json()["user"]["role"] == "doctor"
    migrated = cli("migrate", "--data-dir", str(data_dir))
    assert f"revision {head_revision()}" in migrated.stdout
    # The server, still running, answers as before.
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_create_user_refuses_bad_input(served):
    _, data_dir, _ = served
    short = cli(
        "create-user",
        "x",
        "--role",
        "doctor",
        "--password-stdin",
        "--data-dir",
        str(data_dir),
        stdin="short\n",
    )
    unknown_role = cli(
        "create-user",
        "y",
        "--role",
        "wizard",
        "--password-stdin",
        "--data-dir",
        str(data_dir),
        stdin="a-long-password\n",
    )
    assert short.returncode == 2 and "at least 8" in short.stderr
    assert unknown_role.returncode == 2 and "wizard" in unknown_role.stderr


def test_seed_demo_builds_the_demo_hospital_once(database_url):
    env = {"HMS_DATABASE_URL": database_url}
    first = cli("seed-demo", env=env)
    second = cli("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "already present" in second.stdout
    db = Database(make_engine(database_url))
    try:
        with db.unit_of_work() as session:
            patients = session.execute(select(func.count(Patient.id))).scalar_one()
            roles = set(session.execute(select(User.role)).scalars())
            departments = set(session.execute(select(Department.name)).scalars())
            beds = session.execute(select(func.count(Bed.id))).scalar_one()
            doctors = session.execute(select(func.count(DoctorProfile.id))).scalar_one()
            slots = free_slots(
                session,
                SlotQuery(department_id=_general_medicine(session), first_day=_monday(), days=5),
            )
            booked = session.execute(select(func.count(Appointment.id))).scalar_one()
            finals = (
                session.execute(select(Invoice.number).where(Invoice.status == "final"))
                .scalars()
                .all()
            )
            charged = session.execute(select(func.count(Charge.id))).scalar_one()
            claims = session.execute(select(func.count(Claim.id))).scalar_one()
    finally:
        db.engine.dispose()
    assert patients >= 200
    assert roles == {
        "admin",
        "reception",
        "doctor",
        "nurse",
        "lab",
        "pharmacy",
        "billing",
        "patient",
    }
    assert {"General Medicine", "Cardiology", "Orthopedics", "Pediatrics"} <= departments
    assert beds >= 50
    assert doctors == 9 and booked > 50
    assert len(slots) > 20  # next week's general clinic has free slots to book
    # billing: visits charged, numbered invoices, claims on their way
    assert charged >= 36 and claims > 0
    year = datetime.now(UTC).year
    assert sorted(finals) == [f"INV-{year}-{n:06d}" for n in range(1, len(finals) + 1)]


def _general_medicine(session) -> object:  # noqa: ANN001
    return session.execute(select(Department.id).where(Department.code == "GEN")).scalar_one()


def _monday() -> date:
    """Monday of next week (the demo hospital works weekdays)."""
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())
