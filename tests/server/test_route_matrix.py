"""Every route × every role: 401 without a token, 403 where denied, never a 500."""

import uuid

from hms_core.rbac import ROLE_PERMISSIONS, Perm, Role

OPEN = {"public", "authenticated"}
SAMPLE_ID = str(uuid.uuid4())
METHODS = {"get", "post", "put", "patch", "delete"}


def operations(client):
    """(method, path, permission) of every operation the server documents."""
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation.get("x-permission")


def test_every_operation_declares_a_known_permission(live_server):
    with live_server.client() as client:
        found = list(operations(client))
    assert len(found) >= 10
    for method, path, permission in found:
        assert permission in OPEN | {p.value for p in Perm}, (method, path, permission)


def expect_denied(permission: str, role: Role) -> bool:
    return permission not in OPEN and Perm(permission) not in ROLE_PERMISSIONS[role]


def test_route_role_matrix(live_server):
    clients = {role: live_server.client(role.value) for role in Role}
    anonymous = live_server.client()
    matrix: dict[tuple[str, str], dict[str, int]] = {}
    try:
        for method, template, permission in operations(anonymous):
            if template == "/api/auth/logout":
                continue  # would revoke the shared tokens; covered in test_auth
            if template == "/api/billing/online/webhook":
                continue  # signed by the payment provider, not a user: test_online_payments
            path = template.replace("{patient_id}", SAMPLE_ID)
            if permission != "public":
                response = anonymous.request(method, path, json={})
                assert response.status_code == 401, (method, path)
                assert response.json()["error"]["code"] == "not_authenticated"
            row = matrix.setdefault((method, template), {})
            for role, client in clients.items():
                response = client.request(method, path, json={}, params={"q": "x"})
                assert response.status_code < 500, (method, path, role, response.text)
                if response.status_code >= 400:
                    assert "error" in response.json(), (method, path, role)
                if expect_denied(permission, role):
                    assert response.status_code == 403, (method, path, role)
                    assert response.json()["error"]["code"] == "forbidden"
                else:
                    assert response.status_code not in (401, 403), (method, path, role)
                row[role.value] = response.status_code
    finally:
        for client in clients.values():
            client.close()
        anonymous.close()
    # Spot-check the matrix a hospital cares about most.
    assert matrix[("POST", "/api/patients")]["reception"] == 422  # allowed, empty body invalid
    assert matrix[("POST", "/api/patients")]["doctor"] == 403
    assert matrix[("GET", "/api/audit")]["admin"] == 200
    assert all(
        status == 403 for role, status in matrix[("GET", "/api/audit")].items() if role != "admin"
    )
    assert all(
        status == 403
        for status in (
            row["patient"] for key, row in matrix.items() if key[1].startswith("/api/patients")
        )
    )
