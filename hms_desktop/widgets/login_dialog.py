"""The sign-in dialog: server address, username, password, remember me; errors in plain words."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.session import CredentialVault, Prefs, Session
from hms_desktop.store.accounts import OfflineSignInRefused, offline_login, remember_login
from hms_desktop.store.cache import CACHE_FILE
from hms_desktop.store.profiles import profile_dir
from hms_desktop.sync.api_client import (
    ApiClient,
    ApiError,
    ServerUnreachable,
    SessionExpired,
    normalize_server_url,
)
from hms_desktop.tasks import TaskManager
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error


@dataclass(frozen=True)
class _Attempt:
    server_url: str
    username: str
    remember: bool


def _offline_session(attempt: "_Attempt", password: str, cache: Path) -> Session:
    """Sign in against this PC's cached verifier while the server is unreachable."""
    user = offline_login(cache, attempt.username, password)
    expires = datetime.now(UTC) + timedelta(hours=OFFLINE_SESSION_HOURS)
    return Session(attempt.server_url, "", user, expires, offline=True, password=password)


def login_error_text(exc: BaseException) -> str:
    """What went wrong with a sign-in, in words for the person at the desk."""
    if isinstance(exc, OfflineSignInRefused):
        return exc.message
    if isinstance(exc, ApiError) and exc.code == "invalid_credentials":
        return "Wrong username or password. Check Caps Lock and try again."
    if isinstance(exc, ApiError) and exc.code == "account_locked":
        until = _locked_until(exc.detail.get("locked_until"))
        when = f" until {until}" if until else ""
        return (
            f"This account is locked{when} after too many failed sign-ins. "
            "Wait, or ask IT to unlock it."
        )
    return describe_error(exc)


def _locked_until(value: object) -> str | None:
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%H:%M")
    except ValueError:
        return None


OFFLINE_SESSION_HOURS = 12


