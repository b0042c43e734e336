"""The clinical record on the cache: the encounter of today's visit, its notes, problems, the
plan, prescriptions, orders and the doctor's results to review; every change a queued named
mutation (so a clinic keeps working offline).

The cache runs each mutation with the same rules as the server: a prescription is checked for
allergies, duplicates, interactions and dose right here, and its warnings come back at once.
What the dialogs show is built in `hms_desktop.store.clinical_views` (re-exported here).
"""

import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core import catalogues
from hms_core.catalogues import Drug, Icd10, ImagingStudy, LabTest
from hms_core.db import ClinicalNote, Encounter, MedicationOrder, Patient
from hms_core.db.base import new_id, utcnow
from hms_core.db.clinical import IN_PROGRESS, RX_ACTIVE, VALIDATED, ClinicalOrder
from hms_core.printing.prescription_pdf import render_prescription
from hms_core.schemas.billing import HospitalProfile
from hms_core.services.errors import NotFound
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.clinical_views import (
    ABNORMAL,
    NOTE_FIELDS,
    CarePlanVersion,
    NoteView,
    PrescriptionView,
    ResultSummary,
    ResultValue,
    care_plan_versions,
    note_view,
    plan_text,
    prescription_document,
    prescription_view,
    result_summary,
)

__all__ = [
    "ABNORMAL",
    "NOTE_FIELDS",
    "PROFILE_KEY",
    "CarePlanVersion",
    "LocalClinical",
    "NoteView",
    "PrescriptionView",
    "ResultSummary",
    "ResultValue",
]

PROFILE_KEY = "hospital_profile"  # kept by the billing desk and the clinic alike


