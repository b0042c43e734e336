"""Login, tokens, expiry, logout and lockout against a live server."""

from datetime import timedelta

from sqlalchemy import select, update

from hms_core.db import AuditEvent, AuthSession, User
from hms_core.db.base import utcnow
from hms_server.auth import token_digest


def login(client, username, password):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_login_returns_token_user_role_and_permissions(live_server):
    username, password = live_server.users["reception"]
    with live_server.client() as client:
        response = login(client, username, password)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == username
    assert body["user"]["role"] == "reception"
    assert "patient.register" in body["user"]["permissions"]
    assert "audit.read" not in body["user"]["permissions"]
    assert len(body["token"]) >= 40
    # Only a digest of the token is stored.
    with live_server.db.unit_of_work() as session:
        stored = session.execute(select(AuthSession.token_hash)).scalars().all()
    assert token_digest(body["token"]) in stored
    assert body["token"] not in stored


def test_wrong_password_is_refused_with_a_structured_error(live_server):
    username, _ = live_server.users["doctor"]
    with live_server.client() as client:
        response = login(client, username, "wrong-password")
        unknown = login(client, "nobody-here", "whatever-password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == response.json()["error"]["message"]


def test_five_failures_lock_the_account_even_for_the_right_password(live_server):
    username, password = live_server.users["nurse"]
    with live_server.client() as client:
        for _ in range(5):
            assert login(client, username, "bad-password").status_code == 401
        locked = login(client, username, password)
    assert locked.status_code == 423
    error = locked.json()["error"]
    assert error["code"] == "account_locked"
    assert "locked_until" in error["detail"]
    with live_server.db.unit_of_work() as session:
        failures = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
            .scalars()
            .all()
        )
    assert len(failures) == 6
    assert failures[-1].detail["reason"] in {"wrong password", "account locked"}


def test_lock_expires(live_server):
    username, password = live_server.users["lab"]
    with live_server.db.unit_of_work() as session:
        session.execute(
            update(User)
            .where(User.username == username)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    with live_server.client() as client:
        assert login(client, username, password).status_code == 200


def test_logout_revokes_the_token(live_server):
    with live_server.client("reception") as client:
        assert client.get("/api/auth/me").status_code == 200
        assert client.post("/api/auth/logout").status_code == 204
        after = client.get("/api/auth/me")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "session_expired"


def test_expired_token_is_refused(live_server):
    with live_server.client("billing") as client:
        with live_server.db.unit_of_work() as session:
            session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(minutes=1)))
        response = client.get("/api/patients", params={"q": "smith"})
    assert response.status_code == 401
    assert "sign in again" in response.json()["error"]["message"]


def test_garbage_tokens_and_bodies_never_crash(live_server):
    with live_server.client() as client:
        for header in ["Bearer", "Bearer ' OR 1=1 --", "Basic abc", "Bearer " + "x" * 5000]:
            response = client.get("/api/auth/me", headers={"Authorization": header})
            assert response.status_code == 401, header
        bad = client.post(
            "/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "validation_error"
        empty = client.post("/api/auth/login", json={})
        assert {f["field"] for f in empty.json()["error"]["fields"]} == {"username", "password"}


def test_login_and_logout_are_audited_with_client(live_server):
    with live_server.client("pharmacy") as client:
        client.post("/api/auth/logout")
    with live_server.db.unit_of_work() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.at)).scalars().all()
    actions = [(e.action, e.actor_username, e.client_id) for e in events]
    assert ("auth.login", "test-pharmacy", "pytest") in actions
    assert ("auth.logout", "test-pharmacy", "pytest") in actions
