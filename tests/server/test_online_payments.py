"""Online payments: a checkout at a real (loopback) acquirer, and its signed webhook that records
the payment once, whatever the acquirer repeats."""

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from hms_core.db import AuditEvent, Payment
from hms_server.app import create_app
from hms_server.billing.online import SIGNATURE_HEADER, sign
from hms_server.settings import Settings
from tests.conftest import LiveServer, close_live_sockets, start_server
from tests.server.test_fhir_claim import ClaimCase, make_claim

TOKEN = "acquirer-token-5f1c"
SECRET = "webhook-secret-9a2e"
NOT_SET_UP = "Online payments are not set up on the server"


@dataclass
class Acquirer:
    """A stand-in for the acquirer's checkout API on 127.0.0.1: remembers what it was sent."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    fail: bool = False

    def pay_url(self, ref: str) -> str:
        return f"{self.url}/pay/{ref}"


def _handler(acquirer: Acquirer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            acquirer.received.append({"path": self.path, "headers": dict(self.headers), **body})
            if acquirer.fail:
                self._answer(500, {"error": "acquirer down"})
                return
            ref = f"acq_{len(acquirer.received):04d}"
            self._answer(200, {"provider_ref": ref, "pay_url": acquirer.pay_url(ref)})

        def _answer(self, status: int, data: dict) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def acquirer() -> Iterator[Acquirer]:
    found = Acquirer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def server_settings(server_settings: Settings, acquirer: Acquirer) -> Settings:
    return server_settings.model_copy(
        update={
            "payments_url": f"{acquirer.url}/checkouts",
            "payments_token": SecretStr(TOKEN),
            "payments_webhook_secret": SecretStr(SECRET),
        }
    )


@pytest.fixture
def unconfigured(db, server_settings: Settings) -> Iterator[LiveServer]:  # noqa: ANN001
    """A second server over the same database with online payments not set up."""
    settings = server_settings.model_copy(
        update={"payments_url": None, "payments_token": None, "payments_webhook_secret": None}
    )
    app = create_app(settings, db)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server, thread = start_server(app, sock)
    yield LiveServer(url=f"http://127.0.0.1:{sock.getsockname()[1]}", db=db, settings=settings)
    close_live_sockets(app)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def payments(live_server) -> list[Payment]:  # noqa: ANN001
    with live_server.db.unit_of_work() as session:
        return list(session.execute(select(Payment)).scalars())


def audit_count(live_server, action: str, outcome: str = "success") -> int:  # noqa: ANN001
    with live_server.db.unit_of_work() as session:
        query = select(func.count(AuditEvent.id)).where(
            AuditEvent.action == action, AuditEvent.outcome == outcome
        )
        return session.execute(query).scalar_one()


def notice(case: ClaimCase, ref: str = "acq_0001", **changes: object) -> bytes:
    body = {
        "provider_ref": ref,
        "status": "succeeded",
        "amount": case.patient_share,
        "currency": "USD",
        "patient_id": str(case.patient_id),
        "invoice_id": str(case.invoice_id),
        "paid_at": "2026-12-06T10:15:00+00:00",
        **changes,
    }
    return json.dumps(body).encode()


def post_notice(live_server, body: bytes, signature: str | None):  # noqa: ANN001, ANN201
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    with live_server.client() as client:
        return client.post("/api/billing/online/webhook", content=body, headers=headers)


# --- checkout ---------------------------------------------------------------------------------


def test_a_checkout_asks_the_acquirer_and_returns_its_payment_page(live_server, acquirer):
    case = make_claim(live_server.db)
    body = {"patient_id": str(case.patient_id), "invoice_id": str(case.invoice_id)}
    with live_server.client("billing") as client:
        response = client.post("/api/billing/online/checkout", json={**body, "amount": 1290})
    assert response.status_code == 200, response.text
    assert response.json() == {"provider_ref": "acq_0001", "pay_url": acquirer.pay_url("acq_0001")}

    (sent,) = acquirer.received
    assert sent["path"] == "/checkouts"
    assert sent["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert (sent["amount"], sent["currency"], sent["exponent"]) == (1290, "USD", 2)
    assert sent["reference"] == case.invoice_number
    assert sent["metadata"] == body
    assert audit_count(live_server, "payment.online_checkout") == 1
    assert payments(live_server) == []  # nothing is paid until the acquirer says so


def test_a_checkout_above_the_balance_is_refused_before_the_acquirer_is_asked(
    live_server, acquirer
):
    case = make_claim(live_server.db)
    body = {"patient_id": str(case.patient_id), "invoice_id": str(case.invoice_id)}
    with live_server.client("billing") as client:
        response = client.post("/api/billing/online/checkout", json={**body, "amount": 1291})
    assert response.status_code == 422
    assert "more than the invoice's balance (USD 12.90)" in response.json()["error"]["message"]
    assert acquirer.received == []


def test_a_nurse_may_not_start_a_checkout(live_server, acquirer):
    case = make_claim(live_server.db)
    with live_server.client("nurse") as client:
        response = client.post(
            "/api/billing/online/checkout",
            json={"patient_id": str(case.patient_id), "amount": 100},
        )
    assert response.status_code == 403
    assert acquirer.received == []


def test_an_acquirer_that_fails_gets_a_plain_answer_without_secrets(live_server, acquirer):
    acquirer.fail = True
    case = make_claim(live_server.db)
    with live_server.client("billing") as client:
        response = client.post(
            "/api/billing/online/checkout",
            json={"patient_id": str(case.patient_id), "amount": 500},
        )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "payment_provider_failed"
    assert "no payment was started" in error["message"]
    assert TOKEN not in response.text
    assert audit_count(live_server, "payment.online_checkout") == 0


# --- webhook ----------------------------------------------------------------------------------


def test_a_notice_with_a_bad_signature_records_nothing(live_server):
    case = make_claim(live_server.db)
    body = notice(case)
    for signature in (None, "sha256=" + "0" * 64, sign(body, "another-secret")):
        response = post_notice(live_server, body, signature)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "bad_signature"
    tampered = notice(case, amount=1)
    assert post_notice(live_server, tampered, sign(body, SECRET)).status_code == 401
    assert payments(live_server) == []
    assert audit_count(live_server, "payment.online_notice", "failure") == 4


def test_a_signed_success_records_one_payment_however_often_it_arrives(live_server):
    case = make_claim(live_server.db)
    body = notice(case)
    first = post_notice(live_server, body, sign(body, SECRET))
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] is True
    again = post_notice(live_server, body, sign(body, SECRET))
    assert again.status_code == 200, again.text
    assert again.json()["recorded"] is False
    assert again.json()["receipt_number"] == first.json()["receipt_number"]

    (payment,) = payments(live_server)
    assert payment.method == "online" and payment.kind == "payment"
    assert payment.amount == case.patient_share and payment.invoice_id == case.invoice_id
    assert payment.reference == "acq_0001" and payment.received_by == "online-payments"
    assert payment.receipt_number == first.json()["receipt_number"]


def test_money_beyond_the_balance_is_kept_as_a_deposit(live_server):
    case = make_claim(live_server.db)
    paid = notice(case, ref="acq_0001")
    assert post_notice(live_server, paid, sign(paid, SECRET)).json()["recorded"] is True
    late = notice(case, ref="acq_0002", amount=700)  # the invoice is already settled
    assert post_notice(live_server, late, sign(late, SECRET)).json()["recorded"] is True
    kinds = sorted((p.kind, p.amount, p.invoice_id) for p in payments(live_server))
    assert kinds == [("deposit", 700, None), ("payment", case.patient_share, case.invoice_id)]


def test_a_failed_payment_notice_records_nothing(live_server):
    case = make_claim(live_server.db)
    body = notice(case, status="failed")
    response = post_notice(live_server, body, sign(body, SECRET))
    assert response.status_code == 200
    assert response.json()["recorded"] is False
    assert payments(live_server) == []


def test_without_online_payments_set_up_both_routes_say_so(unconfigured):
    patient_id = str(uuid.uuid4())
    with unconfigured.client("billing") as client:
        response = client.post(
            "/api/billing/online/checkout", json={"patient_id": patient_id, "amount": 100}
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "online_payments_not_set_up"
    assert response.json()["error"]["message"].startswith(NOT_SET_UP)
    hook = post_notice(unconfigured, b"{}", "sha256=00")
    assert hook.status_code == 503
    assert hook.json()["error"]["message"].startswith(NOT_SET_UP)


def test_a_signed_notice_in_another_currency_is_refused(live_server):
    case = make_claim(live_server.db)
    body = notice(case, currency="EUR")
    response = post_notice(live_server, body, sign(body, SECRET))
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "The payment is in EUR; this bill is in USD."
    assert payments(live_server) == []
