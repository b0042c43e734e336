"""Business rejections raised by services; the server maps them to HTTP, the desktop to dialogs."""

from typing import Any


class DomainError(Exception):
    """A rejection with a machine code, a sentence for people, and optional per-field messages."""

    code = "invalid"
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.detail = detail or {}


class InvalidData(DomainError):
    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403


class DuplicateSuspected(Conflict):
    code = "duplicate_suspected"
