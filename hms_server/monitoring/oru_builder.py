"""HL7 v2.6 ORU^R01 messages as a bedside monitor sends them (IHE PCD-01), in the wire format
the gateway reads: numerics (one OBX per parameter) and ECG waveform chunks, MLLP framed.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hms_core.rules.vitals import ECG_LEAD_II, MDC_FOR

MLLP_START = b"\x0b"
MLLP_END = b"\x1c\x0d"
SENDING_APP = "HMS SIM"
PROFILE = "PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"

# parameter -> (OBX-4 containment sub-id MDS.VMD.CHANNEL.METRIC, OBX-6 unit, decimals)
_UNITS = {
    "bpm": "264864^MDC_DIM_BEAT_PER_MIN^MDC",
    "percent": "262688^MDC_DIM_PERCENT^MDC",
    "mmhg": "266016^MDC_DIM_MMHG^MDC",
    "rpm": "264928^MDC_DIM_RESP_PER_MIN^MDC",
    "degc": "268192^MDC_DIM_DEGC^MDC",
}
OBX_LAYOUT: dict[str, tuple[str, str, int]] = {
    "hr": ("1.5.1.1", _UNITS["bpm"], 0),
    "pulse": ("1.22.1.1", _UNITS["bpm"], 0),
    "spo2": ("1.22.1.2", _UNITS["percent"], 0),
    "rr": ("1.20.1.1", _UNITS["rpm"], 0),
    "abp_sys": ("1.3.1.1", _UNITS["mmhg"], 0),
    "abp_dia": ("1.3.1.2", _UNITS["mmhg"], 0),
    "abp_mean": ("1.3.1.3", _UNITS["mmhg"], 0),
    "nibp_sys": ("1.1.1.1", _UNITS["mmhg"], 0),
    "nibp_dia": ("1.1.1.2", _UNITS["mmhg"], 0),
    "nibp_mean": ("1.1.1.3", _UNITS["mmhg"], 0),
    "temp": ("1.26.1.1", _UNITS["degc"], 1),
}
ECG_SUB_ID = "1.5.1.2"


@dataclass(frozen=True)
class Sender:
    """Who a message comes from and where the monitor stands."""

    device_id: str  # MON-ICU-01
    ward_code: str  # ICU
    bed_label: str  # ICU-01
    eui64: str = ""  # 16 hex digits; empty = left out of MSH-3
    mrn: str = ""  # PID-3; empty when the monitor does not know the patient
    patient_name: tuple[str, str] | None = None  # (family, given)


def hl7_time(moment: datetime, *, ms: bool = True) -> str:
    """An HL7 DTM in UTC: 20261206193000.123+0000 (milliseconds when asked)."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y%m%d%H%M%S")
    if ms:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "+0000"


def escape(text: str) -> str:
    """A free-text value made safe for an HL7 field (the standard escape sequences)."""
    out = text.replace("\\", "\\E\\")
    for char, code in (("|", "F"), ("^", "S"), ("&", "T"), ("~", "R")):
        out = out.replace(char, f"\\{code}\\")
    return out.replace("\r", " ").replace("\n", " ")


def new_control_id() -> str:
    """A message control id unique across monitors and runs (MSH-10)."""
    return uuid.uuid4().hex[:20]


def format_value(parameter: str, value: float) -> str:
    """A numeric as the monitor shows it: whole numbers, temperature to one decimal."""
    decimals = OBX_LAYOUT[parameter][2]
    return f"{value:.{decimals}f}"


