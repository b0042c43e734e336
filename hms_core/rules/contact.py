"""Phone number checks, independent of any one country's numbering plan."""

import re

_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")
MIN_PHONE_DIGITS = 6
MAX_PHONE_DIGITS = 15  # ITU-T E.164


def phone_digits(phone: str) -> str:
    """Only the digits of a phone number, for matching and search."""
    return "".join(c for c in phone if c.isdigit())


def phone_problem(phone: str) -> str | None:
    """A message saying what is wrong with `phone`, or None when it is acceptable."""
    if not _ALLOWED.match(phone.strip()):
        return "A phone number may contain only digits, spaces, dashes, brackets and a leading +"
    count = len(phone_digits(phone))
    if count < MIN_PHONE_DIGITS:
        return f"A phone number needs at least {MIN_PHONE_DIGITS} digits"
    if count > MAX_PHONE_DIGITS:
        return f"A phone number has at most {MAX_PHONE_DIGITS} digits"
    return None
