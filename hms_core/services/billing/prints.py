"""Every print (or saved PDF) of an invoice or receipt is recorded and audited; any print of
a document after the first is a copy, and says so on the paper."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.billing import DocumentPrint, Invoice, Payment
from hms_core.rbac import Perm
from hms_core.schemas.billing import RecordPrint
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.common import get_row


def was_printed(session: Session, doc_kind: str, doc_id: uuid.UUID) -> bool:
    """Whether the document has been printed or saved before (the next one is a copy)."""
    query = select(DocumentPrint.id).where(
        DocumentPrint.doc_kind == doc_kind, DocumentPrint.doc_id == doc_id
    )
    return session.execute(query.limit(1)).first() is not None


def record_print(session: Session, actor: Actor, args: RecordPrint) -> DocumentPrint:
    """Log a print of an invoice or receipt (audited against the patient)."""
    actor.require(Perm.BILLING_READ)
    existing = session.get(DocumentPrint, args.id)
    if existing is not None:
        return existing
    model = Invoice if args.doc_kind == "invoice" else Payment
    doc = get_row(session, model, args.doc_id, f"This {args.doc_kind} does not exist.", "doc_id")
    entry = DocumentPrint(
        id=args.id,
        doc_kind=args.doc_kind,
        doc_id=args.doc_id,
        patient_id=doc.patient_id,
        action=args.action,
        is_copy=was_printed(session, args.doc_kind, args.doc_id),
        printed_at=args.at,
        printed_by=actor.username,
    )
    session.add(entry)
    session.flush()
    number = getattr(doc, "number", None) or getattr(doc, "receipt_number", None)
    record_audit(
        session,
        actor,
        f"{args.doc_kind}.{args.action}",
        patient_id=doc.patient_id,
        detail={"doc_id": str(args.doc_id), "number": number, "copy": entry.is_copy},
    )
    return entry
