"""The monitoring wire contract: live events on `WebSocket /live/monitor` and the HTTP
payloads of `/api/monitoring/...`, shared by the server and the central station.

A WebSocket text frame is either one event object or a JSON list of event objects (several
events batched into one frame, in the order they happened); a client handles both. Live
events all carry `type` and `ward_id`; times are ISO 8601 UTC; `received` is the server's wall
clock (seconds since the epoch, float) when the gateway read the MLLP frame, so a station can
measure receipt-to-screen latency.

- `vitals`: `{type, ward_id, bed_id, patient_id, device_id, at, received,
  values: {parameter: number}, artefacts: [parameter]}` (parameters: hms_core.rules.vitals)
- `wave`: `{type, ward_id, bed_id, patient_id, device_id, lead, hz, at, received,
  samples: [mV]}`; `at` is the time of the first sample
- `alarm`: `{type, ward_id, alarm: AlarmOut}`: an alarm started, ended, was acknowledged or
  silenced (the whole row as it now is)
- `news2`: `{type, ward_id, bed_id, patient_id, score: News2Out}`
- `station`: `{type, ward_id}`: beds, patients or limits changed; fetch the station again
- `hello`: `{type, ward_id, server_time}` (ward_id None: every ward); `ping`, `resync` as on
  /live (hms_core.schemas.notifications). A slow station loses its oldest `wave` events first;
  only when that is not enough is it sent `resync` (fetch the station again).
"""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hms_core.rules.alarms import AlarmLimits

VITALS, WAVE, ALARM, NEWS2, STATION = "vitals", "wave", "alarm", "news2", "station"


class AlarmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID | None
    bed_id: uuid.UUID | None
    kind: str
    priority: str
    parameter: str
    condition: str
    message: str
    value: float | None
    limit: float | None
    started_at: datetime
    ended_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    silenced_until: datetime | None
    silenced_by: str | None


class News2Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    total: int | None
    band: str | None
    red_score: bool
    points: dict[str, int] = Field(default_factory=dict)
    assumed: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    computed_at: datetime


class WardOverview(BaseModel):
    """One ward as the station's ward picker shows it."""

    id: uuid.UUID
    code: str
    name: str
    ward_class: str
    beds: int
    monitors: int  # beds with a monitor attached
    patients: int  # beds with an admitted patient


class Latest(BaseModel):
    value: float | None
    value_code: str | None = None
    at: datetime
    artefact: bool = False
    source: str = "monitor"


class StationPatient(BaseModel):
    id: uuid.UUID
    mrn: str
    name: str
    sex: str | None = None
    age: int | None = None
    allergies: list[str] = Field(default_factory=list)


class StationBed(BaseModel):
    bed_id: uuid.UUID
    label: str
    device_id: str | None
    admission_id: uuid.UUID | None
    patient: StationPatient | None
    limits: AlarmLimits
    latest: dict[str, Latest] = Field(default_factory=dict)
    news2: News2Out | None = None
    alarms: list[AlarmOut] = Field(default_factory=list)  # active ones


class Station(BaseModel):
    ward_id: uuid.UUID
    ward_code: str
    ward_name: str
    beds: list[StationBed]
    unmatched: int = 0  # monitor readings waiting for a nurse to assign them
    server_time: datetime


class Trends(BaseModel):
    patient_id: uuid.UUID
    since: datetime
    until: datetime
    series: dict[str, list[tuple[float, float]]]  # parameter -> [(epoch seconds, value)]


class SilenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(2, ge=1, le=15)


class UnmatchedGroup(BaseModel):
    device_id: str | None
    hint: str
    readings: int
    first_at: datetime
    last_at: datetime


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    device_id: str | None = None
    hint: str | None = None


def event(kind: str, ward_id: uuid.UUID | None, **fields: Any) -> dict[str, Any]:
    """A live event dictionary (ids as strings)."""
    return {"type": kind, "ward_id": str(ward_id) if ward_id else None, **fields}
