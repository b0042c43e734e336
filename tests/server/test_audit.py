"""The audit trail: every read and write of a patient, filters, and append-only storage."""

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from hms_core.db import AuditEvent, PatientAllergy
from tests.server.test_patients_api import AMINA


def test_reads_and_writes_of_a_patient_are_audited_and_filterable(live_server):
    with live_server.client("reception") as reception:
        patient = reception.post("/api/patients", json=AMINA).json()
        reception.patch(f"/api/patients/{patient['id']}", json={"city": "Abuja", "allergies": []})
    with live_server.client("doctor") as doctor:
        doctor.get(f"/api/patients/{patient['id']}")
        doctor.get("/api/patients", params={"q": "okafor"})
    with live_server.client("admin") as admin:
        trail = admin.get("/api/audit", params={"patient_id": patient["id"]}).json()
        by_doctor = admin.get("/api/audit", params={"username": "test-doctor"}).json()
        since_now = admin.get("/api/audit", params={"since": "2999-01-01T00:00:00Z"}).json()
    actions = [(e["action"], e["actor_username"], e["actor_role"]) for e in reversed(trail)]
    assert actions == [
        ("patient.register", "test-reception", "reception"),
        ("patient.update", "test-reception", "reception"),
        ("patient.read", "test-doctor", "doctor"),
    ]
    assert all(e["client_id"] == "pytest" and e["client_address"] == "127.0.0.1" for e in trail)
    assert trail[1]["detail"]["fields"] == ["allergies", "city"]
    assert {e["action"] for e in by_doctor} >= {"auth.login", "patient.read", "patient.search"}
    assert since_now == []
    # The removed allergy is voided, never deleted.
    with live_server.db.unit_of_work() as session:
        allergy = session.execute(select(PatientAllergy)).scalar_one()
    assert allergy.deleted_at is not None


def test_denied_access_is_audited(live_server):
    with live_server.client("billing") as billing:
        assert billing.get("/api/audit").status_code == 403
    with live_server.db.unit_of_work() as session:
        denied = session.execute(
            select(AuditEvent).where(AuditEvent.action == "access.denied")
        ).scalar_one()
    assert denied.actor_username == "test-billing"
    assert denied.detail == {"permission": "audit.read", "path": "/api/audit"}


def test_the_database_refuses_to_change_or_remove_audit_events(live_server):
    with live_server.client("reception") as client:
        client.get("/api/patients", params={"q": "x"})
    for statement in (
        update(AuditEvent).values(action="tampered"),
        delete(AuditEvent),
        text("TRUNCATE audit_event"),
    ):
        with (
            pytest.raises(DBAPIError, match="append-only"),
            live_server.db.unit_of_work() as session,
        ):
            session.execute(statement)


def test_no_route_modifies_the_audit_trail(live_server):
    with live_server.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    audit_methods = {m for p, item in paths.items() if p.startswith("/api/audit") for m in item}
    assert audit_methods == {"get"}
