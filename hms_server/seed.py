"""The demo hospital: departments, staff of every role, wards and beds, and patients."""

import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from hms_core.db import (
    Bed,
    Department,
    DoctorProfile,
    MonitorDevice,
    Patient,
    User,
    Ward,
)
from hms_core.db.base import new_id, utcnow
from hms_core.schemas.patients import PatientCreate
from hms_core.schemas.ward import AdmitPatient
from hms_core.services import DuplicateSuspected
from hms_core.services.actor import SYSTEM
from hms_core.services.audit import record_audit
from hms_core.services.inpatients import admit_patient
from hms_core.services.patients import register_patient
from hms_server.auth import create_user
from hms_server.db import Database
from hms_server.demo_billing import seed_billing
from hms_server.demo_schedule import add_appointments, add_weekly_hours
from hms_server.fhir_import.importer import import_paths

DEPARTMENTS = [
    ("GEN", "General Medicine", "Internal medicine"),
    ("CAR", "Cardiology", "Cardiology"),
    ("ORT", "Orthopedics", "Orthopedic surgery"),
    ("PED", "Pediatrics", "Pediatrics"),
    ("OBG", "Obstetrics & Gynecology", "Obstetrics and gynecology"),
    ("NEU", "Neurology", "Neurology"),
    ("DER", "Dermatology", "Dermatology"),
    ("ENT", "Ear, Nose & Throat", "Otorhinolaryngology"),
    ("EMR", "Emergency", "Emergency medicine"),
    ("ICU", "Intensive Care", "Critical care medicine"),
]
WARDS = [
    ("MED-A", "Medical Ward A", "general", "GEN", 20),
    ("SURG-B", "Surgical Ward B", "general", "ORT", 16),
    ("PAED", "Children's Ward", "general", "PED", 12),
    ("MAT", "Maternity Ward", "semi-private", "OBG", 12),
    ("PVT", "Private Wing", "private", "GEN", 8),
    ("ICU", "Intensive Care Unit", "icu", "ICU", 32),
]
DOCTORS = [
    ("doctor", "Dr. Amara Okafor", "GEN"),
    ("dr.lindqvist", "Dr. Erik Lindqvist", "CAR"),
    ("dr.mehta", "Dr. Priya Mehta", "CAR"),
    ("dr.santos", "Dr. Lucas Santos", "ORT"),
    ("dr.nakamura", "Dr. Yuki Nakamura", "PED"),
    ("dr.haddad", "Dr. Leila Haddad", "OBG"),
    ("dr.fischer", "Dr. Jonas Fischer", "NEU"),
    ("dr.mensah", "Dr. Kwame Mensah", "EMR"),
    ("dr.ivanova", "Dr. Olga Ivanova", "ICU"),
]
STAFF = [
    ("admin", "admin", "System Administrator"),
    ("reception", "reception", "Grace Mwangi (Reception)"),
    ("nurse", "nurse", "Nurse Sofia Rossi"),
    ("lab", "lab", "Lab Scientist Ahmed Karimi"),
    ("pharmacy", "pharmacy", "Pharmacist Chen Wei"),
    ("billing", "billing", "Billing Clerk Maria López"),
    ("patient", "patient", "Portal Demo Patient"),
]
# Every demo account's password is "<username>-demo"; documented in README.md.
DEMO_PASSWORDS = {u: f"{u}-demo" for u, _, _ in STAFF} | {u: f"{u}-demo" for u, _, _ in DOCTORS}

