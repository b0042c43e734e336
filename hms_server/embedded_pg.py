"""The private PostgreSQL (from the pgserver package) used when no HMS_DATABASE_URL is set."""

import logging
import subprocess
import warnings
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (services, CI); its fallback is fine.
    warnings.simplefilter("ignore", UserWarning)
    import pgserver

log = logging.getLogger(__name__)
DATABASE = "hms"


def start(data_dir: Path, database: str = DATABASE) -> str:
    """Start (or join) the embedded server in `data_dir` and return a SQLAlchemy URL for it.

    pgserver shares one postmaster between processes that use the same directory, so the
    server and administration commands run against the same database, started once.
    """
    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except subprocess.TimeoutExpired:
        # pgserver gives pg_ctl ten seconds; on a loaded machine the postmaster can be up
        # and ready just after that. Joining it again finds it running.
        log.warning("embedded PostgreSQL was slow to start; checking again")
        pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)  # the half-made handle
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    uri = server.get_uri()
    ensure_database(uri, database)
    log.info("embedded PostgreSQL running in %s", pgdata)
    return to_sqlalchemy_url(server.get_uri(database))


def ensure_database(admin_uri: str, database: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def to_sqlalchemy_url(uri: str) -> str:
    """postgresql://… → postgresql+psycopg://… (psycopg 3 driver)."""
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    if uri.startswith("postgres://"):
        return "postgresql+psycopg://" + uri.removeprefix("postgres://")
    return uri
