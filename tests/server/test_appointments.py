"""Booking through sync against a real PostgreSQL: rules, refusals, and no double booking."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hms_core import SCHEMA_VERSION
from hms_core.db import Appointment, AuditEvent, FollowUp, Patient, User
from hms_core.db.base import new_id
from hms_core.schemas.scheduling import BookAppointment
from hms_core.services import Actor
from hms_core.services.appointments import book
from tests.clinic import at, make_clinic, tomorrow


def envelope(name: str, args: dict) -> dict:
    return {"mutation_id": str(uuid.uuid4()), "name": name, "args": args}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def push(client: httpx.Client, *mutations: dict, client_id: str = "desk-1") -> list[dict]:
    body = {"client_id": client_id, "schema_version": SCHEMA_VERSION, "mutations": list(mutations)}
    response = client.post("/sync/push", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def booking(patient: uuid.UUID, doctor: uuid.UUID, starts_at: datetime, **extra) -> dict:
    args = {
        "id": str(new_id()),
        "patient_id": str(patient),
        "doctor_id": str(doctor),
        "starts_at": starts_at.isoformat(),
        **extra,
    }
    return envelope("book_appointment", args)


@pytest.fixture
def clinic(db):
    return make_clinic(db)


def test_a_desk_booking_is_confirmed_audited_and_takes_the_slot_length(live_server, clinic):
    starts = at(tomorrow(), 9)
    with live_server.client("reception") as client:
        [result] = push(client, booking(clinic.patients[0], clinic.doctor, starts, reason="Cough"))
    assert result["status"] == "applied", result
    assert result["result"]["status"] == "confirmed"
    with live_server.db.unit_of_work() as session:
        appointment = session.get(Appointment, uuid.UUID(result["result"]["appointment_id"]))
        assert appointment.ends_at - appointment.starts_at == timedelta(minutes=15)
        assert appointment.reason == "Cough" and appointment.booked_by == "test-reception"
        audited = session.execute(
            select(AuditEvent).where(AuditEvent.action == "appointment.book")
        ).scalar_one()
        assert audited.patient_id == clinic.patients[0]


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (lambda: datetime.now(UTC) - timedelta(hours=2), "already passed"),
        (lambda: at(tomorrow(), 12, 15), "does not see patients"),  # the lunch break
        (lambda: at(tomorrow(), 18, 0), "does not see patients"),  # after hours
        (lambda: at(tomorrow(), 17, 50), "does not see patients"),  # would run past 18:00
    ],
)
def test_bookings_outside_what_the_doctor_offers_are_refused_in_words(
    live_server, clinic, when, words
):
    with live_server.client("reception") as client:
        [result] = push(client, booking(clinic.patients[0], clinic.doctor, when()))
    assert result["status"] == "rejected"
    assert words in result["error"]["message"]
    with live_server.db.unit_of_work() as session:
        assert session.execute(select(func.count(Appointment.id))).scalar_one() == 0


def test_an_overlapping_booking_is_refused_with_the_next_free_times(live_server, clinic):
    starts = at(tomorrow(), 9)
    with live_server.client("reception") as client:
        first, second, overlapping = push(
            client,
            booking(clinic.patients[0], clinic.doctor, starts, duration_minutes=30),
            booking(clinic.patients[1], clinic.doctor, starts + timedelta(minutes=15)),
            booking(
                clinic.patients[2],
                clinic.doctor,
                starts - timedelta(minutes=15),
                duration_minutes=30,
            ),
        )
    assert first["status"] == "applied"
    for refused in (second, overlapping):
        assert refused["status"] == "rejected"
        assert refused["error"]["code"] == "slot_taken"
        assert "already has an appointment" in refused["error"]["message"]
    alternatives = second["error"]["detail"]["alternatives"]
    assert moment(alternatives[0]["starts_at"]) == starts + timedelta(minutes=30)
    assert all(a["doctor_id"] == str(clinic.doctor) for a in alternatives)


def test_first_available_alternatives_span_the_department(live_server, clinic):
    starts = at(tomorrow(), 9)
    with live_server.client("reception") as client:
        push(client, booking(clinic.patients[0], clinic.doctor, starts))
        [refused] = push(
            client, booking(clinic.patients[1], clinic.doctor, starts, department_wide=True)
        )
    alternatives = refused["error"]["detail"]["alternatives"]
    assert {moment(a["starts_at"]) for a in alternatives[:2]} == {starts}  # other doctors
    assert str(clinic.doctor) not in {a["doctor_id"] for a in alternatives[:2]}


def test_unknown_or_merged_patients_cannot_be_booked(live_server, clinic):
    with live_server.db.unit_of_work() as session:
        merged = session.get(Patient, clinic.patients[1])
        merged.merged_into_id = clinic.patients[0]
        survivor_mrn = session.get(Patient, clinic.patients[0]).mrn
    with live_server.client("reception") as client:
        unknown, folded = push(
            client,
            booking(uuid.uuid4(), clinic.doctor, at(tomorrow(), 9)),
            booking(clinic.patients[1], clinic.doctor, at(tomorrow(), 10)),
        )
    assert unknown["error"]["message"] == "This patient is not registered."
    assert f"merged into MRN {survivor_mrn}" in folded["error"]["message"]


def test_roles_without_the_desk_permission_cannot_book(live_server, clinic):
    with live_server.client("nurse") as client:
        [result] = push(client, booking(clinic.patients[0], clinic.doctor, at(tomorrow(), 9)))
    assert result["status"] == "rejected" and result["error"]["code"] == "forbidden"


def test_twenty_concurrent_bookings_of_one_slot_confirm_exactly_one(live_server, db):
    clinic = make_clinic(db, patients=20)
    starts = at(tomorrow(), 10)
    token = live_server.token("reception")
    barrier = threading.Barrier(20)
    results: list[dict] = []

    def desk(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "X-HMS-Client": f"desk-{n}"}
        with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as client:
            mutation = booking(clinic.patients[n], clinic.doctor, starts)
            barrier.wait()
            results.extend(push(client, mutation, client_id=f"desk-{n}"))

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 20
    assert sorted(r["status"] for r in results) == ["applied"] + ["rejected"] * 19
    assert {r["error"]["code"] for r in results if r["error"]} == {"slot_taken"}
    with db.unit_of_work() as session:
        live = session.execute(
            select(func.count(Appointment.id)).where(Appointment.starts_at == starts)
        ).scalar_one()
    assert live == 1


def test_postgresql_itself_refuses_overlaps_that_bypass_the_service(db):
    clinic = make_clinic(db)
    starts = at(tomorrow(), 11)

    def insert(minutes_later: int, status: str = "confirmed") -> None:
        with db.unit_of_work() as session:
            session.add(
                Appointment(
                    patient_id=clinic.patients[0],
                    doctor_id=clinic.doctor,
                    doctor_number=1,
                    department_id=clinic.departments["GEN"],
                    status=status,
                    starts_at=starts + timedelta(minutes=minutes_later),
                    ends_at=starts + timedelta(minutes=minutes_later + 15),
                )
            )

    insert(0)
    insert(15)  # back to back is fine
    insert(5, status="cancelled")  # cancelled rows free their time
    with pytest.raises(IntegrityError, match="ex_appointment_no_overlap"):
        insert(5)


def test_reschedule_frees_the_old_time_and_cancel_needs_a_reason(live_server, clinic):
    first = at(tomorrow(), 9)
    with live_server.client("reception") as client:
        [booked] = push(client, booking(clinic.patients[0], clinic.doctor, first))
        appointment_id = booked["result"]["appointment_id"]
        moved, reused = push(
            client,
            envelope(
                "reschedule_appointment",
                {"appointment_id": appointment_id, "starts_at": at(tomorrow(), 14).isoformat()},
            ),
            booking(clinic.patients[1], clinic.doctor, first),
        )
        no_reason, cancelled = push(
            client,
            envelope("cancel_appointment", {"appointment_id": appointment_id, "reason": ""}),
            envelope(
                "cancel_appointment",
                {"appointment_id": appointment_id, "reason": "Patient is travelling"},
            ),
        )
    assert moment(moved["result"]["starts_at"]) == at(tomorrow(), 14)
    assert reused["status"] == "applied"  # the old time was free again
    assert no_reason["status"] == "rejected" and "reason" in no_reason["error"]["fields"]
    assert cancelled["result"]["status"] == "cancelled"


def request_starting_soon(db, clinic) -> str:  # noqa: ANN001
    """A request for the test doctor starting in five minutes (rows as the booking makes)."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    with db.unit_of_work() as session:
        appointment = Appointment(
            patient_id=clinic.patients[0], doctor_id=clinic.doctor, doctor_number=1,
            department_id=clinic.departments["GEN"], status="requested",
            starts_at=starts, ends_at=starts + timedelta(minutes=15),
        )  # fmt: skip
        session.add(appointment)
        session.flush()
        return str(appointment.id)


