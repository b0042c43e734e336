from hms_server.db import head_revision


def test_health_reports_schema(live_server):
    with live_server.client() as client:
        body = client.get("/health").json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "schema": head_revision(),
        "hospital": "hms Demo Hospital",
    }
