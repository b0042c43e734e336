"""Concurrent edits: field-by-field merge, identity conflicts and duplicates in the inbox."""

from sqlalchemy import select

from hms_core.db import AuditEvent, Patient, PatientConflict
from hms_core.schemas.patients import PatientUpdate
from tests.sync.helpers import make_pc, new_patient


def synced_pair(live_server, tmp_path):  # noqa: ANN001, ANN201
    first, second = make_pc(live_server, tmp_path), make_pc(live_server, tmp_path)
    first.engine.sync_once()
    patient = first.patients.register_patient(new_patient("Nadia", "Karimi", born="1988-08-08"))
    first.engine.sync_once()
    second.engine.sync_once()
    return first, second, second.patients.get_patient(patient.id)


def server_row(live_server, patient_id) -> Patient:  # noqa: ANN001
    with live_server.db.unit_of_work() as session:
        return session.get(Patient, patient_id)


def test_untouched_fields_merge_and_a_low_risk_field_goes_to_the_later_arrival(
    live_server, tmp_path
):
    first, second, patient = synced_pair(live_server, tmp_path)
    first.patients.update_patient(
        patient.id,
        PatientUpdate(city="Herat", phone="0700 111 222", expected_row_version=1),
        patient,
    )
    second.patients.update_patient(
        patient.id,
        PatientUpdate(city="Kabul", email="n@k.example", expected_row_version=1),
        patient,
    )
    first.engine.sync_once()
    second.engine.sync_once()
    first.engine.sync_once()
    row = server_row(live_server, patient.id)
    assert (row.city, row.phone, row.email) == ("Kabul", "0700 111 222", "n@k.example")
    for pc in (first, second):
        mine = pc.patients.get_patient(patient.id)
        assert (mine.city, mine.phone, mine.email, mine.row_version) == (
            row.city,
            row.phone,
            row.email,
            row.row_version,
        )
        assert pc.patients.open_conflicts() == []
        pc.close()


def test_identity_field_changed_on_two_pcs_goes_to_the_inbox_and_is_resolved(live_server, tmp_path):
    first, second, patient = synced_pair(live_server, tmp_path)
    first.patients.update_patient(
        patient.id, PatientUpdate(family_name="Karimi-Ahmadi", expected_row_version=1), patient
    )
    second.patients.update_patient(
        patient.id,
        PatientUpdate(family_name="Karimy", city="Mazar", expected_row_version=1),
        patient,
    )
    first.engine.sync_once()
    second.engine.sync_once()
    row = server_row(live_server, patient.id)
    assert (row.family_name, row.city) == ("Karimi-Ahmadi", "Mazar")  # identity kept, city merged
    first.engine.pull_changes()
    [conflict] = first.patients.open_conflicts()
    assert conflict.kind == "identity"
    assert conflict.fields["family_name"] == {
        "base": "Karimi",
        "ours": "Karimy",
        "theirs": "Karimi-Ahmadi",
    }
    assert [c.id for c in second.patients.open_conflicts()] == [conflict.id]
    first.patients.resolve_conflict(conflict.id, "keep_ours")
    assert first.patients.open_conflicts() == []  # at once, from the cache
    first.engine.sync_once()
    second.engine.pull_changes()
    assert server_row(live_server, patient.id).family_name == "Karimy"
    assert second.patients.get_patient(patient.id).family_name == "Karimy"
    assert second.patients.open_conflicts() == []  # resolved rows are evicted
    with live_server.db.unit_of_work() as session:
        stored = session.get(PatientConflict, conflict.id)
        assert (stored.status, stored.resolution) == ("resolved", "keep_ours")
        actions = session.execute(select(AuditEvent.action)).scalars().all()
    assert "conflict.open" in actions and "conflict.resolve" in actions
    for pc in (first, second):
        pc.close()


def test_same_patient_registered_on_two_offline_pcs_is_offered_for_a_reversible_merge(
    live_server, tmp_path
):
    first, second = make_pc(live_server, tmp_path), make_pc(live_server, tmp_path)
    for pc in (first, second):
        pc.engine.sync_once()
    mine = first.patients.register_patient(new_patient("Samuel", "Okoro", born="1970-07-07"))
    theirs = second.patients.register_patient(new_patient("Samuel", "Okoro", born="1970-07-07"))
    assert mine.mrn != theirs.mrn
    first.engine.sync_once()
    second.engine.sync_once()
    assert server_row(live_server, theirs.id) is not None  # both registrations kept
    [conflict] = second.patients.open_conflicts()
    assert conflict.kind == "duplicate"
    assert {conflict.patient.id, conflict.other.id} == {mine.id, theirs.id}
    second.patients.resolve_conflict(conflict.id, "merge", survivor_id=mine.id)
    second.engine.sync_once()
    assert server_row(live_server, theirs.id).merged_into_id == mine.id
    assert [p.mrn for p in second.patients.search_patients("okoro samuel")] == [mine.mrn]
    second.patients.unmerge_patient(theirs.id)
    second.engine.sync_once()
    assert server_row(live_server, theirs.id).merged_into_id is None
    first.engine.pull_changes()
    assert len(first.patients.search_patients("okoro samuel")) == 2
    for pc in (first, second):
        pc.close()