class LocalClinical:
    """A clinician's work on the clinical record, on the cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store

    @property
    def username(self) -> str:
        return self.store.actor.username

    # --- catalogues -------------------------------------------------------------------------

    @staticmethod
    def search_icd10(text: str, limit: int = 20) -> list[Icd10]:
        return catalogues.search_icd10(text, limit)

    @staticmethod
    def search_drugs(text: str) -> list[Drug]:
        """Formulary drugs by name, generic name, ATC code or class."""
        return catalogues.search_drugs(text)

    @staticmethod
    def drug(code: str) -> Drug | None:
        return catalogues.drug(code)

    @staticmethod
    def lab_tests() -> list[LabTest]:
        return sorted(catalogues.lab_tests(), key=lambda t: t.name.casefold())

    @staticmethod
    def imaging_studies() -> list[ImagingStudy]:
        return sorted(catalogues.imaging_studies(), key=lambda s: s.name.casefold())

    # --- encounters -------------------------------------------------------------------------

    def today(self) -> date:
        """The hospital's date now (in its own time zone)."""
        return datetime.now(ZoneInfo(self.hospital_profile().timezone)).date()

    def hospital_profile(self) -> HospitalProfile:
        kept = self.store.get_state(PROFILE_KEY)
        return HospitalProfile.model_validate(kept) if kept else HospitalProfile(name="Hospital")

    def open_encounter(self, patient_id: uuid.UUID) -> uuid.UUID | None:
        """The patient's encounter in progress that started today, if any."""
        since = self._start_of_today()

        def read(session: Session) -> uuid.UUID | None:
            return session.execute(
                select(Encounter.id)
                .where(
                    Encounter.patient_id == patient_id,
                    Encounter.status == IN_PROGRESS,
                    Encounter.started_at >= since,
                    Encounter.deleted_at.is_(None),
                )
                .order_by(Encounter.started_at.desc())
                .limit(1)
            ).scalar()

        return self.store.read(read)

    def start_encounter(
        self,
        patient_id: uuid.UUID,
        *,
        reason: str = "",
        appointment_id: uuid.UUID | None = None,
        encounter_class: str = "outpatient",
    ) -> uuid.UUID:
        """Today's open encounter of the patient, or a new one started now."""
        found = self.open_encounter(patient_id)
        if found is not None:
            return found
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "encounter_class": encounter_class,
            "started_at": _now(),
            "reason": reason,
            "appointment_id": str(appointment_id) if appointment_id else None,
        }
        return uuid.UUID(self.store.mutate("start_encounter", args)["id"])

    def _start_of_today(self) -> datetime:
        zone = ZoneInfo(self.hospital_profile().timezone)
        local = datetime.combine(self.today(), time(0), zone).astimezone(UTC)
        return local.replace(tzinfo=None)  # the cache keeps naive UTC

    # --- notes ------------------------------------------------------------------------------

    def notes(self, encounter_id: uuid.UUID) -> list[NoteView]:
        """The encounter's notes, oldest first."""
        return self.store.read(
            lambda s: [
                note_view(n)
                for n in s.execute(
                    select(ClinicalNote)
                    .where(
                        ClinicalNote.encounter_id == encounter_id,
                        ClinicalNote.deleted_at.is_(None),
                    )
                    .order_by(ClinicalNote.created_at, ClinicalNote.id)
                ).scalars()
            ]
        )

    def current_note(self, encounter_id: uuid.UUID) -> NoteView | None:
        """This clinician's note of the encounter as it stands: the draft, else the latest
        signed version (an amendment replaces the note it amends)."""
        mine = [n for n in self.notes(encounter_id) if n.author == self.username]
        drafts = [n for n in mine if not n.signed]
        if drafts:
            return drafts[-1]
        amended = {n.amends_id for n in mine if n.amends_id is not None}
        standing = [n for n in mine if n.id not in amended]
        return standing[-1] if standing else None

    def save_note(
        self, encounter_id: uuid.UUID, fields: dict[str, str], note_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        """Create or change a draft; returns the note's id."""
        args = {"id": str(note_id or new_id()), "encounter_id": str(encounter_id), **fields}
        return uuid.UUID(self.store.mutate("save_note", args)["id"])

    def sign_note(self, note_id: uuid.UUID) -> dict[str, Any]:
        return self.store.mutate("sign_note", {"note_id": str(note_id), "at": _now()})

    def amend_note(self, note_id: uuid.UUID, fields: dict[str, str], reason: str) -> uuid.UUID:
        """A new signed note amending `note_id`; returns its id."""
        args = {
            "id": str(new_id()),
            "note_id": str(note_id),
            "reason": reason,
            "at": _now(),
            **fields,
        }
        return uuid.UUID(self.store.mutate("amend_note", args)["id"])

    # --- problems and the plan --------------------------------------------------------------

    def add_problem(
        self,
        patient_id: uuid.UUID,
        code: str,
        *,
        encounter_id: uuid.UUID | None = None,
        kind: str = "diagnosis",
        onset: date | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "encounter_id": str(encounter_id) if encounter_id else None,
            "code": code,
            "kind": kind,
            "onset": onset.isoformat() if onset else None,
            "note": note,
            "at": _now(),
        }
        return self.store.mutate("add_problem", args)

    def update_problem(
        self,
        problem_id: uuid.UUID,
        clinical_status: str,
        *,
        resolved: date | None = None,
        reason: str = "",
    ) -> dict[str, Any]:
        args = {
            "problem_id": str(problem_id),
            "clinical_status": clinical_status,
            "resolved": resolved.isoformat() if resolved else None,
            "reason": reason,
            "at": _now(),
        }
        return self.store.mutate("update_problem", args)

    def care_plan(self, patient_id: uuid.UUID) -> str:
        """The plan in force ('' when none was written)."""
        return self.store.read(lambda s: plan_text(s, patient_id))

    def care_plan_history(self, patient_id: uuid.UUID) -> list[CarePlanVersion]:
        """Every version of the patient's plan, the latest first."""
        return self.store.read(lambda s: care_plan_versions(s, patient_id))

    def update_care_plan(
        self,
        patient_id: uuid.UUID,
        text: str,
        *,
        reason: str = "",
        encounter_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "encounter_id": str(encounter_id) if encounter_id else None,
            "text": text,
            "reason": reason,
            "at": _now(),
        }
        return self.store.mutate("update_care_plan", args)

    # --- prescriptions ----------------------------------------------------------------------

    def active_prescriptions(self, patient_id: uuid.UUID) -> list[PrescriptionView]:
        """The patient's active prescriptions, newest first."""

        def read(session: Session) -> list[PrescriptionView]:
            rows = session.execute(
                select(MedicationOrder)
                .where(
                    MedicationOrder.patient_id == patient_id,
                    MedicationOrder.status == RX_ACTIVE,
                    MedicationOrder.deleted_at.is_(None),
                )
                .order_by(MedicationOrder.prescribed_at.desc(), MedicationOrder.id.desc())
            ).scalars()
            return [prescription_view(r) for r in rows]

        return self.store.read(read)

    def prescribe(
        self,
        patient_id: uuid.UUID,
        fields: dict[str, Any],
        *,
        encounter_id: uuid.UUID | None = None,
        overrides: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Prescribe after the safety checks; `SafetyCheck` carries back unanswered warnings."""
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "encounter_id": str(encounter_id) if encounter_id else None,
            "overrides": overrides or [],
            "at": _now(),
            **fields,
        }
        return self.store.mutate("prescribe", args)

    def change_prescription(
        self,
        prescription_id: uuid.UUID,
        change: str,
        reason: str,
        *,
        fields: dict[str, Any] | None = None,
        overrides: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Update (new `fields`), stop or renew a prescription: a new version of it."""
        args: dict[str, Any] = {
            "id": str(new_id()),
            "prescription_id": str(prescription_id),
            "change": change,
            "reason": reason,
            "overrides": overrides or [],
            "at": _now(),
        }
        if fields is not None:
            args["fields"] = fields
        return self.store.mutate("change_prescription", args)

    def prescription_pdf(
        self, prescription_ids: list[uuid.UUID], prescriber_name: str
    ) -> tuple[bytes, str]:
        """The printed prescription of these prescriptions (of one patient), and its name."""
        profile = self.hospital_profile()
        document = self.store.read(
            lambda s: prescription_document(s, prescription_ids, prescriber_name, profile)
        )
        return render_prescription(document), f"Prescription MRN {document.mrn}"

    # --- orders -----------------------------------------------------------------------------

    def place_order(
        self,
        patient_id: uuid.UUID,
        kind: str,
        test_code: str,
        indication: str,
        *,
        priority: str = "routine",
        body_site: str = "",
        encounter_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """A lab or imaging order; the answer carries its number (made here, offline too)."""
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "encounter_id": str(encounter_id) if encounter_id else None,
            "kind": kind,
            "test_code": test_code,
            "indication": indication,
            "priority": priority,
            "body_site": body_site,
            "at": _now(),
        }
        return self.store.mutate("place_order", args)

    def cancel_order(self, order_id: uuid.UUID, reason: str) -> dict[str, Any]:
        args = {"order_id": str(order_id), "reason": reason, "at": _now()}
        return self.store.mutate("cancel_order", args)

    # --- results ----------------------------------------------------------------------------

    def unacknowledged_results(self) -> list[ResultSummary]:
        """This doctor's validated results not yet acknowledged: critical first, then oldest."""
        username = self.username

        def read(session: Session) -> list[ResultSummary]:
            orders = session.execute(
                select(ClinicalOrder, Patient)
                .join(Patient, Patient.id == ClinicalOrder.patient_id)
                .where(
                    ClinicalOrder.status == VALIDATED,
                    ClinicalOrder.ordered_by == username,
                    ClinicalOrder.acknowledged_at.is_(None),
                    ClinicalOrder.deleted_at.is_(None),
                )
                .order_by(ClinicalOrder.critical.desc(), ClinicalOrder.validated_at)
            ).all()
            return [result_summary(session, order, patient) for order, patient in orders]

        return self.store.read(read)

    def result(self, order_id: uuid.UUID) -> ResultSummary:
        """One result with its values, the report and the patient's plan in force."""

        def read(session: Session) -> ResultSummary:
            order = session.get(ClinicalOrder, order_id)
            patient = session.get(Patient, order.patient_id) if order is not None else None
            if order is None or patient is None:
                raise NotFound("This result is no longer on this computer.")
            return result_summary(session, order, patient, detail=True)

        return self.store.read(read)

    def acknowledge_result(
        self, order_id: uuid.UUID, interpretation: str, plan: str = ""
    ) -> dict[str, Any]:
        """The doctor read the result: the interpretation, and a new plan when one is given."""
        args: dict[str, Any] = {
            "order_id": str(order_id),
            "interpretation": interpretation,
            "plan": plan,
            "at": _now(),
        }
        if plan.strip():
            args["plan_id"] = str(new_id())
        return self.store.mutate("acknowledge_result", args)


def _now() -> str:
    return utcnow().isoformat()
