"""A patient's record lists their appointments, and reception books from there."""

from sqlalchemy import select

from hms_core.db import Appointment, User
from hms_core.schemas.scheduling import BookAppointment, CancelAppointment
from hms_core.services import Actor, appointments
from tests.clinic import at, make_clinic, tomorrow
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in


def book_two(db, clinic) -> None:  # noqa: ANN001
    """One coming visit, one cancelled, for the first patient."""
    with db.unit_of_work() as session:
        desk = session.execute(select(User).where(User.username == "test-reception")).scalar_one()
        actor = Actor(desk.id, desk.username, "reception")
        for hour, reason in ((9, "Cough"), (10, "Blood pressure")):
            appointments.book(session, actor, BookAppointment(
                patient_id=clinic.patients[0], doctor_id=clinic.doctor,
                starts_at=at(tomorrow(), hour), reason=reason,
            ))  # fmt: skip
    with db.unit_of_work() as session:
        booked = session.execute(select(Appointment).order_by(Appointment.starts_at)).scalars()
        appointments.cancel(session, actor, CancelAppointment(
            appointment_id=list(booked)[1].id, reason="Patient is travelling"))  # fmt: skip


def open_record(qtbot, window, patient_id):  # noqa: ANN001, ANN201
    window.open_patient_id(patient_id)
    view = window.stack.currentWidget().view
    card = view.appointments
    qtbot.waitUntil(lambda: card.model.rowCount() == 2, timeout=SIGN_IN_TIMEOUT_MS)
    return view, card


def test_reception_sees_the_visits_and_books_from_the_record(
    qtbot, controller, live_server, tmp_path
):
    clinic = make_clinic(live_server.db)
    book_two(live_server.db, clinic)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["reception"])
    window.resize(1360, 860)
    view, card = open_record(qtbot, window, clinic.patients[0])
    texts = [[card.model.index(r, c).data() for c in range(4)] for r in range(2)]
    assert [t[2] for t in texts] == ["Confirmed", "Cancelled"]
    assert texts[0][1] == "Dr. Test Doctor" and texts[0][0].endswith("09:00")
    window.grab().save(str(shots_dir(tmp_path) / "patient_appointments.png"))

    card.book_button.click()
    booking = window.workspaces["appointments"].booking
    assert window.stack.currentWidget() is window.workspaces["appointments"]
    qtbot.waitUntil(lambda: booking.patient_field.patient is not None, timeout=10_000)
    assert booking.patient_field.patient.id == clinic.patients[0]


def test_a_doctor_sees_the_visits_but_books_nothing(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    book_two(live_server.db, clinic)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    _, card = open_record(qtbot, window, clinic.patients[0])
    assert card.book_button.isHidden()
