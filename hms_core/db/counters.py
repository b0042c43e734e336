"""Named counters for human-facing numbers (MRN, later invoice numbers)."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base


class NumberSequence(Base):
    __tablename__ = "number_sequence"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)
