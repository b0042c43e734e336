"""The notification bell: the server's unread count, live arrivals, marking read, offline."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import User
from hms_core.schemas.scheduling import BookAppointment
from hms_core.services import Actor, appointments
from hms_desktop.live import LiveClient
from hms_desktop.main_window import MainWindow
from hms_desktop.widgets.bell import NotificationBell
from hms_server.app import create_app
from tests.clinic import at, make_clinic, tomorrow
from tests.conftest import RestartableServer, free_port
from tests.desktop.conftest import OFFSCREEN_NOISE
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in
from tests.server.test_live import notify

# The popup is a Qt.Popup, which grabs the keyboard; the offscreen platform cannot, and says so.
# (One qt_log_ignore mark wins, so it repeats the offscreen noise conftest.py ignores.)
popup_noise = pytest.mark.qt_log_ignore(
    OFFSCREEN_NOISE, "This plugin does not support grabbing the keyboard"
)


@pytest.fixture
def server(live_server) -> Iterator[RestartableServer]:  # noqa: ANN001
    """The test's database served on a port the test may stop and start again."""
    running = RestartableServer(create_app(live_server.settings, live_server.db), free_port())
    running.start()
    yield running
    running.stop()


def server_unread(live_server, role: str = "doctor") -> int:  # noqa: ANN001
    with live_server.client(role) as http:
        return http.get("/api/notifications").json()["unread"]


def shot(window: MainWindow, bell: NotificationBell, path: Path) -> None:
    """The top right of the window with the bell's popup (a window of its own) drawn over it."""
    QApplication.processEvents()
    origin = window.mapToGlobal(QPoint(0, 0))
    canvas = window.grab()
    painter = QPainter(canvas)
    painter.drawPixmap(bell.popup.pos() - origin, bell.popup.grab())
    painter.end()
    popup_bottom = bell.popup.geometry().bottom() - origin.y()
    width = 720
    part: QPixmap = canvas.copy(canvas.width() - width, 0, width, popup_bottom + 24)
    assert part.save(str(path))
    assert path.stat().st_size > 5_000


def book(db, clinic, patient: int, hour: int, **extra) -> None:  # noqa: ANN001
    """Reception books a patient with the test doctor, through the booking service."""
    with db.unit_of_work() as session:
        desk = session.execute(select(User).where(User.username == "test-reception")).scalar_one()
        actor = Actor(desk.id, desk.username, "reception")
        args = BookAppointment(
            patient_id=clinic.patients[patient], doctor_id=clinic.doctor,
            starts_at=at(tomorrow(), hour), reason="Cough", **extra,
        )  # fmt: skip
        appointments.book(session, actor, args)


@popup_noise
def test_bell_counts_live_arrivals_and_marks_read(qtbot, controller, live_server, server, tmp_path):
    db = live_server.db
    clinic = make_clinic(db)
    book(db, clinic, 0, 9)
    book(db, clinic, 1, 10)
    window = sign_in(qtbot, controller, server.url, server.users["doctor"])
    bell = window.bell
    qtbot.waitUntil(lambda: bell.unread == 2 and bell.model.rowCount() == 2, timeout=10_000)
    qtbot.waitUntil(lambda: bell.live.connected, timeout=SIGN_IN_TIMEOUT_MS)

    book(db, clinic, 2, 11, request_only=True)  # reception books; the doctor is told at once
    qtbot.waitUntil(lambda: bell.unread == 3, timeout=10_000)  # no click: the live channel
    newest = bell.model.item(0)
    assert newest.title == "Request to confirm: PatientC Tester"
    qtbot.waitUntil(lambda: "11:00" in bell.model.item(0).body, timeout=10_000)

    bell.click()
    assert bell.popup.isVisible() and not bell.popup.hint.isVisible()
    shot(window, bell, shots_dir(tmp_path) / "bell.png")

    row = bell.popup.list.visualRect(bell.model.index(1)).center()
    qtbot.mouseClick(bell.popup.list.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert bell.unread == 2 and bell.model.item(1).read_at is not None
    shot(window, bell, shots_dir(tmp_path) / "bell_one_read.png")
    qtbot.waitUntil(lambda: server_unread(live_server) == 2, timeout=10_000)

    bell.popup.mark_all_button.click()
    assert bell.unread == 0
    qtbot.waitUntil(lambda: server_unread(live_server) == 0, timeout=10_000)
    assert all(n.read_at is not None for n in bell.model.items)
    bell.popup.hide()
    bell.live.close()


@popup_noise
def test_offline_the_bell_keeps_the_last_list_and_says_so(
    qtbot, controller, live_server, server, tmp_path
):
    notify(live_server.db, "nurse", "Bed 12 observations due", body="Four-hourly vital signs.")
    window = sign_in(qtbot, controller, server.url, server.users["nurse"])
    bell = window.bell
    qtbot.waitUntil(lambda: bell.live.connected and bell.unread == 1, timeout=10_000)

    server.stop()
    qtbot.waitUntil(lambda: bell.offline, timeout=10_000)
    bell.click()
    assert bell.popup.hint.isVisible() and bell.model.rowCount() == 1
    assert not bell.popup.mark_all_button.isEnabled()  # it could not reach the server
    shot(window, bell, shots_dir(tmp_path) / "bell_offline.png")
    bell.popup.hide()

    notify(live_server.db, "nurse", "Committed while this PC was cut off")
    server.start()
    qtbot.waitUntil(lambda: not bell.offline and bell.unread == 2, timeout=SIGN_IN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: bell.model.rowCount() == 2, timeout=10_000)
    bell.live.close()


def test_a_session_the_server_refuses_stops_the_live_client(qtbot, live_server):
    live = LiveClient(live_server.url, lambda: "not-a-valid-token")
    with qtbot.waitSignal(live.refused, timeout=10_000) as blocker:
        live.start()
    assert blocker.args[0] == 4401
    assert not live.connected
    live.close()
    live.deleteLater()
