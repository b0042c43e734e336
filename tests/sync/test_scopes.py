"""What each role's copy holds, rows leaving a scope, and a cache from an older program."""

from sqlalchemy import select, update

from hms_core.db import PatientConflict, User
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.schema import CACHE_TABLES
from tests.sync.helpers import make_pc, new_patient


def rows_of(pc, table: str) -> int:  # noqa: ANN001
    with pc.store.engine.connect() as conn:
        return len(conn.execute(select(CACHE_TABLES[table])).all())


def open_duplicate(live_server, tmp_path):  # noqa: ANN001, ANN201
    """Two offline registrations of one person: a duplicate conflict on the server."""
    first, second = make_pc(live_server, tmp_path), make_pc(live_server, tmp_path)
    for pc in (first, second):
        pc.engine.sync_once()
    first.patients.register_patient(new_patient("Leila", "Haddad", born="1977-07-17"))
    second.patients.register_patient(new_patient("Leila", "Haddad", born="1977-07-17"))
    for pc in (first, second):
        pc.engine.sync_once()
        pc.close()


def test_conflicts_reach_only_roles_that_resolve_them(live_server, tmp_path):
    open_duplicate(live_server, tmp_path)
    reception = make_pc(live_server, tmp_path, role="reception")
    nurse = make_pc(live_server, tmp_path, role="nurse")
    billing = make_pc(live_server, tmp_path, role="billing")
    for pc in (reception, nurse, billing):
        pc.engine.sync_once()
        assert rows_of(pc, "patient") == 2  # demographics: every staff role
    assert rows_of(reception, "patient_conflict") == 1
    assert rows_of(nurse, "patient_conflict") == 0
    assert rows_of(billing, "patient_conflict") == 0
    page = nurse.api.pull(0)  # the wire itself
    assert "patient_conflict" not in page.tables
    assert all(c.table != "patient_conflict" for c in page.changes)
    for pc in (reception, nurse, billing):
        pc.close()


def test_a_role_change_empties_the_tables_that_left_the_scope(live_server, tmp_path):
    open_duplicate(live_server, tmp_path)
    pc = make_pc(live_server, tmp_path, role="reception")
    pc.engine.sync_once()
    assert rows_of(pc, "patient_conflict") == 1
    with live_server.db.unit_of_work() as session:
        session.execute(
            update(User).where(User.username == pc.store.actor.username).values(role="nurse")
        )
    pc.engine.pull_changes()
    assert rows_of(pc, "patient_conflict") == 0
    assert rows_of(pc, "patient") == 2
    pc.close()


def test_a_resolved_conflict_is_evicted_from_every_copy(live_server, tmp_path):
    open_duplicate(live_server, tmp_path)
    deciding, watching = make_pc(live_server, tmp_path), make_pc(live_server, tmp_path)
    for pc in (deciding, watching):
        pc.engine.sync_once()
    [conflict] = deciding.patients.open_conflicts()
    deciding.patients.resolve_conflict(conflict.id, "different")
    deciding.engine.sync_once()
    watching.engine.pull_changes()
    assert rows_of(watching, "patient_conflict") == 0
    with live_server.db.unit_of_work() as session:
        assert session.get(PatientConflict, conflict.id).resolution == "different"
    for pc in (deciding, watching):
        pc.close()


def test_a_cache_written_by_an_older_program_is_rebuilt_keeping_its_outbox(live_server, tmp_path):
    pc = make_pc(live_server, tmp_path)
    pc.engine.sync_once()
    queued = pc.patients.register_patient(new_patient("Old", "Format"))
    pc.store.set_state("cache_schema", 0)  # as an older version of the program left it
    pc.store.close()
    reopened = LocalStore(pc.store.directory, pc.store.actor)
    assert reopened.get_state("last_seq") is None  # its rows will be taken again
    assert reopened.counts()["pending"] == 1
    pc.store = reopened
    pc.engine.store = reopened
    pc.patients.store = reopened
    pc.engine.sync_once()
    assert reopened.counts()["pending"] == 0
    assert [p.mrn for p in pc.patients.search_patients("old format")] == [queued.mrn]
    pc.close()
