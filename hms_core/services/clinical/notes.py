"""Structured notes: a draft its author writes and changes, then signs. A signed note never
changes again; a correction is an amendment, a new signed note naming the one it amends and
why, so the original stays readable as it was signed."""

import uuid

from sqlalchemy.orm import Session

from hms_core.db import ClinicalNote
from hms_core.db.clinical import NOTE_DRAFT, NOTE_SIGNED
from hms_core.rbac import Perm
from hms_core.schemas.clinical import AmendNote, NoteFields, SaveNote, SignNote
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import check_not_ahead, get_row, touch
from hms_core.services.clinical.encounters import get_encounter
from hms_core.services.errors import Conflict, InvalidData, PermissionDenied
from hms_core.services.patients import active_patient

FIELDS = tuple(NoteFields.model_fields)  # complaint, history, examination, assessment, plan
SIGNED_NEVER_CHANGES = "A signed note is never changed: amend it with a reason."


def save_note(session: Session, actor: Actor, args: SaveNote) -> ClinicalNote:
    """Create a draft note, or change the author's own draft."""
    actor.require(Perm.NOTE_WRITE)
    note = session.get(ClinicalNote, args.id)
    if note is None:
        return _new_draft(session, actor, args)
    if note.encounter_id != args.encounter_id:
        raise InvalidData(
            "This note belongs to another encounter.", fields={"encounter_id": "Another encounter"}
        )
    if _same_text(note, args):
        return note  # a replay, or nothing changed
    _check_author(note, actor, "change")
    if note.status == NOTE_SIGNED:
        raise Conflict(SIGNED_NEVER_CHANGES)
    for name in FIELDS:
        setattr(note, name, getattr(args, name))
    touch(note)
    session.flush()
    record_audit(
        session, actor, "note.save", patient_id=note.patient_id, detail={"note_id": str(note.id)}
    )
    return note


def sign_note(session: Session, actor: Actor, args: SignNote) -> ClinicalNote:
    """Sign the author's own draft: from now on it never changes (audited)."""
    actor.require(Perm.NOTE_WRITE)
    note = _note(session, args.note_id)
    if note.status == NOTE_SIGNED:
        return note  # a replay
    _check_author(note, actor, "sign")
    check_not_ahead(args.at, "at", "The signing time")
    _check_written(note)
    note.status, note.signed_at = NOTE_SIGNED, args.at
    touch(note)
    session.flush()
    record_audit(
        session, actor, "note.sign", patient_id=note.patient_id, detail={"note_id": str(note.id)}
    )
    return note


def amend_note(session: Session, actor: Actor, args: AmendNote) -> ClinicalNote:
    """Correct a signed note by a new signed note with a reason; the original stays as it was."""
    actor.require(Perm.NOTE_WRITE)
    existing = session.get(ClinicalNote, args.id)
    if existing is not None:
        return existing  # a replay
    original = _note(session, args.note_id)
    if original.status != NOTE_SIGNED:
        raise Conflict("This note is still a draft: change it, then sign it.")
    _check_author(original, actor, "amend")
    check_not_ahead(args.at, "at", "The amendment time")
    amendment = ClinicalNote(
        id=args.id,
        patient_id=original.patient_id,
        encounter_id=original.encounter_id,
        author=actor.username,
        **{name: getattr(args, name) for name in FIELDS},
        status=NOTE_SIGNED,
        signed_at=args.at,
        amends_id=original.id,
        amend_reason=args.reason,
    )
    _check_written(amendment)
    session.add(amendment)
    session.flush()
    record_audit(
        session,
        actor,
        "note.amend",
        patient_id=original.patient_id,
        detail={"note_id": str(amendment.id), "amends": str(original.id), "reason": args.reason},
    )
    return amendment


def _new_draft(session: Session, actor: Actor, args: SaveNote) -> ClinicalNote:
    encounter = get_encounter(session, args.encounter_id)
    patient = active_patient(session, encounter.patient_id)
    note = ClinicalNote(
        id=args.id,
        patient_id=patient.id,
        encounter_id=encounter.id,
        author=actor.username,
        status=NOTE_DRAFT,
        **{name: getattr(args, name) for name in FIELDS},
    )
    session.add(note)
    session.flush()
    record_audit(
        session, actor, "note.save", patient_id=patient.id, detail={"note_id": str(note.id)}
    )
    return note


def _note(session: Session, note_id: uuid.UUID) -> ClinicalNote:
    return get_row(session, ClinicalNote, note_id, "This note does not exist.", "note_id")


def _same_text(note: ClinicalNote, fields: NoteFields) -> bool:
    return all((getattr(note, name) or "") == getattr(fields, name) for name in FIELDS)


def _check_author(note: ClinicalNote, actor: Actor, verb: str) -> None:
    if note.author != actor.username:
        raise PermissionDenied(
            f"Only the note's author ({note.author}) may {verb} it. Write your own note instead."
        )


def _check_written(note: ClinicalNote) -> None:
    if not any((getattr(note, name) or "").strip() for name in FIELDS):
        raise InvalidData(
            "This note is empty: write at least one part before signing it.",
            fields={"complaint": "Empty note"},
        )
