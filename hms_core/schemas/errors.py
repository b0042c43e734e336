"""The structured error every API failure returns, and plain-words messages for field errors."""

from typing import Any

from pydantic import BaseModel, ValidationError


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = []
    detail: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


_MESSAGES = {
    "missing": "This is required",
    "string_too_short": "This is required",
    "string_too_long": "Too long: at most {max_length} characters",
    "date_from_datetime_parsing": "Not a valid date (use YYYY-MM-DD)",
    "date_parsing": "Not a valid date (use YYYY-MM-DD)",
    "date_type": "Not a valid date (use YYYY-MM-DD)",
    "int_parsing": "Must be a whole number",
    "int_type": "Must be a whole number",
    "string_type": "Must be text",
    "bool_type": "Must be true or false",
    "bool_parsing": "Must be true or false",
    "enum": "Must be one of: {expected}",
    "literal_error": "Must be one of: {expected}",
    "uuid_parsing": "Not a valid identifier",
    "uuid_type": "Not a valid identifier",
    "extra_forbidden": "Unknown field",
    "greater_than_equal": "Must be at least {ge}",
    "greater_than": "Must be more than {gt}",
    "less_than_equal": "Must be at most {le}",
    "too_long": "Too many entries: at most {max_length}",
    "list_type": "Must be a list",
    "model_attributes_type": "Must be an object",
    "dict_type": "Must be an object",
}


def friendly_message(error: dict[str, Any]) -> str:
    """A message a nurse understands for one pydantic error."""
    kind = error.get("type", "")
    if "input" in error and error["input"] is None and kind.endswith("_type"):
        return "This is required"
    if kind == "value_error" and "email address" in str(error.get("msg", "")):
        return "Not a valid email address (for example name@example.org)"
    template = _MESSAGES.get(kind)
    if template is None:
        message = str(error.get("msg", "Invalid value"))
        return message.removeprefix("Value error, ")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split(":")[0]


def field_path(error: dict[str, Any]) -> str:
    """Dotted field name of a pydantic error, without the 'body' prefix.

    A whole-model check names the field it belongs beside in its context as `field`.
    """
    parts = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    named = (error.get("ctx") or {}).get("field")
    if named:
        parts.append(str(named))
    return ".".join(parts) or "request"


def field_errors(exc: ValidationError) -> list[FieldError]:
    return [FieldError(field=field_path(e), message=friendly_message(e)) for e in exc.errors()]
