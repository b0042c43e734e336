"""Start the desktop client: `hms [--server URL] [--username NAME]`."""

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from hms_core.services import Actor
from hms_desktop.background import SyncController
from hms_desktop.main_window import MainWindow
from hms_desktop.session import CredentialVault, Prefs, Session
from hms_desktop.store.billing import LocalBilling
from hms_desktop.store.billing_desk import LocalBillingDesk
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.chart import LocalChart
from hms_desktop.store.clinical import LocalClinical
from hms_desktop.store.lab import LocalLab
from hms_desktop.store.patients import LocalPatients
from hms_desktop.store.pharmacy import LocalPharmacy
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.store.ward import LocalWard
from hms_desktop.sync.api_client import ApiClient, normalize_server_url
from hms_desktop.tasks import MainThreadGarbageCollector, TaskManager
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.login_dialog import LoginDialog

DEMO_PASSWORD_ENV = "HMS_DEMO_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
FONT_FAMILIES = ["Segoe UI", "Inter", "Noto Sans", "Cantarell", "DejaVu Sans", "Sans Serif"]


def resource_path(*parts: str) -> Path:
    """A file under resources/ (next to the package, or inside a PyInstaller bundle)."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base.joinpath("resources", *parts)


def apply_style(app: QApplication) -> None:
    """The Fusion style, a readable font and resources/styles/hms.qss (@STYLES@ = its folder)."""
    app.setStyle("Fusion")
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSize(10)
    app.setFont(font)
    sheet = resource_path("styles", "hms.qss")
    if sheet.is_file():
        text = sheet.read_text(encoding="utf-8")
        app.setStyleSheet(text.replace("@STYLES@", sheet.parent.as_posix()))


class AppController(QObject):
    """Sign-in dialog ↔ main window: one session at a time."""

    main_window_shown = Signal(object)
    login_shown = Signal(object)

    def __init__(
        self,
        *,
        server_url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        prefs: Prefs | None = None,
        vault: CredentialVault | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.prefs = prefs or Prefs()
        self.vault = vault or CredentialVault()
        self.tasks = TaskManager(self)
        self._server_url = normalize_server_url(server_url) if server_url else None
        self._username = username
        self._password = password
        self.login_dialog: LoginDialog | None = None
        self.window: MainWindow | None = None

    def start(self, resume: bool = True) -> None:
        """Show the sign-in dialog; a token remembered on this PC signs in without it."""
        dialog = self.show_login()
        explicit_user = self._username and self._username != self.prefs.username
        explicit_server = self._server_url and self._server_url != self.prefs.server_url
        if resume and not (explicit_user or explicit_server or self._password):
            dialog.try_resume()

    def show_login(self, message: str = "") -> LoginDialog:
        dialog = LoginDialog(
            self.tasks,
            self.prefs,
            self.vault,
            server_url=self._server_url,
            username=self._username,
            password=self._password,
        )
        self._password = None  # prefill once only
        dialog.signed_in.connect(self.open_main_window)
        dialog.show_error(message)
        self.login_dialog = dialog
        dialog.show()
        self.login_shown.emit(dialog)
        return dialog

    def open_main_window(self, session: Session) -> MainWindow:
        """Show the main window of a new session (ending any previous one)."""
        previous = self.window
        api = ApiClient(session.server_url, token=session.token or None)
        store = LocalStore(session.cache_dir, _actor(session, api.client_id))
        sync = SyncController(store, api, start=False)
        if session.offline and session.password:
            sync.engine.credentials = (session.user.username, session.password)
        ctx = AppContext(
            session,
            api,
            self.tasks,
            self.prefs,
            self.vault,
            patients=LocalPatients(store),
            scheduling=LocalScheduling(store),
            sync=sync,
            ward=LocalWard(store),
            billing=LocalBilling(store),
            billing_desk=LocalBillingDesk(store),
            chart=LocalChart(store),
            clinical=LocalClinical(store),
            lab=LocalLab(store),
            pharmacy=LocalPharmacy(store),
        )
        sync.setParent(ctx)
        window = MainWindow(ctx)
        ctx.setParent(window)
        window.signed_out.connect(self._on_signed_out)
        self._server_url = session.server_url
        self._username = session.user.username
        self.window = window
        if self.login_dialog is not None:
            self.login_dialog.deleteLater()
            self.login_dialog = None
        window.show()
        _close_window(previous)
        sync.start()
        self.main_window_shown.emit(window)
        return window

    def _on_signed_out(self, message: str) -> None:
        window = self.window
        self.window = None
        self.show_login(message)  # before closing, so the app does not quit on its last window
        _close_window(window)


def _close_window(window: MainWindow | None) -> None:
    if window is not None:
        window.close()
        window.deleteLater()
        shutdown_context(window.ctx)


def shutdown_context(ctx: AppContext) -> None:
    """Stop background sync, close the cache and the connection pool of a finished session."""
    if ctx.sync is not None:
        ctx.sync.stop()
        ctx.sync.store.close()
    ctx.api.close()


def _actor(session: Session, client_id: str) -> Actor:
    user = session.user
    return Actor(user.id, user.username, user.role, client_id)


def parse_args(argv: Sequence[str] | None, prefs: Prefs) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hms", description="hms hospital desktop client")
    parser.add_argument(
        "--server",
        default=None,
        help=f"server address (default: the last one used, now {prefs.server_url})",
    )
    parser.add_argument("--username", default=None, help="prefill the username")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Console script `hms`."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    prefs = Prefs()
    args = parse_args(argv, prefs)  # before Qt starts, so --help works without a display
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName("hms")
    app.setApplicationName("hms-desktop")
    app.setApplicationDisplayName("hms")
    apply_style(app)
    collector = MainThreadGarbageCollector(app)
    controller = AppController(
        server_url=args.server,
        username=args.username,
        password=os.environ.get(DEMO_PASSWORD_ENV) or None,
        prefs=prefs,
    )
    controller.start()
    code = app.exec()
    controller.tasks.wait_for_done(3_000)
    collector.stop()
    return code
