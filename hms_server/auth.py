"""Passwords (argon2id), opaque session tokens stored as digests, and account lockout."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import AuthSession, User
from hms_core.db.base import utcnow
from hms_core.rbac import Role
from hms_core.services import Actor
from hms_core.services.audit import record_audit
from hms_server.settings import Settings

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginRefused(Exception):
    """Wrong credentials, or a locked or disabled account."""

    def __init__(self, code: str, message: str, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.locked_until = locked_until


@dataclass
class LoginResult:
    token: str
    session: AuthSession
    user: User


def login(
    session: Session, settings: Settings, username: str, password: str, client: Actor
) -> LoginResult:
    """Check credentials, apply the lockout policy, and open a session. Audits every outcome."""
    user = session.execute(
        select(User).where(User.username == username).with_for_update()
    ).scalar_one_or_none()
    now = utcnow()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        _audit_failure(session, client, username, "unknown user")
        raise LoginRefused("invalid_credentials", "Wrong username or password.")
    actor = _actor(user, client)
    if user.locked_until and user.locked_until > now:
        _audit_failure(session, actor, username, "account locked")
        raise LoginRefused(
            "account_locked",
            "This account is locked after repeated failed logins. Try again later "
            "or ask an administrator to unlock it.",
            user.locked_until,
        )
    if not verify_password(user.password_hash, password):
        _register_failure(user, settings, now)
        _audit_failure(session, actor, username, "wrong password")
        raise LoginRefused("invalid_credentials", "Wrong username or password.")
    if not user.is_active:
        _audit_failure(session, actor, username, "account disabled")
        raise LoginRefused("account_disabled", "This account is disabled.")
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    auth = AuthSession(
        token_hash=token_digest(token),
        user_id=user.id,
        client_id=client.client_id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    session.add(auth)
    record_audit(session, actor, "auth.login")
    return LoginResult(token=token, session=auth, user=user)


def _register_failure(user: User, settings: Settings, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= settings.max_failed_logins:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        user.failed_logins = 0


def _audit_failure(session: Session, actor: Actor, username: str, reason: str) -> None:
    record_audit(
        session,
        actor,
        "auth.login_failed",
        outcome="failure",
        detail={"username": username[:64], "reason": reason},
    )


def _actor(user: User, client: Actor) -> Actor:
    return Actor(user.id, user.username, user.role, client.client_id, client.address)


def authenticate(session: Session, token: str) -> tuple[AuthSession, User] | None:
    """The live session and user for a bearer token, or None if unknown, expired or revoked."""
    row = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        return None
    auth, user = row
    if auth.revoked_at is not None or auth.expires_at <= utcnow() or not user.is_active:
        return None
    return auth, user


def create_user(
    session: Session, username: str, role: str, password: str, full_name: str = ""
) -> User:
    """Create a staff account (administration path; the caller audits)."""
    Role(role)  # raises ValueError for an unknown role
    if session.execute(select(User.id).where(User.username == username)).first():
        raise ValueError(f"A user named {username!r} already exists")
    user = User(
        username=username, role=role, password_hash=hash_password(password), full_name=full_name
    )
    session.add(user)
    session.flush()
    return user
