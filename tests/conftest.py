"""Shared fixtures: a real PostgreSQL, one fresh database per test, a live server on 127.0.0.1."""

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy.engine import make_url

from hms_server import embedded_pg
from hms_server.app import create_app
from hms_server.auth import create_user
from hms_server.db import Database, make_engine, migrate
from hms_server.settings import Settings

ROLES = ("admin", "reception", "doctor", "nurse", "lab", "pharmacy", "billing", "patient")
# Test accounts, one per role, created once in the template database.
TEST_USERS = {role: (f"test-{role}", f"{role}-password-1") for role in ROLES}
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# Where a clone has no ../shared/data beside it, the copies in the repository (tests/data/README.md)
COPIES = {
    "hl7/pcd01_oru_r01_vitals.hl7": ROOT / "tests" / "data" / "pcd01_oru_r01_vitals.hl7",
    "vitals/mimic2_s00001_numerics_1min.csv": ROOT
    / "resources"
    / "monitoring"
    / "mimic2_s00001_numerics_1min.csv",
}


def shared_data(relative: str) -> Path:
    """A file of the shared reference data (../shared/data), or the repository's copy of it."""
    shared = SHARED_DATA / relative
    return shared if shared.exists() else COPIES[relative]


@pytest.fixture(scope="session")
def pg_admin_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A libpq URI of a PostgreSQL server on which tests may create databases."""
    url = os.environ.get("HMS_TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql+psycopg://", "postgresql://")
    data_dir = tmp_path_factory.mktemp("pg")
    sqlalchemy_url = embedded_pg.start(data_dir, database="postgres")
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")


def _database_uri(admin_uri: str, name: str) -> str:
    return (
        make_url(embedded_pg.to_sqlalchemy_url(admin_uri))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def template_database(pg_admin_uri: str) -> str:
    """A migrated database holding the test users, copied for every test."""
    name = f"hms_template_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _database_uri(pg_admin_uri, name)
    migrate(url)
    db = Database(make_engine(url))
    with db.unit_of_work() as session:
        for role, (username, password) in TEST_USERS.items():
            create_user(session, username, role, password, full_name=f"Test {role.title()}")
    db.engine.dispose()
    yield name
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_admin_uri: str, template_database: str) -> Iterator[str]:
    """A fresh database of this test's own, cloned from the template."""
    name = f"hms_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield _database_uri(pg_admin_uri, name)
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url: str, server_settings: Settings) -> Iterator[Database]:
    database = Database(make_engine(database_url), server_settings)
    yield database
    database.engine.dispose()


@dataclass
class LiveServer:
    """A real uvicorn server on 127.0.0.1 serving the app over this test's database."""

    url: str
    db: Database
    settings: Settings
    users: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(TEST_USERS))

    def client(self, role: str | None = None) -> httpx.Client:
        """An HTTP client, signed in as the test user of `role` when given."""
        headers = {"X-HMS-Client": "pytest"}
        if role is not None:
            headers["Authorization"] = f"Bearer {self.token(role)}"
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)

    def token(self, role: str) -> str:
        username, password = self.users[role]
        response = httpx.post(
            f"{self.url}/api/auth/login",
            json={"username": username, "password": password},
            headers={"X-HMS-Client": "pytest"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]


def start_server(app, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:  # noqa: ANN001
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server failed to start")
        threading.Event().wait(0.01)
    return server, thread


def close_live_sockets(app) -> None:  # noqa: ANN001
    """End open WebSockets and long polls first: a desktop under test cannot answer a close
    while its event loop is not running, and the server would wait its graceful timeout."""
    app.state.feed.release_waiters()
    for name in ("live_hub", "monitor_hub"):
        hub = getattr(app.state, name, None)
        if hub is not None:
            hub.close_sockets()


@dataclass
class RestartableServer:
    """A real server on a fixed 127.0.0.1 port that a test can stop and start again."""

    app: object
    port: int
    users: dict = field(default_factory=lambda: dict(TEST_USERS))
    _running: tuple | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.app.state.feed.reopen()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        server, thread = start_server(self.app, sock)
        self._running = (server, thread, sock)

    def stop(self) -> None:
        if self._running is not None:
            close_live_sockets(self.app)
            server, thread, sock = self._running
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
            self._running = None


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "server", lockout_minutes=15, max_failed_logins=5)


@pytest.fixture
def live_server(db: Database, server_settings: Settings) -> Iterator[LiveServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(server_settings, db)
    server, thread = start_server(app, sock)
    yield LiveServer(url=f"http://127.0.0.1:{port}", db=db, settings=server_settings)
    close_live_sockets(app)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def demo_users() -> dict[str, tuple[str, str]]:
    """role -> (username, password) of the accounts every test database holds."""
    return dict(TEST_USERS)
