"""Database engine, migrations and the per-request unit of work."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from hms_server import changelog, embedded_pg
from hms_server.monitoring import charting
from hms_server.notify import hooks as notify_hooks
from hms_server.settings import Settings, get_settings

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded one started in the data directory."""
    if settings.database_url is not None:
        return embedded_pg.to_sqlalchemy_url(settings.database_url.get_secret_value())
    return embedded_pg.start(settings.data_dir)


def make_engine(url: str) -> Engine:
    # Sessions in UTC: psycopg then returns datetime.UTC moments, which need no conversion.
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC"},
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["database_url"] = url
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class Database:
    """The engine plus a session factory; one unit of work per request.

    Every commit turns the domain events of its services into notifications (an outbox, in
    the same transaction) and records its replicated rows in the change log.
    """

    def __init__(self, engine: Engine, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings or get_settings()
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        notify_hooks.install(self.sessions, self.settings)
        charting.install(self.sessions)  # after notify: its listener then runs first
        changelog.install(self.sessions)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session
