"""HL7 v2 ORU^R01 (IHE PCD-01) from bedside monitors: parsing into readings and waveform
chunks, and the acknowledgements (ACK) the gateway answers with.

Parsing uses the `hl7` package, once per message and fast enough for hundreds a second: its
own splitter with a parse plan reused across messages and lighter containers (`_parse`, the
same tree as `hl7.parse`), then one walk of the segments the gateway reads. A message that
cannot be read as HL7, is not ORU^R01 or has no control id is *rejected* (AR); a readable
message with bad content (a non-numeric value, no observations, an impossible value) is an
*error* (AE). Both carry a reason a nurse or a biomedical engineer understands. Observation
codes hms does not chart are ignored.
"""

import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import hl7
from hl7.util import unescape

try:  # hl7's own splitter, driven by a plan whose levels are made once (see `_parse`)
    from hl7.parser import _ParsePlan, _split, create_parse_plan
except ImportError:  # pragma: no cover - a future hl7 without them: plain hl7.parse
    _ParsePlan = None

from hms_core.rules.vitals import ECG_WAVE_CODES, PARAMETERS, is_possible, parameter_for
from hms_server.monitoring.model import Reading

ACCEPT, ERROR, REJECT = "AA", "AE", "AR"
SAMPLE_RATE_TEXT = "MDC_ATTR_SAMP_RATE"
DEFAULT_VERSION = "2.6"
OUR_APPLICATION, OUR_FACILITY = "HMS", "HOSPITAL"


@dataclass(frozen=True)
class Header:
    """What an acknowledgement needs from the MSH of the message it answers."""

    sending_application: str = ""  # raw MSH-3 (components kept, still escaped)
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    control_id: str = ""
    version: str = DEFAULT_VERSION
    trigger: str = "R01"
    processing_id: str = "P"


@dataclass(frozen=True)
class WaveChunk:
    """Consecutive samples of one ECG lead (mV), `at` = time of the first sample."""

    code: str  # MDC code of the lead, e.g. 131330
    lead: str  # MDC name, e.g. MDC_ECG_ELEC_POTL_II
    hz: float
    at: datetime
    samples: list[float]


@dataclass(frozen=True)
class MonitorMessage:
    """One ORU^R01 from a monitor, as the rest of the gateway needs it."""

    header: Header
    device_id: str | None
    mrn: str | None
    location: tuple[str, str, str] | None  # PV1-3: ward code, room, bed label
    sent_at: datetime
    readings: list[Reading] = field(default_factory=list)
    waves: list[WaveChunk] = field(default_factory=list)


