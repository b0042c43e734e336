"""The doctor's Clinic workspace against a live server and a real desktop cache."""

import uuid
from datetime import UTC, date, datetime, timedelta

from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import DoctorProfile, User
from hms_core.db.scheduling import Appointment, FollowUp
from hms_core.schemas.patients import PatientCreate
from hms_core.schemas.scheduling import AppointmentView, BookAppointment
from hms_core.services import appointments
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.patients import register_patient
from hms_desktop.workspaces.clinic import rules
from tests.clinic import Clinic, at, make_clinic, tomorrow
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS


# --- data --------------------------------------------------------------------------------------


def book(live_server, clinic: Clinic, patient: uuid.UUID, when: datetime, **extra) -> uuid.UUID:  # noqa: ANN001
    """Book on the server as reception would (a request with request_only=True)."""
    with live_server.db.unit_of_work() as session:
        user = session.execute(select(User).where(User.username == "test-reception")).scalar_one()
        actor = Actor(user.id, "test-reception", "reception")
        args = BookAppointment(
            patient_id=patient,
            doctor_id=extra.pop("doctor_id", clinic.doctor),
            starts_at=when,
            **extra,
        )
        return appointments.book(session, actor, args).id


def insert(
    live_server,  # noqa: ANN001
    clinic: Clinic,
    patient: uuid.UUID,
    starts_at: datetime,
    status: str,
    waited: timedelta | None = None,
    reason: str = "",
) -> uuid.UUID:
    """A row of today's clinic as it would be by now (checked in `waited` ago)."""
    with live_server.db.unit_of_work() as session:
        doctor = session.get(DoctorProfile, clinic.doctor)
        row = Appointment(
            patient_id=patient,
            doctor_id=doctor.id,
            doctor_number=doctor.number,
            department_id=doctor.department_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=15),
            status=status,
            reason=reason,
            booked_by="test-reception",
            checked_in_at=datetime.now(UTC) - waited if waited is not None else None,
        )
        session.add(row)
        session.flush()
        return row.id


def server_status(live_server, appointment_id: uuid.UUID) -> str:  # noqa: ANN001
    with live_server.db.unit_of_work() as session:
        return session.get(Appointment, appointment_id).status


