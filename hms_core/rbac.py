"""Roles and the named permissions each grants; shared by the server (enforcement) and desktop."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    RECEPTION = "reception"
    DOCTOR = "doctor"
    NURSE = "nurse"
    LAB = "lab"
    PHARMACY = "pharmacy"
    BILLING = "billing"
    PATIENT = "patient"


class Perm(StrEnum):
    PATIENT_READ = "patient.read"
    PATIENT_REGISTER = "patient.register"
    PATIENT_UPDATE = "patient.update"
    PATIENT_MERGE = "patient.merge"
    AUDIT_READ = "audit.read"
    USER_READ = "user.read"
    USER_MANAGE = "user.manage"
    HOSPITAL_READ = "hospital.read"
    SYNC = "sync.use"
    APPOINTMENT_READ = "appointment.read"
    APPOINTMENT_BOOK = "appointment.book"  # book, move, cancel, check in, no-show (the desk)
    APPOINTMENT_ATTEND = "appointment.attend"  # confirm requests, start and finish a visit
    FOLLOWUP_REQUEST = "followup.request"
    SCHEDULE_MANAGE = "schedule.manage"  # doctors' availability, leave and exceptions
    NOTIFICATION_READ = "notification.read"  # one's own in-app notifications (the bell)
    ADMISSION_MANAGE = "admission.manage"  # put a patient in a bed, discharge from it
    VITALS_READ = "vitals.read"  # inpatients, charted vital signs, NEWS2
    VITALS_RECORD = "vitals.record"  # chart a set of vital signs
    MONITOR_VIEW = "monitor.view"  # the ICU central station: live monitors, trends, alarms
    ALARM_MANAGE = "alarm.manage"  # acknowledge and silence alarms, edit limits, assign readings
    DEVICE_MANAGE = "device.manage"  # which bedside monitor stands at which bed
    BILLING_READ = "billing.read"  # patients' accounts: charges, invoices, payments, claims
    CHARGE_MANAGE = "charge.manage"  # add a charge by hand, void an unbilled charge
    INVOICE_MANAGE = "invoice.manage"  # draft, finalise and discard invoices, credit notes
    PAYMENT_TAKE = "payment.take"  # payments, deposits, refunds, receipts, the day close
    CLAIM_MANAGE = "claim.manage"  # patients' insurance policies and claims to payers
    PRICE_MANAGE = "price.manage"  # the price list and the payers
    BILLING_REPORT = "billing.report"  # collections, outstanding balances, revenue
    CHART_READ = "chart.read"  # the clinical record: encounters, notes, problems, medicines
    NOTE_WRITE = "note.write"  # encounters, notes (sign, amend), problems, the treatment plan
    PRESCRIBE = "prescribe"  # prescriptions: new, update, stop, renew, override a warning
    PRESCRIPTION_READ = "prescription.read"  # the pharmacy queue
    ORDER_PLACE = "order.place"  # lab tests and imaging studies
    ORDER_READ = "order.read"  # orders and their results
    LAB_WORK = "lab.work"  # specimens collected and received, results entered, reports
    LAB_VALIDATE = "lab.validate"  # a second person validates a result
    RESULT_REVIEW = "result.review"  # acknowledge a result, interpret it


_CLINICAL_READ = {Perm.PATIENT_READ, Perm.HOSPITAL_READ, Perm.SYNC, Perm.NOTIFICATION_READ}
_DESK = {Perm.APPOINTMENT_READ, Perm.APPOINTMENT_BOOK}
_CLINIC = {Perm.APPOINTMENT_READ, Perm.APPOINTMENT_ATTEND, Perm.FOLLOWUP_REQUEST}
_WARD = {Perm.ADMISSION_MANAGE, Perm.VITALS_READ, Perm.VITALS_RECORD, Perm.MONITOR_VIEW}
_CHART = {Perm.CHART_READ, Perm.PRESCRIPTION_READ, Perm.ORDER_READ}
_DOCTORING = {Perm.NOTE_WRITE, Perm.PRESCRIBE, Perm.ORDER_PLACE, Perm.RESULT_REVIEW}
_LAB = {Perm.ORDER_READ, Perm.LAB_WORK, Perm.LAB_VALIDATE}
_BILLING = {
    Perm.BILLING_READ,
    Perm.CHARGE_MANAGE,
    Perm.INVOICE_MANAGE,
    Perm.PAYMENT_TAKE,
    Perm.CLAIM_MANAGE,
    Perm.BILLING_REPORT,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.RECEPTION: frozenset(
        _CLINICAL_READ | _DESK | {Perm.PATIENT_REGISTER, Perm.PATIENT_UPDATE, Perm.PATIENT_MERGE}
    ),
    Role.DOCTOR: frozenset(
        _CLINICAL_READ | _CLINIC | _WARD | _CHART | _DOCTORING | {Perm.PATIENT_UPDATE}
    ),
    Role.NURSE: frozenset(
        _CLINICAL_READ
        | _WARD
        | _CHART
        | {Perm.PATIENT_UPDATE, Perm.APPOINTMENT_READ, Perm.ALARM_MANAGE}
    ),
    Role.LAB: frozenset(_CLINICAL_READ | _LAB),
    Role.PHARMACY: frozenset(_CLINICAL_READ | {Perm.PRESCRIPTION_READ}),
    Role.BILLING: frozenset(_CLINICAL_READ | _BILLING | {Perm.APPOINTMENT_READ}),
    # Reserved for the patient portal: no staff permissions at all.
    Role.PATIENT: frozenset(),
}


def permissions_for(role: str) -> frozenset[Perm]:
    """The permissions of `role`; an unknown role has none."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def role_allows(role: str, permission: Perm | str) -> bool:
    return Perm(permission) in permissions_for(role)
