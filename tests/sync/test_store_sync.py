"""A desktop cache against a live server: offline writes, push, pull, rebase, snapshot."""

import uuid

import pytest
from sqlalchemy import select

from hms_core.db import AppliedMutation, Patient, User
from hms_core.rules.mrn import is_valid_mrn
from hms_core.schemas.patients import PatientUpdate
from hms_core.services.errors import Conflict, DuplicateSuspected
from hms_desktop.store.patients import CacheNotReady, duplicate_candidates
from tests.sync.helpers import make_pc, new_patient


def server_patients(live_server) -> dict[str, Patient]:
    with live_server.db.unit_of_work() as session:
        return {str(p.id): p for p in session.execute(select(Patient)).scalars()}


def test_registration_offline_keeps_its_mrn_and_reaches_the_server_once(live_server, tmp_path):
    pc = make_pc(live_server, tmp_path)
    pc.engine.sync_once()  # first contact: snapshot and an MRN block
    saved = pc.patients.register_patient(new_patient("Ada"))
    assert is_valid_mrn(saved.mrn)
    assert [p.mrn for p in pc.patients.search_patients("ada offline")] == [saved.mrn]
    assert pc.store.counts()["pending"] == 1
    pc.engine.sync_once()
    pc.engine.sync_once()
    on_server = server_patients(live_server)[str(saved.id)]
    assert on_server.mrn == saved.mrn
    assert pc.store.counts()["pending"] == 0
    with live_server.db.unit_of_work() as session:
        names = session.execute(select(AppliedMutation.name)).scalars().all()
    assert names.count("register_patient") == 1
    pc.close()


def test_second_client_sees_the_change_after_a_pull(live_server, tmp_path):
    first, second = make_pc(live_server, tmp_path), make_pc(live_server, tmp_path)
    for pc in (first, second):
        pc.engine.sync_once()
    patient = first.patients.register_patient(new_patient("Grace", "Hopper"))
    first.engine.sync_once()
    second.engine.pull_changes()
    assert [p.id for p in second.patients.search_patients("grace")] == [patient.id]
    edited = second.patients.update_patient(
        patient.id, PatientUpdate(city="Arlington", expected_row_version=1), patient
    )
    assert edited.city == "Arlington"
    second.engine.sync_once()
    first.engine.pull_changes()
    assert first.patients.get_patient(patient.id).city == "Arlington"
    for pc in (first, second):
        pc.close()


def test_server_rejection_takes_the_change_out_and_lists_it_for_attention(live_server, tmp_path):
    pc = make_pc(live_server, tmp_path, role="nurse")
    reception = make_pc(live_server, tmp_path, role="reception")
    reception.engine.sync_once()
    patient = reception.patients.register_patient(new_patient("Mary", "Seacole"))
    reception.engine.sync_once()
    pc.engine.sync_once()
    edited = pc.patients.update_patient(
        patient.id, PatientUpdate(city="Kingston", expected_row_version=1), patient
    )
    assert edited.city == "Kingston"  # shown at once, from the cache
    with live_server.db.unit_of_work() as session:  # meanwhile the nurse's role is withdrawn
        user = session.execute(select(User).where(User.username == pc.store.actor.username))
        user.scalar_one().role = "billing"
    pc.engine.push_pending()
    assert pc.patients.get_patient(patient.id).city is None
    counts = pc.store.counts()
    assert counts["pending"] == 0 and counts["attention"] == 1
    for p in (pc, reception):
        p.close()


def test_snapshot_rebuild_keeps_the_outbox(live_server, tmp_path):
    pc = make_pc(live_server, tmp_path)
    pc.engine.sync_once()
    queued = pc.patients.register_patient(new_patient("Kept", "Outbox"))
    pc.engine.rebuild()  # e.g. after a 410 or a cache schema change
    assert pc.patients.get_patient(queued.id).mrn == queued.mrn
    assert pc.store.counts()["pending"] == 1
    pc.engine.sync_once()
    assert str(queued.id) in server_patients(live_server)
    pc.close()


def test_before_the_first_copy_arrives_search_says_so_instead_of_finding_nobody(
    live_server, tmp_path
):
    pc = make_pc(live_server, tmp_path)
    with pytest.raises(CacheNotReady, match="still copying the patient list"):
        pc.patients.search_patients("anyone")
    pc.engine.sync_once()
    assert pc.patients.search_patients("anyone") == []
    pc.close()


def test_duplicate_candidates_are_read_from_a_duplicate_refusal():
    candidate = {
        "patient": {
            "id": str(uuid.uuid4()),
            "mrn": "10000016",
            "given_name": "A",
            "family_name": "B",
            "birth_date": "1980-01-01",
            "birth_date_estimated": False,
            "sex": "female",
            "phone": None,
        },
        "reasons": ["same phone number"],
    }
    exc = DuplicateSuspected("Maybe", detail={"candidates": [candidate]})
    assert duplicate_candidates(exc)[0].patient.mrn == "10000016"
    assert duplicate_candidates(Conflict("x")) == []