class LoginDialog(QDialog):
    """Signs a user in off the UI thread and emits the new Session."""

    signed_in = Signal(object)

    def __init__(
        self,
        tasks: TaskManager,
        prefs: Prefs,
        vault: CredentialVault,
        *,
        server_url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._prefs = prefs
        self._vault = vault
        self.setWindowTitle("hms — Sign in")
        self.setObjectName("loginDialog")
        self.setMinimumWidth(460)
        self._build()
        self.server_edit.setText(server_url or prefs.server_url)
        self.username_edit.setText(username if username is not None else prefs.username)
        self.password_edit.setText(password or "")
        self._apply_remember_availability()
        (self.password_edit if self.username_edit.text() else self.username_edit).setFocus()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 32, 36, 28)
        layout.setSpacing(16)
        layout.addWidget(self._brand())
        self.error_label = styled_label("", "errorBox", self)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.info_label = styled_label("", "infoBox", self)
        self.info_label.setWordWrap(True)
        self.info_label.hide()
        layout.addWidget(self.info_label)
        layout.addLayout(self._fields())
        self.remember_box = QCheckBox("Remember me on this PC")
        self.remember_note = styled_label("", "hint")
        self.remember_note.setWordWrap(True)
        self.remember_note.hide()
        layout.addWidget(self.remember_box)
        layout.addWidget(self.remember_note)
        layout.addSpacing(4)
        layout.addLayout(self._buttons())

    def _brand(self) -> QWidget:
        box = QFrame()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 4)
        column.setSpacing(2)
        column.addWidget(styled_label("hms", "brandLarge"))
        column.addWidget(styled_label("Hospital Management System — sign in to continue", "hint"))
        return box

    def _fields(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(4)
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText("http://server:8080")
        self.username_edit = QLineEdit()
        self.username_edit.setPlaceholderText("Your username")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("Your password")
        fields = (
            ("Server address", self.server_edit),
            ("Username", self.username_edit),
            ("Password", self.password_edit),
        )
        for position, (text, edit) in enumerate(fields):
            if position:
                column.addSpacing(10)
            caption = styled_label(text, "fieldCaption")
            caption.setBuddy(edit)
            column.addWidget(caption)
            column.addWidget(edit)
        return column

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("Quit")
        self.cancel_button.clicked.connect(self.reject)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setProperty("role", "primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.submit)
        row.addWidget(self.cancel_button)
        row.addWidget(self.sign_in_button)
        return row

    def _apply_remember_availability(self) -> None:
        reason = self._vault.unavailable_reason()
        self.remember_box.setEnabled(reason is None)
        self.remember_box.setChecked(reason is None and self._prefs.remember)
        if reason:
            self.remember_note.setText(reason)
            self.remember_note.show()

    # --- actions ----------------------------------------------------------------------------

    def submit(self) -> None:
        """Check the fields, then sign in off the UI thread."""
        attempt = _Attempt(
            normalize_server_url(self.server_edit.text()),
            self.username_edit.text().strip(),
            self.remember_box.isChecked(),
        )
        password = self.password_edit.text()
        missing = self._missing(attempt, password)
        if missing:
            self.show_error(missing)
            return
        self._set_busy(True)
        vault = self._vault

        def work() -> Session:
            api = ApiClient(attempt.server_url)
            cache = profile_dir(attempt.server_url, attempt.username) / CACHE_FILE
            try:
                answer = api.login(attempt.username, password)
            except ServerUnreachable:
                return _offline_session(attempt, password, cache)
            finally:
                api.close()
            remember_login(cache, answer.user, password)
            if attempt.remember:
                vault.save_token(attempt.server_url, attempt.username, answer.token)
            else:
                vault.forget(attempt.server_url, attempt.username)
            return Session(attempt.server_url, answer.token, answer.user, answer.expires_at)

        self._tasks.run(
            work,
            lambda session: self._finish(session, attempt),
            self._login_failed,
            owner=self,
        )

    def try_resume(self) -> bool:
        """Sign in with the token remembered on this PC, if any; False when there is none."""
        server, username = self._prefs.server_url, self._prefs.username
        if not (self._prefs.remember and username) or self._vault.unavailable_reason():
            return False
        self._set_busy(True, f"Signing you in as {username} with the sign-in saved on this PC…")
        attempt = _Attempt(server, username, True)
        vault = self._vault

        def work() -> Session:
            token = vault.load_token(server, username)
            if not token:
                raise LookupError("no remembered sign-in")
            api = ApiClient(server, token=token)
            try:
                try:
                    user = api.me()
                except SessionExpired:
                    vault.forget(server, username)
                    raise
            finally:
                api.close()
            return Session(server, token, user)

        self._tasks.run(
            work, lambda session: self._finish(session, attempt), self._resume_failed, owner=self
        )
        return True

    def show_error(self, message: str) -> None:
        """Show `message` in the red box above the fields."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _missing(self, attempt: _Attempt, password: str) -> str | None:
        if not attempt.server_url:
            self.server_edit.setFocus()
            return "Enter the address of the hospital server."
        if not attempt.username:
            self.username_edit.setFocus()
            return "Enter your username."
        if not password:
            self.password_edit.setFocus()
            return "Enter your password."
        return None

    def _finish(self, session: Session, attempt: _Attempt) -> None:
        self._prefs.server_url = attempt.server_url
        self._prefs.username = attempt.username
        self._prefs.remember = attempt.remember
        self._prefs.sync()
        self._set_busy(False)
        self.password_edit.clear()
        self.signed_in.emit(session)
        self.accept()

    def _login_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.show_error(login_error_text(exc))
        if isinstance(exc, ApiError):
            self.password_edit.clear()
            self.password_edit.setFocus()

    def _resume_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, SessionExpired):
            self.show_error("Your saved sign-in has expired. Please sign in again.")
        elif isinstance(exc, ServerUnreachable | ApiError):
            self.show_error(login_error_text(exc))
        self.password_edit.setFocus()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.server_edit, self.username_edit, self.password_edit):
            widget.setEnabled(not busy)
        self.remember_box.setEnabled(not busy and self._vault.unavailable_reason() is None)
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "Sign in")
        self.info_label.setText(text)
        self.info_label.setVisible(busy and bool(text))
        if busy:
            self.show_error("")
