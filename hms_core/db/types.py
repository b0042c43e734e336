"""Column types shared by the tables: exact decimals that PostgreSQL and SQLite store alike."""

from decimal import Decimal
from typing import Any

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class DecimalText(TypeDecorator):
    """A `Decimal` kept as its canonical text ('2.5', '15'): exact on both databases, where
    SQLite's NUMERIC would turn it into a float."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError("Only finite numbers can be stored.")
        text = format(number.normalize(), "f")
        return text

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)
