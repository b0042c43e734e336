"""The hms server's HTTP API as plain blocking calls; run them off the UI thread."""

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from hms_core import SCHEMA_VERSION
from hms_core.rules.alarms import AlarmLimits
from hms_core.schemas.audit import AuditEventOut
from hms_core.schemas.auth import LoginRequest, LoginResponse, UserOut
from hms_core.schemas.billing import HospitalProfile
from hms_core.schemas.errors import ErrorResponse
from hms_core.schemas.monitoring import (
    AlarmOut,
    AssignRequest,
    Station,
    Trends,
    UnmatchedGroup,
    WardOverview,
)
from hms_core.schemas.notifications import MarkAllReadResult, NotificationList, NotificationOut
from hms_core.schemas.patients import (
    PatientSummary,
)
from hms_core.sync.protocol import PullResponse, PushResponse
from hms_desktop import __version__
from hms_desktop.sync.client_identity import load_or_create_client_id

DEFAULT_SERVER_URL = "http://127.0.0.1:8080"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
PUSH_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
SNAPSHOT_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=5.0)  # a CT series may be large
SNAPSHOT_CHUNK = 1 << 20

T = TypeVar("T")


class ApiError(Exception):
    """A structured refusal from the server: HTTP status, machine code, words for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.detail = detail or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"


class SessionExpired(ApiError):
    """The server no longer accepts our token: the user must sign in again."""


class ServerUnreachable(Exception):
    """The server could not be reached or did not answer in time."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_server_url(url: str) -> str:
    """'host:8080' -> 'http://host:8080', without a trailing slash."""
    url = url.strip().rstrip("/")
    if url and "://" not in url:
        url = f"http://{url}"
    return url


