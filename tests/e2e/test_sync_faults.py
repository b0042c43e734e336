"""Sync under faults (DESIGN.md section 4): the server process killed mid-push, a response lost
after the server committed, the desktop killed mid-write, PostgreSQL restarted under load.

Whatever breaks, every patient registered at a desk reaches the server exactly once, keeps the
MRN printed for it, and the desk's cache ends up showing what the server holds.
"""

import contextlib
import os
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import select

from hms_core.db import Patient, User
from hms_core.rules.mrn import is_valid_mrn
from hms_core.services import Actor
from hms_desktop.store import mrns
from hms_desktop.store.cache import CACHE_FILE, LocalStore
from hms_desktop.store.schema import mrn_block, outbox
from hms_desktop.sync.api_client import ApiError, ServerUnreachable
from hms_desktop.sync.engine import ServerBusy
from hms_server import embedded_pg
from hms_server.auth import create_user
from hms_server.db import Database, make_engine, migrate
from hms_server.live import libpq_uri
from tests.conftest import TEST_USERS
from tests.sync.helpers import Pc, make_pc, new_patient

HMS_SERVER = str(Path(sys.executable).parent / "hms-server")
WRITER = Path(__file__).with_name("sync_writer.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST_BIRTH = date(1940, 1, 1)


# --- pieces -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def letters(n: int) -> str:
    """0 -> 'Aaa', 1 -> 'Aab', ...: distinct alphabetic names."""
    out = ""
    for _ in range(3):
        n, r = divmod(n, 26)
        out = chr(ord("a") + r) + out
    return out.capitalize()


def register(pc: Pc, n: int, family: str) -> tuple[str, str]:
    """Register patient number `n` offline (distinct name and birth date: no duplicate warning)."""
    born = (FIRST_BIRTH + timedelta(days=n)).isoformat()
    saved = pc.patients.register_patient(new_patient(f"Fault {letters(n)}", family, born))
    return str(saved.id), saved.mrn


@dataclass
class Endpoint:
    """What tests.sync.helpers.make_pc needs: where the server is, and who may sign in."""

    url: str
    users: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(TEST_USERS))


class ServerProcess:
    """`hms-server serve` as its own process, killable with SIGKILL and restartable on its port."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        data_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.starts += 1
        log = (self.data_dir / f"server-{self.starts}.log").open("w")
        env = {**os.environ, "HMS_DATABASE_URL": self.database_url}
        self.process = subprocess.Popen(
            [HMS_SERVER, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + ["--data-dir", str(self.data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer /health in time:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, open transactions die with their connections."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)

    def log_tail(self) -> str:
        log = self.data_dir / f"server-{self.starts}.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""


@pytest.fixture
def server_process(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, tmp_path / "server")
    server.start()
    yield server
    server.stop()


def server_patients(database_url: str) -> dict[str, str]:
    """patient id -> MRN, as the server holds them (every row, not deduplicated)."""
    with psycopg.connect(libpq_uri(database_url)) as conn:
        rows = conn.execute("SELECT id::text, mrn FROM patient").fetchall()
    found = dict(rows)
    assert len(found) == len(rows)
    return found


def applied_registrations(database_url: str) -> list[tuple[str, str]]:
    """(mutation_id, status) of every register_patient the server has recorded."""
    with psycopg.connect(libpq_uri(database_url)) as conn:
        return conn.execute(
            "SELECT mutation_id::text, status FROM applied_mutation WHERE name = 'register_patient'"
        ).fetchall()


def patient_changes(database_url: str) -> int:
    with psycopg.connect(libpq_uri(database_url)) as conn:
        return conn.execute(
            "SELECT count(*) FROM change_log WHERE table_name = 'patient'"
        ).fetchone()[0]


def cached_patients(store: LocalStore) -> dict[str, str]:
    """patient id -> MRN in a desk's cache."""
    rows = store.read(lambda s: s.execute(select(Patient.id, Patient.mrn)).all())
    found = {str(pid): mrn for pid, mrn in rows}
    assert len(found) == len(rows)
    return found


def outbox_rows(store: LocalStore) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.seq)).mappings()]


