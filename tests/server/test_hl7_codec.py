"""Reading monitor ORU^R01 messages and answering them: the real IHE PCD-01 sample, MDC and
LOINC codes, waveforms, times, and the ACKs a monitor gets for good and bad messages."""

from datetime import UTC, datetime

import hl7
import pytest

from hms_server.monitoring.hl7_codec import (
    ERROR,
    REJECT,
    MessageRefused,
    _parse,
    build_ack,
    parse_oru,
    parse_time,
)
from hms_server.monitoring.oru_builder import parse_ack
from tests.conftest import shared_data

SAMPLE = shared_data("hl7/pcd01_oru_r01_vitals.hl7")
HEAD = (
    "MSH|^~\\&|MON-ICU-07^0800190000000007^EUI-64|HMS SIM|HMS|HOSPITAL|"
    "20261206193000.123+0000||ORU^R01^ORU_R01|{ctl}|P|2.6|||AL|NE||UNICODE UTF-8\r"
    "PID|||{mrn}^^^HMS^MR||Doe^Jane\r"
    "PV1||I|ICU^^ICU-07\r"
    "OBR|1|{ctl}^MON-ICU-07|{ctl}^MON-ICU-07|182777000^monitoring of patient^SCT|||"
    "20261206192959.500+0000\r"
)


def message(*obx: str, ctl: str = "C1", mrn: str = "") -> str:
    return HEAD.format(ctl=ctl, mrn=mrn) + "".join(f"{o}\r" for o in obx)


def nm(code: str, value: str, system: str = "MDC", time: str = "") -> str:
    return f"OBX|1|NM|{code}^NAME^{system}|1.1.1.1|{value}|unit^unit^UCUM|||||R|||{time}"


def refused(text: str) -> MessageRefused:
    with pytest.raises(MessageRefused) as caught:
        parse_oru(text)
    return caught.value


def test_the_real_pcd01_sample_parses_to_its_values():
    parsed = parse_oru(SAMPLE.read_text())
    values = {r.parameter: r.value for r in parsed.readings}
    assert values == {
        "nibp_sys": 120,
        "nibp_dia": 80,
        "nibp_mean": 93,
        "pulse": 63,
        "hr": 80,
        "spo2": 100,
        "rr": 18,
        "temp": 37.1,
    }
    systolic = next(r for r in parsed.readings if r.parameter == "nibp_sys")
    assert (systolic.code_system, systolic.code, systolic.unit) == ("MDC", "150021", "mm[Hg]")
    # OBX-14 when the OBX has it, else OBR-7 (the ECG heart rate has none)
    assert systolic.observed_at == datetime(2011, 6, 2, 4, 58, 42, tzinfo=UTC)
    heart = next(r for r in parsed.readings if r.parameter == "hr")
    assert heart.observed_at == datetime(2011, 6, 2, 4, 58, 42, tzinfo=UTC)
    assert heart.unit == "MDC_DIM_BEAT_PER_MIN"
    assert parsed.header.control_id == "0104ef190d604db188c3"
    assert parsed.device_id == "ACME_Gateway"
    assert parsed.mrn == "HO2009001"
    assert parsed.location == ("HO Surgery", "OR", "1")
    assert not any(r.artefact for r in parsed.readings)


def test_cuff_systolic_code_150301_is_nibp_systolic():
    parsed = parse_oru(message(nm("150301", "131"), nm("150302", "77")))
    assert [(r.parameter, r.value, r.code) for r in parsed.readings] == [
        ("nibp_sys", 131, "150301"),
        ("nibp_dia", 77, "150302"),
    ]


def test_loinc_coded_observations_are_read():
    parsed = parse_oru(message(nm("8867-4", "72", "LN"), nm("2708-6", "97", "LN")))
    assert {r.parameter: (r.value, r.code_system) for r in parsed.readings} == {
        "hr": (72, "LN"),
        "spo2": (97, "LN"),
    }


def test_unknown_codes_are_ignored_and_zero_is_sensor_off():
    parsed = parse_oru(message(nm("999999", "5"), nm("150456", "0"), nm("147842", "61")))
    assert [(r.parameter, r.artefact) for r in parsed.readings] == [
        ("spo2", True),
        ("hr", False),
    ]


