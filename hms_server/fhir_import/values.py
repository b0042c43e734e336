"""Reading FHIR data types: dateTimes, codings, quantities and base64 attachments."""

import base64
import binascii
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")


def moment(value: object) -> datetime | None:
    """A FHIR date or dateTime as an aware UTC moment (a bare date is its midnight UTC)."""
    if not isinstance(value, str) or not value:
        return None
    text = value
    if len(text) == 4:  # YYYY
        text += "-01-01"
    elif len(text) == 7:  # YYYY-MM
        text += "-01"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day(value: object) -> date | None:
    at = moment(value)
    return at.date() if at else None


def first_moment(resource: dict[str, Any], *fields: str) -> datetime | None:
    """The first of `fields` that holds a dateTime (or a Period whose start does)."""
    for name in fields:
        value = resource.get(name)
        if isinstance(value, dict):
            value = value.get("start")
        at = moment(value)
        if at is not None:
            return at
    return None


def coding(concept: dict[str, Any] | None, prefer: tuple[str, ...] = ()) -> tuple[str, str, str]:
    """(system, code, display) of a CodeableConcept: a coding from `prefer` systems if any,
    else the first coding; the concept's text stands in for a missing display."""
    concept = concept or {}
    codings = [c for c in concept.get("coding", []) or [] if isinstance(c, dict)]
    chosen = next((c for c in codings if c.get("system") in prefer), None)
    chosen = chosen or (codings[0] if codings else {})
    display = chosen.get("display") or concept.get("text") or ""
    return (
        clip(chosen.get("system", ""), 200),
        clip(chosen.get("code", ""), 64),
        clip(display, 500),
    )


def concept_text(concept: dict[str, Any] | None) -> str:
    """What a person reads for a CodeableConcept: its text, else its first display or code."""
    concept = concept or {}
    if concept.get("text"):
        return str(concept["text"])
    _, code, display = coding(concept)
    return display or code


def first_code(concepts: object) -> str:
    """The first code of a list of CodeableConcepts (e.g. a category)."""
    for concept in concepts if isinstance(concepts, list) else []:
        _, code, _ = coding(concept)
        if code:
            return code
    return ""


def number(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def attachment_text(attachment: dict[str, Any] | None) -> str:
    """The text of an attachment: its base64 data decoded (UTF-8), else its URL."""
    attachment = attachment or {}
    data = attachment.get("data")
    if isinstance(data, str) and data:
        try:
            return base64.b64decode(data, validate=False).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return ""
    return str(attachment.get("url") or "")


def clip(value: object, size: int) -> str:
    """A string that fits a column of `size` characters."""
    text = "" if value is None else str(value)
    return text if len(text) <= size else text[: size - 1] + "…"