GIVEN_F = (
    "Amina Maria Sofia Chloé Aisha Mei Fatima Olivia Zoë Ingrid Priya Ana Hana Léa Nia".split()
)
GIVEN_M = "José Liam Omar Kenji Mateo Noah Ravi Jonas Tomás Kwame Ali Luca Ivan Hugo Sami".split()
FAMILY = (
    "García Smith Okafor Müller Nakamura Haddad Rossi Nguyen Kowalski Mensah Ivanova Silva "
    "O'Brien Fernández Johansson Patel Dubois Kim Hernández Schmidt Mwangi Costa Ahmed Jensen"
).split()
STREETS = ["Oak", "Market", "Station", "Mill"]
CITIES = ["Riverside", "Northgate", "Hillview", "Lakeside", "Old Town"]
ALLERGENS = [
    ("Penicillin", "Hives", "severe"),
    ("Peanuts", "Anaphylaxis", "severe"),
    ("Latex", "Rash", "moderate"),
    ("Aspirin", "Wheezing", "moderate"),
    ("Sulfonamides", "Rash", "mild"),
]
PAYERS = ["National Health Fund", "MediCare Plus", "Allied Insurance", "Unity Health Mutual"]
# Demo inpatients: (bed, reason, hours since admission)
ADMISSIONS = [
    ("ICU-01", "Septic shock", 30),
    ("ICU-02", "Post-operative monitoring after laparotomy", 8),
    ("ICU-03", "Community-acquired pneumonia, type 1 respiratory failure", 52),
    ("ICU-04", "Diabetic ketoacidosis", 14),
    ("ICU-05", "COPD exacerbation on NIV", 20),
    ("ICU-06", "Acute myocardial infarction after PCI", 6),
    ("ICU-07", "Upper GI bleed", 11),
    ("ICU-08", "Traumatic brain injury, observation", 70),
    ("ICU-09", "Pulmonary embolism", 3),
    ("MED-A-01", "Cellulitis of the left leg", 40),
    ("MED-A-02", "Heart failure, fluid overload", 26),
    ("MED-A-03", "Falls assessment", 18),
]
# The demo simulates the monitors of ICU-01 up to here (every admitted ICU bed)
DEMO_ICU_BEDS = sum(1 for bed, _, _ in ADMISSIONS if bed.startswith("ICU-"))
# The demo's letterhead on printed bills (a real hospital sets HMS_HOSPITAL_ADDRESS and so on)
DEMO_LETTERHEAD = {
    "hospital_address": "1 Riverside Road\nRiverside 1010",
    "hospital_phone": "+1 555 0100",
    "hospital_tax_id": "TAX-0042-DEMO",
}
# Synthetic patients with years of history (Synthea FHIR bundles), imported into the demo
DEMO_HISTORIES = Path(__file__).resolve().parents[1] / "resources" / "demo" / "synthea"
# A planted pair for trying the duplicate check: register "Maria Garcia", born 1985-03-14.
DUPLICATE_DEMO = ("Maria", "García", date(1985, 3, 14), "+1 555 010 2030")


def seed_demo(
    db: Database, patients: int = 240, rng_seed: int = 2026, timezone: str = "UTC"
) -> str:
    """Load the demo hospital once; a second run leaves existing data as it is."""
    with db.unit_of_work() as session:
        if session.execute(select(User.id).where(User.username == "admin")).first():
            count = session.execute(select(func.count(Patient.id))).scalar_one()
            return f"demo data already present ({count} patients)"
        departments = _departments(session)
        doctors = _staff(session, departments, timezone)
        beds = _wards(session, departments)
        record_audit(session, SYSTEM, "demo.seed", detail={"patients": patients})
    rng = random.Random(rng_seed)
    made = 0
    with db.unit_of_work() as session:
        register_patient(session, SYSTEM, _planted_patient())
        while made < patients - 1:
            try:
                with session.begin_nested():
                    register_patient(session, SYSTEM, _random_patient(rng))
                made += 1
            except DuplicateSuspected:
                continue
    with db.unit_of_work() as session:
        booked = add_appointments(session, doctors, rng)
    with db.unit_of_work() as session:
        admitted = _admissions(session)
    with db.unit_of_work() as session:
        billing = seed_billing(session, rng)
    histories = import_paths(db, [DEMO_HISTORIES])
    return (
        f"seeded {len(DEPARTMENTS)} departments, {len(STAFF) + len(DOCTORS)} users, "
        f"{len(WARDS)} wards with {beds} beds, {made + 1} patients, {booked} appointments, "
        f"{admitted} admitted patients; billing: {billing}; "
        f"{histories.bundles} patients with years of history imported from FHIR"
    )


def _departments(session) -> dict[str, Department]:  # noqa: ANN001
    found = {
        code: Department(code=code, name=name, specialty=spec) for code, name, spec in DEPARTMENTS
    }
    session.add_all(found.values())
    session.flush()
    return found


