"""Doctors' hours (admin) against a live server and a real desktop cache."""

from datetime import time, timedelta

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import AvailabilityException, AvailabilityRule, User
from hms_core.schemas.scheduling import (
    AddAvailabilityChange,
    BookAppointment,
    SetWeeklyAvailability,
    WeeklySessionIn,
)
from hms_core.services.actor import Actor
from hms_core.services.appointments import book
from hms_core.services.availability import add_availability_change, set_weekly_availability
from hms_desktop.workspaces.schedules.change_dialogs import ExtraSessionDialog
from hms_desktop.workspaces.schedules.leave_dialog import LeaveDialog
from tests.clinic import at, make_clinic, tomorrow
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS


def save(widget, path) -> None:  # noqa: ANN001
    """Grab what a person would see to PNG (HMS_SHOTS_DIR keeps the files)."""
    QApplication.processEvents()
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 5_000


def open_editor(qtbot, controller, live_server, doctor_id):  # noqa: ANN001, ANN201
    """Sign in as admin, open Doctors' hours and choose the doctor; returns (window, editor)."""
    window = sign_in(qtbot, controller, live_server.url, live_server.users["admin"])
    window.resize(1360, 860)
    window.show_workspace("schedules")
    editor = window.workspaces["schedules"]
    qtbot.waitUntil(lambda: editor.picker.model.rowCount() == 3, timeout=WAIT)
    editor.picker.select(doctor_id)
    weekly = editor.weekly
    qtbot.waitUntil(
        lambda: weekly.doctor.id == doctor_id and weekly.model.rowCount() == 7, timeout=WAIT
    )
    return window, editor


def server_rules(live_server, doctor_id) -> set[tuple]:  # noqa: ANN001
    """The doctor's live weekly sessions on the server."""
    with live_server.db.unit_of_work() as session:
        rules = session.execute(
            select(AvailabilityRule).where(
                AvailabilityRule.doctor_id == doctor_id, AvailabilityRule.deleted_at.is_(None)
            )
        ).scalars()
        return {
            (r.weekday, r.start_time, r.end_time, r.slot_minutes, r.break_start, r.break_end)
            for r in rules
        }


def server_changes(live_server, doctor_id) -> list[tuple]:  # noqa: ANN001
    with live_server.db.unit_of_work() as session:
        rows = session.execute(
            select(AvailabilityException).where(
                AvailabilityException.doctor_id == doctor_id,
                AvailabilityException.deleted_at.is_(None),
            )
        ).scalars()
        return [(c.kind, c.starts_at, c.ends_at, c.slot_minutes, c.reason) for c in rows]


def book_tomorrow_at_nine(live_server, clinic) -> None:  # noqa: ANN001
    """A reception desk elsewhere books the first patient with the doctor, tomorrow 09:00."""
    with live_server.db.unit_of_work() as session:
        user = session.execute(select(User).where(User.username == "test-reception")).scalar_one()
        args = BookAppointment(
            patient_id=clinic.patients[0], doctor_id=clinic.doctor, starts_at=at(tomorrow(), 9)
        )
        book(session, Actor(user.id, "test-reception", "reception"), args)


