"""Domain operations (named mutations): take a Session and an Actor, never commit."""

from hms_core.services.actor import Actor
from hms_core.services.errors import (
    Conflict,
    DomainError,
    DuplicateSuspected,
    InvalidData,
    NotFound,
    PermissionDenied,
)

__all__ = [
    "Actor",
    "Conflict",
    "DomainError",
    "DuplicateSuspected",
    "InvalidData",
    "NotFound",
    "PermissionDenied",
]
