"""HL7 v2 ORU^R01 (IHE PCD-01) from bedside monitors: parsing into readings and waveform
chunks, and the acknowledgements (ACK) the gateway answers with.

Parsing uses the `hl7` package. A message that cannot be read as HL7, is not ORU^R01 or has no
control id is *rejected* (AR); a readable message with bad content (a non-numeric value, no
observations, an impossible value) is an *error* (AE). Both carry a reason a nurse or a
biomedical engineer understands. Observation codes hms does not chart are ignored.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import hl7
from hl7.util import unescape

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


def _get(segment: hl7.Segment, field_num: int, component: int = 1) -> str:
    """A component of a segment's field (first repetition, first subcomponent), unescaped;
    "" when absent. (Walks the parsed tree directly: `extract_field` costs as much again as
    parsing, at hundreds of messages a second.)"""
    if field_num >= len(segment):
        return ""
    node = segment[field_num]
    node = node[0] if len(node) else ""  # the first repetition, or the value itself
    if not isinstance(node, str):
        if component > len(node):
            return ""
        node = node[component - 1]
        while not isinstance(node, str):
            node = node[0] if len(node) else ""
    elif component != 1:
        return ""
    if segment.esc and segment.esc in node:
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


def _to_message(text: str) -> hl7.Message:
    """The text as an hl7.Message (segments may end with CR, LF or CRLF)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r \t\x00")
    if not text.startswith("MSH") or len(text) < 8:
        raise MessageRefused(REJECT, "not an HL7 message (it does not start with MSH)")
    try:
        return hl7.parse(text)
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


def _check_envelope(message: hl7.Message) -> tuple[hl7.Segment, Header]:
    try:
        msh = message.segment("MSH")
    except KeyError:
        raise MessageRefused(REJECT, "the message has no MSH segment") from None
    header = _header(msh)
    kind, trigger = _get(msh, 9, 1), _get(msh, 9, 2)
    if (kind, trigger) != ("ORU", "R01"):
        shown = f"{kind} {trigger}".strip() or "a message without a type"
        reason = f"only observation results (ORU R01) are accepted, not {shown}"
        raise MessageRefused(REJECT, reason, header)
    if not header.control_id:
        raise MessageRefused(REJECT, "the message has no control id (MSH-10)", header)
    return msh, header


def _first(message: hl7.Message, segment_id: str) -> hl7.Segment | None:
    try:
        return message.segment(segment_id)
    except KeyError:
        return None


def _time(value: str, what: str, header: Header) -> datetime:
    try:
        return parse_time(value)
    except (ValueError, TypeError, OverflowError):
        reason = f"the {what} time {value!r} is not a valid HL7 time"
        raise MessageRefused(ERROR, reason, header) from None


def _device_id(msh: hl7.Segment, obr: hl7.Segment | None) -> str | None:
    device = _get(msh, 3, 1)
    if not device and obr is not None:
        device = _get(obr, 3, 2)
    return device or None


def _location(pv1: hl7.Segment | None) -> tuple[str, str, str] | None:
    if pv1 is None:
        return None
    ward, room, bed = _get(pv1, 3, 1), _get(pv1, 3, 2), _get(pv1, 3, 3)
    return (ward, room, bed) if ward or bed else None


def _unit(obx: hl7.Segment) -> str:
    """OBX-6 as a readable unit: the UCUM code, else the MDC unit name."""
    code, name, system = _get(obx, 6, 1), _get(obx, 6, 2), _get(obx, 6, 3)
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


def _reading(obx: hl7.Segment, parameter: str, at: datetime, header: Header) -> Reading:
    label = PARAMETERS[parameter].label
    text = _get(obx, 5)
    if _get(obx, 2).upper() not in ("NM", "") or not text:
        shown = text or "an empty value"
        raise MessageRefused(ERROR, f"{label} was sent as {shown!r}, not a number", header)
    value = _number(text, label, header)
    if not is_possible(parameter, value):
        unit = PARAMETERS[parameter].unit
        raise MessageRefused(ERROR, f"{label} {text} {unit} is not a possible value", header)
    return Reading(
        parameter=parameter,
        value=value,
        observed_at=at,
        unit=_unit(obx),
        code_system=_get(obx, 3, 3),
        code=_get(obx, 3, 1),
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


def parse_oru(text: str) -> MonitorMessage:
    """Parse one HL7 message; raises MessageRefused (AR or AE, with a reason) if unusable."""
    message = _to_message(text)
    msh, header = _check_envelope(message)
    obr, pid = _first(message, "OBR"), _first(message, "PID")
    try:
        observations = message.segments("OBX")
    except KeyError:
        raise MessageRefused(ERROR, "the message carries no observations (OBX)", header) from None
    msh_time = _get(msh, 7)
    sent_at = _time(msh_time, "message", header) if msh_time else datetime.now(UTC)
    obr_time = _get(obr, 7) if obr is not None else ""
    default_at = _time(obr_time, "observation", header) if obr_time else sent_at

    readings: list[Reading] = []
    waves: list[tuple[hl7.Segment, datetime]] = []
    rates: dict[str, float] = {}
    for obx in observations:
        obx_time = _get(obx, 14)
        at = _time(obx_time, "observation", header) if obx_time else default_at
        system, code, name = _get(obx, 3, 3), _get(obx, 3, 1), _get(obx, 3, 2)
        if SAMPLE_RATE_TEXT in name:
            rates[_get(obx, 4)] = _number(_get(obx, 5), "the ECG sample rate", header)
        elif _get(obx, 2).upper() == "NA" and code in ECG_WAVE_CODES:
            waves.append((obx, at))
        elif (parameter := parameter_for(system, code)) is not None:
            readings.append(_reading(obx, parameter, at, header))

    # hl7 keeps the separators as segment, field, repetition, component, subcomponent
    component = message.separators[3] if len(message.separators) > 3 else "^"
    chunks = []
    for obx, at in waves:
        hz = _sample_rate(rates, _get(obx, 4), header)
        if hz <= 0:
            raise MessageRefused(ERROR, "the ECG sample rate must be above zero", header)
        samples = _samples(obx, component, header)
        chunks.append(WaveChunk(_get(obx, 3, 1), _get(obx, 3, 2), hz, at, samples))

    return MonitorMessage(
        header=header,
        device_id=_device_id(msh, obr),
        mrn=(_get(pid, 3, 1) or None) if pid is not None else None,
        location=_location(_first(message, "PV1")),
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


def build_ack(header: Header | None, code: str, reason: str = "", error: str = "") -> str:
    """An ACK^R01 answering `header`'s message (sender and receiver swapped, same version):
    MSA-1 = `code`, MSA-2 = its control id; when not AA, MSA-3 = `reason` and an ERR segment
    with the table 0357 `error` (default: data error for AE, unsupported message for AR)."""
    header = header or Header()
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S.%f")[:-3] + "+0000"
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