def test_a_request_books_nothing_until_a_doctor_confirms_it(live_server, clinic):
    with live_server.client("reception") as desk:
        [requested] = push(
            desk, booking(clinic.patients[0], clinic.doctor, at(tomorrow(), 9), request_only=True)
        )
    assert requested["result"]["status"] == "requested"


def test_a_visit_goes_from_request_to_completed_with_each_step_permitted(live_server, clinic):
    appointment_id = request_starting_soon(live_server.db, clinic)

    def status(client: httpx.Client, value: str, later: int = 0) -> dict:
        when = datetime.now(UTC) + timedelta(minutes=later)
        args = {"appointment_id": appointment_id, "status": value, "at": when.isoformat()}
        return push(client, envelope("set_appointment_status", args))[0]

    def refusal(answer: dict) -> str:
        return answer["error"]["message"]

    with live_server.client("reception") as desk, live_server.client("doctor") as doctor:
        assert status(desk, "confirmed")["error"]["code"] == "forbidden"
        assert status(doctor, "confirmed")["result"]["status"] == "confirmed"
        assert "after the appointment time" in refusal(status(desk, "no_show"))
        assert "clock is ahead" in refusal(status(desk, "checked_in", later=60))
        assert status(desk, "checked_in")["status"] == "applied"
        assert status(doctor, "in_consultation")["status"] == "applied"
        assert "cannot be marked checked in" in refusal(status(desk, "checked_in"))
        assert status(doctor, "completed")["result"]["status"] == "completed"
    with live_server.db.unit_of_work() as session:
        query = select(AuditEvent.action).where(AuditEvent.action.like("appointment.%"))
        actions = session.execute(query.order_by(AuditEvent.at)).scalars().all()
    assert actions == [
        "appointment.confirmed",
        "appointment.checked_in",
        "appointment.in_consultation",
        "appointment.completed",
    ]


