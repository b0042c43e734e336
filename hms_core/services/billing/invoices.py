"""Invoices: a draft gathers a patient's unbilled charges, split for insurance; finalising
fixes it for good and (on the server) gives it the next number of the year's gap-free
sequence; a credit note is the only correction of a final invoice.

Gap-free: the number is taken from a counter row updated in the finalising transaction, so a
transaction that rolls back gives its number back, and two finalisations queue on the row.
A desk that finalises offline sees the invoice final with its number pending until it syncs.
"""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.billing import (
    CREDIT_NOTE,
    DISCARDED,
    DRAFT,
    FINAL,
    INVOICE,
    Charge,
    Invoice,
    InvoiceLine,
    Policy,
)
from hms_core.rbac import Perm
from hms_core.rules.coverage import Cover, CoveredLine, categories_of, split_lines
from hms_core.rules.money import line_amounts
from hms_core.schemas.billing import CreateDraftInvoice, InvoiceRef, IssueCreditNote
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.common import get_row, touch
from hms_core.services.billing.insurance import limit_left, valid_policy
from hms_core.services.counters import take_numbers
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit, is_provisional

LINES = uuid.UUID("7c0e5d1a-3b2f-4e6d-8a9c-1f2e3d4c5b6a")  # namespace of line ids
PREFIX = {INVOICE: "INV", CREDIT_NOTE: "CN"}
NO_CHANGE = "A final invoice is never changed: correct it with a credit note."


