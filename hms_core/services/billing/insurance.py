"""Insurance: patients' policies with payers, and claims of the payer's share of final
invoices through draft, submitted, approved (in full or part) or rejected, and paid.

What a payer refuses of a claim falls to the patient (see balances.claim_shortfall); what it
pays is recorded as an insurance payment on the invoice, tied to the claim.
"""

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hms_core.db.billing import (
    APPROVED,
    CLAIM_DRAFT,
    CREDIT_NOTE,
    FINAL,
    INSURANCE,
    INVOICE,
    PAID,
    PARTIAL,
    PAYMENT,
    REJECTED,
    SUBMITTED,
    Claim,
    Invoice,
    Payer,
    Payment,
    Policy,
)
from hms_core.rbac import Perm
from hms_core.schemas.billing import AddPolicy, CreateClaim, EndPolicy, UpdateClaim
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.common import get_row, receipt_number, touch
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.patients import active_patient

CLAIM_PAYMENTS = uuid.UUID("5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716")
NEXT = {
    CLAIM_DRAFT: {SUBMITTED},
    SUBMITTED: {APPROVED, PARTIAL, REJECTED},
    APPROVED: {PAID},
    PARTIAL: {PAID},
}
WORDS = {
    CLAIM_DRAFT: "a draft",
    SUBMITTED: "submitted",
    APPROVED: "approved",
    PARTIAL: "partially approved",
    REJECTED: "rejected",
    PAID: "paid",
}


def add_policy(session: Session, actor: Actor, args: AddPolicy) -> Policy:
    """Record a patient's cover with a payer."""
    actor.require(Perm.CLAIM_MANAGE)
    existing = session.get(Policy, args.id)
    if existing is not None:
        return existing
    patient = active_patient(session, args.patient_id)
    payer = get_row(session, Payer, args.payer_id, "This insurer does not exist.", "payer_id")
    if not payer.active:
        raise InvalidData(f"{payer.name} is no longer accepted.", fields={"payer_id": "Inactive"})
    if args.valid_to is not None and args.valid_to < args.valid_from:
        raise InvalidData("The policy ends before it starts.", fields={"valid_to": "Before start"})
    policy = Policy(
        id=args.id,
        patient_id=patient.id,
        payer_id=payer.id,
        policy_number=args.policy_number,
        holder_name=args.holder_name,
        valid_from=args.valid_from,
        valid_to=args.valid_to,
        covered_categories=",".join(sorted(set(args.covered_categories))),
        copay_percent=args.copay_percent,
        annual_limit=args.annual_limit,
        created_by=actor.username,
    )
    session.add(policy)
    session.flush()
    record_audit(
        session,
        actor,
        "policy.add",
        patient_id=patient.id,
        detail={"policy_id": str(policy.id), "payer": payer.code, "number": args.policy_number},
    )
    return policy


def end_policy(session: Session, actor: Actor, args: EndPolicy) -> Policy:
    """End a policy on a day (it covers nothing after it)."""
    actor.require(Perm.CLAIM_MANAGE)
    policy = get_row(session, Policy, args.policy_id, "This policy does not exist.", "policy_id")
    if args.valid_to < policy.valid_from:
        raise InvalidData(
            "The policy would end before it starts.", fields={"valid_to": "Before start"}
        )
    policy.valid_to = args.valid_to
    touch(policy)
    session.flush()
    record_audit(
        session,
        actor,
        "policy.end",
        patient_id=policy.patient_id,
        detail={"policy_id": str(policy.id), "valid_to": args.valid_to.isoformat()},
    )
    return policy


def create_claim(session: Session, actor: Actor, args: CreateClaim) -> Claim:
    """A draft claim of the payer's share of a final invoice (refused when there is none)."""
    actor.require(Perm.CLAIM_MANAGE)
    existing = session.get(Claim, args.id)
    if existing is not None:
        return existing
    invoice = get_row(
        session, Invoice, args.invoice_id, "This invoice does not exist.", "invoice_id"
    )
    if invoice.kind != INVOICE or invoice.status != FINAL:
        raise Conflict("Only a final invoice can be claimed: finalise it first.")
    if invoice.policy_id is None or invoice.payer_share <= 0:
        raise InvalidData(
            "This invoice has no insurer's share: the patient had no policy covering it, "
            "so there is nothing to claim.",
            fields={"invoice_id": "Not insured"},
        )
    taken = session.execute(select(Claim).where(Claim.invoice_id == invoice.id)).scalars().first()
    if taken is not None:
        raise Conflict(
            f"This invoice has already been claimed (the claim is {WORDS[taken.status]})."
        )
    policy = session.get(Policy, invoice.policy_id)
    claimed = invoice.payer_share - _credited_payer(session, invoice.id)
    if claimed <= 0:
        raise InvalidData("The insurer's share of this invoice has been credited in full.")
    claim = Claim(
        id=args.id,
        invoice_id=invoice.id,
        policy_id=policy.id,
        payer_id=policy.payer_id,
        patient_id=invoice.patient_id,
        claimed=claimed,
        created_by=actor.username,
    )
    session.add(claim)
    session.flush()
    _audit(session, actor, claim, "claim.create")
    return claim


