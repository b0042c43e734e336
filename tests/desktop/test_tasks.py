"""TaskManager: work runs off the UI thread, results come back on it, dead owners get nothing."""

import gc
import threading

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QApplication, QWidget

from hms_desktop.tasks import MainThreadGarbageCollector, TaskManager


@pytest.fixture
def tasks(qapp: QApplication):  # noqa: ANN201
    manager = TaskManager()
    yield manager
    manager.wait_for_done()
    QApplication.processEvents()
    manager.deleteLater()


def test_result_is_delivered_on_the_ui_thread(qtbot, tasks: TaskManager):  # noqa: ANN001
    worker_threads: list[threading.Thread] = []
    delivered: list[tuple[object, bool]] = []

    def work() -> int:
        worker_threads.append(threading.current_thread())
        return 42

    def done(value: int) -> None:
        delivered.append((value, QThread.currentThread() is QApplication.instance().thread()))

    tasks.run(work, done)
    qtbot.waitUntil(lambda: bool(delivered))
    assert delivered == [(42, True)]
    assert worker_threads[0] is not threading.main_thread()


def test_exception_goes_to_on_error(qtbot, tasks: TaskManager):  # noqa: ANN001
    errors: list[BaseException] = []

    def work() -> None:
        raise ValueError("boom")

    with qtbot.waitSignal(tasks.idle):
        tasks.run(work, lambda _r: None, errors.append)
    assert isinstance(errors[0], ValueError)


def test_destroyed_owner_receives_nothing(qtbot, tasks: TaskManager):  # noqa: ANN001
    gate = threading.Event()
    calls: list[object] = []

    class Receiver(QWidget):
        def done(self, value: object) -> None:
            calls.append(value)

    receiver = Receiver()
    tasks.run(lambda: gate.wait(5) and "late", receiver.done)
    shiboken6.delete(receiver)  # the widget is gone before the answer arrives
    with qtbot.waitSignal(tasks.idle):
        gate.set()
    assert calls == []


def test_explicit_owner_is_honoured(qtbot, tasks: TaskManager):  # noqa: ANN001
    owner = QObject()
    calls: list[object] = []
    gate = threading.Event()
    tasks.run(lambda: gate.wait(5), calls.append, owner=owner)
    shiboken6.delete(owner)
    with qtbot.waitSignal(tasks.idle):
        gate.set()
    assert calls == []


def test_garbage_collection_moves_to_the_ui_thread(qapp: QApplication, main_thread_gc):  # noqa: ANN001
    main_thread_gc.stop()
    collector = MainThreadGarbageCollector()
    assert not gc.isenabled()
    collector.collect()
    collector.stop()
    assert gc.isenabled()
    collector.deleteLater()
