"""Patient registration, update, lookup, search and the duplicate check."""

import uuid
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, aliased

from hms_core.db.base import new_id, utcnow
from hms_core.db.patients import Patient, PatientAllergy, PatientNameToken
from hms_core.rbac import Perm
from hms_core.rules.contact import phone_digits
from hms_core.rules.mrn import is_valid_mrn
from hms_core.rules.names import (
    name_tokens,
    names_look_alike,
    prefix_upper_bound,
    query_tokens,
    sort_name,
)
from hms_core.schemas.patients import (
    AllergyIn,
    AllergyOut,
    DuplicateCandidate,
    DuplicateCheck,
    PatientCreate,
    PatientOut,
    PatientSummary,
    PatientUpdate,
    estimated_birth_date,
)
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.conflicts import open_identity_conflict
from hms_core.services.counters import next_mrn
from hms_core.services.errors import Conflict, DuplicateSuspected, InvalidData, NotFound
from hms_core.sync.rows import wire_value

MAX_SEARCH_RESULTS = 100
_DERIVED = {"phone_digits", "sort_name"}


def find_duplicates(session: Session, check: DuplicateCheck) -> list[DuplicateCandidate]:
    """Existing patients who may be the person described: alike name and birth date, or phone."""
    birth = check.birth_date
    if birth is None and check.estimated_age_years is not None:
        birth = estimated_birth_date(check.estimated_age_years)
    full_name = f"{check.given_name} {check.family_name}"
    found: dict[uuid.UUID, DuplicateCandidate] = {}
    if birth is not None:
        for patient in _live(session, Patient.birth_date == birth):
            if names_look_alike(full_name, f"{patient.given_name} {patient.family_name}"):
                _add_reason(found, patient, "similar name and same date of birth")
    digits = phone_digits(check.phone) if check.phone else ""
    if digits:
        for patient in _live(session, Patient.phone_digits == digits):
            _add_reason(found, patient, "same phone number")
    return list(found.values())


def register_patient(
    session: Session, actor: Actor, data: PatientCreate, *, mrn: str | None = None
) -> Patient:
    """Register a new patient; refuses suspected duplicates the caller has not reviewed."""
    actor.require(Perm.PATIENT_REGISTER)
    candidates = find_duplicates(session, DuplicateCheck.model_validate(data.model_dump()))
    reviewed = set(data.duplicate_review.candidate_ids) if data.duplicate_review else set()
    unreviewed = [c for c in candidates if c.patient.id not in reviewed]
    if unreviewed:
        raise DuplicateSuspected(
            "This patient may already be registered. Check the possible matches.",
            detail={"candidates": [c.model_dump(mode="json") for c in unreviewed]},
        )
    if data.id is not None and session.get(Patient, data.id) is not None:
        raise Conflict("A patient with this identifier already exists.")
    patient = Patient(id=data.id or new_id(), row_version=1)
    patient.mrn = _checked_mrn(session, mrn) if mrn else next_mrn(session)
    fields = data.model_dump(
        exclude={"id", "allergies", "duplicate_review", "estimated_age_years", "birth_date"}
    )
    fields["birth_date"] = data.resolved_birth_date()
    fields["birth_date_estimated"] = data.birth_date_estimated
    _apply(patient, fields)
    session.add(patient)
    session.flush()
    _replace_allergies(session, patient, data.allergies)
    _index_names(session, patient, new=True)
    if candidates:
        record_audit(
            session,
            actor,
            "patient.duplicate_review",
            patient_id=patient.id,
            detail={"decision": "new_patient", "candidates": sorted(str(i) for i in reviewed)},
        )
    record_audit(
        session, actor, "patient.register", patient_id=patient.id, detail={"mrn": patient.mrn}
    )
    return patient


IDENTITY_FIELDS = ("given_name", "family_name", "birth_date", "sex")


def update_patient(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    changes: PatientUpdate,
    *,
    base: dict[str, Any] | None = None,
) -> Patient:
    """Change the fields present in `changes`.

    Without `base`, a stale `expected_row_version` is refused (an editor at the desk reloads).
    With `base` (the values the editor started from, as sync sends them), a stale edit merges
    field by field: untouched fields keep the other change, a field changed on both sides takes
    this change, except identity fields, which keep the server's value and open a conflict.
    """
    actor.require(Perm.PATIENT_UPDATE)
    patient = _get_for_update(session, patient_id)
    stale = (
        changes.expected_row_version is not None
        and changes.expected_row_version != patient.row_version
    )
    if stale and base is None:
        raise Conflict(
            "Someone else changed this patient since you opened the record. "
            "Reload it to see their changes, then edit again.",
            detail={"current_row_version": patient.row_version},
        )
    sent = changes.model_dump(exclude_unset=True, exclude={"expected_row_version", "allergies"})
    clashes: dict[str, dict[str, Any]] = {}
    if stale and base is not None:
        sent, clashes = _merge_fields(patient, sent, base)
    changed = sorted(k for k, v in sent.items() if getattr(patient, k) != v)
    _apply(patient, sent)
    allergies = changes.allergies
    if allergies is not None and base is not None and "allergy_ids" in base:
        allergies = _merge_allergies(patient, allergies, base["allergy_ids"])
    if allergies is not None and _replace_allergies(session, patient, allergies):
        changed.append("allergies")
    if changed:
        patient.bump_version()
        patient.updated_at = utcnow()
        if {"given_name", "family_name", "birth_date"} & set(changed):
            _index_names(session, patient)
    session.flush()
    record_audit(
        session, actor, "patient.update", patient_id=patient.id, detail={"fields": sorted(changed)}
    )
    if clashes:
        open_identity_conflict(session, actor, patient, clashes)
    return patient


