"""The billing routes only the server serves: a claim as FHIR JSON, and the hospital profile."""

import json
import uuid
from decimal import Decimal

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim
from sqlalchemy import select

from hms_core.db import AuditEvent
from hms_core.schemas.billing import HospitalProfile
from hms_server.settings import Settings
from tests.server.test_fhir_claim import make_claim


@pytest.fixture
def server_settings(server_settings: Settings) -> Settings:
    return server_settings.model_copy(
        update={
            "hospital_name": "St Luke's Hospital",
            "hospital_address": "1 Hill Road\\nWestlands\nNairobi",
            "hospital_phone": "+254 20 555 0100",
            "hospital_tax_id": "P051234567X",
            "currency": "KES",
            "currency_exponent": 2,
            "timezone": "Africa/Nairobi",
        }
    )


def audits(live_server, action: str) -> list[AuditEvent]:
    with live_server.db.unit_of_work() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.execute(query).scalars())


def test_billing_downloads_a_claim_as_fhir_json_and_the_export_is_audited(live_server):
    case = make_claim(live_server.db)
    with live_server.client("billing") as client:
        response = client.get(f"/api/billing/claims/{case.claim_id}/fhir")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")

    claim = FhirClaim.model_validate_json(response.text)
    assert claim.id == str(case.claim_id)
    total = json.loads(response.text, parse_float=Decimal)["total"]
    assert total["value"] == Decimal(case.payer_share) / 100
    provider = next(r for r in claim.contained if r.id == "provider")
    assert provider.name == "St Luke's Hospital"

    (event,) = audits(live_server, "claim.export")
    assert event.patient_id == case.patient_id
    assert event.actor_username == "test-billing"
    assert event.detail["claim_id"] == str(case.claim_id)


def test_a_nurse_may_not_export_a_claim(live_server):
    case = make_claim(live_server.db)
    with live_server.client("nurse") as client:
        response = client.get(f"/api/billing/claims/{case.claim_id}/fhir")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert audits(live_server, "claim.export") == []


def test_an_unknown_claim_is_a_clear_404(live_server):
    with live_server.client("billing") as client:
        response = client.get(f"/api/billing/claims/{uuid.uuid4()}/fhir")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "This insurance claim was not found."


def test_the_hospital_profile_comes_from_the_settings(live_server):
    with live_server.client("nurse") as client:
        response = client.get("/api/hospital/profile")
    assert response.status_code == 200
    assert HospitalProfile.model_validate(response.json()) == HospitalProfile(
        name="St Luke's Hospital",
        address_lines=["1 Hill Road", "Westlands", "Nairobi"],
        phone="+254 20 555 0100",
        tax_id="P051234567X",
        currency="KES",
        exponent=2,
        timezone="Africa/Nairobi",
    )
    with live_server.client("patient") as client:
        assert client.get("/api/hospital/profile").status_code == 403


@pytest.mark.parametrize("value", ["usd", "US", "EURO"])
def test_a_currency_that_is_not_a_three_letter_code_is_refused(value, tmp_path):
    with pytest.raises(ValueError, match="three-letter code"):
        Settings(data_dir=tmp_path, currency=value)
