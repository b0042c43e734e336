"""How alarms look and sound on the central station (IEC 60601-1-8).

High priority: red, flashing at 2 Hz. Medium: yellow, flashing at 0.5 Hz. Low: cyan, constant.
An acknowledged or silenced alarm stays coloured but stops flashing and makes no sound.
Technical alarms (sensor off, no data) concern the equipment, not the patient: they are drawn
white on blue, never in the clinical red or yellow. Sound is optional per priority, off by default.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from hms_core.rules.alarms import HIGH, LOW, MEDIUM, PRIORITY_RANK, TECHNICAL
from hms_core.schemas.monitoring import AlarmOut

RED, YELLOW, CYAN = "#e3262b", "#ffd21f", "#19c3d6"
TECH_BG, TECH_FG = "#1f4fb4", "#ffffff"
# Flash period (seconds) of each priority; 0 means a constant signal.
FLASH_PERIOD = {HIGH: 0.5, MEDIUM: 2.0, LOW: 0.0}
DUTY = 0.5
# How often each priority's burst repeats, in milliseconds.
SOUND_REPEAT_MS = {HIGH: 5_000, MEDIUM: 10_000, LOW: 30_000}
# Each priority's burst as pulse start times (ms), after IEC 60601-1-8's patterns: high ten
# pulses as 3 + 2, pause, 3 + 2; medium three pulses; low two. Pulses use the system's alert
# sound (tones of their own would need QtMultimedia and an audio service on every PC).
BURSTS = {
    HIGH: (0, 150, 300, 650, 800, 1_800, 1_950, 2_100, 2_450, 2_600),
    MEDIUM: (0, 300, 600),
    LOW: (0, 400),
}


@dataclass(frozen=True)
class AlarmLook:
    """The colours of one alarm state; `period` 0 means no flashing."""

    background: str
    foreground: str
    period: float
    technical: bool = False

    def lit(self, now: float) -> bool:
        """Whether a flashing signal is in its 'on' phase at `now` (seconds)."""
        return self.period <= 0 or (now % self.period) < self.period * DUTY


CLINICAL_LOOK = {
    HIGH: AlarmLook(RED, "#ffffff", FLASH_PERIOD[HIGH]),
    MEDIUM: AlarmLook(YELLOW, "#000000", FLASH_PERIOD[MEDIUM]),
    LOW: AlarmLook(CYAN, "#000000", FLASH_PERIOD[LOW]),
}
TECHNICAL_LOOK = AlarmLook(TECH_BG, TECH_FG, 0.0, technical=True)


def is_active(alarm: AlarmOut) -> bool:
    """An alarm that has not ended."""
    return alarm.ended_at is None


def is_quiet(alarm: AlarmOut, now: datetime | None = None) -> bool:
    """Acknowledged, or silenced until a time still to come: no flashing, no sound."""
    if alarm.acknowledged_at is not None:
        return True
    if alarm.silenced_until is None:
        return False
    return alarm.silenced_until > (now or datetime.now(UTC))


def _rank(alarm: AlarmOut) -> tuple[int, datetime]:
    return PRIORITY_RANK.get(alarm.priority, 0), alarm.started_at


def top_alarm(alarms: Iterable[AlarmOut], *, technical: bool = False) -> AlarmOut | None:
    """The highest-priority (then newest) active alarm of the clinical or technical kind."""
    wanted = [a for a in alarms if is_active(a) and (a.kind == TECHNICAL) == technical]
    return max(wanted, key=_rank, default=None)


def look_for(alarm: AlarmOut | None, now: datetime | None = None) -> AlarmLook | None:
    """How a tile shows `alarm` (None: no alarm)."""
    if alarm is None:
        return None
    if alarm.kind == TECHNICAL:
        return TECHNICAL_LOOK
    look = CLINICAL_LOOK.get(alarm.priority, CLINICAL_LOOK[LOW])
    if is_quiet(alarm, now):
        return AlarmLook(look.background, look.foreground, 0.0)
    return look


def alarm_text(alarm: AlarmOut, now: datetime | None = None) -> str:
    """The words on the tile: the message, and whether someone has responded."""
    if alarm.acknowledged_at is not None:
        return f"{alarm.message} · acknowledged"
    if is_quiet(alarm, now) and alarm.silenced_until is not None:
        return f"{alarm.message} · silenced until {alarm.silenced_until.astimezone():%H:%M}"
    return alarm.message


class AlarmSounder(QObject):
    """Optional audible alarms per priority (off by default); repeats while an alarm sounds."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled: dict[str, bool] = {HIGH: False, MEDIUM: False, LOW: False}
        self.sounding: str | None = None
        self.beeps = 0  # bursts started
        self.pulses = 0  # pulses sounded
        self._burst = 0  # which burst pending pulses belong to
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._beep)

    def set_enabled(self, priority: str, on: bool) -> None:
        """Turn sound for one priority on or off."""
        self.enabled[priority] = on
        self.update(self.sounding)

    def update(self, priority: str | None) -> None:
        """Sound for the loudest unacknowledged clinical alarm (None: stop)."""
        self.sounding = priority
        if priority is None or not self.enabled.get(priority):
            self._timer.stop()
            self._burst += 1  # pulses still pending stay silent
            return
        interval = SOUND_REPEAT_MS[priority]
        if not self._timer.isActive() or self._timer.interval() != interval:
            self._timer.start(interval)
            self._beep()

    def _beep(self) -> None:
        """Start one burst of the sounding priority's pattern."""
        self.beeps += 1
        self._burst += 1
        burst = self._burst
        for offset in BURSTS[self.sounding or LOW]:
            QTimer.singleShot(offset, self, lambda: self._pulse(burst))

    def _pulse(self, burst: int) -> None:
        if burst == self._burst:
            self.pulses += 1
            QApplication.beep()