class ApiClient:
    """One server, one (optional) session token; every call blocks until the server answers."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        client_id: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_server_url(base_url)
        self.token = token
        self.client_id = client_id or load_or_create_client_id()
        self._http = httpx.Client(
            timeout=TIMEOUT,
            transport=transport,
            headers={"User-Agent": f"hms-desktop/{__version__}"},
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # --- auth -------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> LoginResponse:
        """Exchange a username and password for a session token (kept on this client)."""
        body = LoginRequest(username=username, password=password).model_dump()
        response = self._send("POST", "/api/auth/login", json=body, authenticated=False)
        result = self._parse(response, LoginResponse)
        self.token = result.token
        return result

    def logout(self) -> None:
        """Revoke the token on the server; an already expired token counts as logged out."""
        with contextlib.suppress(SessionExpired):
            self._send("POST", "/api/auth/logout")
        self.token = None

    def me(self) -> UserOut:
        """The user this token belongs to; raises SessionExpired when it is no longer valid."""
        return self._parse(self._send("GET", "/api/auth/me"), UserOut)

    # --- patients ---------------------------------------------------------------------------

    def search_patients(self, q: str, limit: int = 25) -> list[PatientSummary]:
        """Patients matching an MRN, a phone number or name fragments in any order."""
        response = self._send("GET", "/api/patients", params={"q": q, "limit": limit})
        return self._parse(response, list[PatientSummary])

    # --- notifications (the bell) --------------------------------------------------------------

    def notifications(self, unread_only: bool = False, limit: int = 50) -> NotificationList:
        """The signed-in user's notifications, newest first, and the unread count."""
        params = {"unread_only": unread_only, "limit": limit}
        return self._parse(self._send("GET", "/api/notifications", params=params), NotificationList)

    def mark_notification_read(self, notification_id: uuid.UUID) -> NotificationOut:
        """Mark one notification read (one already read stays as it was)."""
        path = f"/api/notifications/{notification_id}/read"
        return self._parse(self._send("POST", path), NotificationOut)

    def mark_all_notifications_read(self, until: datetime | None = None) -> MarkAllReadResult:
        """Mark read every notification created up to `until` (default: all of them)."""
        body = {"until": until.isoformat() if until else None}
        response = self._send("POST", "/api/notifications/read-all", json=body)
        return self._parse(response, MarkAllReadResult)

    # --- hospital --------------------------------------------------------------------------

    def hospital_profile(self) -> HospitalProfile:
        """The issuer printed on bills, and the hospital's currency and time zone."""
        return self._parse(self._send("GET", "/api/hospital/profile"), HospitalProfile)

    # --- monitoring (the ICU central station) -------------------------------------------------

    def monitoring_wards(self) -> list[WardOverview]:
        """The wards a central station can watch, with their bed, monitor and patient counts."""
        return self._parse(self._send("GET", "/api/monitoring/wards"), list[WardOverview])

    def monitoring_station(self, ward_id: uuid.UUID | str) -> Station:
        """One ward's beds, patients, latest values, NEWS2 and active alarms."""
        response = self._send("GET", "/api/monitoring/station", params={"ward_id": str(ward_id)})
        return self._parse(response, Station)

    def monitoring_trends(
        self, patient_id: uuid.UUID, hours: float, parameters: list[str] | None = None
    ) -> Trends:
        """A patient's recorded values over the last `hours`, by parameter."""
        params: dict[str, Any] = {"hours": hours}
        if parameters:
            params["parameters"] = ",".join(parameters)
        path = f"/api/monitoring/patients/{patient_id}/trends"
        return self._parse(self._send("GET", path, params=params), Trends)

    def monitoring_alarms(self, bed_id: uuid.UUID, hours: float = 24) -> list[AlarmOut]:
        """A bed's alarms (active and ended) over the last `hours`, newest first."""
        params = {"bed_id": str(bed_id), "hours": hours}
        return self._parse(
            self._send("GET", "/api/monitoring/alarms", params=params), list[AlarmOut]
        )

    def acknowledge_alarm(self, alarm_id: uuid.UUID) -> AlarmOut | None:
        """Acknowledge an alarm; returns it as it now is when the server says."""
        response = self._send("POST", f"/api/monitoring/alarms/{alarm_id}/acknowledge")
        return _alarm_or_none(response)

    def silence_alarm(self, alarm_id: uuid.UUID, minutes: int = 2) -> AlarmOut | None:
        """Silence an alarm for `minutes` (1 to 15)."""
        path = f"/api/monitoring/alarms/{alarm_id}/silence"
        return _alarm_or_none(self._send("POST", path, json={"minutes": minutes}))

    def alarm_limits(self, patient_id: uuid.UUID) -> AlarmLimits:
        """A patient's alarm limits (the adult defaults unless a nurse changed them)."""
        path = f"/api/monitoring/patients/{patient_id}/limits"
        return self._parse(self._send("GET", path), AlarmLimits)

    def set_alarm_limits(self, patient_id: uuid.UUID, limits: AlarmLimits) -> AlarmLimits:
        """Replace a patient's alarm limits; returns what the server stored."""
        path = f"/api/monitoring/patients/{patient_id}/limits"
        response = self._send("PUT", path, json=limits.model_dump(mode="json"))
        return self._parse(response, AlarmLimits)

    def unmatched_readings(self) -> list[UnmatchedGroup]:
        """Monitor readings no patient could be matched to, grouped by monitor and hint."""
        response = self._send("GET", "/api/monitoring/unmatched")
        return self._parse(response, list[UnmatchedGroup])

    def assign_unmatched(
        self, patient_id: uuid.UUID, device_id: str | None, hint: str | None
    ) -> int:
        """Give a monitor's unmatched readings to a patient; how many readings moved."""
        body = AssignRequest(patient_id=patient_id, device_id=device_id, hint=hint)
        response = self._send(
            "POST", "/api/monitoring/unmatched/assign", json=body.model_dump(mode="json")
        )
        return self._parse(response, dict[str, int])["assigned"]

    # --- admin ------------------------------------------------------------------------------

    def audit(
        self,
        *,
        patient_id: uuid.UUID | None = None,
        username: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEventOut]:
        """Audit events, newest first, filtered by patient, user and time range."""
        params: dict[str, Any] = {"limit": limit}
        if patient_id:
            params["patient_id"] = str(patient_id)
        if username:
            params["username"] = username
        if since:
            params["since"] = since.isoformat()
        if until:
            params["until"] = until.isoformat()
        return self._parse(self._send("GET", "/api/audit", params=params), list[AuditEventOut])

    # --- attachments (images of a study, scanned documents) ----------------------------------

    def upload_attachment(
        self,
        order_id: uuid.UUID,
        file_name: str,
        data: bytes,
        *,
        attachment_id: uuid.UUID | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """Send a file (PNG, JPEG, DICOM or PDF) of an order to the server, which keeps it;
        its attachment row. `attachment_id` makes a retried upload land on the same row."""
        params = {"order_id": str(order_id), "file_name": file_name, "description": description}
        if attachment_id is not None:
            params["id"] = str(attachment_id)
        response = self._send(
            "POST",
            "/api/attachments",
            params=params,
            content=data,
            headers_extra={"Content-Type": _content_type(file_name)},
            timeout=UPLOAD_TIMEOUT,
        )
        return self._parse(response, dict[str, Any])

    def attachment_thumbnail(self, attachment_id: uuid.UUID | str) -> bytes:
        """A small PNG of an attached image (made by the server, DICOM included)."""
        return self._send("GET", f"/api/attachments/{attachment_id}/thumbnail").content

    def attachment_content(self, attachment_id: uuid.UUID | str) -> bytes:
        """The attached file itself, as uploaded."""
        return self._send("GET", f"/api/attachments/{attachment_id}/content").content

    # --- sync (protocol: hms_core.sync.protocol) -----------------------------------------------

    def push(self, mutations: list[dict[str, Any]]) -> PushResponse:
        """Hand queued mutations to the server, in order; each is applied at most once."""
        body = {
            "client_id": self.client_id,
            "schema_version": SCHEMA_VERSION,
            "mutations": [
                {
                    "mutation_id": m["mutation_id"],
                    "name": m["name"],
                    "args": m["args"],
                    "args_version": m.get("args_version", 1),
                }
                for m in mutations
            ],
        }
        response = self._send("POST", "/sync/push", json=body, timeout=PUSH_TIMEOUT)
        return self._parse(response, PushResponse)

    def pull(self, after: int, limit: int = 5000, wait: float = 0) -> PullResponse:
        """Changes after `after`; with `wait`, held by the server until one commits."""
        params = {"after": after, "limit": limit, "wait": wait}
        timeout = httpx.Timeout(wait + 15.0, connect=5.0)
        response = self._send("GET", "/sync/pull", params=params, timeout=timeout)
        return self._parse(response, PullResponse)

    def snapshot(self) -> Iterator[bytes]:
        """Every row in this user's scope, as JSON lines (bytes), streamed."""
        url = self.base_url + "/sync/snapshot"
        try:
            with self._http.stream(
                "GET", url, headers=self._headers(), timeout=SNAPSHOT_TIMEOUT
            ) as response:
                if response.is_error:
                    response.read()
                    raise _error_from(response, authenticated=bool(self.token))
                yield from _lines(response.iter_bytes(SNAPSHOT_CHUNK))
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"The connection to {self._where()} broke while copying data. It will retry."
            ) from exc

    def lease_mrn_block(self) -> tuple[int, int]:
        """Reserve MRN serials [start, stop) for registrations made while offline."""
        answer = self._parse(self._send("POST", "/sync/mrn-block"), dict[str, int])
        return answer["start"], answer["stop"]

    def health(self) -> dict[str, Any]:
        """The server's own health report (no sign-in needed)."""
        response = self._send("GET", "/health", authenticated=False)
        return self._parse(response, dict[str, Any])

    # --- plumbing ---------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"X-HMS-Client": self.client_id, "X-HMS-Schema-Version": str(SCHEMA_VERSION)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _send(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool = True,
        headers_extra: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = self._headers() | (headers_extra or {})
        try:
            response = self._http.request(method, self.base_url + path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(
                f"The hospital server at {self._where()} did not answer in time. "
                "The network may be slow or the server busy. Try again, or ask IT."
            ) from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ServerUnreachable(
                f"Cannot reach the hospital server at {self._where()}. "
                "Check the network cable or ask IT."
            ) from exc
        if response.is_error:
            raise _error_from(response, authenticated=authenticated and bool(self.token))
        return response

    def _where(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url or "(no address)"

    def _parse(self, response: httpx.Response, model: type[T] | Any) -> T:
        try:
            if isinstance(model, type) and issubclass(model, BaseModel):
                return model.model_validate_json(response.content)  # type: ignore[return-value]
            return TypeAdapter(model).validate_json(response.content)
        except ValidationError as exc:
            raise ApiError(
                response.status_code,
                "bad_response",
                "The server's answer could not be understood. "
                "Is this the right server address, and is this program up to date?",
            ) from exc


def _alarm_or_none(response: httpx.Response) -> AlarmOut | None:
    """The alarm in an answer (bare or under "alarm"); None when the answer has no alarm."""
    try:
        body = response.json()
        return AlarmOut.model_validate(body.get("alarm", body) if isinstance(body, dict) else body)
    except (ValueError, ValidationError):
        return None


def _content_type(file_name: str) -> str:
    """The file's type from its name (DICOM has no registered extension in every system)."""
    suffix = file_name.rsplit(".", 1)[-1].casefold() if "." in file_name else ""
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "dcm": "application/dicom",
        "dicom": "application/dicom",
        "pdf": "application/pdf",
    }.get(suffix, "application/octet-stream")


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Split a byte stream into lines (without the newline); the last may lack one."""
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _error_from(response: httpx.Response, *, authenticated: bool) -> ApiError:
    """Build an ApiError from the server's structured error body (or a plain HTTP error)."""
    status = response.status_code
    cls = SessionExpired if status == 401 and authenticated else ApiError
    try:
        body = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        return cls(status, f"http_{status}", _plain_message(response))
    fields = {f.field: f.message for f in body.fields}
    return cls(status, body.code, body.message, fields, body.detail)


def _plain_message(response: httpx.Response) -> str:
    if response.status_code == 401:
        return "Your session has ended. Please sign in again."
    if response.status_code == 403:
        return "Your role does not allow this."
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str) and detail:
        return f"The server refused this: {detail}"
    return f"The server could not do this (HTTP {response.status_code}). Try again, or ask IT."