def create_draft(session: Session, actor: Actor, args: CreateDraftInvoice) -> Invoice:
    """A draft of the named unbilled charges, with the insurance split of its day."""
    actor.require(Perm.INVOICE_MANAGE)
    existing = session.get(Invoice, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    charges = _unbilled(session, patient.id, args.charge_ids)
    if args.line_ids and len(args.line_ids) != len(charges):
        raise InvalidData("Give one line id per charge.", fields={"line_ids": "Wrong count"})
    policy = _policy(session, patient.id, args.policy_id, args.at.date())
    invoice = Invoice(
        id=args.id,
        patient_id=patient.id,
        visit_kind=args.visit_kind,
        visit_id=args.visit_id,
        currency=args.currency,
        exponent=args.exponent,
        policy_id=policy.id if policy else None,
        created_by=actor.username,
    )
    session.add(invoice)
    session.flush()
    line_ids = args.line_ids or [uuid.uuid5(LINES, f"{args.id}:{c.id}") for c in charges]
    _add_lines(session, invoice, charges, line_ids, _cover(session, policy, args.at.date()))
    record_audit(
        session,
        actor,
        "invoice.draft",
        patient_id=patient.id,
        detail={"invoice_id": str(invoice.id), "lines": len(charges), "gross": invoice.gross},
    )
    return invoice


def discard_draft(session: Session, actor: Actor, args: InvoiceRef) -> Invoice:
    """Give up a draft: its charges are unbilled again."""
    actor.require(Perm.INVOICE_MANAGE)
    invoice = _invoice(session, args.invoice_id)
    if invoice.status == DISCARDED:
        return invoice
    if invoice.status != DRAFT:
        raise Conflict(NO_CHANGE, detail={"number": invoice.number})
    invoice.status = DISCARDED
    touch(invoice)
    for charge in _charges_of(session, invoice.id):
        charge.invoice_id = None
        touch(charge)
    session.flush()
    record_audit(
        session,
        actor,
        "invoice.discard",
        patient_id=invoice.patient_id,
        detail={"invoice_id": str(invoice.id)},
    )
    return invoice


def finalise(session: Session, actor: Actor, args: InvoiceRef) -> Invoice:
    """Make a draft final: never changed again; numbered on the server."""
    actor.require(Perm.INVOICE_MANAGE)
    invoice = _invoice(session, args.invoice_id)
    if invoice.status == FINAL:
        _number(session, invoice)  # a desk's offline finalisation reaching the server
        return invoice
    if invoice.status != DRAFT:
        raise Conflict("This draft was discarded; make a new one from the charges.")
    invoice.status, invoice.finalised_by = FINAL, actor.username
    invoice.finalised_at = args.at.astimezone(UTC)
    _number(session, invoice)
    touch(invoice)
    session.flush()
    record_audit(
        session,
        actor,
        "invoice.finalise",
        patient_id=invoice.patient_id,
        detail={"invoice_id": str(invoice.id), "number": invoice.number, "gross": invoice.gross},
    )
    emit(session, "invoice.finalised", invoice_id=str(invoice.id))
    return invoice


def issue_credit_note(session: Session, actor: Actor, args: IssueCreditNote) -> Invoice:
    """Credit some (or all) lines of a final invoice; their charges are void from then on."""
    actor.require(Perm.INVOICE_MANAGE)
    existing = session.get(Invoice, args.id)
    if existing is not None:
        return existing
    original = _invoice(session, args.invoice_id)
    if original.kind != INVOICE or original.status != FINAL:
        raise Conflict("Only a final invoice can be credited; a draft can simply be discarded.")
    lines = _creditable(session, original, args.line_ids)
    if args.new_line_ids and len(args.new_line_ids) != len(lines):
        raise InvalidData("Give one line id per credited line.")
    note = Invoice(
        id=args.id,
        patient_id=original.patient_id,
        kind=CREDIT_NOTE,
        status=FINAL,
        credits_invoice_id=original.id,
        currency=original.currency,
        exponent=original.exponent,
        policy_id=original.policy_id,
        reason=args.reason,
        created_by=actor.username,
        finalised_at=args.at.astimezone(UTC),
        finalised_by=actor.username,
    )
    session.add(note)
    session.flush()
    ids = args.new_line_ids or [uuid.uuid5(LINES, f"{args.id}:{line.id}") for line in lines]
    for position, (line, line_id) in enumerate(zip(lines, ids, strict=True), start=1):
        _copy_line(session, note, line, line_id, position)
        _void_credited_charge(session, line, args, actor)
    _number(session, note)
    session.flush()
    record_audit(
        session,
        actor,
        "invoice.credit_note",
        patient_id=original.patient_id,
        detail={
            "credit_note_id": str(note.id),
            "invoice_id": str(original.id),
            "lines": len(lines),
            "reason": args.reason,
        },
    )
    return note


# --- building ---------------------------------------------------------------------------------


def _add_lines(
    session: Session,
    invoice: Invoice,
    charges: list[Charge],
    line_ids: list[uuid.UUID],
    cover: Cover | None,
) -> None:
    """Lines from charges in service-date order, their split, and the invoice's totals."""
    amounts = [line_amounts(c.quantity, c.unit_price, c.tax_rate) for c in charges]
    splits = split_lines(
        [CoveredLine(c.category, a.gross) for c, a in zip(charges, amounts, strict=True)], cover
    )
    for position, (charge, amount, split, line_id) in enumerate(
        zip(charges, amounts, splits, line_ids, strict=True), start=1
    ):
        session.add(
            InvoiceLine(
                id=line_id,
                invoice_id=invoice.id,
                position=position,
                charge_id=charge.id,
                code=charge.code,
                description=charge.description,
                category=charge.category,
                department_id=charge.department_id,
                service_date=charge.service_date,
                quantity=charge.quantity,
                unit_price=charge.unit_price,
                tax_rate=charge.tax_rate,
                net=amount.net,
                tax=amount.tax,
                covered=split.payer > 0,
                patient_share=split.patient,
                payer_share=split.payer,
            )
        )
        charge.invoice_id = invoice.id
        touch(charge)
    invoice.net = sum(a.net for a in amounts)
    invoice.tax = sum(a.tax for a in amounts)
    invoice.gross = invoice.net + invoice.tax
    invoice.patient_share = sum(s.patient for s in splits)
    invoice.payer_share = sum(s.payer for s in splits)
    session.flush()


def _copy_line(
    session: Session, note: Invoice, line: InvoiceLine, line_id: uuid.UUID, position: int
) -> None:
    """A credit-note line mirroring an invoice line; the note's totals grow by it."""
    copy = InvoiceLine(id=line_id, invoice_id=note.id, position=position)
    for key in (
        "charge_id", "code", "description", "category", "department_id", "service_date",
        "quantity", "unit_price", "tax_rate", "net", "tax", "covered", "patient_share",
        "payer_share",
    ):  # fmt: skip
        setattr(copy, key, getattr(line, key))
    session.add(copy)
    note.net += line.net
    note.tax += line.tax
    note.gross += line.net + line.tax
    note.patient_share += line.patient_share
    note.payer_share += line.payer_share


def _void_credited_charge(
    session: Session, line: InvoiceLine, args: IssueCreditNote, actor: Actor
) -> None:
    charge = session.get(Charge, line.charge_id) if line.charge_id else None
    if charge is not None and charge.voided_at is None:
        charge.voided_at, charge.voided_by = args.at, actor.username
        charge.void_reason = f"Credited: {args.reason}"
        touch(charge)


def _number(session: Session, invoice: Invoice) -> None:
    """On the server, the next number of the year's sequence for this kind of document."""
    if invoice.number is not None or is_provisional(session):
        return
    year = (invoice.finalised_at or datetime.now()).year
    prefix = PREFIX[invoice.kind]
    serial = take_numbers(session, f"{prefix.lower()}-{year}", 1, start=1)[0]
    invoice.number = f"{prefix}-{year}-{serial:06d}"


# --- checks -----------------------------------------------------------------------------------


def _invoice(session: Session, invoice_id: uuid.UUID) -> Invoice:
    return get_row(session, Invoice, invoice_id, "This invoice does not exist.", "invoice_id")


def _charges_of(session: Session, invoice_id: uuid.UUID) -> list[Charge]:
    return list(session.execute(select(Charge).where(Charge.invoice_id == invoice_id)).scalars())


def _unbilled(session: Session, patient_id: uuid.UUID, ids: list[uuid.UUID]) -> list[Charge]:
    """The charges, each the patient's, not void and on no live invoice; by service date."""
    if len(set(ids)) != len(ids):
        raise InvalidData("A charge is listed twice.", fields={"charge_ids": "Repeated"})
    charges = []
    for charge_id in ids:
        charge = get_row(session, Charge, charge_id, "A charge does not exist.", "charge_ids")
        if charge.patient_id != patient_id:
            raise InvalidData(
                "A charge belongs to another patient.", fields={"charge_ids": "Other patient"}
            )
        if charge.voided_at is not None:
            raise Conflict(f"“{charge.description}” was voided and cannot be billed.")
        if charge.invoice_id is not None:
            raise Conflict(_already_billed(session, charge))
        charges.append(charge)
    return sorted(charges, key=lambda c: (c.service_date, c.code, str(c.id)))


def _already_billed(session: Session, charge: Charge) -> str:
    invoice = session.get(Invoice, charge.invoice_id)
    where = (
        "a draft invoice"
        if invoice is None or invoice.status == DRAFT
        else (invoice.number or "a final invoice")
    )
    return f"“{charge.description}” is already on {where}."


def _creditable(session: Session, invoice: Invoice, line_ids: list[uuid.UUID]) -> list[InvoiceLine]:
    """The lines to credit (all when none named), refusing lines already credited."""
    lines = list(
        session.execute(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        ).scalars()
    )
    if line_ids:
        wanted = set(line_ids)
        unknown = wanted - {line.id for line in lines}
        if unknown:
            raise InvalidData(
                "A line to credit is not on this invoice.", fields={"line_ids": "Unknown"}
            )
        lines = [line for line in lines if line.id in wanted]
    done = _credited_charges(session, invoice.id)
    again = [line for line in lines if line.charge_id in done]
    if again:
        raise Conflict(f"“{again[0].description}” has already been credited.")
    if not lines:
        raise InvalidData("Choose at least one line to credit.")
    return lines


def _credited_charges(session: Session, invoice_id: uuid.UUID) -> set[uuid.UUID | None]:
    notes = select(Invoice.id).where(
        Invoice.credits_invoice_id == invoice_id, Invoice.kind == CREDIT_NOTE
    )
    query = select(InvoiceLine.charge_id).where(InvoiceLine.invoice_id.in_(notes))
    return set(session.execute(query).scalars())


def _policy(
    session: Session, patient_id: uuid.UUID, policy_id: uuid.UUID | None, day: date
) -> Policy | None:
    """The named policy (checked), or the patient's policy valid on `day` if there is one."""
    if policy_id is None:
        return valid_policy(session, patient_id, day)
    policy = get_row(
        session, Policy, policy_id, "This insurance policy does not exist.", "policy_id"
    )
    if policy.patient_id != patient_id:
        raise InvalidData(
            "This policy belongs to another patient.", fields={"policy_id": "Other patient"}
        )
    if not policy.active or policy.valid_from > day or (policy.valid_to and policy.valid_to < day):
        raise InvalidData(
            f"Policy {policy.policy_number} is not valid on {day:%d %b %Y}.",
            fields={"policy_id": "Not valid then"},
        )
    return policy


def _cover(session: Session, policy: Policy | None, day: date) -> Cover | None:
    if policy is None:
        return None
    return Cover(
        categories=categories_of(policy.covered_categories),
        copay_percent=policy.copay_percent,
        limit_left=limit_left(session, policy, day.year),
    )
