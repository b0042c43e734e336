"""Online payments through an acquirer: start a checkout, and trust only webhooks it signed.

The acquirer's API this speaks (`HttpPaymentProvider`) is deliberately small, so a thin
adapter fits any real provider:

- checkout: `POST {HMS_PAYMENTS_URL}` with `Authorization: Bearer {HMS_PAYMENTS_TOKEN}` and
  JSON `{amount, currency, exponent, reference, description, metadata}` (amount in minor
  units); the answer is JSON `{provider_ref, pay_url}`.
- webhook: the acquirer posts the outcome to `/api/billing/online/webhook` with the header
  `X-HMS-Signature: sha256=<hex HMAC-SHA256 of the raw body with HMS_PAYMENTS_WEBHOOK_SECRET>`.

Secrets are `SecretStr` and are never logged or put in errors.
"""

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx
from pydantic import SecretStr

from hms_core.services.errors import DomainError
from hms_server.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-HMS-Signature"
TIMEOUT_SECONDS = 15.0


class OnlinePaymentsNotSetUp(DomainError):
    code = "online_payments_not_set_up"
    http_status = 503


class PaymentProviderFailed(DomainError):
    code = "payment_provider_failed"
    http_status = 502


NOT_SET_UP = "Online payments are not set up on the server"
PROVIDER_FAILED = (
    "The online payment service did not answer properly, so no payment was started. "
    "Please try again, or take the payment another way."
)


@dataclass(frozen=True)
class Checkout:
    """A started online payment: the acquirer's id for it and the page the patient pays on."""

    provider_ref: str
    pay_url: str


class OnlinePaymentProvider(Protocol):
    """What the billing API needs from an acquirer."""

    def create_checkout(
        self,
        amount_minor: int,
        currency: str,
        exponent: int,
        reference: str,
        description: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Checkout:
        """Start a payment; `metadata` comes back in the webhook (patient and invoice ids)."""
        ...

    def verify_webhook(self, body: bytes, signature: str | None) -> bool: ...


def sign(body: bytes, secret: str) -> str:
    """The signature header value of `body`: 'sha256=' + hex HMAC-SHA256."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class HttpPaymentProvider:
    """An acquirer reached over HTTPS with a bearer token (see the module docstring)."""

    def __init__(self, url: str, token: SecretStr | None, webhook_secret: SecretStr) -> None:
        self.url, self._token, self._secret = url, token, webhook_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> "HttpPaymentProvider":
        """The provider the settings describe, or OnlinePaymentsNotSetUp."""
        if not settings.payments_url or settings.payments_webhook_secret is None:
            raise OnlinePaymentsNotSetUp(NOT_SET_UP + ". Take the payment at the desk instead.")
        return cls(settings.payments_url, settings.payments_token, settings.payments_webhook_secret)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return headers

    def create_checkout(
        self,
        amount_minor: int,
        currency: str,
        exponent: int,
        reference: str,
        description: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Checkout:
        body = {
            "amount": amount_minor,
            "currency": currency,
            "exponent": exponent,
            "reference": reference,
            "description": description,
            "metadata": dict(metadata or {}),
        }
        try:
            response = httpx.post(
                self.url, json=body, headers=self._headers(), timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as error:
            log.warning("payment provider unreachable: %s", type(error).__name__)
            raise PaymentProviderFailed(PROVIDER_FAILED) from None
        return _checkout(response)

    def verify_webhook(self, body: bytes, signature: str | None) -> bool:
        """True only when `signature` is our secret's HMAC of exactly these bytes."""
        if not signature:
            return False
        expected = sign(body, self._secret.get_secret_value())
        return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _checkout(response: httpx.Response) -> Checkout:
    """The acquirer's answer as a Checkout, or PaymentProviderFailed."""
    if not response.is_success:
        log.warning("payment provider refused a checkout: HTTP %s", response.status_code)
        raise PaymentProviderFailed(PROVIDER_FAILED, detail={"status": response.status_code})
    try:
        data = response.json()
        ref, url = str(data["provider_ref"]), str(data["pay_url"])
    except (ValueError, KeyError, TypeError):
        log.warning("payment provider answered a checkout with an unexpected body")
        raise PaymentProviderFailed(PROVIDER_FAILED) from None
    if not ref or not url.startswith(("https://", "http://")):
        raise PaymentProviderFailed(PROVIDER_FAILED)
    return Checkout(provider_ref=ref[:100], pay_url=url)
