"""Registrations from many desks at once get distinct, valid MRNs and nothing is lost."""

from concurrent.futures import ThreadPoolExecutor

from hms_core.rules.mrn import is_valid_mrn


def test_parallel_registrations_get_unique_mrns(live_server):
    token = live_server.token("reception")

    def register(n: int) -> dict:
        with live_server.client() as client:
            client.headers["Authorization"] = f"Bearer {token}"
            response = client.post(
                "/api/patients",
                json={
                    "given_name": f"Parallel{chr(65 + n)}",
                    "family_name": f"Desk{n:02d}x",
                    "birth_date": f"19{50 + n}-01-01",
                    "sex": "unknown",
                },
            )
            assert response.status_code == 201, response.text
            return response.json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(register, range(20)))
    mrns = [p["mrn"] for p in created]
    assert len(set(mrns)) == 20
    assert all(is_valid_mrn(m) for m in mrns)
    with live_server.client("reception") as client:
        found = client.get("/api/patients", params={"q": "parallel", "limit": 100}).json()
    assert len(found) == 20
