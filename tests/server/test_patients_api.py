"""Patient registration, validation, duplicates, search and update through the HTTP API."""

from datetime import date, timedelta

from sqlalchemy import func, select

from hms_core.db import AuditEvent, Patient
from hms_core.rules.mrn import is_valid_mrn

AMINA = {
    "given_name": "Amina",
    "family_name": "Okafor",
    "birth_date": "1990-05-01",
    "sex": "female",
    "phone": "+234 803 555 0101",
    "email": "amina@example.org",
    "address_line": "12 Market Street",
    "city": "Lagos",
    "preferred_language": "Yoruba",
    "next_of_kin_name": "Chidi Okafor",
    "next_of_kin_relationship": "spouse",
    "next_of_kin_phone": "+234 803 555 0102",
    "insurance_payer": "National Health Fund",
    "insurance_policy_number": "NHF-123456",
    "insurance_valid_until": "2027-12-31",
    "allergies": [{"substance": "Penicillin", "reaction": "Hives", "severity": "severe"}],
    "past_conditions": "Asthma",
    "past_surgeries": "Appendectomy 2010",
}


def register(client, **changes):
    return client.post("/api/patients", json={**AMINA, **changes})


def patient_count(live_server) -> int:
    with live_server.db.unit_of_work() as session:
        return session.execute(select(func.count(Patient.id))).scalar_one()


def test_register_returns_full_record_with_valid_mrn(live_server):
    with live_server.client("reception") as client:
        response = register(client)
        assert response.status_code == 201, response.text
        body = response.json()
        again = client.get(f"/api/patients/{body['id']}").json()
    assert is_valid_mrn(body["mrn"])
    assert body["allergies"][0]["substance"] == "Penicillin"
    assert body["insurance_policy_number"] == "NHF-123456"
    assert again == body


def test_mrns_are_unique_and_sequential(live_server):
    with live_server.client("reception") as client:
        first = register(client).json()
        second = register(client, given_name="Bola", phone="+234 803 555 0199").json()
    assert first["mrn"] != second["mrn"]
    assert int(second["mrn"][:-1]) == int(first["mrn"][:-1]) + 1


def test_estimated_age(live_server):
    with live_server.client("reception") as client:
        body = register(
            client,
            given_name="Unknown",
            family_name="Adult",
            birth_date=None,
            estimated_age_years=45,
            phone=None,
        ).json()
    assert body["birth_date_estimated"] is True
    assert date.today().year - date.fromisoformat(body["birth_date"]).year == 45


def test_bad_input_names_each_field_and_saves_nothing(live_server):
    future = (date.today() + timedelta(days=3)).isoformat()
    with live_server.client("reception") as client:
        response = register(
            client,
            given_name="",
            family_name=None,
            birth_date=future,
            phone="phone me",
            email="amina@",
            allergies=[{"substance": ""}],
        )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {f["field"]: f["message"] for f in error["fields"]}
    assert fields["given_name"] == "This is required"
    assert fields["family_name"] == "This is required"
    assert fields["birth_date"] == "Date of birth cannot be in the future"
    assert "digits" in fields["phone"]
    assert "email" in fields
    assert "allergies.0.substance" in fields
    assert patient_count(live_server) == 0