def test_edited_weekly_hours_are_previewed_and_reach_the_server(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    _window, editor = open_editor(qtbot, controller, live_server, clinic.doctor)
    weekly = editor.weekly
    assert "UTC" in editor.zone_label.text()
    assert weekly.preview.summary().startswith("Mon 36 slots, Tue 36 slots")
    assert not weekly.save_button.isEnabled()

    weekly.table.selectRow(0)  # Monday 08:00-18:00, break 12-13
    form = weekly.form
    form.start_edit.setTime(QTime(9, 0))
    form.end_edit.setTime(QTime(13, 0))
    form.break_box.setChecked(False)
    form.slot_spin.setValue(20)
    assert weekly.model.record(0).hours() == "09:00–13:00"
    assert weekly.preview.summary().startswith("Mon 12 slots, Tue 36 slots")
    weekly.table.selectRow(6)
    assert weekly.model.record(6).weekday == 6
    weekly.remove_button.click()
    weekly.copy_button.click()
    assert weekly.preview.summary() == (
        "Mon 12 slots, Tue 12 slots, Wed 12 slots, Thu 12 slots, Fri 12 slots, "
        "Sat 36 slots, Sun 0 slots"
    )
    assert weekly.save_button.isEnabled()

    weekly.save_button.click()
    qtbot.waitUntil(lambda: "Saved" in weekly.status_label.text(), timeout=WAIT)
    weekday = {(d, time(9), time(13), 20, None, None) for d in range(5)}
    expected = weekday | {(5, time(8), time(18), 15, time(12), time(13))}
    qtbot.waitUntil(lambda: server_rules(live_server, clinic.doctor) == expected, timeout=WAIT)
    assert not weekly.dirty and not weekly.save_button.isEnabled()


def test_overlapping_sessions_are_refused_in_plain_words(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    _window, editor = open_editor(qtbot, controller, live_server, clinic.doctor)
    weekly = editor.weekly
    before = server_rules(live_server, clinic.doctor)
    weekly.table.selectRow(0)
    weekly.add_button.click()  # every day is taken: a second Monday session, 08:00-18:00
    assert weekly.model.rowCount() == 8 and weekly.selected_row() == 7
    weekly.form.start_edit.setTime(QTime(17, 0))
    weekly.form.end_edit.setTime(QTime(19, 0))
    weekly.form.break_box.setChecked(False)
    assert "Overlaps the other Monday session, 08:00–18:00" in weekly.form.error_label.text()

    weekly.save_button.click()
    assert weekly.error_box.isVisible()
    assert "Nothing was saved" in weekly.error_box.text()
    assert "Monday sessions 08:00–18:00 and 17:00–19:00 overlap." in weekly.error_box.text()
    assert weekly.window().ctx.sync.store.counts()["pending"] == 0  # nothing queued
    assert server_rules(live_server, clinic.doctor) == before

    weekly.form.start_edit.setTime(QTime(18, 0))  # now after the day's session: fine
    assert not weekly.error_box.isVisible()
    assert weekly.form.error_label.text() == ""


def test_leave_warns_of_booked_patients_and_empties_the_day(
    qtbot, controller, live_server, tmp_path
):
    clinic = make_clinic(live_server.db)
    book_tomorrow_at_nine(live_server, clinic)
    window, editor = open_editor(qtbot, controller, live_server, clinic.doctor)
    editor.tabs.setCurrentWidget(editor.changes)
    dialog = editor.changes.open_dialog(LeaveDialog)
    assert isinstance(dialog, LeaveDialog)
    assert dialog.from_date.date().toPython() == tomorrow()
    qtbot.waitUntil(lambda: "PatientA" in dialog.warning_box.text(), timeout=WAIT)
    assert dialog.warning_box.text().startswith("1 appointment is booked in this leave:")
    assert "09:00" in dialog.warning_box.text() and "reception must move it" in (
        dialog.warning_box.text()
    )
    dialog.reason_edit.setText("Conference")
    save(dialog, shots_dir(tmp_path) / "doctors_hours_leave.png")

    with qtbot.waitSignal(dialog.added, timeout=WAIT):
        dialog.save_button.click()
    changes = editor.changes
    assert "PatientA" in changes.warning_box.text()
    qtbot.waitUntil(lambda: changes.model.rowCount() == 1, timeout=WAIT)
    start, end = at(tomorrow(), 0), at(tomorrow() + timedelta(days=1), 0)
    qtbot.waitUntil(
        lambda: (
            server_changes(live_server, clinic.doctor)
            == [("leave", start, end, None, "Conference")]
        ),
        timeout=WAIT,
    )
    assert window.ctx.scheduling.free_slots(tomorrow(), 1, doctor_id=clinic.doctor) == []
    tomorrow_chip = [d for d in editor.weekly.preview.days if d.day == tomorrow()]
    assert all(d.leave and d.slots == 0 for d in tomorrow_chip)

    changes.table.selectRow(0)
    changes.remove_button.click()
    qtbot.waitUntil(lambda: changes.model.rowCount() == 0, timeout=WAIT)
    qtbot.waitUntil(lambda: server_changes(live_server, clinic.doctor) == [], timeout=WAIT)


def test_an_extra_session_adds_slots(qtbot, controller, live_server, tmp_path):
    clinic = make_clinic(live_server.db)
    window, editor = open_editor(qtbot, controller, live_server, clinic.doctor)
    dialog = editor.changes.open_dialog(ExtraSessionDialog)
    day = tomorrow() + timedelta(days=1)
    dialog.day_edit.setDate(QDate(day))
    dialog.from_time.setTime(QTime(20, 0))
    dialog.until_time.setTime(QTime(19, 0))
    dialog.save_button.click()
    assert dialog.rows["ends"].error.text() == "The period must end after it starts"
    save(dialog, shots_dir(tmp_path) / "doctors_hours_extra_error.png")
    dialog.until_time.setTime(QTime(21, 0))
    dialog.slot_spin.setValue(30)
    with qtbot.waitSignal(dialog.added, timeout=WAIT):
        dialog.save_button.click()
    free = window.ctx.scheduling.free_slots(day, 1, doctor_id=clinic.doctor)
    assert [s.starts_at for s in free][-2:] == [at(day, 20), at(day, 20, 30)]
    qtbot.waitUntil(
        lambda: (
            server_changes(live_server, clinic.doctor)
            == [("extra", at(day, 20), at(day, 21), 30, "")]
        ),
        timeout=WAIT,
    )


def monday_only(doctor_id, start: time, end: time) -> SetWeeklyAvailability:  # noqa: ANN001
    session = WeeklySessionIn(weekday=0, start_time=start, end_time=end)
    return SetWeeklyAvailability(doctor_id=doctor_id, sessions=[session])


def test_changes_made_elsewhere_arrive_without_losing_unsaved_edits(qtbot, controller, live_server):
    clinic = make_clinic(live_server.db)
    _window, editor = open_editor(qtbot, controller, live_server, clinic.doctor)
    weekly, changes = editor.weekly, editor.changes
    admin = Actor(None, "other-admin", "admin")
    with live_server.db.unit_of_work() as session:  # another admin, on another PC
        add_availability_change(
            session,
            admin,
            AddAvailabilityChange(
                doctor_id=clinic.doctor,
                kind="leave",
                starts_at=at(tomorrow(), 8),
                ends_at=at(tomorrow(), 12),
                reason="Training",
            ),
        )
        set_weekly_availability(session, admin, monday_only(clinic.doctor, time(7), time(11)))
    qtbot.waitUntil(lambda: changes.model.rowCount() == 1, timeout=WAIT)
    assert changes.model.record(0).reason == "Training"
    qtbot.waitUntil(lambda: weekly.model.rowCount() == 1, timeout=WAIT)
    assert weekly.model.record(0).hours() == "07:00–11:00"

    weekly.table.selectRow(0)
    weekly.form.end_edit.setTime(QTime(12, 0))  # an edit in progress …
    with live_server.db.unit_of_work() as session:  # … while the hours change elsewhere again
        set_weekly_availability(session, admin, monday_only(clinic.doctor, time(7), time(10)))
    qtbot.waitUntil(lambda: "another computer" in weekly.status_label.text(), timeout=WAIT)
    assert weekly.model.record(0).hours() == "07:00–12:00"  # the edit is kept
    weekly.discard_button.click()
    assert weekly.model.record(0).hours() == "07:00–10:00"


def test_screenshot_doctors_hours(qtbot, controller, live_server, tmp_path):
    clinic = make_clinic(live_server.db)
    book_tomorrow_at_nine(live_server, clinic)
    window, editor = open_editor(qtbot, controller, live_server, clinic.doctor)
    out = shots_dir(tmp_path)
    weekly = editor.weekly
    weekly.table.selectRow(5)
    weekly.form.end_edit.setTime(QTime(13, 0))
    weekly.form.break_box.setChecked(False)
    weekly.table.selectRow(6)
    weekly.remove_button.click()
    weekly.table.selectRow(0)
    save(window, out / "doctors_hours.png")

    weekly.add_button.click()  # lands on the free Sunday; move it onto Monday's hours
    weekly.form.day_combo.setCurrentIndex(0)
    weekly.form.start_edit.setTime(QTime(17, 0))
    weekly.form.end_edit.setTime(QTime(19, 0))
    weekly.form.break_box.setChecked(False)
    weekly.save_button.click()
    assert weekly.error_box.isVisible()
    save(window, out / "doctors_hours_overlap.png")
    weekly.discard_button.click()

    editor.tabs.setCurrentWidget(editor.changes)
    dialog = editor.changes.open_dialog(LeaveDialog)
    qtbot.waitUntil(lambda: dialog.warning_box.isVisible(), timeout=WAIT)
    dialog.reason_edit.setText("Conference")
    with qtbot.waitSignal(dialog.added, timeout=WAIT):
        dialog.save_button.click()
    qtbot.waitUntil(lambda: editor.changes.model.rowCount() == 1, timeout=WAIT)
    save(window, out / "doctors_hours_leave_list.png")