def now_slot() -> datetime:
    """This minute, today (UTC, the test doctor's zone)."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def open_clinic(qtbot, controller, live_server, role: str = "doctor"):  # noqa: ANN001, ANN201
    window = sign_in(qtbot, controller, live_server.url, live_server.users[role])
    window.show_workspace("clinic")
    workspace = window.workspaces["clinic"]
    qtbot.waitUntil(lambda: workspace.header.date_label.text() != "", timeout=WAIT)
    return window, workspace


def rows(workspace) -> list:  # noqa: ANN001
    return workspace.day_list.model.records()


# --- rules (no server) -------------------------------------------------------------------------


def view(
    status: str, starts_at: datetime, checked_in_at: datetime | None = None
) -> AppointmentView:
    return AppointmentView(
        id=uuid.uuid4(),
        patient_id=uuid.uuid4(),
        patient_name="Ada Obi",
        mrn="10000008",
        patient_phone=None,
        doctor_id=uuid.uuid4(),
        doctor_name="Dr. Test Doctor",
        department_id=uuid.uuid4(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        status=status,
        reason="",
        source="desk",
        cancel_reason=None,
        checked_in_at=checked_in_at,
        follow_up_id=None,
    )


def test_rules_words_and_what_applies():
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    day = [
        view("checked_in", now, now - timedelta(minutes=75)),
        view("requested", now),
        view("completed", now),
        view("cancelled", now),
    ]
    assert rules.summary_text(day) == ("3 appointments · 1 waiting · 1 request to confirm · 1 seen")
    assert rules.waiting_text(day[0], now) == "1 h 15 min"
    assert rules.long_wait(day[0], now)
    assert rules.waiting_text(day[1], now) == ""
    assert rules.why_not_start(day[0], now) == ""
    assert rules.why_not_start(day[1], now) == "Confirm the request first."
    next_week = view("confirmed", now + timedelta(days=7))
    assert "on the day" in rules.why_not_start(next_week, now)
    assert rules.why_not_confirm(day[1]) == ""
    assert rules.why_not_complete(day[2]) == "This visit is already completed."
    assert rules.why_not_follow_up(day[3]).startswith("This appointment was cancelled")
    assert rules.day_title(date(2026, 3, 3), date(2026, 3, 2)) == "Tuesday 3 March 2026 · tomorrow"


# --- tests -------------------------------------------------------------------------------------


def test_doctor_sees_own_day_and_may_look_at_a_colleagues(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    a, b, c = clinic.patients
    book(live_server, clinic, a, at(tomorrow(), 9), reason="Chest pain review")
    book(live_server, clinic, b, at(tomorrow(), 10), doctor_id=clinic.doctors["Dr. Extra 1"])
    book(live_server, clinic, c, at(tomorrow(), 11), request_only=True)
    _, workspace = open_clinic(qtbot, controller, live_server)
    header = workspace.header
    assert header.title_label.text() == "My day"
    assert header.doctor_combo.currentText() == "Dr. Test Doctor (you)"
    assert "today" in header.date_label.text()
    assert not header.today_button.isEnabled()

    header.next_button.click()
    qtbot.waitUntil(lambda: len(rows(workspace)) == 2, timeout=WAIT)
    assert [r.patient_id for r in rows(workspace)] == [a, c]  # not Dr. Extra 1's patient
    assert "tomorrow" in header.date_label.text()
    assert header.summary_label.text() == (
        "2 appointments · 0 waiting · 1 request to confirm · 0 seen"
    )
    model = workspace.day_list.model
    assert model.index(0, 0).data() == "09:00"
    assert model.index(0, 3).data() == "Confirmed"
    assert model.index(0, 5).data() == "Chest pain review"

    header.doctor_combo.setCurrentIndex(
        header.doctor_combo.findText("Dr. Extra 1 — General Medicine")
    )
    qtbot.waitUntil(lambda: [r.patient_id for r in rows(workspace)] == [b], timeout=WAIT)
    assert header.title_label.text() == "Dr. Extra 1's day"
    assert workspace.requests.model.rowCount() == 0

    header.today_button.click()
    qtbot.waitUntil(lambda: "today" in header.date_label.text(), timeout=WAIT)
    assert workspace.day_list.currentWidget() is workspace.day_list.empty_label


def test_admin_picks_the_doctor(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    book(live_server, clinic, clinic.patients[0], at(tomorrow(), 9))
    _, workspace = open_clinic(qtbot, controller, live_server, role="admin")
    combo = workspace.header.doctor_combo
    assert combo.count() == 3 and combo.isEnabled()
    assert "(you)" not in " ".join(combo.itemText(i) for i in range(combo.count()))
    combo.setCurrentIndex(workspace.header.index_of(clinic.doctor))
    workspace.header.next_button.click()
    qtbot.waitUntil(lambda: len(rows(workspace)) == 1, timeout=WAIT)
    assert workspace.header.title_label.text() == "Dr. Test Doctor's day"
    workspace.day_list.view.selectRow(0)
    panel = workspace.panel
    assert panel.history_button.isEnabled()
    assert not panel.follow_up_button.isEnabled()  # the store asks for the requester's profile
    assert panel.follow_up_button.toolTip().startswith("Follow-ups are asked by the treating")


def test_confirming_a_request_reaches_the_server(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    asked = book(live_server, clinic, clinic.patients[0], at(tomorrow(), 9), request_only=True)
    _, workspace = open_clinic(qtbot, controller, live_server)
    requests = workspace.requests
    qtbot.waitUntil(lambda: requests.model.rowCount() == 1, timeout=WAIT)
    assert requests.title_label.text() == "Requests to confirm (1)"

    requests.view.doubleClicked.emit(requests.model.index(0, 0))  # jump to its day
    qtbot.waitUntil(lambda: workspace.selected() is not None, timeout=WAIT)
    panel = workspace.panel
    assert workspace.selected().id == asked
    assert panel.confirm_button.isEnabled()
    assert not panel.start_button.isEnabled()
    assert panel.start_button.toolTip() == "Confirm the request first."
    assert not panel.complete_button.isEnabled() and panel.complete_button.toolTip()

    requests.confirm_button.click()
    qtbot.waitUntil(lambda: server_status(live_server, asked) == "confirmed", timeout=WAIT)
    qtbot.waitUntil(lambda: requests.model.rowCount() == 0, timeout=WAIT)
    assert workspace.notice.text().startswith("Confirmed PatientA Tester's appointment")
    assert requests.stack.currentWidget() is requests.empty_label


def test_declining_a_request_needs_a_reason(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    asked = book(live_server, clinic, clinic.patients[1], at(tomorrow(), 10), request_only=True)
    _, workspace = open_clinic(qtbot, controller, live_server)
    requests = workspace.requests
    qtbot.waitUntil(lambda: requests.model.rowCount() == 1, timeout=WAIT)
    requests.decline_button.click()
    dialog = workspace.actions.decline_dialog
    assert dialog is not None and not dialog.confirm_button.isEnabled()
    dialog.reason_edit.setText("Please see your GP first")
    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: server_status(live_server, asked) == "cancelled", timeout=WAIT)
    assert "Declined PatientB Tester's request" in workspace.notice.text()


def test_start_then_complete_a_visit(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    visit = insert(
        live_server, clinic, clinic.patients[0], now_slot(), "checked_in", timedelta(minutes=12)
    )
    _, workspace = open_clinic(qtbot, controller, live_server)
    qtbot.waitUntil(lambda: workspace.selected() is not None, timeout=WAIT)  # the waiting patient
    panel = workspace.panel
    assert workspace.selected().id == visit
    assert workspace.day_list.model.index(0, 4).data() == "12 min"
    assert "waiting 12 min" in panel.state_label.text()
    assert "1 waiting" in workspace.header.summary_label.text()
    assert not panel.confirm_button.isEnabled()
    assert "Only a request" in panel.confirm_button.toolTip()

    panel.start_button.click()
    qtbot.waitUntil(lambda: server_status(live_server, visit) == "in_consultation", timeout=WAIT)
    qtbot.waitUntil(lambda: panel.complete_button.isEnabled(), timeout=WAIT)
    assert not panel.start_button.isEnabled()
    assert panel.start_button.toolTip() == "The consultation has already started."

    panel.complete_button.click()
    qtbot.waitUntil(lambda: server_status(live_server, visit) == "completed", timeout=WAIT)
    qtbot.waitUntil(lambda: "1 seen" in workspace.header.summary_label.text(), timeout=WAIT)
    assert not panel.complete_button.isEnabled()
    assert panel.complete_button.toolTip() == "This visit is already completed."
    assert workspace.notice.text() == "Visit with PatientA Tester completed."


def test_a_refusal_is_shown_in_plain_words(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    insert(live_server, clinic, clinic.patients[0], now_slot(), "confirmed")
    _, workspace = open_clinic(qtbot, controller, live_server)
    qtbot.waitUntil(lambda: len(rows(workspace)) == 1, timeout=WAIT)
    workspace.actions.complete(rows(workspace)[0])  # the button is disabled; the domain says why
    qtbot.waitUntil(lambda: workspace.notice.isVisible(), timeout=WAIT)
    assert workspace.notice.text() == (
        "Not done: An appointment that is confirmed cannot be marked completed."
    )


def test_follow_up_request_reaches_the_server(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    visit = insert(live_server, clinic, clinic.patients[2], now_slot(), "in_consultation")
    _, workspace = open_clinic(qtbot, controller, live_server)
    qtbot.waitUntil(lambda: workspace.selected() is not None, timeout=WAIT)
    workspace.panel.follow_up_button.click()
    dialog = workspace.actions.follow_up_dialog
    assert dialog is not None and dialog.days() == 14
    dialog.quick_buttons[30].click()
    assert dialog.days() == 30 and dialog.quick_buttons[30].isChecked()
    dialog.days_spin.setValue(731)
    assert dialog.days() == 730
    dialog.days_spin.setValue(30)
    dialog.reason_edit.setText("Review blood results")
    dialog.ok_button.click()

    def requested() -> FollowUp | None:
        with live_server.db.unit_of_work() as session:
            query = select(FollowUp).where(FollowUp.source_appointment_id == visit)
            return session.execute(query).scalar_one_or_none()

    qtbot.waitUntil(lambda: requested() is not None, timeout=WAIT)
    follow_up = requested()
    assert follow_up.due_date == date.today() + timedelta(days=30)
    assert follow_up.patient_id == clinic.patients[2]
    assert follow_up.doctor_id == clinic.doctor
    assert follow_up.reason == "Review blood results"
    assert "reception will book it" in workspace.notice.text()


def test_open_history_shows_the_patients_record(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    patient = clinic.patients[1]
    insert(live_server, clinic, patient, now_slot(), "checked_in", timedelta(minutes=3))
    window, workspace = open_clinic(qtbot, controller, live_server)
    qtbot.waitUntil(lambda: workspace.selected() is not None, timeout=WAIT)
    workspace.panel.history_button.click()
    patients = window.workspaces["patients"]
    assert window.stack.currentWidget() is patients
    qtbot.waitUntil(
        lambda: patients.view.patient is not None and patients.view.patient.id == patient,
        timeout=WAIT,
    )
    assert patients.stack.currentWidget() is patients.view


# --- screenshot --------------------------------------------------------------------------------

PEOPLE = [
    ("Chidi", "Okafor", "male"),
    ("Ngozi", "Okoro", "female"),
    ("Emeka", "Okonkwo", "male"),
    ("Adaeze", "Okeke", "female"),
    ("Oluwaseun", "Adeyemi", "other"),
    ("Amara", "Nwosu", "female"),
    ("Tunde", "Bakare", "male"),
    ("Fatima", "Bello", "female"),
    ("Ifeanyi", "Eze", "male"),
]
# (minutes from the first slot, status, minutes waiting, reason)
DAY = [
    (0, "completed", None, "Hypertension review"),
    (30, "completed", None, "Diabetes follow-up, HbA1c results"),
    (60, "no_show", None, "Knee pain"),
    (90, "in_consultation", None, "Persistent cough for three weeks"),
    (120, "checked_in", 42, "Chest pain on exertion"),
    (150, "checked_in", 9, "Medication review"),
    (180, "confirmed", None, "Post-operative check"),
    (210, "cancelled", None, "Annual check-up"),
    (240, "confirmed", None, "Headaches"),
]


def test_screenshot_doctor_day(qtbot, controller, live_server, tmp_path):
    clinic = make_clinic(live_server.db, patients=0)
    with live_server.db.unit_of_work() as session:
        for n, (given, family, sex) in enumerate(PEOPLE):
            born = date(1950 + 7 * n, 1 + n, 3 + 2 * n)
            data = PatientCreate(given_name=given, family_name=family, birth_date=born, sex=sex)
            clinic.patients.append(register_patient(session, SYSTEM, data).id)
    start = now_slot().replace(minute=0) - timedelta(hours=2)
    start = max(start, at(now_slot().date(), 0))
    start = min(start, at(now_slot().date(), 19))  # late in the day: the last visit stays today
    for patient, (offset, status, waited, reason) in zip(clinic.patients, DAY, strict=False):
        wait = timedelta(minutes=waited) if waited is not None else None
        insert(
            live_server, clinic, patient, start + timedelta(minutes=offset), status, wait, reason
        )
    for patient, hour in ((clinic.patients[7], 9), (clinic.patients[8], 11)):
        book(
            live_server,
            clinic,
            patient,
            at(tomorrow(), hour),
            request_only=True,
            reason="New patient",
        )

    window, workspace = open_clinic(qtbot, controller, live_server)
    window.resize(1360, 860)
    qtbot.waitUntil(lambda: len(rows(workspace)) == len(DAY), timeout=WAIT)
    qtbot.waitUntil(lambda: workspace.requests.model.rowCount() == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: "earlier" in workspace.panel.history_label.text(), timeout=WAIT)
    assert workspace.header.summary_label.text() == (
        "8 appointments · 2 waiting · 1 in consultation · 0 requests to confirm · 2 seen"
    )
    QApplication.processEvents()
    path = shots_dir(tmp_path) / "doctor_day.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 5_000
    workspace.panel.follow_up_button.click()
    dialog = workspace.actions.follow_up_dialog
    dialog.quick_buttons[30].click()
    dialog.reason_edit.setText("Review chest X-ray and sputum results")
    QApplication.processEvents()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "clinic_follow_up.png"))
    dialog.reject()
    workspace.requests.decline_button.click()
    decline = workspace.actions.decline_dialog
    decline.reason_edit.setText("Please see your GP first")
    QApplication.processEvents()
    assert decline.grab().save(str(shots_dir(tmp_path) / "clinic_decline.png"))
    decline.reject()
