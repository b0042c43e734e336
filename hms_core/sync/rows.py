"""Rows as JSON on the wire, and back: the same table definitions on PostgreSQL and SQLite."""

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Date, DateTime, Table, Time, Uuid

from hms_core.db.base import Base
from hms_core.db.types import DecimalText


def row_to_wire(obj: Base) -> dict[str, Any]:
    """A mapped object's columns as JSON-safe values."""
    table: Table = obj.__table__  # type: ignore[assignment]
    return {column.key: wire_value(getattr(obj, column.key)) for column in table.columns}


def wire_to_values(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    """JSON values back into Python values for `table`'s columns; unknown keys are ignored."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.key in data:
            values[column.key] = _from_json(column.type, data[column.key])
    return values


def wire_value(value: Any) -> Any:
    """A Python value as it travels in JSON (UUIDs and dates as strings, enums as values)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _from_json(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Time):
        return time.fromisoformat(value)
    if isinstance(column_type, DecimalText):
        return Decimal(str(value))
    return value