class MessageRefused(Exception):
    """The message cannot be stored: `code` is AE or AR, `reason` says why in plain words."""

    def __init__(self, code: str, reason: str, header: Header | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.header = header


_item = list.__getitem__  # plain indexing: hl7's Container.__getitem__ adds slice handling


def _get(segment: hl7.Segment, field_num: int, component: int = 1) -> str:
    """A component of a segment's field (first repetition, first subcomponent), unescaped;
    "" when absent. (Walks the parsed tree directly: `extract_field` costs as much again as
    parsing, at hundreds of messages a second.)"""
    if field_num >= len(segment):
        return ""
    node = _item(segment, field_num)
    node = _item(node, 0) if node else ""  # the first repetition, or the value itself
    if isinstance(node, str):
        if component != 1:
            return ""
    else:
        if component > len(node):
            return ""
        node = _item(node, component - 1)
        while not isinstance(node, str):
            node = _item(node, 0) if node else ""
    esc = segment.esc
    if esc and esc in node:
        node = unescape(segment, node)
    return node.strip()


def _raw(segment: hl7.Segment, field_num: int) -> str:
    """A whole field as sent (components and escapes kept); "" when absent."""
    return str(segment(field_num)) if field_num < len(segment) else ""


def parse_time(value: str) -> datetime:
    """An HL7 TS/DTM (fractional seconds and offset optional; no offset = UTC) as aware UTC."""
    moment = hl7.parse_datetime(value.strip())
    if moment is None:
        raise ValueError("empty time")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _init_at(level: int) -> Callable[..., None]:
    """A container __init__ that sets what hl7's does (separator of its `level`, escape,
    separators, factory) without its assertion and chain of super() calls."""

    def init(
        self: hl7.Container,
        separator: str | None = None,
        sequence: Iterable = (),
        esc: str = "\\",
        separators: str = "\r|~^&",
        factory: type | None = None,
    ) -> None:
        list.__init__(self, sequence)
        self.separator = separators[level]
        self.esc = esc
        self.separators = separators
        self.factory = factory if factory is not None else _Factory

    return init


class _Message(hl7.Message):
    __init__ = _init_at(0)


class _Segment(hl7.Segment):
    __init__ = _init_at(1)


class _Field(hl7.Field):
    __init__ = _init_at(2)


class _Repetition(hl7.Repetition):
    __init__ = _init_at(3)


class _Component(hl7.Component):
    __init__ = _init_at(4)


class _Factory(hl7.Factory):
    """hl7's containers, built with less overhead (a message has ~260 of them)."""

    create_message = _Message
    create_segment = _Segment
    create_field = _Field
    create_repetition = _Repetition
    create_component = _Component


_LEVELS = (_Message, _Segment, _Field, _Repetition, _Component)


@lru_cache(maxsize=64)
def _fixed_class(base: type, separators: str, esc: str, level: int) -> type:
    """`base` for one set of delimiters: those are class attributes, so a node is made by
    list's own __init__ alone (the parser makes ~260 a message)."""

    def item(self: list, index: int | slice) -> object:
        """hl7's indexing: a slice is a container of the same kind (made the usual way)."""
        found = list.__getitem__(self, index)
        if isinstance(index, slice):
            return base(sequence=found, esc=esc, separators=separators, factory=_Factory)
        return found

    attributes = {
        "__init__": list.__init__,
        "__getitem__": item,
        "separator": separators[level],
        "separators": separators,
        "esc": esc,
        "factory": _Factory,
    }
    return type(base.__name__, (base,), attributes)


if _ParsePlan is not None:

    class _Plan(_ParsePlan):
        """hl7's parse plan with each level made once and reused for every node (hl7.parse
        builds a new plan object per node, ~260 a message, most of its parsing time), and
        its separator test done by one regular expression."""

        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            self._below: _Plan | None = None
            marks = self.separators[self.separators.find(self.separator) :]
            self._search = re.compile("[" + re.escape(marks) + "]").search
            level = _LEVELS.index(self.containers[0])
            self._make = _fixed_class(_LEVELS[level], self.separators, self.esc, level)

        def next(self) -> "_Plan | None":  # noqa: A003 - hl7's name
            if self._below is None and len(self.containers) > 1:
                below = self.separators[self.separators.find(self.separator) + 1]
                self._below = _Plan(
                    below, self.separators, self.containers[1:], self.esc, self.factory
                )
            return self._below

        def applies(self, text: str) -> bool:
            return self._search(text) is not None

        def container(self, data: list) -> object:
            return self._make(data)

    _PLANS: dict[tuple[str, str], "_Plan"] = {}
    MAX_PLANS = 32

    def _parse(text: str) -> hl7.Message:
        """`hl7.parse(text)`, the same tree, with the parse plan reused across messages."""
        text = text.strip()
        plan = create_parse_plan(text, _Factory)
        key = (plan.separators, plan.esc)
        cached = _PLANS.get(key)
        if cached is None:
            cached = _Plan(plan.separator, plan.separators, plan.containers, plan.esc, plan.factory)
            if len(_PLANS) < MAX_PLANS:  # monitors use one set of delimiters, if not the default
                _PLANS[key] = cached
        return _split(text, cached)

else:  # pragma: no cover

    def _parse(text: str) -> hl7.Message:
        return hl7.parse(text, factory=_Factory)


def _to_message(text: str) -> hl7.Message:
    """The text as an hl7.Message (segments may end with CR, LF or CRLF)."""
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    text = text.strip("\r \t\x00")
    if not text.startswith("MSH") or len(text) < 8:
        raise MessageRefused(REJECT, "not an HL7 message (it does not start with MSH)")
    try:
        return _parse(text)
    except Exception as exc:  # noqa: BLE001 - any parser failure means an unreadable frame
        raise MessageRefused(REJECT, "the HL7 message could not be read") from exc


def _header(msh: hl7.Segment) -> Header:
    return Header(
        sending_application=_raw(msh, 3),
        sending_facility=_raw(msh, 4),
        receiving_application=_raw(msh, 5),
        receiving_facility=_raw(msh, 6),
        control_id=_get(msh, 10),
        version=_get(msh, 12) or DEFAULT_VERSION,
        trigger=_get(msh, 9, 2) or "R01",
        processing_id=_get(msh, 11) or "P",
    )


def read_header(text: str) -> Header | None:
    """The MSH of `text` when it has a readable one (for acknowledging a refused message)."""
    try:
        return _header(_to_message(text).segment("MSH"))
    except Exception:  # noqa: BLE001 - an unreadable frame has no header
        return None


def _check_envelope(msh: hl7.Segment) -> Header:
    header = _header(msh)
    kind, trigger = _get(msh, 9, 1), _get(msh, 9, 2)
    if (kind, trigger) != ("ORU", "R01"):
        shown = f"{kind} {trigger}".strip() or "a message without a type"
        reason = f"only observation results (ORU R01) are accepted, not {shown}"
        raise MessageRefused(REJECT, reason, header)
    if not header.control_id:
        raise MessageRefused(REJECT, "the message has no control id (MSH-10)", header)
    return header


def _sorted(message: hl7.Message) -> dict[str, list[hl7.Segment]]:
    """The message's segments by id, in order (one pass instead of a search per id)."""
    found: dict[str, list[hl7.Segment]] = {}
    for segment in message:
        first = _item(segment, 0) if segment else ""
        name = _item(first, 0) if first else ""
        if not isinstance(name, str):
            name = str(first)
        if name in found:
            found[name].append(segment)
        else:
            found[name] = [segment]
    return found


def _time(
    value: str, what: str, header: Header, seen: dict[str, datetime] | None = None
) -> datetime:
    """`value` as a time; `seen` remembers the times already read in this message (a monitor
    stamps all its OBX with the same one)."""
    if seen is not None and (known := seen.get(value)) is not None:
        return known
    try:
        moment = parse_time(value)
    except (ValueError, TypeError, OverflowError):
        reason = f"the {what} time {value!r} is not a valid HL7 time"
        raise MessageRefused(ERROR, reason, header) from None
    if seen is not None:
        seen[value] = moment
    return moment


def _device_id(msh: hl7.Segment, obr: hl7.Segment | None) -> str | None:
    device = _get(msh, 3, 1)
    if not device and obr is not None:
        device = _get(obr, 3, 2)
    return device or None


def _location(pv1: hl7.Segment | None) -> tuple[str, str, str] | None:
    if pv1 is None:
        return None
    ward, room, bed = _parts(pv1, 3, 3)
    return (ward, room, bed) if ward or bed else None


def _text(segment: hl7.Segment, node: object) -> str:
    """A leaf (first subcomponent) of `node`, unescaped and stripped."""
    while not isinstance(node, str):
        node = _item(node, 0) if len(node) else ""
    if segment.esc and segment.esc in node:
        node = unescape(segment, node)
    return node.strip()


def _parts(segment: hl7.Segment, field_num: int, count: int) -> list[str]:
    """The first `count` components of a field's first repetition, as `_get` reads each one,
    in one walk of the field ("" for those absent)."""
    if field_num >= len(segment):
        return [""] * count
    node = _item(segment, field_num)
    node = _item(node, 0) if len(node) else ""
    if isinstance(node, str):
        return [_text(segment, node)] + [""] * (count - 1)
    parts = [_text(segment, part) for part in _item(node, slice(0, count))]
    return parts + [""] * (count - len(parts))


def _unit(obx: hl7.Segment) -> str:
    """OBX-6 as a readable unit: the UCUM code, else the MDC unit name."""
    code, name, system = _parts(obx, 6, 3)
    if system.upper() == "UCUM" or not name:
        return code
    return name


def _number(text: str, what: str, header: Header) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MessageRefused(ERROR, f"{what} value {text!r} is not a number", header) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise MessageRefused(ERROR, f"{what} value {text!r} is not a number", header)
    return value


@dataclass(frozen=True)
class _Obx:
    """The fields of one OBX the gateway reads, each read once."""

    segment: hl7.Segment
    value_type: str  # OBX-2, upper case
    code: str  # OBX-3 components: code, name, coding system
    name: str
    system: str
    sub_id: str  # OBX-4
    value: str  # OBX-5 (first component)
    at: datetime


def _reading(obx: _Obx, parameter: str, header: Header) -> Reading:
    label = PARAMETERS[parameter].label
    text = obx.value
    if obx.value_type not in ("NM", "") or not text:
        shown = text or "an empty value"
        raise MessageRefused(ERROR, f"{label} was sent as {shown!r}, not a number", header)
    value = _number(text, label, header)
    if not is_possible(parameter, value):
        unit = PARAMETERS[parameter].unit
        raise MessageRefused(ERROR, f"{label} {text} {unit} is not a possible value", header)
    return Reading(
        parameter=parameter,
        value=value,
        observed_at=obx.at,
        unit=_unit(obx.segment),
        code_system=obx.system,
        code=obx.code,
        artefact=value == 0,
    )


def _samples(obx: hl7.Segment, separator: str, header: Header) -> list[float]:
    raw = _raw(obx, 5)
    parts = [part for part in raw.split(separator) if part.strip()]
    if not parts:
        raise MessageRefused(ERROR, "an ECG waveform arrived without samples", header)
    try:
        return [float(part) for part in parts]
    except ValueError:
        raise MessageRefused(ERROR, "an ECG waveform sample is not a number", header) from None


def _sample_rate(rates: dict[str, float], sub_id: str, header: Header) -> float:
    """The rate whose OBX-4 sits under the waveform's OBX-4, else the only one sent."""
    for rate_id, hz in rates.items():
        if sub_id and rate_id.startswith(sub_id + "."):
            return hz
    if len(rates) == 1:
        return next(iter(rates.values()))
    raise MessageRefused(ERROR, "an ECG waveform arrived without its sample rate", header)


def _observation(obx: hl7.Segment, default_at: datetime, header: Header, seen: dict) -> _Obx:
    obx_time = _get(obx, 14)
    at = _time(obx_time, "observation", header, seen) if obx_time else default_at
    code, name, system = _parts(obx, 3, 3)
    value_type, sub_id, value = _get(obx, 2).upper(), _get(obx, 4), _get(obx, 5)
    return _Obx(obx, value_type, code, name, system, sub_id, value, at)


def parse_oru(text: str) -> MonitorMessage:
    """Parse one HL7 message; raises MessageRefused (AR or AE, with a reason) if unusable."""
    message = _to_message(text)
    segments = _sorted(message)
    if "MSH" not in segments:
        raise MessageRefused(REJECT, "the message has no MSH segment")
    msh = segments["MSH"][0]
    header = _check_envelope(msh)
    obr = segments["OBR"][0] if "OBR" in segments else None
    pid = segments["PID"][0] if "PID" in segments else None
    pv1 = segments["PV1"][0] if "PV1" in segments else None
    if "OBX" not in segments:
        raise MessageRefused(ERROR, "the message carries no observations (OBX)", header)
    seen: dict[str, datetime] = {}
    msh_time = _get(msh, 7)
    sent_at = _time(msh_time, "message", header, seen) if msh_time else datetime.now(UTC)
    obr_time = _get(obr, 7) if obr is not None else ""
    default_at = _time(obr_time, "observation", header, seen) if obr_time else sent_at

    readings: list[Reading] = []
    waves: list[_Obx] = []
    rates: dict[str, float] = {}
    for segment in segments["OBX"]:
        obx = _observation(segment, default_at, header, seen)
        if SAMPLE_RATE_TEXT in obx.name:
            rates[obx.sub_id] = _number(obx.value, "the ECG sample rate", header)
        elif obx.value_type == "NA" and obx.code in ECG_WAVE_CODES:
            waves.append(obx)
        elif (parameter := parameter_for(obx.system, obx.code)) is not None:
            readings.append(_reading(obx, parameter, header))

    # hl7 keeps the separators as segment, field, repetition, component, subcomponent
    component = message.separators[3] if len(message.separators) > 3 else "^"
    chunks = []
    for obx in waves:
        hz = _sample_rate(rates, obx.sub_id, header)
        if hz <= 0:
            raise MessageRefused(ERROR, "the ECG sample rate must be above zero", header)
        samples = _samples(obx.segment, component, header)
        chunks.append(WaveChunk(obx.code, obx.name, hz, obx.at, samples))

    return MonitorMessage(
        header=header,
        device_id=_device_id(msh, obr),
        mrn=(_get(pid, 3, 1) or None) if pid is not None else None,
        location=_location(pv1),
        sent_at=sent_at,
        readings=readings,
        waves=chunks,
    )


def _escape(text: str) -> str:
    """Text safe inside one HL7 field (default delimiters)."""
    text = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    text = text.replace("&", "\\T\\").replace("~", "\\R\\")
    return text.replace("\r", " ").replace("\n", " ")


# HL7 table 0357 (message error condition codes)
DATA_ERROR = "102^Data type error^HL70357"
UNSUPPORTED = "200^Unsupported message type^HL70357"
INTERNAL_ERROR = "207^Application internal error^HL70357"


_last_stamp: tuple[int, str] = (0, "")


def _ack_time() -> str:
    """Now as an HL7 time with milliseconds (formatted once per millisecond: a group of
    messages is acknowledged together)."""
    global _last_stamp
    ms = time.time_ns() // 1_000_000
    stamp = _last_stamp
    if stamp[0] != ms:
        seconds = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y%m%d%H%M%S")
        stamp = _last_stamp = (ms, f"{seconds}.{ms % 1000:03d}+0000")
    return stamp[1]


def build_ack(header: Header | None, code: str, reason: str = "", error: str = "") -> str:
    """An ACK^R01 answering `header`'s message (sender and receiver swapped, same version):
    MSA-1 = `code`, MSA-2 = its control id; when not AA, MSA-3 = `reason` and an ERR segment
    with the table 0357 `error` (default: data error for AE, unsupported message for AR)."""
    header = header or Header()
    now = _ack_time()
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            header.receiving_application or OUR_APPLICATION,
            header.receiving_facility or OUR_FACILITY,
            header.sending_application,
            header.sending_facility,
            now,
            "",
            f"ACK^{_escape(header.trigger)}^ACK",
            uuid.uuid4().hex[:20],
            header.processing_id,
            header.version,
        ]
    )
    segments = [msh, f"MSA|{code}|{_escape(header.control_id)}"]
    if code != ACCEPT:
        text = _escape(reason or "the message was not accepted")[:200]
        segments[1] += f"|{text}"
        error = error or (DATA_ERROR if code == ERROR else UNSUPPORTED)
        segments.append(f"ERR|||{error}|E||||{text}")
    return "\r".join(segments) + "\r"
