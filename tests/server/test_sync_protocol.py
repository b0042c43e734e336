"""The sync endpoints: exactly-once push, stored rejections, commit-ordered pull, snapshots."""

import json
import threading
import uuid

from sqlalchemy import func, select

from hms_core import SCHEMA_VERSION
from hms_core.db import ChangeLog, Patient
from hms_core.rules.mrn import is_valid_mrn, make_mrn
from hms_core.schemas.patients import PatientCreate, PatientUpdate
from hms_core.services import Actor
from hms_core.services.patients import register_patient, update_patient
from hms_server import changelog

CLIENT = "ward-pc-1"


def envelope(name: str, args: dict, mutation_id: uuid.UUID | None = None) -> dict:
    return {"mutation_id": str(mutation_id or uuid.uuid4()), "name": name, "args": args}


def register_args(given: str, family: str = "Syncson", born: str = "1980-02-02", **extra) -> dict:
    patient = {
        "id": str(uuid.uuid4()),
        "given_name": given,
        "family_name": family,
        "birth_date": born,
        "sex": "female",
        **extra,
    }
    return {"patient": patient}


def push(client, *mutations, schema_version=SCHEMA_VERSION):
    response = client.post(
        "/sync/push",
        json={"client_id": CLIENT, "schema_version": schema_version, "mutations": list(mutations)},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_push_applies_each_mutation_exactly_once(live_server):
    first = envelope("register_patient", register_args("Once"))
    with live_server.client("reception") as client:
        answer = push(client, first)
        replay = push(client, first)
    assert answer["results"][0]["status"] == "applied"
    assert is_valid_mrn(answer["results"][0]["result"]["mrn"])
    assert replay["results"] == answer["results"]
    with live_server.db.unit_of_work() as session:
        assert session.execute(select(func.count(Patient.id))).scalar_one() == 1


def test_rejections_are_stored_with_reasons_and_do_not_block_later_mutations(live_server):
    bad = envelope("register_patient", register_args("", born="2999-01-01"))
    unknown = envelope("teleport_patient", {})
    good = envelope("register_patient", register_args("After"))
    with live_server.client("reception") as client:
        answer = push(client, bad, unknown, good)
        replay = push(client, bad)
    statuses = [r["status"] for r in answer["results"]]
    assert statuses == ["rejected", "rejected", "applied"]
    assert answer["results"][0]["error"]["fields"] == {
        "patient.given_name": "This is required",
        "patient.birth_date": "Date of birth cannot be in the future",
    }
    assert answer["results"][1]["error"]["code"] == "unknown_mutation"
    assert replay["results"][0] == answer["results"][0]


def test_permissions_apply_to_pushed_mutations(live_server):
    with live_server.client("billing") as client:
        answer = push(client, envelope("register_patient", register_args("Nope")))
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["error"]["code"] == "forbidden"


def test_offline_mrn_from_a_leased_block_is_kept(live_server):
    with live_server.client("reception") as client:
        client.headers["X-HMS-Client"] = CLIENT
        block = client.post("/sync/mrn-block").json()
        second = client.post("/sync/mrn-block").json()
        mrn = make_mrn(block["start"])
        answer = push(
            client, envelope("register_patient", {**register_args("Wristband"), "mrn": mrn})
        )
        clash = push(
            client, envelope("register_patient", {**register_args("Other", "Clash"), "mrn": mrn})
        )
        online = client.post(
            "/api/patients", json=register_args("Online", "Desk")["patient"]
        ).json()
    assert second["start"] >= block["stop"]
    assert answer["results"][0]["result"]["mrn"] == mrn
    assert clash["results"][0]["error"]["code"] == "conflict"
    assert int(online["mrn"][:-1]) >= second["stop"]


def test_old_clients_are_told_to_upgrade_but_still_accepted(live_server):
    with live_server.client("reception") as client:
        answer = push(client, envelope("register_patient", register_args("Old")), schema_version=0)
    assert answer["upgrade_required"] is True
    assert answer["results"][0]["status"] == "applied"


def pull_all(client, after=0, limit=1000):
    changes = []
    while True:
        page = client.get(
            "/sync/pull", params={"after": after, "limit": limit}, headers={"X-HMS-Client": CLIENT}
        ).json()
        changes += page["changes"]
        after = page["last_seq"]
        if not page["has_more"]:
            return changes, after


def test_pull_returns_changes_in_order_with_pages(live_server):
    with live_server.client("reception") as client:
        push(
            client,
            *[
                envelope(
                    "register_patient",
                    register_args(f"Pull{chr(65 + i)}", f"Page{i}x", born=f"19{60 + i}-03-03"),
                )
                for i in range(5)
            ],
        )
        changes, last = pull_all(client, limit=2)
        nothing, same = pull_all(client, after=last)
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    patients = [c for c in changes if c["table"] == "patient"]
    assert sorted(c["data"]["given_name"] for c in patients) == [f"Pull{c}" for c in "ABCDE"]
    assert nothing == [] and same == last


def test_change_log_numbers_follow_commit_order_not_start_order(live_server):
    """A transaction that wrote first but commits last gets the later number."""
    actor = Actor(None, "t", "admin", "test")
    db = live_server.db
    with db.unit_of_work() as session:
        slow = register_patient(
            session,
            actor,
            PatientCreate(
                given_name="Slow", family_name="Writer", birth_date="1970-01-01", sex="male"
            ),
        )
    with db.sessions() as early:
        early.begin()
        update_patient(early, actor, slow.id, PatientUpdate(city="Early Town"))
        early.flush()
        with db.unit_of_work() as quick:
            fast = register_patient(
                quick,
                actor,
                PatientCreate(
                    given_name="Fast", family_name="Writer", birth_date="1971-01-01", sex="male"
                ),
            )
        early.commit()
    with db.unit_of_work() as session:
        rows = session.execute(
            select(ChangeLog.row_id, ChangeLog.seq, ChangeLog.data)
            .where(ChangeLog.table_name == "patient")
            .order_by(ChangeLog.seq)
        ).all()
    assert [(r.row_id, r.data["city"]) for r in rows] == [
        (slow.id, None),
        (fast.id, None),
        (slow.id, "Early Town"),
    ]


def test_every_write_path_reaches_the_change_log(live_server):
    actor = Actor(None, "importer", "admin", "cli")
    with live_server.db.unit_of_work() as session:
        patient = register_patient(
            session,
            actor,
            PatientCreate(
                given_name="Direct",
                family_name="Import",
                birth_date="1960-06-06",
                sex="other",
                allergies=[{"substance": "Iodine", "severity": "mild"}],
            ),
        )
    with live_server.db.unit_of_work() as session:
        update_patient(session, actor, patient.id, PatientUpdate(city="Port Town"))
    with live_server.client("nurse") as client:
        changes, _ = pull_all(client)
    mine = [c for c in changes if c["id"] == str(patient.id)]
    assert [c["data"]["city"] for c in mine] == [None, "Port Town"]
    assert [c["row_version"] for c in mine] == [1, 2]
    assert any(c["table"] == "patient_allergy" for c in changes)


def test_snapshot_is_consistent_and_continues_with_pull(live_server):
    with live_server.client("reception") as client:
        push(
            client,
            *[
                envelope(
                    "register_patient",
                    register_args(f"Snap{chr(65 + i)}", f"Shot{i}x", born=f"19{60 + i}-04-04"),
                )
                for i in range(3)
            ],
        )
        lines = [json.loads(line) for line in client.get("/sync/snapshot").text.splitlines()]
        push(client, envelope("register_patient", register_args("Later", "Arrival")))
        after, _ = pull_all(client, after=lines[0]["seq"])
    header, rows, end = lines[0], lines[1:-1], lines[-1]
    assert header["kind"] == "snapshot" and "patient" in header["tables"]
    assert end == {"kind": "end", "rows": len(rows)}
    assert sum(r["table"] == "patient" for r in rows) == 3
    assert [c["data"]["given_name"] for c in after if c["table"] == "patient"] == ["Later"]


def test_pull_requires_a_client_id_and_permission(live_server):
    with live_server.client("patient") as portal:
        assert portal.get("/sync/pull", headers={"X-HMS-Client": CLIENT}).status_code == 403
    with live_server.client("doctor") as client:
        client.headers.pop("X-HMS-Client")
        missing = client.get("/sync/pull")
    assert missing.status_code == 422


def test_a_rolled_back_savepoint_publishes_nothing(live_server):
    """A rejected mutation's flushed changes never reach the change log (nor any client)."""
    actor = Actor(None, "t", "admin", "test")
    db = live_server.db
    with db.unit_of_work() as session:
        patient = register_patient(
            session,
            actor,
            PatientCreate(
                given_name="Kept", family_name="Clean", birth_date="1950-05-05", sex="male"
            ),
        )
    with db.unit_of_work() as session:
        try:
            with changelog.savepoint(session):
                update_patient(session, actor, patient.id, PatientUpdate(city="Never"))
                session.flush()
                raise RuntimeError("rejected after the flush")
        except RuntimeError:
            pass
        update_patient(session, actor, patient.id, PatientUpdate(phone="0700 123 456"))
    with db.unit_of_work() as session:
        rows = (
            session.execute(
                select(ChangeLog.data).where(ChangeLog.row_id == patient.id).order_by(ChangeLog.seq)
            )
            .scalars()
            .all()
        )
    assert [(r["city"], r["phone"]) for r in rows] == [(None, None), (None, "0700 123 456")]


def test_a_long_poll_wakes_when_another_client_commits(live_server):
    with live_server.client("reception") as client:
        client.headers["X-HMS-Client"] = CLIENT
        _, last = pull_all(client)
        answer: dict = {}

        def long_poll() -> None:
            answer.update(
                client.get("/sync/pull", params={"after": last, "wait": 25}, timeout=60).json()
            )

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        with live_server.client("nurse") as other:
            empty = other.get("/sync/pull", params={"after": last}, headers={"X-HMS-Client": "x"})
            assert empty.json()["changes"] == []
        push(client, envelope("register_patient", register_args("Woken", "Poller")))
        waiter.join(timeout=60)
    names = [c["data"]["given_name"] for c in answer["changes"] if c["table"] == "patient"]
    assert names == ["Woken"]  # answered with the change, not empty at the end of the wait
