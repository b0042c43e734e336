"""Prescribing from the formulary, with the safety checks at the moment of prescribing.

A prescription is checked against the patient's recorded allergies and active medicines
(allergy, duplicate therapy, interactions) and against the drug's usual doses. A warning is
saved only when the prescriber overrode it with a reason: until every warning has one, nothing
is saved and `SafetyCheck` carries the warnings back, for the prescriber to read and answer.
Overrides are stored on the prescription and audited one by one.

A prescription changes by versions: an update, a stop or a renewal is a new row pointing at the
previous one, which becomes superseded; only the latest version can change again.
"""

import uuid
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core import catalogues
from hms_core.catalogues import Drug
from hms_core.db import MedicationOrder, Patient, PatientAllergy
from hms_core.db.clinical import RX_ACTIVE, RX_COMPLETED, RX_STOPPED, RX_SUPERSEDED
from hms_core.rbac import Perm
from hms_core.rules.prescribing import AllergyFact, CurrentDrug, normal_unit, safety_warnings
from hms_core.schemas.clinical import ChangePrescription, Override, Prescribe, PrescriptionFields
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import check_not_ahead, get_row, touch
from hms_core.services.clinical.encounters import check_encounter
from hms_core.services.errors import Conflict, DomainError, InvalidData
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit

FORMULARY = "urn:hms:formulary"
QUEUED, STOPPED_AT_PHARMACY = "queued", "stopped"
FIELDS = tuple(PrescriptionFields.model_fields)  # drug_code, strength, form, dose, ...
CHANGED_SINCE = "This prescription was changed since; open its latest version."


class SafetyCheck(DomainError):
    """Safety warnings the prescriber has not yet overridden with a reason."""

    code = "safety_check"
    http_status = 409