def _staff(  # noqa: ANN001
    session, departments: dict[str, Department], timezone: str
) -> list[tuple[DoctorProfile, int]]:
    """Every demo account; returns the doctors with the slot length of their hours."""
    for username, role, full_name in STAFF:
        create_user(session, username, role, DEMO_PASSWORDS[username], full_name)
    doctors = []
    for number, (username, full_name, dept) in enumerate(DOCTORS, start=1):
        user = create_user(session, username, "doctor", DEMO_PASSWORDS[username], full_name)
        user.department_id = departments[dept].id
        doctor = DoctorProfile(
            user_id=user.id,
            number=number,
            display_name=full_name,
            department_id=user.department_id,
            grade="consultant" if number % 3 else "specialist",
            timezone=timezone,
        )
        session.add(doctor)
        session.flush()
        doctors.append((doctor, add_weekly_hours(session, doctor, dept)))
    return doctors


def _wards(session, departments: dict[str, Department]) -> int:  # noqa: ANN001
    beds = 0
    for code, name, ward_class, dept, count in WARDS:
        ward = Ward(code=code, name=name, ward_class=ward_class, department_id=departments[dept].id)
        session.add(ward)
        session.flush()
        made = [Bed(ward_id=ward.id, label=f"{code}-{n:02d}") for n in range(1, count + 1)]
        session.add_all(made)
        if ward_class == "icu":
            session.flush()
            session.add_all(
                MonitorDevice(
                    device_id=monitor_id(bed.label), label=f"Monitor {bed.label}", bed_id=bed.id
                )
                for bed in made
            )
        beds += count
    return beds


def _admissions(session) -> int:  # noqa: ANN001
    """Demo inpatients: ICU-01.. hold the first patients by MRN, a few more lie on MED-A."""
    people = session.execute(select(Patient).order_by(Patient.mrn).limit(len(ADMISSIONS)))
    labels = {b.label: b.id for b in session.execute(select(Bed)).scalars()}
    now = utcnow()
    made = 0
    for patient, (label, reason, hours) in zip(people.scalars(), ADMISSIONS, strict=False):
        args = AdmitPatient(
            id=new_id(),
            patient_id=patient.id,
            bed_id=labels[label],
            admitted_at=now - timedelta(hours=hours),
            reason=reason,
        )
        admit_patient(session, SYSTEM, args)
        made += 1
    return made


def monitor_id(bed_label: str) -> str:
    """The identifier the demo's bedside monitors (and the simulator) send for a bed."""
    return f"MON-{bed_label}"


def _planted_patient() -> PatientCreate:
    given, family, born, phone = DUPLICATE_DEMO
    return PatientCreate(
        given_name=given,
        family_name=family,
        birth_date=born,
        sex="female",
        phone=phone,
        city="Riverside",
        preferred_language="Spanish",
        allergies=[{"substance": "Penicillin", "reaction": "Hives", "severity": "severe"}],
    )


def _random_patient(rng: random.Random) -> PatientCreate:
    female = rng.random() < 0.5
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
    insured = rng.random() < 0.6
    allergy = [dict(zip(("substance", "reaction", "severity"), rng.choice(ALLERGENS), strict=True))]
    return PatientCreate(
        given_name=given,
        family_name=rng.choice(FAMILY),
        birth_date=born,
        sex="female" if female else "male",
        phone=f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        email=f"{given.lower()}.{rng.randrange(1000, 9999)}@example.org"
        if rng.random() < 0.5
        else None,
        address_line=f"{rng.randrange(1, 200)} {rng.choice(STREETS)} Street",
        city=rng.choice(CITIES),
        country="Demo Republic",
        preferred_language=rng.choice(["English", "Spanish", "French", "Swahili"]),
        next_of_kin_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {rng.choice(FAMILY)}",
        next_of_kin_relationship=rng.choice(["spouse", "parent", "child", "sibling"]),
        insurance_payer=rng.choice(PAYERS) if insured else None,
        insurance_policy_number=f"POL-{rng.randrange(100000, 999999)}" if insured else None,
        insurance_valid_until=date(2027, 12, 31) if insured else None,
        allergies=allergy if rng.random() < 0.2 else [],
        past_conditions=rng.choice([None, "Hypertension", "Type 2 diabetes", "Asthma"]),
    )
