"""SMS through an HTTP gateway.

`SmsProvider` is all the dispatcher needs: `send(to, text)` returns the provider's message id
or raises DeliveryError (`permanent=True` when retrying cannot help). `HttpSmsProvider` speaks a
small generic JSON protocol:

    POST <HMS_SMS_URL>   Authorization: Bearer <HMS_SMS_TOKEN>
    {"to": "+254712345678", "from": "<HMS_SMS_SENDER>", "text": "..."}
    → 2xx {"id": "..."}   4xx {"error"|"message"|"detail": "..."}   5xx: try again later

To plug in a real carrier, either point HMS_SMS_URL at a small relay that translates this JSON
into the carrier's API, or write a class with the same `send` method (mapping the carrier's
"invalid number"-style answers to permanent errors and outages to transient ones) and pass it
to `NotificationWorker(sms_provider=...)`.
"""

from typing import Any, Protocol

import httpx

from hms_server.notify import DeliveryError

TIMEOUT_SECONDS = 15.0
NOT_SET_UP = "SMS is not set up on the server"
# Client errors that say nothing against this message: a bad token, a timeout, a rate limit.
RETRYABLE_4XX = {401, 403, 408, 409, 425, 429}


class SmsProvider(Protocol):
    """Anything that can send one text message."""

    def send(self, to: str, text: str) -> str:
        """Send `text` to the phone number `to`; returns the provider's message id."""
        ...


class HttpSmsProvider:
    """The JSON-over-HTTP gateway described above."""

    def __init__(
        self, url: str, token: str | None, sender: str, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.url = url
        self.token = token
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, text: str) -> str:
        """POST the message to the gateway; returns the gateway's id for it."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = {"to": to, "from": self.sender, "text": text}
        try:
            response = httpx.post(self.url, json=payload, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise DeliveryError(
                f"Could not reach the SMS gateway: {reason}", permanent=False
            ) from exc
        return _message_id(response)


def _message_id(response: httpx.Response) -> str:
    """The id from a successful answer; a DeliveryError for any other."""
    body = _json(response)
    if response.is_success:
        return str(body.get("id", "")) if isinstance(body, dict) else ""
    said = _provider_message(response, body)
    if response.status_code in RETRYABLE_4XX or response.status_code >= 500:
        raise DeliveryError(
            f"The SMS gateway could not take the message for now: {said}", permanent=False
        )
    raise DeliveryError(f"The SMS gateway refused the message: {said}", permanent=True)


def _provider_message(response: httpx.Response, body: Any) -> str:
    if isinstance(body, dict):
        for field in ("error", "message", "detail"):
            if isinstance(body.get(field), str) and body[field]:
                return f"{response.status_code} {body[field]}"
    text = response.text.strip()[:200]
    return f"{response.status_code} {text or response.reason_phrase}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