def prescribe(session: Session, actor: Actor, args: Prescribe) -> MedicationOrder:
    """Prescribe a formulary drug after the safety checks; queued for the pharmacy (audited)."""
    actor.require(Perm.PRESCRIBE)
    existing = session.get(MedicationOrder, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    check_encounter(session, args.encounter_id, patient)
    check_not_ahead(args.at, "at", "The time of the prescription")
    drug = formulary_drug(args.drug_code)
    fields = checked_fields(drug, args)
    overrides = _safety(session, actor, patient, drug, fields, args.overrides, replacing=None)
    order = MedicationOrder(
        id=args.id,
        patient_id=patient.id,
        encounter_id=args.encounter_id,
        prescriber=actor.username,
        prescribed_at=args.at,
        change="new",
        overrides=overrides,
        **_drug_columns(drug, fields),
    )
    _save(session, actor, order, "prescription.new", reason="")
    return order


def change_prescription(
    session: Session, actor: Actor, args: ChangePrescription
) -> MedicationOrder:
    """Update, stop or renew a prescription: a new version; the previous one is superseded."""
    actor.require(Perm.PRESCRIBE)
    existing = session.get(MedicationOrder, args.id)
    if existing is not None:
        return existing  # a replay
    previous = get_row(
        session,
        MedicationOrder,
        args.prescription_id,
        "This prescription does not exist.",
        "prescription_id",
        for_update=True,
    )
    _check_changeable(previous, args.change)
    patient = active_patient(session, previous.patient_id)
    check_not_ahead(args.at, "at", "The time of the change")
    if args.change == "stop":
        order = _version(previous, args, actor, _carried(previous), status=RX_STOPPED)
        order.pharmacy_status = STOPPED_AT_PHARMACY
    else:
        fields = _new_fields(previous, args)
        drug = formulary_drug(fields.drug_code)
        fields = checked_fields(drug, fields)
        overrides = _safety(session, actor, patient, drug, fields, args.overrides, previous)
        order = _version(previous, args, actor, _drug_columns(drug, fields), status=RX_ACTIVE)
        order.overrides = overrides
    previous.status = RX_SUPERSEDED
    touch(previous)
    _save(session, actor, order, f"prescription.{args.change}", reason=args.reason)
    return order


# --- the formulary and the fields ---------------------------------------------------------------


def formulary_drug(code: str) -> Drug:
    """The formulary's drug, or a plain refusal."""
    drug = catalogues.drug(code)
    if drug is None:
        raise InvalidData(
            f"{code} is not in the formulary. Search the formulary and pick the drug from it.",
            fields={"drug_code": "Not in the formulary"},
        )
    return drug


def checked_fields(drug: Drug, fields: PrescriptionFields) -> PrescriptionFields:
    """The fields with unit, route, frequency, strength and form as the formulary spells them;
    refused in plain words when the drug is not given that way."""
    problems: dict[str, str] = {}
    unit = drug.dose_unit if _same_unit(fields.dose_unit, drug.dose_unit) else None
    if unit is None:
        problems["dose_unit"] = f"{drug.name} is dosed in {drug.dose_unit}"
    route = _spelled(fields.route, drug.routes)
    if route is None:
        problems["route"] = f"{drug.name} is given by the {_either(drug.routes)} route"
    frequency = _spelled(fields.frequency, list(catalogues.FREQUENCIES))
    if frequency is None:
        problems["frequency"] = f"Use one of {', '.join(catalogues.FREQUENCIES)}"
    strength = _spelled(fields.strength, drug.strengths) if fields.strength else ""
    if strength is None:
        problems["strength"] = f"{drug.name} comes as {_either(drug.strengths)}"
    form = _spelled(fields.form, drug.forms) if fields.form else ""
    if form is None:
        problems["form"] = f"{drug.name} comes as {_either(drug.forms)}"
    if problems:
        raise InvalidData(
            f"Check the prescription of {drug.name}: " + "; ".join(problems.values()) + ".",
            fields=problems,
        )
    return PrescriptionFields.model_construct(
        **{
            **{name: getattr(fields, name) for name in FIELDS},
            "drug_code": drug.code,
            "dose_unit": unit,
            "route": route,
            "frequency": frequency,
            "strength": strength,
            "form": form,
        }
    )


def _same_unit(given: str, formulary: str) -> bool:
    """'mcg' is 'µg', 'MG' is 'mg': units compared as the formulary would write them."""
    return normal_unit(given).casefold() == normal_unit(formulary).casefold()


def _spelled(value: str, allowed: list[str]) -> str | None:
    """`value` as the catalogue spells it (case ignored), or None when it is not allowed."""
    wanted = value.strip().casefold()
    return next((a for a in allowed if a.casefold() == wanted), None)


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def _drug_columns(drug: Drug, fields: PrescriptionFields) -> dict[str, Any]:
    return {
        **{name: getattr(fields, name) for name in FIELDS},
        "drug_name": drug.name,
        "code_system": FORMULARY,
        "code": drug.code,
        "display": drug.name,
    }


# --- versions -----------------------------------------------------------------------------------


def _check_changeable(previous: MedicationOrder, change: str) -> None:
    if previous.status in (RX_STOPPED, RX_SUPERSEDED):
        raise Conflict(CHANGED_SINCE, fields={"prescription_id": "Not the latest version"})
    if previous.status == RX_COMPLETED and change != "renew":
        raise Conflict(
            "This prescription is completed: renew it to give the medicine again.",
            fields={"prescription_id": "Completed"},
        )


def _new_fields(previous: MedicationOrder, args: ChangePrescription) -> PrescriptionFields:
    """An update's new fields, or a renewal's: the previous version's, checked again."""
    if args.change == "update":
        if args.fields is None:
            raise InvalidData(
                "Give the new dose, route and frequency for this update.",
                fields={"fields": "This is required"},
            )
        if args.fields.drug_code != previous.drug_code:
            raise InvalidData(
                f"An update keeps the drug ({previous.drug_name}). To change the drug, stop this "
                "prescription and prescribe the new one.",
                fields={"drug_code": "Another drug"},
            )
        return args.fields
    try:
        return PrescriptionFields.model_validate(
            {
                name: getattr(previous, name)
                for name in FIELDS
                if getattr(previous, name) is not None
            }
        )
    except ValidationError:
        raise InvalidData(
            f"{previous.drug_name} lacks a formulary drug, dose, route or frequency: "
            "prescribe it anew from the formulary instead of renewing it.",
            fields={"prescription_id": "Incomplete prescription"},
        ) from None


def _carried(previous: MedicationOrder) -> dict[str, Any]:
    """What a stop keeps of the previous version: the drug and how it was given."""
    names = (*FIELDS, "drug_name", "code_system", "code", "display")
    return {name: getattr(previous, name) for name in names}


def _version(
    previous: MedicationOrder,
    args: ChangePrescription,
    actor: Actor,
    columns: dict[str, Any],
    *,
    status: str,
) -> MedicationOrder:
    return MedicationOrder(
        id=args.id,
        patient_id=previous.patient_id,
        encounter_id=previous.encounter_id,
        status=status,
        prescriber=actor.username,
        prescribed_at=args.at,
        previous_id=previous.id,
        change=args.change,
        change_reason=args.reason,
        overrides=[],
        **columns,
    )


def _save(
    session: Session, actor: Actor, order: MedicationOrder, action: str, *, reason: str
) -> None:
    """Store a version, audit it and each override, and tell the pharmacy."""
    session.add(order)
    session.flush()
    detail = {"prescription_id": str(order.id), "drug": order.drug_code, "status": order.status}
    if order.previous_id is not None:
        detail |= {"previous_id": str(order.previous_id), "reason": reason}
    record_audit(session, actor, action, patient_id=order.patient_id, detail=detail)
    for override in order.overrides:
        record_audit(
            session,
            actor,
            "prescription.override",
            patient_id=order.patient_id,
            detail={"prescription_id": str(order.id), **override},
        )
    if order.status == RX_ACTIVE:
        emit(session, "prescription.queued", prescription_id=str(order.id))
    else:
        emit(session, "prescription.stopped", prescription_id=str(order.id))


# --- the safety checks --------------------------------------------------------------------------


def _safety(
    session: Session,
    actor: Actor,
    patient: Patient,
    drug: Drug,
    fields: PrescriptionFields,
    given: list[Override],
    replacing: MedicationOrder | None,
) -> list[dict[str, Any]]:
    """The overrides to store; SafetyCheck when a warning has no reason to override it."""
    warnings = safety_warnings(
        drug,
        Decimal(fields.dose),
        fields.dose_unit,
        fields.frequency,
        allergies_of(session, patient.id),
        current_drugs(session, patient.id, excluding=replacing.id if replacing else None),
    )
    reasons = {o.check: o.reason for o in given}
    missing = [w for w in warnings if w.check not in reasons]
    if missing:
        count = len(missing)
        raise SafetyCheck(
            f"{count} safety warning{'s' if count > 1 else ''} "
            f"need{'' if count > 1 else 's'} a reason to override.",
            fields={"overrides": "A reason is needed for each warning"},
            detail={
                "warnings": [warning_dict(w) for w in warnings],
                "missing": [w.check for w in missing],
            },
        )
    return [
        {
            "check": w.check,
            "kind": w.kind,
            "severity": w.severity,
            "message": w.message,
            "reason": reasons[w.check],
            "by": actor.username,
        }
        for w in warnings
    ]


def warning_dict(warning: Any) -> dict[str, str]:
    """A warning as it travels to the desk."""
    return {
        "check": warning.check,
        "kind": warning.kind,
        "severity": warning.severity,
        "message": warning.message,
        "source": getattr(warning, "source", ""),
    }


def allergies_of(session: Session, patient_id: uuid.UUID) -> list[AllergyFact]:
    """The patient's recorded allergies and intolerances, as the rules read them."""
    rows = session.execute(
        select(PatientAllergy).where(
            PatientAllergy.patient_id == patient_id, PatientAllergy.deleted_at.is_(None)
        )
    ).scalars()
    return [AllergyFact(r.substance, r.category, r.severity) for r in rows]


def current_drugs(
    session: Session, patient_id: uuid.UUID, *, excluding: uuid.UUID | None = None
) -> list[CurrentDrug]:
    """The patient's active prescriptions (but the one being replaced), as the rules read them."""
    query = select(MedicationOrder).where(
        MedicationOrder.patient_id == patient_id,
        MedicationOrder.status == RX_ACTIVE,
        MedicationOrder.deleted_at.is_(None),
    )
    if excluding is not None:
        query = query.where(MedicationOrder.id != excluding)
    return [_current(order) for order in session.execute(query).scalars()]


def _current(order: MedicationOrder) -> CurrentDrug:
    known = catalogues.drug(order.drug_code) if order.drug_code else None
    return CurrentDrug(
        code=order.drug_code or order.code,
        name=order.drug_name,
        atc=known.atc if known else "",
        drug_class=known.drug_class if known else "",
    )