def test_a_follow_up_is_due_and_booking_it_closes_it(live_server, clinic):
    today = datetime.now(UTC).date()
    with live_server.client("doctor") as doctor:
        [asked] = push(
            doctor,
            envelope(
                "request_follow_up",
                {
                    "id": str(new_id()),
                    "patient_id": str(clinic.patients[0]),
                    "after_days": 1,
                    "requested_on": today.isoformat(),
                    "reason": "Check the wound",
                },
            ),
        )
    assert asked["result"]["due_date"] == (today + timedelta(days=1)).isoformat()
    follow_up_id = asked["result"]["follow_up_id"]
    with live_server.client("reception") as desk:
        [booked] = push(
            desk,
            booking(
                clinic.patients[0], clinic.doctor, at(tomorrow(), 9), follow_up_id=follow_up_id
            ),
        )
        [again] = push(
            desk,
            booking(
                clinic.patients[0], clinic.doctor, at(tomorrow(), 10), follow_up_id=follow_up_id
            ),
        )
    assert booked["status"] == "applied"
    assert "already been booked" in again["error"]["message"]
    with live_server.db.unit_of_work() as session:
        follow_up = session.get(FollowUp, uuid.UUID(follow_up_id))
        assert follow_up.status == "booked"
        assert str(follow_up.appointment_id) == booked["result"]["appointment_id"]


def test_free_slots_over_http_leave_out_booked_times(live_server, clinic):
    day = tomorrow()
    with live_server.db.unit_of_work() as session:
        desk = session.execute(select(User).where(User.username == "test-reception")).scalar_one()
        book(
            session,
            Actor(desk.id, desk.username, "reception"),
            BookAppointment(
                patient_id=clinic.patients[0], doctor_id=clinic.doctor, starts_at=at(day, 8)
            ),
        )
    with live_server.client("reception") as client:
        response = client.get(
            "/api/scheduling/slots",
            params={"doctor_id": str(clinic.doctor), "first_day": day.isoformat(), "days": 1},
        )
        missing = client.get("/api/scheduling/slots", params={"first_day": day.isoformat()})
    assert response.status_code == 200
    starts = [moment(s["starts_at"]) for s in response.json()]
    assert starts[0] == at(day, 8, 15)
    assert len(starts) == 4 * 9 - 1  # 08:00–18:00 minus the lunch hour, minus the booked one
    assert missing.status_code == 422
