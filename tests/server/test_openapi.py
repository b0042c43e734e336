"""The OpenAPI description: typed request and response models for every route."""


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
                schema = responses[success]["content"]["application/json"]["schema"]
                assert schema, (method, path)
            if method in {"post", "patch", "put"} and path not in {
                "/api/auth/logout",
                "/api/patients/{patient_id}/duplicate-match",
                "/sync/mrn-block",
                "/api/notifications/{notification_id}/read",
                "/api/monitoring/alarms/{alarm_id}/acknowledge",
            }:
                assert "$ref" in operation["requestBody"]["content"]["application/json"]["schema"]
    schemas = spec["components"]["schemas"]
    assert {"PatientCreate", "PatientOut", "LoginResponse", "ErrorResponse"} <= set(schemas)
