"""ApiClient: headers, structured errors, plain-words failures (no server needed)."""

import json
import socket
import uuid

import httpx
import pytest

from hms_desktop.sync.api_client import (
    ApiClient,
    ApiError,
    ServerUnreachable,
    SessionExpired,
    normalize_server_url,
)
from hms_desktop.sync.client_identity import client_id_path, load_or_create_client_id

USER = {
    "id": str(uuid.uuid4()),
    "username": "ana",
    "full_name": "Ana Reyes",
    "role": "reception",
    "permissions": ["patient.read"],
}


def error(status: int, code: str, message: str, **extra: object) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, **extra}})


def client(handler, token: str | None = "tok") -> ApiClient:  # noqa: ANN001, S107
    return ApiClient(
        "http://hms.test:8080/",
        token=token,
        client_id="pc-1",
        transport=httpx.MockTransport(handler),
    )


def test_every_request_carries_client_id_and_token():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=USER)

    assert client(handler).me().username == "ana"
    assert seen[0].headers["X-HMS-Client"] == "pc-1"
    assert seen[0].headers["Authorization"] == "Bearer tok"
    assert str(seen[0].url) == "http://hms.test:8080/api/auth/me"


def test_login_keeps_the_token():
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"username": "ana", "password": "pw"}
        body = {"token": "new", "expires_at": "2030-01-01T00:00:00+00:00", "user": USER}
        return httpx.Response(200, json=body)

    api = client(handler, token=None)
    assert api.login("ana", "pw").user.full_name == "Ana Reyes"
    assert api.token == "new"


def test_wrong_password_is_an_api_error_not_session_expired():
    api = client(lambda r: error(401, "invalid_credentials", "Wrong"), token=None)
    with pytest.raises(ApiError) as caught:
        api.login("ana", "bad")
    assert type(caught.value) is ApiError
    assert caught.value.code == "invalid_credentials"


def test_401_on_an_authenticated_call_is_session_expired():
    with pytest.raises(SessionExpired):
        client(lambda r: error(401, "not_authenticated", "Expired")).me()


def test_field_errors_become_a_dict():
    fields = [{"field": "birth_date", "message": "Date of birth cannot be in the future"}]
    api = client(lambda r: error(422, "validation_error", "Please correct", fields=fields))
    with pytest.raises(ApiError) as caught:
        api.search_patients("ab")
    assert caught.value.fields == {"birth_date": "Date of birth cannot be in the future"}


def test_non_json_error_still_reads_well():
    api = client(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(ApiError) as caught:
        api.health()
    assert "HTTP 502" in caught.value.message


def test_garbage_success_body_is_an_api_error():
    api = client(lambda r: httpx.Response(200, json={"unexpected": True}))
    with pytest.raises(ApiError) as caught:
        api.me()
    assert caught.value.code == "bad_response"


def test_unreachable_server_is_explained_in_plain_words():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = ApiClient(f"127.0.0.1:{port}", client_id="pc-1")
    with pytest.raises(ServerUnreachable) as caught:
        api.health()
    assert f"Cannot reach the hospital server at 127.0.0.1:{port}" in caught.value.message
    assert "network cable" in caught.value.message
    api.close()


def test_timeout_is_explained_in_plain_words():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ServerUnreachable, match="did not answer in time"):
        client(handler).health()


def test_server_url_is_normalised():
    assert normalize_server_url(" ward-pc:8080/ ") == "http://ward-pc:8080"
    assert normalize_server_url("https://hms.example.org") == "https://hms.example.org"


def test_client_id_is_stable_and_kept_in_the_data_dir(desktop_dirs):  # noqa: ANN001
    first = load_or_create_client_id()
    assert load_or_create_client_id() == first
    assert client_id_path().is_relative_to(desktop_dirs.data)
    assert uuid.UUID(client_id_path().read_text().strip()) == uuid.UUID(first)
