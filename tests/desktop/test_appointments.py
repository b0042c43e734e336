"""Reception's appointments workspace against a live server and a real cache."""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import Appointment, AvailabilityException, FollowUp, User
from hms_core.schemas.scheduling import (
    BookAppointment,
    FreeSlot,
    MessageView,
    RequestFollowUp,
    SetAppointmentStatus,
    SlotQuery,
    StatusChange,
)
from hms_core.services import appointments, availability, follow_ups
from hms_core.services.actor import Actor
from hms_desktop.workspaces.appointments.messages_panel import message_line
from hms_desktop.workspaces.appointments.models import SECOND_LINE_ROLE, waited_text, when_text
from hms_desktop.workspaces.appointments.slot_picker import span_text
from hms_server.app import create_app
from tests.clinic import Clinic, at, make_clinic, tomorrow
from tests.conftest import RestartableServer, free_port
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, register_via_api, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
SCREENS = Path("/tmp/hms_screens")


@pytest.fixture
def server(live_server) -> Iterator[RestartableServer]:  # noqa: ANN001
    """The test's database served on a port the test may stop and start again."""
    running = RestartableServer(create_app(live_server.settings, live_server.db), free_port())
    running.start()
    yield running
    running.stop()


@pytest.fixture
def clinic(live_server) -> Clinic:  # noqa: ANN001
    return make_clinic(live_server.db)


def reception_actor(session) -> Actor:  # noqa: ANN001
    user = session.execute(select(User).where(User.username == "test-reception")).scalar_one()
    return Actor(user.id, user.username, user.role, "pytest")


def book_on_server(db, patient_id, doctor_id, starts_at, reason="", checked_in=False):  # noqa: ANN001, ANN201
    """Book straight on the server (as another reception PC would); returns the id."""
    with db.unit_of_work() as session:
        actor = reception_actor(session)
        args = BookAppointment(
            patient_id=patient_id, doctor_id=doctor_id, starts_at=starts_at, reason=reason
        )
        booked = appointments.book(session, actor, args)
        if checked_in:
            change = SetAppointmentStatus(appointment_id=booked.id, status=StatusChange.CHECKED_IN)
            appointments.set_status(session, actor, change)
        return booked.id


def request_follow_up_on_server(db, patient_id, doctor_id, days: int, reason: str):  # noqa: ANN001, ANN201
    """The doctor asks to see the patient again in `days` days; returns the follow-up's id."""
    with db.unit_of_work() as session:
        user = session.execute(select(User).where(User.username == "test-doctor")).scalar_one()
        actor = Actor(user.id, user.username, user.role, "pytest")
        args = RequestFollowUp(
            patient_id=patient_id,
            doctor_id=doctor_id,
            after_days=days,
            requested_on=datetime.now(UTC).date(),
            reason=reason,
        )
        return follow_ups.request_follow_up(session, actor, args).id


def server_appointment(db, appointment_id: uuid.UUID) -> Appointment | None:  # noqa: ANN001
    with db.unit_of_work() as session:
        found = session.get(Appointment, appointment_id)
        if found is not None:
            session.expunge(found)
        return found