def test_wrong_types_and_hostile_input(live_server):
    with live_server.client("reception") as client:
        wrong = register(client, birth_date=12345, sex="banana", allergies="none")
        huge = client.post(
            "/api/patients",
            content=b"{" + b'"x":"' + b"y" * 2_000_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        streamed = client.post(
            "/api/patients",
            content=(b"x" * 100_000 for _ in range(30)),
            headers={"Content-Type": "application/json"},
        )
        injection = register(client, family_name="Robert'); DROP TABLE patient;--")
        search = client.get("/api/patients", params={"q": "' OR '1'='1"})
    fields = {f["field"] for f in wrong.json()["error"]["fields"]}
    assert {"birth_date", "sex", "allergies"} <= fields
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    assert streamed.status_code == 413
    assert injection.status_code == 201
    assert injection.json()["family_name"] == "Robert'); DROP TABLE patient;--"
    assert search.status_code == 200 and search.json() == []
    assert patient_count(live_server) == 1


def test_duplicate_check_offers_candidates_and_requires_a_decision(live_server):
    with live_server.client("reception") as client:
        original = register(client).json()
        similar = {**AMINA, "given_name": "Aminah", "phone": "+234 700 000 0000"}
        check = client.post("/api/patients/duplicates", json=similar).json()
        refused = client.post("/api/patients", json=similar)
        forced = client.post(
            "/api/patients",
            json={
                **similar,
                "duplicate_review": {"decision": "new_patient", "candidate_ids": [original["id"]]},
            },
        )
        same_phone = client.post(
            "/api/patients/duplicates",
            json={"given_name": "Someone", "family_name": "Else", "phone": AMINA["phone"]},
        ).json()
        match = client.post(f"/api/patients/{original['id']}/duplicate-match")
    assert [c["patient"]["id"] for c in check] == [original["id"]]
    assert "similar name and same date of birth" in check[0]["reasons"]
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "duplicate_suspected"
    assert refused.json()["error"]["detail"]["candidates"][0]["patient"]["mrn"] == original["mrn"]
    assert forced.status_code == 201
    assert same_phone[0]["reasons"] == ["same phone number"]
    assert match.status_code == 204
    with live_server.db.unit_of_work() as session:
        reviews = (
            session.execute(
                select(AuditEvent.detail).where(AuditEvent.action == "patient.duplicate_review")
            )
            .scalars()
            .all()
        )
    assert {r["decision"] for r in reviews} == {"new_patient", "same_patient"}


def test_search_by_fragments_any_order_accents_mrn_and_phone(live_server):
    with live_server.client("reception") as client:
        jose = register(
            client, given_name="José", family_name="Núñez García", phone="+34 612 345 678"
        ).json()
        register(
            client,
            given_name="Joseph",
            family_name="Smith",
            phone="+1 555 222 3333",
            birth_date="1970-01-01",
        )

        def names(q):
            return [p["given_name"] for p in client.get("/api/patients", params={"q": q}).json()]

        assert names("nun jos") == ["José"]
        assert names("GARCIA") == ["José"]
        assert names("jos") == ["José", "Joseph"]
        assert names(jose["mrn"]) == ["José"]
        assert names("34612") == ["José"]
        assert names("+34 612") == ["José"]
        typo = jose["mrn"][:-1] + str((int(jose["mrn"][-1]) + 1) % 10)
        assert names(typo) == []
        assert names("zzzz") == []


def test_update_merges_changed_fields_and_detects_stale_edits(live_server):
    with live_server.client("reception") as client:
        patient = register(client).json()
        pid = patient["id"]
        changed = client.patch(
            f"/api/patients/{pid}",
            json={
                "city": "Abuja",
                "expected_row_version": patient["row_version"],
                "allergies": [{"substance": "Latex", "severity": "mild"}],
            },
        )
        stale = client.patch(
            f"/api/patients/{pid}",
            json={"city": "Kano", "expected_row_version": patient["row_version"]},
        )
        renamed = client.patch(f"/api/patients/{pid}", json={"family_name": "Okafor-Bello"})
        found = client.get("/api/patients", params={"q": "bello"}).json()
        bad = client.patch(f"/api/patients/{pid}", json={"birth_date": "2999-01-01"})
        missing = client.patch(
            "/api/patients/00000000-0000-7000-8000-000000000000", json={"city": "X"}
        )
    assert changed.status_code == 200
    body = changed.json()
    assert body["city"] == "Abuja" and body["given_name"] == "Amina"
    assert [a["substance"] for a in body["allergies"]] == ["Latex"]
    assert body["row_version"] == patient["row_version"] + 1
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert renamed.json()["family_name"] == "Okafor-Bello"
    assert [p["id"] for p in found] == [pid]
    assert bad.status_code == 422
    assert missing.status_code == 404
