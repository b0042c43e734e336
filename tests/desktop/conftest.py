"""Desktop test isolation: a throwaway keyring, QSettings and data dirs under tmp, helpers."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hms_desktop.app import AppController, apply_style  # noqa: E402
from hms_desktop.session import CredentialVault, Prefs  # noqa: E402
from hms_desktop.tasks import MainThreadGarbageCollector  # noqa: E402
from tests.desktop.helpers import close_controller  # noqa: E402


class InMemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only: tests never touch the real keychain."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")


# The offscreen platform has no window manager to pass size hints to or raise windows with.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ignore the offscreen plugin's two window-manager warnings in desktop tests (only those)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@dataclass
class DesktopDirs:
    """Every place on disk the desktop may write to during a test."""

    root: Path
    settings: Path
    data: Path
    config: Path


@pytest.fixture(autouse=True)
def desktop_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopDirs]:
    """QSettings, XDG data/config dirs and the keyring all redirected for this test."""
    dirs = DesktopDirs(
        tmp_path, tmp_path / "settings", tmp_path / "xdg-data", tmp_path / "xdg-config"
    )
    for path in (dirs.settings, dirs.data, dirs.config):
        path.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs.data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(dirs.config))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(dirs.settings))
    previous = keyring.get_keyring()
    keyring.set_keyring(InMemoryKeyring())
    yield dirs
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def close_leftover_windows(qapp: QApplication) -> Iterator[None]:
    """Windows and dialogs a test left open are closed after it: a stray window of an earlier
    test could take the activation (and the keyboard focus) from a later test's window."""
    yield
    for widget in qapp.topLevelWidgets():
        if widget.isVisible():
            widget.close()


@pytest.fixture(autouse=True)
def main_thread_gc(qapp: QApplication) -> Iterator[MainThreadGarbageCollector]:
    """As in the app: Python's GC runs on the UI thread only (the live server has threads too)."""
    collector = MainThreadGarbageCollector()
    yield collector
    collector.stop()
    collector.deleteLater()


@pytest.fixture
def memory_keyring(desktop_dirs: DesktopDirs) -> InMemoryKeyring:
    backend = keyring.get_keyring()
    assert isinstance(backend, InMemoryKeyring)
    return backend


@pytest.fixture
def styled_app(qapp: QApplication) -> QApplication:
    apply_style(qapp)
    return qapp


@pytest.fixture
def controller(
    styled_app: QApplication, qtbot, desktop_dirs: DesktopDirs
) -> Iterator[AppController]:  # noqa: ANN001
    """An AppController with fresh prefs and keyring; its windows are closed afterwards."""
    ctrl = AppController(prefs=Prefs(), vault=CredentialVault())
    yield ctrl
    close_controller(ctrl)
