"""Bookings made on desktop caches: tentative until the server confirms, refused with
alternatives when another desk took the slot first (nothing lost, nothing doubled)."""

from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hms_core.db import Appointment, AuditEvent
from hms_core.schemas.scheduling import FreeSlot
from hms_desktop.store.scheduling import LocalScheduling
from tests.clinic import at, make_clinic, tomorrow
from tests.sync.helpers import make_pc


def slot_at(doctor_id, department_id, starts):  # noqa: ANN001, ANN201
    return FreeSlot(
        doctor_id=doctor_id,
        doctor_name="Dr. Test Doctor",
        department_id=department_id,
        starts_at=starts,
        ends_at=starts.replace(minute=starts.minute + 15),
    )


def test_a_booking_is_tentative_on_the_desk_until_the_server_confirms_it(live_server, tmp_path):
    clinic = make_clinic(live_server.db)
    pc = make_pc(live_server, tmp_path)
    pc.engine.sync_once()
    desk = LocalScheduling(pc.store)
    free = desk.free_slots(tomorrow(), 1, doctor_id=clinic.doctor)
    assert free[0].starts_at == at(tomorrow(), 8)
    booked = desk.book(clinic.patients[0], free[0], "Headache")
    assert booked.status == "tentative"
    assert desk.free_slots(tomorrow(), 1, doctor_id=clinic.doctor)[0].starts_at == at(
        tomorrow(), 8, 15
    )
    pc.engine.sync_once()
    pc.engine.sync_once()
    assert desk.appointment(booked.id).status == "confirmed"
    assert pc.store.counts()["pending"] == 0
    pc.close()


def test_two_desks_booking_one_slot_offline_end_with_one_booking_and_one_refusal(
    live_server, tmp_path
):
    clinic = make_clinic(live_server.db)
    first, second = make_pc(live_server, tmp_path), make_pc(live_server, tmp_path)
    for pc in (first, second):
        pc.engine.sync_once()
    slot = slot_at(clinic.doctor, clinic.departments["GEN"], at(tomorrow(), 9))
    kept = LocalScheduling(first.store).book(clinic.patients[0], slot)
    refused = LocalScheduling(second.store).book(clinic.patients[1], slot)
    assert kept.status == refused.status == "tentative"
    first.engine.sync_once()
    second.engine.sync_once()
    second.engine.sync_once()
    [rejection] = second.store.rejections()
    assert rejection["code"] == "slot_taken"
    assert "already has an appointment" in rejection["message"]
    alternatives = rejection["error"]["detail"]["alternatives"]
    assert alternatives and alternatives[0]["starts_at"].startswith(f"{tomorrow()}T09:15")
    desk = LocalScheduling(second.store)
    assert desk.appointment(refused.id) is None  # its effect is gone from the cache
    assert desk.appointment(kept.id).status == "confirmed"  # the other desk's booking arrived
    with live_server.db.unit_of_work() as session:
        assert session.execute(select(func.count(Appointment.id))).scalar_one() == 1
    for pc in (first, second):
        pc.close()


def test_looking_at_a_day_list_is_audited_once_on_the_server(live_server, tmp_path):
    clinic = make_clinic(live_server.db)
    pc = make_pc(live_server, tmp_path)
    pc.engine.sync_once()
    desk = LocalScheduling(pc.store)
    desk.book(
        clinic.patients[0], slot_at(clinic.doctor, clinic.departments["GEN"], at(tomorrow(), 9))
    )
    zone = ZoneInfo("UTC")
    assert len(desk.day(tomorrow(), zone)) == 1
    assert len(desk.day(tomorrow(), zone)) == 1  # a refresh of the same list
    desk.day(tomorrow(), zone, doctor_id=clinic.doctor)  # another list
    pc.engine.sync_once()
    with live_server.db.unit_of_work() as session:
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "appointment.list"))
            .scalars()
            .all()
        )
    assert len(events) == 2
    assert {e.actor_username for e in events} == {"test-reception"}
    assert {e.detail["rows"] for e in events} == {1}
    assert all(e.detail["from_cache"] for e in events)
    pc.close()
