"""Desktop sync clients for tests: a real SQLite cache and a real HTTP client per 'PC'."""

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from hms_core.db import Patient
from hms_core.schemas.patients import PatientCreate
from hms_core.services import Actor
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.patients import LocalPatients
from hms_desktop.sync.api_client import ApiClient
from hms_desktop.sync.engine import SyncEngine


@dataclass
class Pc:
    """One desktop: its cache, its patients facade, its sync engine."""

    name: str
    api: ApiClient
    store: LocalStore
    patients: LocalPatients
    engine: SyncEngine

    def close(self) -> None:
        self.store.close()
        self.api.close()

    def patient_count(self) -> int:
        return self.store.read(lambda s: s.execute(select(func.count(Patient.id))).scalar_one())


def make_pc(live_server, root: Path, role: str = "reception", name: str | None = None) -> Pc:  # noqa: ANN001
    """Sign in as the test user of `role` and open a fresh cache under `root`."""
    name = name or f"pc-{uuid.uuid4().hex[:6]}"
    return open_pc(live_server.url, live_server.users[role], root / name, name)


def open_pc(url: str, credentials: tuple[str, str], directory: Path, name: str) -> Pc:
    """A desktop named `name` signed in to `url`, its cache in `directory`."""
    api = ApiClient(url, client_id=name)
    answer = api.login(*credentials)
    actor = Actor(answer.user.id, answer.user.username, answer.user.role, name)
    store = LocalStore(directory, actor)
    return Pc(name, api, store, LocalPatients(store), SyncEngine(store, api))


def new_patient(
    given: str, family: str = "Offline", born: str = "1980-05-05", **extra
) -> PatientCreate:
    return PatientCreate(
        given_name=given, family_name=family, birth_date=born, sex="female", **extra
    )
