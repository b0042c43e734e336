"""Vital signs and bedside monitoring: monitors, observations, NEWS2 scores, alarm limits and
alarm events.

`vital_sign` holds every value, one row each, whatever its source: a bedside monitor through
the HL7 gateway (about one row per parameter per second per bed) or a nurse's charted set. It is
append-only and stays on the server: at monitor rates it would flood every ward cache, and the
central station reads it live and over HTTP. A nurse's charted set is the replicated
`vitals_entry` (written offline through the `record_vitals` mutation); the server turns each
into `vital_sign` rows, so both sources are the same observations and score the same way.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, IdMixin, ReplicatedMixin, TimestampMixin, utcnow

MONITOR = "monitor"
MANUAL = "manual"


class MonitorDevice(ReplicatedMixin, Base):
    """A bedside monitor, known by the identifier it sends (MSH-3 / OBR-3, often an EUI-64)."""

    __tablename__ = "monitor_device"

    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bed.id"), index=True)


class VitalsEntry(ReplicatedMixin, Base):
    """A set of vital signs charted by a nurse (append-only; a correction amends it)."""

    __tablename__ = "vitals_entry"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    taken_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(80))
    respiration_rate: Mapped[float | None] = mapped_column(Float)
    spo2: Mapped[float | None] = mapped_column(Float)
    spo2_scale: Mapped[int] = mapped_column(Integer, default=1)
    on_oxygen: Mapped[bool | None] = mapped_column(Boolean)
    systolic_bp: Mapped[float | None] = mapped_column(Float)
    diastolic_bp: Mapped[float | None] = mapped_column(Float)
    pulse: Mapped[float | None] = mapped_column(Float)
    consciousness: Mapped[str | None] = mapped_column(String(1))  # ACVPU
    temperature_c: Mapped[float | None] = mapped_column(Float)
    news2_total: Mapped[int | None] = mapped_column(Integer)
    news2_band: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    amends_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vitals_entry.id"))
    amend_reason: Mapped[str | None] = mapped_column(String(300))


class VitalSign(IdMixin, Base):
    """One observed value (append-only). `patient_id` is None for a monitor message the gateway
    could not match to an admitted patient: kept, and flagged for a nurse to assign."""

    __tablename__ = "vital_sign"

    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bed.id"))
    device_id: Mapped[str | None] = mapped_column(String(64))
    parameter: Mapped[str] = mapped_column(String(20))  # hms_core.rules.vitals.PARAMETERS
    value: Mapped[float | None] = mapped_column(Float)
    value_code: Mapped[str | None] = mapped_column(String(20))  # ACVPU letter, "air"/"oxygen"
    unit: Mapped[str] = mapped_column(String(40), default="")
    code_system: Mapped[str] = mapped_column(String(20), default="")  # MDC, LOINC, local
    code: Mapped[str] = mapped_column(String(40), default="")
    artefact: Mapped[bool] = mapped_column(Boolean, default=False)  # sensor off (reads 0)
    source: Mapped[str] = mapped_column(String(10), default=MONITOR)
    observed_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(80))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vitals_entry.id"))
    unmatched_hint: Mapped[str | None] = mapped_column(String(200))  # what the message said
    assigned_by: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        Index("ix_vital_sign_patient_param_time", "patient_id", "parameter", "observed_at"),
        Index(
            "ix_vital_sign_unmatched", "received_at", postgresql_where=text("patient_id IS NULL")
        ),
    )


class EarlyWarningScore(IdMixin, Base):
    """A NEWS2 result, stored each time a patient's score or band changes (append-only)."""

    __tablename__ = "early_warning_score"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[int | None] = mapped_column(Integer)
    band: Mapped[str | None] = mapped_column(String(20))
    red_score: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assumed: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. ["consciousness"]
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_early_warning_score_patient_time", "patient_id", "computed_at"),)


class AlarmLimits(IdMixin, TimestampMixin, Base):
    """A patient's alarm limits and delays; absent means the adult defaults
    (hms_core.rules.alarms.DEFAULT_LIMITS)."""

    __tablename__ = "alarm_limits"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), unique=True)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)  # AlarmLimits.model_dump()
    updated_by: Mapped[str] = mapped_column(String(80))


class AlarmEvent(IdMixin, Base):
    """One alarm from start to end, with who acknowledged or silenced it."""

    __tablename__ = "alarm_event"

    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bed.id"))
    kind: Mapped[str] = mapped_column(String(10))  # clinical | technical
    priority: Mapped[str] = mapped_column(String(6))  # high | medium | low
    parameter: Mapped[str] = mapped_column(String(20))
    condition: Mapped[str] = mapped_column(String(20))  # high, low, sensor_off, no_data
    message: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    limit: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    silenced_until: Mapped[datetime | None] = mapped_column(default=None)
    silenced_by: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        Index("ix_alarm_event_bed_time", "bed_id", "started_at"),
        Index("ix_alarm_event_patient_time", "patient_id", "started_at"),
    )
