"""The OpenAPI description: typed request and response models for every route."""

FILE_UPLOADS = {"/api/attachments"}  # the body is the file itself


def binary(content: dict) -> bool:
    return content["schema"] == {"type": "string", "format": "binary"}


def test_every_operation_has_typed_models(live_server):
    with live_server.client() as client:
        spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            success = next(code for code in responses if code.startswith("2"))
            if path == "/sync/snapshot":
                assert "application/x-ndjson" in responses[success]["content"]
            elif success != "204":
                content = responses[success]["content"]
                if "application/json" in content:
                    assert content["application/json"]["schema"], (method, path)
                else:  # a file (an attachment, a thumbnail): documented as binary
                    assert all(binary(c) for c in content.values()), (method, path)
            if method in {"post", "patch", "put"} and path not in {
                "/api/auth/logout",
                "/api/patients/{patient_id}/duplicate-match",
                "/sync/mrn-block",
                "/api/notifications/{notification_id}/read",
                "/api/monitoring/alarms/{alarm_id}/acknowledge",
            }:
                body = operation["requestBody"]["content"]
                if path in FILE_UPLOADS:
                    assert all(binary(c) for c in body.values()), (method, path)
                else:
                    assert "$ref" in body["application/json"]["schema"]
    schemas = spec["components"]["schemas"]
    assert {"PatientCreate", "PatientOut", "LoginResponse", "ErrorResponse"} <= set(schemas)