def test_times_fall_back_from_obx_to_obr_to_msh_and_missing_offset_is_utc():
    parsed = parse_oru(message(nm("147842", "70", time="20261206183000.25-0100")))
    assert parsed.readings[0].observed_at == datetime(2026, 12, 6, 19, 30, 0, 250000, tzinfo=UTC)
    parsed = parse_oru(message(nm("147842", "70")))
    assert parsed.readings[0].observed_at == datetime(2026, 12, 6, 19, 29, 59, 500000, tzinfo=UTC)
    no_obr = message(nm("147842", "70")).replace("20261206192959.500+0000", "")
    assert parse_oru(no_obr).readings[0].observed_at == datetime(
        2026, 12, 6, 19, 30, 0, 123000, tzinfo=UTC
    )
    assert parse_time("20261206193000") == datetime(2026, 12, 6, 19, 30, tzinfo=UTC)


def test_a_waveform_chunk_has_samples_rate_and_first_sample_time():
    parsed = parse_oru(
        message(
            "OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.5.1.2|0.120^0.150^-0.031|mV^mV^UCUM"
            "|||||R|||20261206193001.004+0000",
            "OBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|1.5.1.2.1|250|/s^/s^UCUM|||||R",
        )
    )
    assert parsed.readings == []
    [chunk] = parsed.waves
    assert chunk.samples == [0.12, 0.15, -0.031]
    assert chunk.hz == 250
    assert chunk.code == "131330"
    assert chunk.at == datetime(2026, 12, 6, 19, 30, 1, 4000, tzinfo=UTC)


def test_bad_content_is_an_error_with_a_reason():
    words = refused(message(nm("147842", "eighty")))
    assert (words.code, words.header.control_id) == (ERROR, "C1")
    assert "Heart rate" in words.reason and "eighty" in words.reason
    assert refused(message()).code == ERROR
    assert "no observations" in refused(message()).reason
    impossible = refused(message(nm("150456", "140")))
    assert impossible.code == ERROR and "not a possible value" in impossible.reason
    wave_without_rate = message("OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.5.1.2|0.1^0.2|mV")
    assert "sample rate" in refused(wave_without_rate).reason


def test_unreadable_wrong_type_or_no_control_id_is_rejected():
    assert refused("hello, this is not HL7").code == REJECT
    adt = message(nm("147842", "70")).replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")
    wrong = refused(adt)
    assert wrong.code == REJECT and "ADT A01" in wrong.reason
    no_id = refused(message(nm("147842", "70"), ctl=""))
    assert no_id.code == REJECT and "control id" in no_id.reason


def test_acks_swap_sender_and_receiver_echo_the_control_id_and_explain_errors():
    parsed = parse_oru(message(nm("147842", "70"), ctl="CTL-42"))
    accepted = build_ack(parsed.header, "AA")
    msh = accepted.split("\r")[0].split("|")
    assert msh[2:6] == ["HMS", "HOSPITAL", "MON-ICU-07^0800190000000007^EUI-64", "HMS SIM"]
    assert msh[8] == "ACK^R01^ACK" and msh[11] == "2.6"
    assert parse_ack(accepted).code == "AA" and parse_ack(accepted).control_id == "CTL-42"
    assert "ERR" not in accepted

    error = build_ack(parsed.header, "AE", "Heart rate 'x|y' is not a number")
    answer = parse_ack(error)
    assert (answer.code, answer.control_id) == ("AE", "CTL-42")
    assert "Heart rate" in answer.reason
    assert any(segment.startswith("ERR|") for segment in error.split("\r"))

    rejected = parse_ack(build_ack(None, "AR", "not an HL7 message"))
    assert (rejected.code, rejected.control_id, rejected.reason) == ("AR", "", "not an HL7 message")


def test_the_gateway_reads_the_same_hl7_tree_as_hl7_parse():
    """The gateway drives hl7's own splitter with a reused plan and lighter containers: the
    tree must equal what hl7.parse gives (sample, waveform, escapes, repetitions)."""
    wave = (
        "OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.5.1.2|0.120^0.150^-0.1|mV^mV^UCUM|||||R|||"
        "20261206193000.123+0000\rOBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|1.5.1.2.1|250|/s^/s^UCUM"
    )
    escaped = nm("147842", "80") + "|a\\F\\b~r1^c1&s1~r2"
    texts = [
        SAMPLE.read_text().replace("\r\n", "\r").replace("\n", "\r").strip(),
        message(wave).strip(),
        message(escaped, mrn="M\\S\\1").strip(),
        message(nm("147842", "80")).replace("^", "*").strip(),  # other delimiters
    ]
    for text in texts:
        ours, theirs = _parse(text), hl7.parse(text)
        assert ours == theirs and str(ours) == str(theirs)
        assert all(isinstance(segment, hl7.Segment) for segment in ours)