def sync_until_drained(pc: Pc, attempts: int, pause: float = 0.5) -> list[Exception]:
    """What the desktop's sync worker does: retry a full round until nothing is pending."""
    failures: list[Exception] = []
    for _ in range(attempts):
        try:
            pc.engine.sync_once()
            if pc.store.counts()["pending"] == 0:
                return failures
        except (ServerUnreachable, ServerBusy, ApiError) as exc:
            failures.append(exc)
        time.sleep(pause)
    raise AssertionError(
        f"still {pc.store.counts()['pending']} pending after {attempts} rounds; "
        f"failures: {failures[-5:]!r}"
    )


# --- 1. the server process dies in the middle of a push -------------------------------------


def test_server_killed_mid_push_loses_and_doubles_nothing(server_process, database_url, tmp_path):
    pc = make_pc(Endpoint(server_process.url), tmp_path / "pcs")
    pc.engine.sync_once()  # snapshot and a block of MRNs to register with while offline
    total = 600
    assert mrns.remaining(pc.store) >= total
    queued = dict(register(pc, n, "Midpush") for n in range(total))
    assert pc.store.counts()["pending"] == total

    failures: list[Exception] = []

    def push() -> None:
        try:
            pc.engine.push_pending()
        except Exception as exc:  # noqa: BLE001 - inspected below
            failures.append(exc)

    pusher = threading.Thread(target=push, daemon=True)
    pusher.start()
    # Kill the moment the server's first batch commits: the client is waiting for that answer
    # or already sending the next batch.
    deadline = time.monotonic() + 60
    applied_at_kill = 0
    while time.monotonic() < deadline and pusher.is_alive():
        applied_at_kill = len(applied_registrations(database_url))
        if applied_at_kill > 0:
            break
        time.sleep(0.01)
    server_process.kill()
    pusher.join(timeout=60)
    assert not pusher.is_alive()
    assert 0 < applied_at_kill < total, "the kill was meant to land in the middle of the push"
    assert len(failures) == 1 and isinstance(failures[0], ServerUnreachable), failures
    assert pc.store.counts()["pending"] > 0  # not everything was acknowledged
    # The desk still shows every patient, from its cache, while the server is down.
    assert cached_patients(pc.store) == queued

    server_process.start()  # same port, same database
    sync_until_drained(pc, attempts=10)

    on_server = server_patients(database_url)
    assert on_server == queued  # every patient, once, with the MRN the desk printed
    registrations = applied_registrations(database_url)
    assert len(registrations) == total
    assert {status for _, status in registrations} == {"applied"}
    assert patient_changes(database_url) == total
    assert cached_patients(pc.store) == on_server
    assert pc.store.counts() == {"pending": 0, "conflicts": 0, "attention": 0}
    pc.close()


# --- 2. the server commits, then the answer is lost on the way back -------------------------


