"""Offline sign-in: a password verifier (argon2id) and the permission snapshot, per user.

Kept in the user's own cache file, written at each online sign-in. An offline sign-in is
refused when the last online one is older than OFFLINE_DAYS.
"""

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select

from hms_core.db.base import utcnow
from hms_core.schemas.auth import UserOut
from hms_desktop.store.cache import open_engine
from hms_desktop.store.schema import local_login

OFFLINE_DAYS = 14
_hasher = PasswordHasher()


class OfflineSignInRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def remember_login(cache_file, user: UserOut, password: str) -> None:  # noqa: ANN001 - Path
    """Store a fresh verifier for `password` and the user's permissions (after online sign-in)."""
    engine = open_engine(cache_file)
    try:
        local_login.create(engine, checkfirst=True)
        with engine.begin() as conn:
            conn.execute(
                insert(local_login)
                .prefix_with("OR REPLACE")
                .values(
                    username=user.username,
                    verifier=_hasher.hash(password),
                    user=user.model_dump(mode="json"),
                    online_at=utcnow(),
                )
            )
    finally:
        engine.dispose()


def offline_login(cache_file, username: str, password: str) -> UserOut:  # noqa: ANN001 - Path
    """The cached user when `password` matches; raises OfflineSignInRefused otherwise."""
    if not cache_file.exists():
        raise OfflineSignInRefused(
            "The server cannot be reached, and you have not signed in on this computer before. "
            "Sign in once while the server is reachable."
        )
    engine = open_engine(cache_file)
    try:
        local_login.create(engine, checkfirst=True)
        with engine.connect() as conn:
            query = select(local_login).where(local_login.c.username == username)
            row = conn.execute(query).first()
    finally:
        engine.dispose()
    if row is None:
        raise OfflineSignInRefused(
            "The server cannot be reached, and you have not signed in on this computer before."
        )
    try:
        _hasher.verify(row.verifier, password)
    except (VerificationError, InvalidHashError):
        raise OfflineSignInRefused("Wrong username or password.") from None
    if utcnow() - row.online_at > timedelta(days=OFFLINE_DAYS):
        raise OfflineSignInRefused(
            f"Working offline is allowed for {OFFLINE_DAYS} days after your last sign-in with "
            "the server. Sign in while the server is reachable."
        )
    return UserOut.model_validate(row.user)
