"""The vital-sign parameters hms knows: names, units, the codes monitors and labs use for them
(IEEE 11073 MDC, LOINC), and the values a person could possibly have.

Monitors send MDC codes (and sometimes LOINC); both map to one parameter name used everywhere
else (storage, alarms, NEWS2, the screen).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str  # what a nurse reads on screen
    unit: str
    possible: tuple[float, float]  # a value outside is an entry or transmission error


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter("hr", "Heart rate", "/min", (0, 350)),
        Parameter("pulse", "Pulse rate", "/min", (0, 350)),
        Parameter("spo2", "SpO₂", "%", (0, 100)),
        Parameter("nibp_sys", "NIBP systolic", "mmHg", (0, 300)),
        Parameter("nibp_dia", "NIBP diastolic", "mmHg", (0, 250)),
        Parameter("nibp_mean", "NIBP mean", "mmHg", (0, 280)),
        Parameter("abp_sys", "Arterial systolic", "mmHg", (0, 300)),
        Parameter("abp_dia", "Arterial diastolic", "mmHg", (0, 250)),
        Parameter("abp_mean", "Arterial mean", "mmHg", (0, 280)),
        Parameter("rr", "Respiration rate", "/min", (0, 150)),
        Parameter("temp", "Temperature", "°C", (0, 45)),
    )
}

# IEEE 11073-10101 MDC reference ids (the numeric code in OBX-3) -> parameter
MDC_CODES: dict[str, str] = {
    "147842": "hr",  # MDC_ECG_HEART_RATE
    "149530": "pulse",  # MDC_PULS_OXIM_PULS_RATE
    "149546": "pulse",  # MDC_PULS_RATE_NON_INV
    "150456": "spo2",  # MDC_PULS_OXIM_SAT_O2
    "150021": "nibp_sys",  # MDC_PRESS_BLD_NONINV_SYS
    "150301": "nibp_sys",  # MDC_PRESS_CUFF_SYS (some monitors send it for NIBP systolic)
    "150022": "nibp_dia",  # MDC_PRESS_BLD_NONINV_DIA
    "150302": "nibp_dia",  # MDC_PRESS_CUFF_DIA
    "150023": "nibp_mean",  # MDC_PRESS_BLD_NONINV_MEAN
    "150303": "nibp_mean",  # MDC_PRESS_CUFF_MEAN
    "150017": "abp_sys",  # MDC_PRESS_BLD_ART_SYS
    "150018": "abp_dia",  # MDC_PRESS_BLD_ART_DIA
    "150019": "abp_mean",  # MDC_PRESS_BLD_ART_MEAN
    "151562": "rr",  # MDC_RESP_RATE
    "151554": "rr",  # MDC_CO2_RESP_RATE
    "150344": "temp",  # MDC_TEMP
    "150364": "temp",  # MDC_TEMP_BODY
}

LOINC_CODES: dict[str, str] = {
    "8867-4": "hr",
    "2708-6": "spo2",
    "59408-5": "spo2",
    "8480-6": "nibp_sys",
    "8462-4": "nibp_dia",
    "8478-0": "nibp_mean",
    "9279-1": "rr",
    "8310-5": "temp",
    "8331-1": "temp",
}

# The codes hms itself uses when it sends (the simulator) or exports a parameter.
MDC_FOR: dict[str, tuple[str, str]] = {
    "hr": ("147842", "MDC_ECG_HEART_RATE"),
    "pulse": ("149530", "MDC_PULS_OXIM_PULS_RATE"),
    "spo2": ("150456", "MDC_PULS_OXIM_SAT_O2"),
    "nibp_sys": ("150021", "MDC_PRESS_BLD_NONINV_SYS"),
    "nibp_dia": ("150022", "MDC_PRESS_BLD_NONINV_DIA"),
    "nibp_mean": ("150023", "MDC_PRESS_BLD_NONINV_MEAN"),
    "abp_sys": ("150017", "MDC_PRESS_BLD_ART_SYS"),
    "abp_dia": ("150018", "MDC_PRESS_BLD_ART_DIA"),
    "abp_mean": ("150019", "MDC_PRESS_BLD_ART_MEAN"),
    "rr": ("151562", "MDC_RESP_RATE"),
    "temp": ("150344", "MDC_TEMP"),
}
ECG_LEAD_II = ("131330", "MDC_ECG_ELEC_POTL_II")  # waveform samples (OBX type NA)
ECG_WAVE_CODES = {"131330", "131329", "131331", "131585", "131586"}  # I, II, III and V leads


def parameter_for(system: str, code: str) -> str | None:
    """The parameter an observation code stands for (None for codes hms does not chart)."""
    code = code.strip()
    if system.upper() in ("MDC", "IEEE11073", "IEEE 11073", "") and code in MDC_CODES:
        return MDC_CODES[code]
    if system.upper() in ("LN", "LOINC", "") and code in LOINC_CODES:
        return LOINC_CODES[code]
    return None


def is_possible(parameter: str, value: float) -> bool:
    """Whether `value` could be a real reading of `parameter` (0 included: sensor off)."""
    low, high = PARAMETERS[parameter].possible
    return low <= value <= high
