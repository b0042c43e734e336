"""The signed-in session, the non-secret preferences, and the token kept in the OS keychain."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import keyring
import keyring.errors
from PySide6.QtCore import QSettings

from hms_core.rbac import Perm, permissions_for
from hms_core.schemas.auth import UserOut
from hms_desktop.store.profiles import profile_dir
from hms_desktop.sync.api_client import DEFAULT_SERVER_URL, normalize_server_url

log = logging.getLogger(__name__)

KEYRING_SERVICE = "hms"
NO_KEYRING_MESSAGE = (
    "“Remember me” is not available: this PC has no secure password store. "
    "You will need to sign in each time."
)


@dataclass(frozen=True)
class Session:
    """Who is signed in, to which server, with which token."""

    server_url: str
    token: str
    user: UserOut
    expires_at: datetime | None = None
    offline: bool = False  # signed in against this PC's cached verifier: no token yet
    password: str | None = field(default=None, repr=False)  # offline only, in memory

    @property
    def cache_dir(self) -> Path:
        """This user's cache folder on this PC."""
        return profile_dir(self.server_url, self.user.username)

    @property
    def permissions(self) -> frozenset[str]:
        """The server's list when it sent one, else what the role grants in hms_core.rbac."""
        if self.user.permissions:
            return frozenset(self.user.permissions)
        return frozenset(p.value for p in permissions_for(self.user.role))

    def can(self, permission: Perm | str) -> bool:
        """Whether the signed-in user holds `permission`."""
        return str(permission) in self.permissions


class Prefs:
    """Non-secret preferences: last server, last username, the remember-me choice."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings or QSettings("hms", "hms-desktop")

    @property
    def server_url(self) -> str:
        value = self._settings.value("login/server_url", DEFAULT_SERVER_URL, type=str)
        return str(value) or DEFAULT_SERVER_URL

    @server_url.setter
    def server_url(self, value: str) -> None:
        self._settings.setValue("login/server_url", normalize_server_url(value))

    @property
    def username(self) -> str:
        return str(self._settings.value("login/username", "", type=str))

    @username.setter
    def username(self, value: str) -> None:
        self._settings.setValue("login/username", value)

    @property
    def remember(self) -> bool:
        return bool(self._settings.value("login/remember", False, type=bool))

    @remember.setter
    def remember(self, value: bool) -> None:
        self._settings.setValue("login/remember", bool(value))

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._settings.sync()


class CredentialVault:
    """Session tokens in the OS keychain (via keyring); never in a plain file."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self._service = service

    def unavailable_reason(self) -> str | None:
        """None when a usable keychain exists, else a message saying remember-me is off."""
        try:
            backend = keyring.get_keyring()
            priority = float(getattr(backend, "priority", 0))
        except Exception:  # a broken backend must never stop sign-in
            log.warning("keyring backend check failed", exc_info=True)
            return NO_KEYRING_MESSAGE
        return None if priority >= 1 else NO_KEYRING_MESSAGE

    def save_token(self, server_url: str, username: str, token: str) -> bool:
        """Store the token; False when the keychain refused."""
        if self.unavailable_reason():
            return False
        try:
            keyring.set_password(self._service, _key(server_url, username), token)
        except keyring.errors.KeyringError:
            log.warning("could not store the token in the keychain", exc_info=True)
            return False
        return True

    def load_token(self, server_url: str, username: str) -> str | None:
        """The remembered token for this server and user, if any."""
        if self.unavailable_reason():
            return None
        try:
            return keyring.get_password(self._service, _key(server_url, username))
        except keyring.errors.KeyringError:
            log.warning("could not read the keychain", exc_info=True)
            return None

    def forget(self, server_url: str, username: str) -> None:
        """Remove the remembered token (no error when there is none)."""
        if self.unavailable_reason():
            return
        try:
            keyring.delete_password(self._service, _key(server_url, username))
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError:
            log.warning("could not remove the token from the keychain", exc_info=True)


def _key(server_url: str, username: str) -> str:
    return f"{normalize_server_url(server_url)}|{username}"