def _merge_fields(
    patient: Patient, sent: dict[str, Any], base: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The fields to apply to a record changed elsewhere, and the identity fields that clash."""
    apply: dict[str, Any] = {}
    clashes: dict[str, dict[str, Any]] = {}
    for field, ours in sent.items():
        theirs = getattr(patient, field)
        if _same(theirs, ours):
            continue
        if field in base and _same(theirs, base[field]):
            apply[field] = ours  # only we changed it
        elif field in IDENTITY_FIELDS:
            clashes[field] = {
                "base": wire_value(base.get(field)),
                "ours": wire_value(ours),
                "theirs": wire_value(theirs),
            }
        else:
            apply[field] = ours  # both changed a low-risk field: the later arrival wins
    return apply, clashes


def _same(a: Any, b: Any) -> bool:
    return wire_value(a) == wire_value(b)


def _merge_allergies(
    patient: Patient, wanted: list[AllergyIn], base_ids: list[str]
) -> list[AllergyIn]:
    """`wanted` merged with allergy changes made elsewhere since the edit began.

    An allergy recorded elsewhere is never dropped. One removed elsewhere stays removed
    unless this edit changed it (then it is restored with this edit's values: safer).
    """
    voided = {a.id: a for a in patient.allergies if a.deleted_at is not None}
    wanted = [a for a in wanted if not (a.id in voided and _same_allergy(voided[a.id], a))]
    known = {str(i) for i in base_ids} | {str(a.id) for a in wanted if a.id}
    added_elsewhere = [
        AllergyIn(id=a.id, substance=a.substance, reaction=a.reaction, severity=a.severity)
        for a in patient.allergies
        if a.deleted_at is None and str(a.id) not in known
    ]
    return [*wanted, *added_elsewhere]


def active_patient(
    session: Session, patient_id: uuid.UUID, *, instead: str = "Use that record."
) -> Patient:
    """The registered patient, refused in plain words when unknown or merged into another record
    (`instead` says what to do with the surviving record)."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("This patient is not registered.", fields={"patient_id": "Unknown patient"})
    if patient.merged_into_id is not None:
        survivor = session.get(Patient, patient.merged_into_id)
        mrn = survivor.mrn if survivor else "another record"
        raise InvalidData(
            f"This record was merged into MRN {mrn}. {instead}",
            fields={"patient_id": "Merged record"},
            detail={"merged_into": str(patient.merged_into_id)},
        )
    return patient


def get_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """Open a patient's record (audited)."""
    actor.require(Perm.PATIENT_READ)
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("No patient with this identifier.")
    record_audit(session, actor, "patient.read", patient_id=patient.id)
    return patient


def search_patients(
    session: Session, actor: Actor, query: str, limit: int = 25
) -> list[PatientSummary]:
    """Find patients by MRN, by phone digits, or by name fragments in any order (audited)."""
    actor.require(Perm.PATIENT_READ)
    limit = max(1, min(limit, MAX_SEARCH_RESULTS))
    found = _search(session, query.strip(), limit)
    record_audit(
        session,
        actor,
        "patient.search",
        detail={"query": query[:100], "results": len(found)},
    )
    return [PatientSummary.model_validate(p) for p in found]


def _search(session: Session, query: str, limit: int) -> list[Patient]:
    compact = "".join(c for c in query if c not in " +-()./")
    if compact.isdigit():
        return _search_digits(session, compact, limit)
    tokens = query_tokens(query)[:6]
    if not tokens:
        return []
    return _search_names(session, tokens, limit)


def _search_names(session: Session, tokens: list[str], limit: int) -> list[Patient]:
    """Patients with a name word starting with each token, first page picked inside the index.

    The most selective (longest) token drives the scan of the token index, which also holds
    each patient's sort key, so the first `limit` patients in name order come from it alone.
    """
    lead = max(tokens, key=len)
    others = list(tokens)
    others.remove(lead)
    token = aliased(PatientNameToken)
    other = aliased(PatientNameToken)
    first_page = (
        select(token.patient_id)
        .where(
            *_starts_with(token.token, lead),
            *[
                exists().where(other.patient_id == token.patient_id, *_starts_with(other.token, o))
                for o in others
            ],
        )
        .group_by(token.patient_id, token.sort_name, token.birth_date)
        .order_by(token.sort_name, token.birth_date, token.patient_id)
        .limit(limit)
    )
    return _live(session, Patient.id.in_(first_page), order_by_name=True)


def _search_digits(session: Session, digits: str, limit: int) -> list[Patient]:
    """All-digit queries: an exact MRN first, then phone numbers starting with those digits."""
    results: list[Patient] = []
    if is_valid_mrn(digits):
        results = _live(session, Patient.mrn == digits)
    if len(digits) >= 4 and not results:
        phones = _live(
            session,
            *_starts_with(Patient.phone_digits, digits),
            order_by_name=True,
            limit=limit,
        )
        results += [p for p in phones if p not in results]
    return results[:limit]


def _starts_with(column: Any, prefix: str) -> list[Any]:
    """`column` starts with `prefix`, as a range an ordinary index answers."""
    upper = prefix_upper_bound(prefix)
    return [column >= prefix] if upper is None else [column >= prefix, column < upper]


def _live(
    session: Session, *conditions: Any, order_by_name: bool = False, limit: int | None = None
) -> list[Patient]:
    stmt = select(Patient).where(
        Patient.deleted_at.is_(None), Patient.merged_into_id.is_(None), *conditions
    )
    if order_by_name:
        stmt = stmt.order_by(Patient.sort_name, Patient.birth_date, Patient.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())


def _add_reason(found: dict[uuid.UUID, DuplicateCandidate], patient: Patient, reason: str) -> None:
    if patient.id in found:
        found[patient.id].reasons.append(reason)
    else:
        summary = PatientSummary.model_validate(patient)
        found[patient.id] = DuplicateCandidate(patient=summary, reasons=[reason])


def _checked_mrn(session: Session, mrn: str) -> str:
    if not is_valid_mrn(mrn):
        raise InvalidData("This MRN's check digit is wrong.", fields={"mrn": "Invalid MRN"})
    if session.execute(select(Patient.id).where(Patient.mrn == mrn)).first():
        raise Conflict("This MRN already belongs to another patient.", fields={"mrn": "In use"})
    return mrn


def _get_for_update(session: Session, patient_id: uuid.UUID) -> Patient:
    patient = session.execute(
        select(Patient).where(Patient.id == patient_id).with_for_update()
    ).scalar_one_or_none()
    if patient is None or patient.deleted_at is not None:
        raise NotFound("No patient with this identifier.")
    return patient


def _apply(patient: Patient, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key not in _DERIVED:
            setattr(patient, key, value)
    patient.phone_digits = phone_digits(patient.phone) if patient.phone else None
    patient.sort_name = sort_name(patient.given_name, patient.family_name)


def _same_allergy(recorded: PatientAllergy, item: AllergyIn) -> bool:
    return (recorded.substance, recorded.reaction, recorded.severity) == (
        item.substance,
        item.reaction,
        item.severity,
    )


def _replace_allergies(session: Session, patient: Patient, wanted: list[AllergyIn]) -> bool:
    """Make the patient's live allergies equal `wanted`; removed ones are voided, not deleted.

    Listing a voided allergy's id restores it.
    """
    every = {a.id: a for a in patient.allergies}
    live = {i: a for i, a in every.items() if a.deleted_at is None}
    changed = False
    kept: set[uuid.UUID] = set()
    for item in wanted:
        current = every.get(item.id) if item.id else None
        values = item.model_dump(exclude={"id"})
        if current is None:
            patient.allergies.append(PatientAllergy(id=item.id or new_id(), **values))
            changed = True
            continue
        kept.add(current.id)
        if current.deleted_at is not None:
            current.deleted_at = None
            current.bump_version()
            changed = True
        if any(getattr(current, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(current, key, value)
            current.bump_version()
            changed = True
    for allergy_id, allergy in live.items():
        if allergy_id not in kept:
            allergy.deleted_at = utcnow()
            allergy.bump_version()
            changed = True
    session.flush()
    return changed


def _index_names(session: Session, patient: Patient, new: bool = False) -> None:
    if not new:
        session.execute(delete(PatientNameToken).where(PatientNameToken.patient_id == patient.id))
    session.add_all(
        PatientNameToken(
            patient_id=patient.id,
            token=token[:100],
            sort_name=patient.sort_name,
            birth_date=patient.birth_date,
        )
        for token in name_tokens(patient.given_name, patient.family_name)
    )
    session.flush()


def confirm_same_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """Reception decided the person at the desk is this registered patient (audited)."""
    actor.require(Perm.PATIENT_REGISTER)
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("No patient with this identifier.")
    record_audit(
        session,
        actor,
        "patient.duplicate_review",
        patient_id=patient.id,
        detail={"decision": "same_patient"},
    )
    return patient


def patient_out(patient: Patient) -> PatientOut:
    """The API view of a patient: voided allergies left out."""
    out = PatientOut.model_validate(patient)
    out.allergies = [
        AllergyOut.model_validate(a) for a in patient.allergies if a.deleted_at is None
    ]
    return out
