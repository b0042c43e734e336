"""Message texts per language (resources/notifications/<code>.json), filled with the details of
an appointment, and dates and times written the way people of that language read them.

Every template field is a `str.format_map` pattern. The placeholders are: {patient} (given name),
{doctor}, {department}, {hospital}, {when} (the appointment's date and time in the hospital's
zone), {previous_when} (moved: the earlier time), {reason} (cancelled), {due_date} (follow-up).
Receipt and refund messages (`PAYMENT_KINDS`) take {patient}, {hospital}, {amount}, {method},
{date}, {receipt} (the receipt number) and {balance} (see `balance_text`).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hms_core.rules.money import format_amount

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "notifications"
LANGUAGES = ("en", "es", "fr", "sw")
DEFAULT_LANGUAGE = "en"
KINDS = (
    "appointment_booked",
    "appointment_moved",
    "appointment_cancelled",
    "appointment_reminder",
    "follow_up_due",
)
PAYMENT_KINDS = ("receipt", "refund")
SMS_MAX_CHARS = 300

_ALIASES = {
    "en": ("en", "eng", "english", "anglais", "inglés", "ingles", "kiingereza"),
    "es": ("es", "spa", "spanish", "español", "espanol", "castellano", "espagnol"),
    "fr": ("fr", "fra", "fre", "french", "français", "francais", "francés", "frances"),
    "sw": ("sw", "swa", "swahili", "kiswahili"),
}
_CODES = {alias: code for code, aliases in _ALIASES.items() for alias in aliases}


class TemplateError(ValueError):
    """A template needs a value nobody supplied (or names an unknown kind)."""


@dataclass(frozen=True)
class Rendered:
    """One message filled in: the email's subject and body, and the short SMS text."""

    subject: str
    body: str
    sms: str


def language_code(preferred_language: str | None) -> str:
    """The template language for a patient's free-text preference ("Spanish", "fr-CA" → es, fr)."""
    if not preferred_language:
        return DEFAULT_LANGUAGE
    text = preferred_language.strip().casefold()
    first_word = re.split(r"[-_\s(,;/]", text, maxsplit=1)[0]
    return _CODES.get(text) or _CODES.get(first_word, DEFAULT_LANGUAGE)


@cache
def catalogue(code: str) -> dict[str, Any]:
    """The texts of one language, read once."""
    return json.loads((RESOURCES / f"{code}.json").read_text(encoding="utf-8"))


def render(kind: str, code: str, values: Mapping[str, str]) -> Rendered:
    """The message `kind` in language `code`, filled with `values`."""
    texts = catalogue(code)["messages"].get(kind)
    if texts is None:
        raise TemplateError(f"There is no {kind!r} message in {code}.json")
    where = f"{code}/{kind}"
    return Rendered(
        subject=fill(texts["subject"], values, where),
        body=fill(texts["body"], values, where),
        sms=shorten(fill(texts["sms"], values, where), SMS_MAX_CHARS),
    )


def fill(template: str, values: Mapping[str, str], where: str) -> str:
    """`template` with its placeholders replaced; a missing one names itself in the error."""
    try:
        return template.format_map(values)
    except KeyError as missing:
        raise TemplateError(
            f"The message template {where} needs a value for {{{missing.args[0]}}}"
        ) from None


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_datetime(moment: datetime, code: str, zone: str) -> str:
    """A moment as people read it in the hospital's zone: "Tuesday 8 December 2026 at 09:30"."""
    local = moment.astimezone(ZoneInfo(zone))
    texts = catalogue(code)
    fields = _date_fields(local.date(), texts) | _time_fields(local, texts)
    return fill(texts["formats"]["datetime"], fields, f"{code}/formats")


def format_date(day: date, code: str) -> str:
    """A calendar day as people read it: "Tuesday 8 December 2026"."""
    texts = catalogue(code)
    return fill(texts["formats"]["date"], _date_fields(day, texts), f"{code}/formats")


def no_reason(code: str) -> str:
    """What to say when a cancellation came without a reason."""
    return catalogue(code)["no_reason"]


def balance_text(balance: int, exponent: int, currency: str, code: str) -> str:
    """A balance as people read it: the amount owed, or the amount held in the patient's favour."""
    amount = format_amount(abs(balance), exponent, currency)
    if balance >= 0:
        return amount
    return fill(catalogue(code)["money"]["in_credit"], {"amount": amount}, f"{code}/money")


def method_name(method: str, code: str) -> str:
    """A payment method ("cash", "card" …) in language `code`."""
    return catalogue(code)["money"]["methods"].get(method, method)


def _date_fields(day: date, texts: dict[str, Any]) -> dict[str, str]:
    first = texts.get("first_day") if day.day == 1 else None
    return {
        "weekday": texts["weekdays"][day.weekday()],
        "day": first or str(day.day),
        "month": texts["months"][day.month - 1],
        "year": str(day.year),
    }


def _time_fields(local: datetime, texts: dict[str, Any]) -> dict[str, str]:
    periods = texts.get("day_periods", [])
    return {
        "hh": f"{local.hour:02d}",
        "h": str(local.hour),
        "mm": f"{local.minute:02d}",
        # The East African clock counts hours from 06:00 (07:00 is "saa 1 asubuhi").
        "eat_hour": str((local.hour - 6) % 12 or 12),
        "period": next((name for start, name in reversed(periods) if local.hour >= start), ""),
    }