def soon(db, doctor_id: uuid.UUID) -> datetime:  # noqa: ANN001
    """A slot starting within 15 minutes: an extra session for the doctor from then on."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=now.minute % 15) + timedelta(minutes=15)
    with db.unit_of_work() as session:
        session.add(
            AvailabilityException(
                doctor_id=doctor_id,
                kind="extra",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                slot_minutes=15,
                reason="test clinic",
            )
        )
    return start


def slot(clinic: Clinic, doctor_id: uuid.UUID, starts_at: datetime) -> FreeSlot:
    return FreeSlot(
        doctor_id=doctor_id,
        doctor_name="",
        department_id=clinic.departments["GEN"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
    )


def save(widget, path: Path) -> None:  # noqa: ANN001
    QApplication.processEvents()
    assert widget.grab().save(str(path))


def open_appointments(qtbot, controller, server):  # noqa: ANN001, ANN201
    window = sign_in(qtbot, controller, server.url, server.users["reception"])
    window.resize(1360, 860)
    window.show_workspace("appointments")
    workspace = window.workspaces["appointments"]
    qtbot.waitUntil(lambda: bool(workspace.directory.doctors), timeout=WAIT)
    return window, workspace


def choose_patient(qtbot, workspace, text: str) -> None:  # noqa: ANN001
    """Find the patient with the type-ahead and press Enter."""
    box = workspace.booking.patient_field.search_box
    box.setFocus()
    with qtbot.waitSignal(box.results_shown, timeout=WAIT):
        qtbot.keyClicks(box, text)
        box.search_now()
    with qtbot.waitSignal(workspace.booking.patient_field.changed, timeout=WAIT):
        box._choose(0)


def pick(qtbot, picker, wanted: FreeSlot) -> None:  # noqa: ANN001
    """Show the days of `wanted` and choose it in the grid."""
    picker.show_from(wanted.starts_at.astimezone(picker.zone).date())
    qtbot.waitUntil(lambda: picker.model.index_of(wanted).isValid(), timeout=WAIT)
    assert picker.select(wanted)
    assert picker.selected_slot.starts_at == wanted.starts_at


def day_row(day_list, appointment_id):  # noqa: ANN001, ANN201
    return next((a for a in day_list.model.records() if a.id == appointment_id), None)


def go_offline(qtbot, window, server: RestartableServer) -> None:  # noqa: ANN001
    server.stop()
    window.sync_indicator.sync_button.click()
    qtbot.waitUntil(lambda: window.server_status.online is False, timeout=WAIT)


def come_back(window, server: RestartableServer) -> None:  # noqa: ANN001
    server.start()
    window.sync_indicator.sync_button.click()


def book_in_ui(qtbot, workspace, reason: str = ""):  # noqa: ANN001, ANN201
    """Press Book; returns the AppointmentView the cache holds."""
    workspace.booking.reason_edit.setText(reason)
    with qtbot.waitSignal(workspace.booking.booked, timeout=WAIT) as blocker:
        workspace.booking.book_button.click()
    return blocker.args[0]


def test_booking_is_tentative_then_confirmed_by_the_server(
    qtbot, controller, live_server, server, clinic, tmp_path
):
    window, workspace = open_appointments(qtbot, controller, server)
    choose_patient(qtbot, workspace, "PatientB")
    assert workspace.booking.patient_field.patient.id == clinic.patients[1]
    workspace.booking.choose(clinic.departments["GEN"], clinic.doctor)
    wanted = slot(clinic, clinic.doctor, at(tomorrow(), 9, 30))
    pick(qtbot, workspace.booking.picker, wanted)
    go_offline(qtbot, window, server)  # so the cache's answer stays visible until we look

    view = book_in_ui(qtbot, workspace, "Persistent cough")
    assert view.status == "tentative"
    banner = workspace.banner.label.text()
    assert banner.startswith("Booked PatientB Tester with Dr. Test Doctor on ")
    assert "at 09:30 — waiting for the server to confirm" in banner
    save(window, shots_dir(tmp_path) / "booking_tentative.png")
    day_list = workspace.day_list
    qtbot.waitUntil(lambda: day_row(day_list, view.id) is not None, timeout=WAIT)
    assert day_list.day == tomorrow()
    assert day_row(day_list, view.id).status == "tentative"
    assert day_list.selected.id == view.id
    assert not workspace.booking.picker.model.index_of(wanted).isValid()  # no longer free

    come_back(window, server)
    qtbot.waitUntil(lambda: day_row(day_list, view.id).status == "confirmed", timeout=WAIT)
    qtbot.waitUntil(lambda: "confirmed by the server" in workspace.banner.label.text())
    held = server_appointment(live_server.db, view.id)
    assert held is not None and held.status == "confirmed"
    assert held.doctor_id == clinic.doctor and held.patient_id == clinic.patients[1]
    assert availability.aware(held.starts_at) == at(tomorrow(), 9, 30)
    assert held.reason == "Persistent cough"


def test_any_doctor_first_available_picks_the_earliest_free_slot(
    qtbot, controller, live_server, server, clinic
):
    _, workspace = open_appointments(qtbot, controller, server)
    booking, picker = workspace.booking, workspace.booking.picker
    choose_patient(qtbot, workspace, "PatientA")
    booking.choose(clinic.departments["GEN"], None)
    assert booking.doctor_combo.currentText() == "Any doctor (first available)"
    qtbot.waitUntil(lambda: picker.model.count > 0, timeout=WAIT)
    picker.show_from(tomorrow() + timedelta(days=9))  # look elsewhere first
    picker.first_button.click()
    qtbot.waitUntil(lambda: picker.selected_slot is not None, timeout=WAIT)
    chosen = picker.selected_slot
    with live_server.db.unit_of_work() as session:
        query = SlotQuery(
            department_id=clinic.departments["GEN"],
            first_day=datetime.now(UTC).date(),
            days=62,
            limit=1,
        )
        earliest = availability.free_slots(session, query)[0]
    assert (chosen.starts_at, chosen.doctor_id) == (earliest.starts_at, earliest.doctor_id)
    assert picker.first_day == chosen.starts_at.astimezone(picker.zone).date()
    index = picker.model.index_of(chosen)
    assert picker.model.data(index, Qt.ItemDataRole.UserRole + 21).startswith("Extra 1")
    assert chosen.doctor_name in booking.chosen_label.text()

    view = book_in_ui(qtbot, workspace, "Fever")
    assert view.doctor_id == earliest.doctor_id and view.starts_at == earliest.starts_at
    picker.first_button.click()  # the next one: another doctor at that time, or later
    qtbot.waitUntil(
        lambda: (
            picker.selected_slot is not None
            and (picker.selected_slot.doctor_id, picker.selected_slot.starts_at)
            != (view.doctor_id, view.starts_at)
        ),
        timeout=WAIT,
    )
    assert picker.selected_slot.starts_at >= view.starts_at
    qtbot.waitUntil(
        lambda: (
            (found := server_appointment(live_server.db, view.id)) is not None
            and found.status == "confirmed"
        ),
        timeout=WAIT,
    )


def test_cancelling_requires_a_reason_and_frees_the_slot(
    qtbot, controller, live_server, server, clinic, tmp_path
):
    starts_at = at(tomorrow(), 10)
    booked = book_on_server(live_server.db, clinic.patients[2], clinic.doctor, starts_at, "Rash")
    _, workspace = open_appointments(qtbot, controller, server)
    day_list = workspace.day_list
    day_list.show_day(tomorrow())
    qtbot.waitUntil(lambda: day_row(day_list, booked) is not None, timeout=WAIT)
    workspace.booking.choose(clinic.departments["GEN"], clinic.doctor)
    picker, wanted = workspace.booking.picker, slot(clinic, clinic.doctor, starts_at)
    picker.show_from(tomorrow())
    qtbot.waitUntil(lambda: picker.model.count > 0, timeout=WAIT)
    assert not picker.model.index_of(wanted).isValid()  # taken

    day_list.view.selectRow(day_list.model.records().index(day_row(day_list, booked)))
    assert day_list.cancel_button.isEnabled()
    day_list.cancel_button.click()
    dialog = day_list.actions.cancel_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.confirm_button.click()  # no reason given
    assert dialog.isVisible()
    save(dialog, shots_dir(tmp_path) / "cancel_dialog.png")
    assert dialog.error_label.text() == "Give the reason for cancelling (a few words)."
    assert dialog.reason_edit.property("invalid") is True
    dialog.reason_edit.setText("Patient called: feels better")
    dialog.confirm_button.click()
    assert not dialog.isVisible()

    qtbot.waitUntil(lambda: day_row(day_list, booked).status == "cancelled", timeout=WAIT)
    assert "the time is free again" in day_list.status_label.text()
    qtbot.waitUntil(lambda: picker.model.index_of(wanted).isValid(), timeout=WAIT)
    qtbot.waitUntil(
        lambda: server_appointment(live_server.db, booked).status == "cancelled", timeout=WAIT
    )
    assert server_appointment(live_server.db, booked).cancel_reason == (
        "Patient called: feels better"
    )


def test_rescheduling_picks_a_new_free_time_in_a_dialog(
    qtbot, controller, live_server, server, clinic, tmp_path
):
    booked = book_on_server(
        live_server.db, clinic.patients[0], clinic.doctor, at(tomorrow(), 10), "Check-up"
    )
    _, workspace = open_appointments(qtbot, controller, server)
    day_list = workspace.day_list
    day_list.show_day(tomorrow())
    qtbot.waitUntil(lambda: day_row(day_list, booked) is not None, timeout=WAIT)
    day_list.view.selectRow(day_list.model.records().index(day_row(day_list, booked)))
    day_list.reschedule_button.click()
    dialog = day_list.actions.reschedule_dialog
    assert dialog.doctor_combo.currentData() == clinic.doctor
    dialog.confirm_button.click()  # no new time chosen yet
    assert dialog.isVisible() and dialog.error_label.text() == "Choose the new time first."
    new_time = slot(clinic, clinic.doctor, at(tomorrow(), 15))
    pick(qtbot, dialog.picker, new_time)
    assert "15:00 with Dr. Test Doctor" in dialog.chosen_label.text()
    dialog.reason_edit.setText("Patient asked for the afternoon")
    save(dialog, shots_dir(tmp_path) / "reschedule_dialog.png")
    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: day_row(day_list, booked).starts_at == at(tomorrow(), 15), timeout=WAIT)
    assert "Moved PatientA Tester to " in day_list.status_label.text()

    def moved_on_server() -> bool:
        held = server_appointment(live_server.db, booked)
        return availability.aware(held.starts_at) == at(tomorrow(), 15)

    qtbot.waitUntil(moved_on_server, timeout=WAIT)


def test_check_in_moves_the_patient_to_the_waiting_room(
    qtbot, controller, live_server, server, clinic, tmp_path
):
    starts_at = soon(live_server.db, clinic.doctor)
    if starts_at.date() != datetime.now(UTC).date():
        pytest.skip("the next slot is tomorrow; the waiting room shows today's arrivals")
    booked = book_on_server(live_server.db, clinic.patients[0], clinic.doctor, starts_at)
    window, workspace = open_appointments(qtbot, controller, server)
    day_list = workspace.day_list
    day_list.show_day(starts_at.astimezone(day_list.model.zone).date())
    qtbot.waitUntil(lambda: day_row(day_list, booked) is not None, timeout=WAIT)
    assert workspace.waiting_room.model.rowCount() == 0
    day_list.view.selectRow(day_list.model.records().index(day_row(day_list, booked)))
    assert day_list.check_in_button.isEnabled()
    day_list.check_in_button.click()
    qtbot.waitUntil(lambda: day_row(day_list, booked).status == "checked_in", timeout=WAIT)
    waiting = workspace.waiting_room.model
    qtbot.waitUntil(lambda: waiting.rowCount() == 1, timeout=WAIT)
    assert waiting.record(0).id == booked
    assert waiting.data(waiting.index(0, 0)) == "0 min"
    assert workspace.tabs.tabText(1) == "Waiting room (1)"
    workspace.tabs.setCurrentWidget(workspace.waiting_room)
    save(window, shots_dir(tmp_path) / "waiting_room.png")
    workspace.tabs.setCurrentWidget(day_list)
    assert not day_list.check_in_button.isEnabled()
    qtbot.waitUntil(
        lambda: server_appointment(live_server.db, booked).status == "checked_in", timeout=WAIT
    )
    with qtbot.waitSignal(workspace.patient_requested, timeout=WAIT) as blocker:
        day_list.open_button.click()
    assert blocker.args == [clinic.patients[0]]


def test_a_refused_booking_is_listed_with_the_next_free_times(
    qtbot, controller, live_server, server, clinic
):
    window, workspace = open_appointments(qtbot, controller, server)
    starts_at = at(tomorrow(), 11)
    choose_patient(qtbot, workspace, "PatientC")
    workspace.booking.choose(clinic.departments["GEN"], clinic.doctor)
    pick(qtbot, workspace.booking.picker, slot(clinic, clinic.doctor, starts_at))
    go_offline(qtbot, window, server)
    # Meanwhile another desk books that time on the server.
    book_on_server(live_server.db, clinic.patients[0], clinic.doctor, starts_at, "Other desk")
    view = book_in_ui(qtbot, workspace, "Headache")
    assert view.status == "tentative"

    come_back(window, server)
    indicator = window.sync_indicator
    qtbot.waitUntil(lambda: indicator.attention_label.isVisibleTo(window), timeout=WAIT)
    qtbot.waitUntil(lambda: workspace.refused_banner.isVisibleTo(window), timeout=WAIT)
    assert "1 booking was refused by the server" in workspace.refused_banner.label.text()
    qtbot.waitUntil(lambda: "server refused" in workspace.banner.label.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: day_row(workspace.day_list, view.id) is None, timeout=WAIT)

    workspace.refused_banner.button.click()
    dialog = workspace.attention_dialog
    qtbot.waitUntil(lambda: dialog.alternatives.rowCount() > 0, timeout=WAIT)
    change = dialog.model.data(dialog.model.index(0, 1))
    assert change.startswith("Book PatientC Tester with Dr. Test Doctor, ")
    assert change.endswith("11:00")
    why = dialog.model.data(dialog.model.index(0, 2))
    assert "already has an appointment" in why and "Next free: " in why
    assert "11:15 Dr. Test Doctor" in why
    first = dialog.alternatives.record(0)[0]
    assert first.starts_at == at(tomorrow(), 11, 15)
    QApplication.processEvents()
    SCREENS.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(SCREENS / "refused_booking.png"))

    with qtbot.waitSignal(dialog.rebooked, timeout=WAIT) as blocker:
        dialog.book_instead_button.click()
    rebooked = blocker.args[0]
    assert rebooked.starts_at == first.starts_at and rebooked.patient_id == clinic.patients[2]
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0, timeout=WAIT)
    qtbot.waitUntil(
        lambda: (
            (found := server_appointment(live_server.db, rebooked.id)) is not None
            and found.status == "confirmed"
        ),
        timeout=WAIT,
    )
    assert server_appointment(live_server.db, rebooked.id).reason == "Headache"
    qtbot.waitUntil(lambda: not workspace.refused_banner.isVisibleTo(window), timeout=WAIT)


def test_a_follow_up_due_is_booked_from_its_list(
    qtbot, controller, live_server, server, clinic, tmp_path
):
    wanted = request_follow_up_on_server(
        live_server.db, clinic.patients[1], clinic.doctor, 7, "Review blood results"
    )
    _, workspace = open_appointments(qtbot, controller, server)
    panel = workspace.follow_ups
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=WAIT)
    assert workspace.tabs.tabText(2) == "Follow-ups due (1)"
    assert panel.model.data(panel.model.index(0, 2), SECOND_LINE_ROLE) == "Review blood results"
    panel.view.selectRow(0)
    panel.book_button.click()
    booking = workspace.booking
    qtbot.waitUntil(lambda: booking.patient_field.patient is not None, timeout=WAIT)
    assert booking.patient_field.patient.id == clinic.patients[1]
    assert booking.doctor_combo.currentData() == clinic.doctor
    assert booking.reason_edit.text() == "Review blood results"
    assert booking.follow_up_label.isVisibleTo(workspace)
    workspace.tabs.setCurrentWidget(panel)
    save(workspace.window(), shots_dir(tmp_path) / "follow_up_booking.png")
    assert "Follow-up due" in booking.follow_up_label.text()
    due = datetime.now(UTC).date() + timedelta(days=7)
    qtbot.waitUntil(lambda: booking.picker.first_day == due - timedelta(days=3), timeout=WAIT)
    qtbot.waitUntil(lambda: booking.picker.model.count > 0, timeout=WAIT)
    pick(qtbot, booking.picker, slot(clinic, clinic.doctor, at(due, 14)))
    view = book_in_ui(qtbot, workspace, "Review blood results")
    assert view.follow_up_id == wanted
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT)

    def booked_on_server() -> bool:
        with live_server.db.unit_of_work() as session:
            found = session.get(FollowUp, wanted)
            return found.status == "booked" and found.appointment_id == view.id

    qtbot.waitUntil(booked_on_server, timeout=WAIT)


PEOPLE = [
    ("Amara", "Diallo", "1991-03-09", "female"),
    ("Kofi", "Boateng", "1966-10-01", "male"),
    ("Ngozi", "Okoro", "1992-09-03", "female"),
    ("Emeka", "Okonkwo", "1958-12-24", "male"),
    ("Fatima", "Bello", "1983-05-21", "female"),
]
REASONS = ["Blood pressure check", "Persistent cough", "Diabetes review", "Knee pain", ""]


def test_screenshot_of_the_booking_view(qtbot, controller, live_server, server, clinic):
    people = [
        register_via_api(
            live_server,
            given_name=g,
            family_name=f,
            birth_date=b,
            sex=s,
            email=f"{g.lower()}@example.org",
            phone=f"+234 803 555 01{n:02d}",
        )["id"]
        for n, (g, f, b, s) in enumerate(PEOPLE)
    ]
    doctors = list(clinic.doctors.values())
    for n, (patient, reason) in enumerate(zip(people[1:], REASONS[1:], strict=True)):
        starts = at(tomorrow(), 8 + n, 15 * (n % 2))
        book_on_server(live_server.db, patient, doctors[n % 3], starts, reason)
    arrival = soon(live_server.db, clinic.doctor)
    book_on_server(
        live_server.db, people[4], clinic.doctor, arrival, "Dressing change", checked_in=True
    )
    waiting = 1 if arrival.date() == datetime.now(UTC).date() else 0  # today's arrivals only
    request_follow_up_on_server(live_server.db, people[2], clinic.doctor, 5, "Review results")
    window, workspace = open_appointments(qtbot, controller, server)
    choose_patient(qtbot, workspace, "Diallo")
    workspace.booking.choose(clinic.departments["GEN"], None)
    pick(qtbot, workspace.booking.picker, slot(clinic, doctors[1], at(tomorrow(), 9, 30)))
    view = book_in_ui(qtbot, workspace, "Blood pressure check")
    day_list = workspace.day_list
    rows = 5 + (arrival.date() == tomorrow())  # just before midnight the arrival is tomorrow's
    qtbot.waitUntil(lambda: day_list.model.rowCount() == rows, timeout=WAIT)
    qtbot.waitUntil(lambda: day_row(day_list, view.id).status == "confirmed", timeout=WAIT)
    qtbot.waitUntil(lambda: workspace.waiting_room.model.rowCount() == waiting, timeout=WAIT)
    choose_patient(qtbot, workspace, "Okoro")
    pick(qtbot, workspace.booking.picker, slot(clinic, doctors[0], at(tomorrow(), 10, 45)))
    workspace.booking.reason_edit.setText("Follow-up of blood tests")
    QApplication.processEvents()
    SCREENS.mkdir(parents=True, exist_ok=True)
    assert window.width() == 1360  # nothing in the workspace forces the window wider
    assert window.grab().save(str(SCREENS / "reception_booking.png"))


def test_words_for_times_waits_and_messages():
    zone = ZoneInfo("Africa/Lagos")  # UTC+1
    moment = datetime(2026, 12, 8, 8, 30, tzinfo=UTC)
    assert when_text(moment, zone) == "Tue 8 Dec at 09:30"
    assert span_text(date(2026, 12, 28), date(2027, 1, 3)) == "28 Dec 2026 – 3 Jan 2027"
    assert span_text(date(2026, 11, 30), date(2026, 12, 6)) == "30 Nov – 6 Dec 2026"
    assert span_text(date(2026, 12, 1), date(2026, 12, 7)) == "1 – 7 Dec 2026"
    now = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    waiting = {"status": "checked_in", "checked_in_at": now - timedelta(minutes=75)}
    assert waited_text(SimpleNamespace(**waiting), now) == "1 h 15 min"
    assert waited_text(SimpleNamespace(status="confirmed", checked_in_at=None), now) == ""
    sent = MessageView(
        id=uuid.uuid4(),
        kind="appointment_booked",
        channel="email",
        recipient="amara@example.org",
        status="sent",
        attempts=1,
        last_error=None,
        sent_at=datetime(2026, 12, 8, 9, 2, tzinfo=UTC),
        created_at=now,
    )
    assert message_line(sent, zone) == (
        "Appointment booked · Email to amara@example.org: sent Tue 8 Dec 10:02"
    )
    failure = {"channel": "sms", "recipient": "+234 803", "status": "failed"}
    failed = sent.model_copy(update={**failure, "last_error": "No route"})
    assert message_line(failed, zone) == "Appointment booked · SMS to +234 803: failed — No route"