class LossyProxy:
    """A TCP relay on 127.0.0.1 that loses the answer to the first POST /sync/push.

    The request reaches the server whole; when the server starts answering (it has committed),
    the relay closes the client's connection instead of passing the answer on.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.armed = True
        self.lock = threading.Lock()
        self.lost_answer = b""
        self.dropped = threading.Event()
        self.pushes_relayed = 0
        self.sockets: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def close(self) -> None:
        _shut(self.listener)  # shutdown() wakes the blocked accept(); close() alone does not
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            _shut(sock)
        for thread in self.threads:
            thread.join(timeout=10)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            state = {"drop": False}
            pumps = [
                threading.Thread(target=self._up, args=(client, upstream, state), daemon=True),
                threading.Thread(target=self._down, args=(upstream, client, state), daemon=True),
            ]
            with self.lock:
                self.sockets += [client, upstream]
                self.threads += pumps
            for pump in pumps:
                pump.start()

    def _up(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        try:
            while data := client.recv(65536):
                if data.startswith(b"POST /sync/push"):
                    with self.lock:
                        if self.armed:
                            self.armed, state["drop"] = False, True
                        else:
                            self.pushes_relayed += 1
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _shut(upstream)

    def _down(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while data := upstream.recv(65536):
                if state["drop"]:
                    self.lost_answer = data
                    self.dropped.set()
                    return
                client.sendall(data)
        except OSError:
            pass
        finally:
            _shut(client)
            _shut(upstream)


@pytest.fixture
def lossy_proxy(live_server) -> Iterator[LossyProxy]:
    proxy = LossyProxy(int(live_server.url.rsplit(":", 1)[1]))
    yield proxy
    proxy.close()


@pytest.fixture
def desk_via_proxy(lossy_proxy: LossyProxy, tmp_path: Path) -> Iterator[Pc]:
    """A reception desk whose every request goes through the lossy relay."""
    pc = make_pc(Endpoint(lossy_proxy.url), tmp_path / "pcs")
    yield pc
    pc.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def test_answer_lost_after_commit_is_replayed_not_applied_again(
    live_server, database_url, lossy_proxy, desk_via_proxy
):
    proxy, pc = lossy_proxy, desk_via_proxy
    pc.engine.sync_once()
    total = 20
    queued = dict(register(pc, n, "Lostanswer") for n in range(total))

    with pytest.raises(ServerUnreachable):
        pc.engine.push_pending()
    assert proxy.dropped.is_set()
    assert proxy.lost_answer.startswith(b"HTTP/1.1 200")  # the server did answer: it committed
    assert server_patients(database_url) == queued
    # The desk never heard back, so it keeps every entry (never discard before acknowledgement).
    assert pc.store.counts()["pending"] == total

    sent = [str(e["mutation_id"]) for e in outbox_rows(pc.store)]
    answers = []
    push = pc.api.push
    pc.api.push = lambda batch: answers.append(push(batch)) or answers[-1]  # listen in
    assert pc.engine.push_pending() == total  # the retry, relayed this time
    assert proxy.pushes_relayed == 1
    (answer,) = answers
    assert answer.stopped_at is None
    assert [str(o.mutation_id) for o in answer.results] == sent
    assert {o.status for o in answer.results} == {"applied"}
    assert {o.result["patient_id"] for o in answer.results} == set(queued)  # the stored answers

    pc.engine.sync_once()
    assert outbox_rows(pc.store) == []
    assert pc.store.counts() == {"pending": 0, "conflicts": 0, "attention": 0}
    on_server = server_patients(database_url)
    assert on_server == queued
    assert len(applied_registrations(database_url)) == total
    assert patient_changes(database_url) == total
    assert cached_patients(pc.store) == on_server


def test_replayed_answer_keeps_the_patients_on_the_desk_when_a_later_entry_is_rejected(
    live_server, database_url, desk_via_proxy
):
    """The replayed answer must still say where its effects are visible (protocol: `seq`).

    The answer to 20 registrations is lost; before the retry the desk queues one more, which
    the server refuses (the account was changed to a nurse, who may not register). The retry
    returns the 20 stored results and the refusal. The desk takes the refused registration out
    and must keep showing the 20 patients the server accepted.
    """
    pc = desk_via_proxy
    pc.engine.sync_once()
    accepted = dict(register(pc, n, "Replayed") for n in range(20))
    with pytest.raises(ServerUnreachable):
        pc.engine.push_pending()
    assert server_patients(database_url) == accepted
    refused_id, _ = register(pc, 100, "Refused")
    with live_server.db.unit_of_work() as session:  # an administrator changes the account
        user = session.execute(select(User).where(User.username == pc.store.actor.username))
        user.scalar_one().role = "nurse"

    assert pc.engine.push_pending() == 21
    counts = pc.store.counts()
    assert counts["pending"] == 0 and counts["attention"] == 1
    shown = cached_patients(pc.store)
    assert refused_id not in shown
    assert set(accepted) <= set(shown), (
        f"{len(set(accepted) - set(shown))} of the 20 accepted patients vanished from the desk"
    )


# --- 3. the desktop process dies in the middle of writes --------------------------------------


def _run_writer_until_killed(
    directory: Path, actor: Actor, first: int, kill_after: int
) -> list[str]:
    """Start the writer, SIGKILL it right after its `kill_after`-th commit; the ids it reported."""
    process = subprocess.Popen(
        [sys.executable, str(WRITER), str(directory), str(actor.user_id), actor.username]
        + [actor.role, actor.client_id, "1000000", "1010000", str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reported: list[str] = []
    try:
        assert lines.get(timeout=60) == "ready\n", process.stderr.read()
        while len(reported) < kill_after:
            line = lines.get(timeout=30)
            assert line, f"the writer stopped: {process.stderr.read()}"
            reported.append(line.split()[1])
        process.kill()  # now: it is already inside its next write
    finally:
        process.kill()
        process.wait(timeout=30)
    reader.join(timeout=30)
    while (line := lines.get_nowait()) != "":
        reported.append(line.split()[1])  # commits reported before the kill landed
    process.stdout.close()
    process.stderr.close()
    return reported


def test_desktop_killed_mid_write_keeps_cache_and_outbox_together(tmp_path):
    directory = tmp_path / "desk"
    actor = Actor(uuid.uuid4(), "test-reception", "reception", "pc-crash")
    reported: list[str] = []
    for first, kill_after in ((0, 25), (1000, 7), (2000, 40)):  # three crashes, same cache
        reported += _run_writer_until_killed(directory, actor, first, kill_after)

    with sqlite3.connect(directory / CACHE_FILE) as conn:  # opening recovers the WAL
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    store = LocalStore(directory, actor)
    patients = cached_patients(store)
    entries = outbox_rows(store)
    queued_ids = [e["args"]["patient"]["id"] for e in entries if e["name"] == "register_patient"]
    # Every registration the desk reported as saved survived the crash.
    assert set(reported) <= set(patients)
    # Both or neither: each cached patient has exactly one queued registration, and back.
    assert sorted(queued_ids) == sorted(patients)
    assert [e["args"]["mrn"] for e in entries] == [patients[i] for i in queued_ids]
    assert {e["status"] for e in entries} == {"pending"}
    # MRNs: valid, each given once, and the block's counter matches what was handed out.
    assert all(is_valid_mrn(m) for m in patients.values())
    assert len(set(patients.values())) == len(patients)
    with store.engine.connect() as conn:
        block = conn.execute(select(mrn_block)).one()
    assert block.next - block.start == len(patients)
    assert store.counts()["pending"] == len(patients)
    store.close()


# --- 4. PostgreSQL restarts while desks sync -------------------------------------------------


def _pg_ctl(pgdata: Path, *args: str) -> None:
    import pgserver
    from pgserver._commands import pg_ctl

    handle = pgserver.get_server(pgdata)  # the handle embedded_pg.start made in this process
    pg_ctl(list(args), pgdata=handle.pgdata, user=handle.system_user, timeout=120)


def test_postgres_restart_while_syncing_drains_every_patient_once(tmp_path):
    url = embedded_pg.start(tmp_path / "pg")
    pgdata = (tmp_path / "pg" / "pgdata").resolve()
    server: ServerProcess | None = None
    try:
        migrate(url)
        setup = Database(make_engine(url))
        with setup.unit_of_work() as session:
            create_user(session, "desk.one", "reception", "desk-password-1", full_name="Desk")
        setup.engine.dispose()
        server = ServerProcess(url, tmp_path / "server")
        server.start()
        endpoint = Endpoint(server.url, {"reception": ("desk.one", "desk-password-1")})
        pc = make_pc(endpoint, tmp_path / "pcs")
        pc.engine.sync_once()

        stop = threading.Event()
        failures: list[Exception] = []
        rounds = {"ok": 0}

        def sync_loop() -> None:  # the desk's background sync, retrying on every failure
            while not stop.is_set():
                try:
                    pc.engine.sync_once()
                    rounds["ok"] += 1
                except (ServerUnreachable, ServerBusy, ApiError) as exc:
                    failures.append(exc)
                stop.wait(0.05)

        syncer = threading.Thread(target=sync_loop, daemon=True)
        syncer.start()
        queued: dict[str, str] = {}
        for batch in range(6):
            queued.update(register(pc, n, "Pgrestart") for n in range(batch * 40, batch * 40 + 40))
            if batch in (1, 3):  # the desk is pushing what it just registered
                _pg_ctl(pgdata, "-w", "-m", "fast", "restart")
        stop.set()
        syncer.join(timeout=120)
        assert not syncer.is_alive()

        sync_until_drained(pc, attempts=40)
        on_server = server_patients(url)
        assert on_server == queued
        registrations = applied_registrations(url)
        assert len(registrations) == len(queued)
        assert {status for _, status in registrations} == {"applied"}
        assert patient_changes(url) == len(queued)
        pc.engine.pull_changes()
        assert cached_patients(pc.store) == on_server
        assert pc.store.counts() == {"pending": 0, "conflicts": 0, "attention": 0}
        pc.close()
        print(
            f"sync rounds ok={rounds['ok']}, failed={len(failures)}: "
            f"{sorted({type(f).__name__ + ':' + str(getattr(f, 'status', '')) for f in failures})}"
        )
    finally:
        if server is not None:
            server.stop()
        _pg_ctl(pgdata, "-w", "-m", "fast", "stop")
