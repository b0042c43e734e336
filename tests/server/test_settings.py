"""Settings refuse values that would make the server misbehave, in words an operator reads."""

import pytest
from pydantic import ValidationError

from hms_server.settings import Settings


def test_reminders_and_time_zone_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HMS_REMINDER_HOURS", "[48, 3]")
    monkeypatch.setenv("HMS_TIMEZONE", "Africa/Nairobi")
    settings = Settings()
    assert settings.reminder_hours == [48.0, 3.0]
    assert settings.timezone == "Africa/Nairobi"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("HMS_REMINDER_HOURS", "[-1]", "between 0 and 720"),
        ("HMS_TIMEZONE", "Mars/Olympus_Mons", "not a known time zone"),
    ],
)
def test_nonsense_is_refused_with_a_reason(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=words):
        Settings()