def update_claim(session: Session, actor: Actor, args: UpdateClaim) -> Claim:
    """Move a claim to its next status, with the amounts the payer gave."""
    actor.require(Perm.CLAIM_MANAGE)
    claim = get_row(session, Claim, args.claim_id, "This claim does not exist.", "claim_id")
    if claim.status == args.status:
        return claim  # a replay
    if args.status not in NEXT.get(claim.status, set()):
        raise Conflict(f"A claim that is {WORDS[claim.status]} cannot become {WORDS[args.status]}.")
    if args.status == SUBMITTED:
        claim.submitted_at = args.at
    elif args.status in (APPROVED, PARTIAL, REJECTED):
        _decide(claim, args)
    else:
        _pay(session, actor, claim, args)
    claim.status = args.status
    claim.payer_reference = args.payer_reference or claim.payer_reference
    touch(claim)
    session.flush()
    _audit(session, actor, claim, f"claim.{args.status}")
    return claim


def _decide(claim: Claim, args: UpdateClaim) -> None:
    if args.status == APPROVED:
        approved = claim.claimed if args.approved is None else args.approved
        if approved != claim.claimed:
            raise InvalidData(
                "An approval in full approves the whole claim; use partially approved.",
                fields={"approved": "Not the claimed amount"},
            )
    elif args.status == PARTIAL:
        approved = args.approved
        if approved is None or not 0 < approved < claim.claimed:
            raise InvalidData(
                "A partial approval is more than zero and less than the amount claimed.",
                fields={"approved": "Out of range"},
            )
    else:
        approved = 0
        if len(args.reason) < 3:
            raise InvalidData(
                "Say why the insurer rejected the claim.", fields={"reason": "Required"}
            )
    claim.approved, claim.decided_at = approved, args.at
    claim.reason = args.reason or claim.reason


def _pay(session: Session, actor: Actor, claim: Claim, args: UpdateClaim) -> None:
    """The payer paid: an insurance payment on the invoice, tied to the claim."""
    paid = claim.approved if args.paid is None else args.paid
    if paid is None or not 0 < paid <= (claim.approved or 0):
        raise InvalidData(
            "The amount paid is more than zero and at most the approved amount.",
            fields={"paid": "Out of range"},
        )
    payment_id = args.payment_id or uuid.uuid5(CLAIM_PAYMENTS, str(claim.id))
    session.add(
        Payment(
            id=payment_id,
            patient_id=claim.patient_id,
            invoice_id=claim.invoice_id,
            claim_id=claim.id,
            kind=PAYMENT,
            method=INSURANCE,
            amount=paid,
            reference=args.payer_reference,
            received_at=args.at,
            received_by=actor.username,
            receipt_number=receipt_number(payment_id, args.at),
        )
    )
    claim.paid = paid


def valid_policy(session: Session, patient_id: uuid.UUID, day: date) -> Policy | None:
    """The patient's active policy valid on `day` (the latest started, if several)."""
    return (
        session.execute(
            select(Policy)
            .where(
                Policy.patient_id == patient_id,
                Policy.active.is_(True),
                Policy.deleted_at.is_(None),
                Policy.valid_from <= day,
                (Policy.valid_to.is_(None)) | (Policy.valid_to >= day),
            )
            .order_by(Policy.valid_from.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def limit_left(session: Session, policy: Policy, year: int) -> int | None:
    """What the policy's yearly limit still allows: the limit less the payer's share of this
    year's final invoices under it (credit notes give it back)."""
    if policy.annual_limit is None:
        return None
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    used = 0
    for kind, sign in ((INVOICE, 1), (CREDIT_NOTE, -1)):
        total = session.execute(
            select(func.sum(Invoice.payer_share)).where(
                Invoice.policy_id == policy.id,
                Invoice.kind == kind,
                Invoice.status == FINAL,
                Invoice.created_at >= start,
                Invoice.created_at < end,
            )
        ).scalar_one()
        used += sign * int(total or 0)
    return max(policy.annual_limit - used, 0)


def _credited_payer(session: Session, invoice_id: uuid.UUID) -> int:
    total = session.execute(
        select(func.sum(Invoice.payer_share)).where(
            Invoice.credits_invoice_id == invoice_id, Invoice.kind == CREDIT_NOTE
        )
    ).scalar_one()
    return int(total or 0)


def _audit(session: Session, actor: Actor, claim: Claim, action: str) -> None:
    record_audit(
        session,
        actor,
        action,
        patient_id=claim.patient_id,
        detail={
            "claim_id": str(claim.id),
            "invoice_id": str(claim.invoice_id),
            "claimed": claim.claimed,
            "approved": claim.approved,
            "paid": claim.paid,
        },
    )
