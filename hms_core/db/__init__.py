"""SQLAlchemy tables of the hms domain, usable on PostgreSQL and SQLite alike."""

from hms_core.db.audit import AuditEvent
from hms_core.db.auth import AuthSession, User
from hms_core.db.base import Base, new_id
from hms_core.db.billing import (
    CashClose,
    Charge,
    Claim,
    DocumentPrint,
    Invoice,
    InvoiceLine,
    Payer,
    Payment,
    Policy,
    Price,
    PriceItem,
)
from hms_core.db.clinical import (
    Attachment,
    CarePlan,
    ClinicalDocument,
    ClinicalNote,
    ClinicalOrder,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    Problem,
    ProcedureRecord,
)
from hms_core.db.conflicts import PatientConflict
from hms_core.db.counters import NumberSequence
from hms_core.db.hospital import Bed, Department, Ward
from hms_core.db.inpatients import Admission
from hms_core.db.monitoring import (
    AlarmEvent,
    AlarmLimits,
    EarlyWarningScore,
    MonitorDevice,
    VitalsEntry,
    VitalSign,
)
from hms_core.db.notifications import OutboundMessage, UserNotification
from hms_core.db.patients import Patient, PatientAllergy, PatientNameToken
from hms_core.db.scheduling import (
    Appointment,
    AvailabilityException,
    AvailabilityRule,
    DoctorProfile,
    FollowUp,
)
from hms_core.db.sync import AppliedMutation, ChangeLog, SyncClient

__all__ = [
    "Attachment",
    "CarePlan",
    "ClinicalDocument",
    "ClinicalNote",
    "ClinicalOrder",
    "Encounter",
    "Immunization",
    "MedicationOrder",
    "Observation",
    "Problem",
    "ProcedureRecord",
    "CashClose",
    "Charge",
    "Claim",
    "DocumentPrint",
    "Invoice",
    "InvoiceLine",
    "Payer",
    "Payment",
    "Policy",
    "Price",
    "PriceItem",
    "Admission",
    "AlarmEvent",
    "AlarmLimits",
    "EarlyWarningScore",
    "MonitorDevice",
    "VitalsEntry",
    "VitalSign",
    "Appointment",
    "AvailabilityException",
    "AvailabilityRule",
    "DoctorProfile",
    "FollowUp",
    "OutboundMessage",
    "UserNotification",
    "AppliedMutation",
    "ChangeLog",
    "SyncClient",
    "AuditEvent",
    "AuthSession",
    "Base",
    "Bed",
    "Department",
    "NumberSequence",
    "Patient",
    "PatientAllergy",
    "PatientConflict",
    "PatientNameToken",
    "User",
    "Ward",
    "new_id",
]
