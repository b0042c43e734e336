"""What the ward shows, as pure functions: NEWS2 colours and words, when the next set is due,
and the live NEWS2 preview of a half-typed set (the same rule the server and station use)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hms_core.rules import news2
from hms_core.schemas.ward import BedView, RecordVitals, VitalsView
from hms_core.services import vitals as vitals_rules
from hms_desktop.widgets.messages import local_time

# band -> (text colour, background); a total of 0 is its own, calmer colour
BAND_COLOURS: dict[str, tuple[str, str]] = {
    "zero": ("#05603a", "#dcfae6"),
    news2.LOW: ("#713b12", "#fef7c3"),
    news2.LOW_MEDIUM: ("#93370d", "#fedf89"),
    news2.MEDIUM: ("#ffffff", "#e8710a"),
    news2.HIGH: ("#ffffff", "#c4320a"),
}
NO_SCORE = ("#475467", "#eaecf0")
_ZERO = "00000000-0000-0000-0000-000000000000"  # a stand-in id: the preview saves nothing
BAND_WORDS = {
    news2.LOW: "low",
    news2.LOW_MEDIUM: "low-medium (a 3 in one parameter)",
    news2.MEDIUM: "medium",
    news2.HIGH: "high",
}
_PLAIN = {
    "respiration_rate": "respiration rate",
    "spo2": "SpO2",
    "on_oxygen": "air or oxygen",
    "systolic_bp": "systolic BP",
    "pulse": "pulse",
    "consciousness": "ACVPU",
    "temperature_c": "temperature",
}


def band_colours(total: int | None, band: str | None) -> tuple[str, str]:
    """(text, background) for a score."""
    if total is None or band is None:
        return NO_SCORE
    return BAND_COLOURS["zero" if total == 0 else band]


def score_text(total: int | None, band: str | None) -> str:
    """'7 · high', '0', or '' with no complete score."""
    if total is None:
        return ""
    return f"{total} · {band}" if total else "0"


def due_text(bed: BedView, now: datetime) -> str:
    """When the bed's next set is due, per the NEWS2 minimum monitoring frequency."""
    if bed.patient_id is None:
        return ""
    if bed.last_taken_at is None:
        return "Now · no set charted yet"
    interval = vitals_rules.next_due(bed.news2_total, bed.news2_band)
    words = vitals_rules.due_words(bed.news2_total, bed.news2_band)
    if interval is None:
        return "Continuous monitoring"
    due = bed.last_taken_at + interval
    if due <= now:
        return f"Overdue since {local_time(due)[11:]} ({words})"
    return f"{local_time(due)[11:]} ({words})"


def is_overdue(bed: BedView, now: datetime) -> bool:
    if bed.patient_id is None:
        return False
    if bed.last_taken_at is None:
        return True
    interval = vitals_rules.next_due(bed.news2_total, bed.news2_band)
    return interval is None or bed.last_taken_at + interval <= now


@dataclass(frozen=True)
class Preview:
    """The live NEWS2 of what the nurse has typed so far."""

    total: int | None
    band: str | None
    headline: str
    detail: str
    full: str = ""  # the whole clinical response, for the tooltip


def preview(values: dict[str, Any]) -> Preview:
    """Score the typed values; values outside the entry limits count as not yet entered."""
    try:
        args = RecordVitals.model_validate(
            {"id": _ZERO, "patient_id": _ZERO, **values} | {"taken_at": "2000-01-01T00:00:00+00:00"}
        )
    except ValidationError:
        return Preview(None, None, "NEWS2 —", "")
    problems = vitals_rules.check_values(args)
    cleared = {k: None for k in problems if k in vitals_rules.ENTRY_RANGES}
    if cleared:
        args = args.model_copy(update=cleared)
    if all(getattr(args, name) is None for name in vitals_rules.VALUE_FIELDS):
        return Preview(None, None, "NEWS2 —", "Enter the observations to see the score.")
    result = news2.score(vitals_rules.observations(args))
    if result.total is None:
        partial = sum(result.points.values())
        missing = ", ".join(_PLAIN[m] for m in result.missing)
        return Preview(
            None, None, f"NEWS2 — (so far {partial})", f"Not complete: missing {missing}."
        )
    headline = (result.response or "").split(":")[0]
    advice = f"{headline} · {result.monitoring}."
    band = BAND_WORDS[result.band or news2.LOW] if result.total else "no risk found"
    full = f"{result.response}. Monitoring: {result.monitoring}."
    return Preview(result.total, result.band, f"NEWS2 {result.total} · {band}", advice, full)


def set_summary(entry: VitalsView) -> dict[str, str]:
    """The columns of one charted set in the patient's list."""
    return {
        "taken": local_time(entry.taken_at),
        "rr": _num(entry.respiration_rate),
        "spo2": _spo2(entry),
        "bp": _bp(entry),
        "pulse": _num(entry.pulse),
        "acvpu": entry.consciousness or "",
        "temp": "" if entry.temperature_c is None else f"{entry.temperature_c:.1f}",
        "news2": score_text(entry.news2_total, entry.news2_band) or "—",
        "by": entry.recorded_by,
    }


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _spo2(entry: VitalsView) -> str:
    if entry.spo2 is None:
        return ""
    air = {True: " O₂", False: " air", None: ""}[entry.on_oxygen]
    scale = " (S2)" if entry.spo2_scale == 2 else ""
    return f"{entry.spo2:g}%{air}{scale}"


def _bp(entry: VitalsView) -> str:
    if entry.systolic_bp is None:
        return ""
    if entry.diastolic_bp is None:
        return f"{entry.systolic_bp:g}"
    return f"{entry.systolic_bp:g}/{entry.diastolic_bp:g}"