def _header(sender: Sender, control_id: str, sent_at: datetime, observed_at: datetime) -> list[str]:
    """MSH, PID, PV1 and OBR: the same for numerics and waveforms."""
    app = sender.device_id + (f"^{sender.eui64}^EUI-64" if sender.eui64 else "")
    name = ""
    if sender.patient_name:
        name = f"{escape(sender.patient_name[0])}^{escape(sender.patient_name[1])}"
    pid3 = f"{escape(sender.mrn)}^^^HMS^MR" if sender.mrn else ""
    filler = f"{control_id}^{sender.device_id}"
    return [
        f"MSH|^~\\&|{app}|{SENDING_APP}|HMS|HOSPITAL|{hl7_time(sent_at)}||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.6|||AL|NE||UNICODE UTF-8|||{PROFILE}",
        f"PID|||{pid3}||{name}",
        f"PV1||I|{escape(sender.ward_code)}^^{escape(sender.bed_label)}",
        f"OBR|1|{filler}|{filler}|182777000^monitoring of patient^SCT|||{hl7_time(observed_at)}",
    ]


def numerics_message(
    sender: Sender,
    values: Mapping[str, float],
    observed_at: datetime,
    *,
    control_id: str | None = None,
    sent_at: datetime | None = None,
    times: Mapping[str, datetime] | None = None,
) -> str:
    """An ORU^R01 with one NM OBX per parameter in `values` (order kept); `times` overrides the
    observation time of single parameters (an NIBP measured earlier)."""
    control_id = control_id or new_control_id()
    segments = _header(sender, control_id, sent_at or datetime.now(UTC), observed_at)
    for set_id, (parameter, value) in enumerate(values.items(), start=1):
        code, name = MDC_FOR[parameter]
        sub_id, unit, _ = OBX_LAYOUT[parameter]
        at = (times or {}).get(parameter, observed_at)
        segments.append(
            f"OBX|{set_id}|NM|{code}^{name}^MDC|{sub_id}|{format_value(parameter, value)}|"
            f"{unit}|||||R|||{hl7_time(at)}"
        )
    return "\r".join(segments) + "\r"


def waveform_message(
    sender: Sender,
    samples: Sequence[float],
    hz: int,
    first_sample_at: datetime,
    *,
    control_id: str | None = None,
    sent_at: datetime | None = None,
    lead: tuple[str, str] = ECG_LEAD_II,
) -> str:
    """An ORU^R01 carrying one chunk of ECG samples (mV, NA type) and its sample rate."""
    control_id = control_id or new_control_id()
    segments = _header(sender, control_id, sent_at or datetime.now(UTC), first_sample_at)
    data = "^".join(f"{sample:.3f}" for sample in samples)
    segments.append(
        f"OBX|1|NA|{lead[0]}^{lead[1]}^MDC|{ECG_SUB_ID}|{data}|mV^mV^UCUM|||||R|||"
        f"{hl7_time(first_sample_at)}"
    )
    segments.append(f"OBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|{ECG_SUB_ID}.1|{hz}|/s^/s^UCUM|||||R")
    return "\r".join(segments) + "\r"


def frame(message: str) -> bytes:
    """The message wrapped in MLLP: 0x0B message 0x1C 0x0D."""
    return MLLP_START + message.encode("utf-8") + MLLP_END


def unframe(block: bytes) -> str:
    """The message inside one MLLP block (framing bytes removed)."""
    if block.endswith(MLLP_END):
        block = block[: -len(MLLP_END)]
    return block.lstrip(MLLP_START).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Ack:
    """What the receiver answered: MSA-1 (AA, AE, AR, or CA/CE/CR), and why, when it says."""

    code: str
    control_id: str
    reason: str


def parse_ack(message: str) -> Ack:
    """The MSA code, acknowledged control id and reason (MSA-3, else ERR-8 or ERR-3)."""
    msa: list[str] = []
    err: list[str] = []
    for segment in message.replace("\n", "\r").split("\r"):
        fields = segment.split("|")
        if fields[0] == "MSA":
            msa = fields
        elif fields[0] == "ERR" and not err:
            err = fields
    if not msa or len(msa) < 2:
        return Ack("", "", "the answer had no MSA segment")
    reason = msa[3] if len(msa) > 3 else ""
    if not reason and err:
        reason = next((err[i] for i in (8, 3) if len(err) > i and err[i]), "")
    return Ack(msa[1].strip(), msa[2] if len(msa) > 2 else "", reason)
