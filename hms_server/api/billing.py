"""Billing over HTTP for what only the server can do: a claim exported as FHIR R4 JSON, and
online payments (a checkout at the acquirer, and its signed webhook that records the payment).

Everything else in billing travels as named mutations through /sync/push.
"""

import uuid
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hms_core.db.billing import DEPOSIT, FINAL, INVOICE, PAYMENT, Claim, Invoice, Payment
from hms_core.rbac import Perm
from hms_core.rules.money import format_amount
from hms_core.schemas.billing import Amount, TakePayment
from hms_core.schemas.errors import ErrorResponse
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.balances import invoice_balance, patient_balance
from hms_core.services.billing.common import get_row
from hms_core.services.billing.payments import take_payment
from hms_core.services.errors import Conflict, DomainError, InvalidData
from hms_core.services.patients import active_patient
from hms_server.api.deps import Caller, UnitOfWork, get_db, require
from hms_server.billing.fhir_claim import FHIR_JSON, claim_resource, fhir_json
from hms_server.billing.online import (
    SIGNATURE_HEADER,
    HttpPaymentProvider,
    OnlinePaymentProvider,
)
from hms_server.db import Database
from hms_server.settings import Settings

router = APIRouter(prefix="/api/billing", tags=["billing"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
# Payment ids of webhooks are uuid5(this, provider_ref): a repeated webhook names the same row.
ONLINE_PAYMENTS = uuid.UUID("0b3c6a52-8f41-4d2e-9a7b-5c1e2f3d4a60")
WEBHOOK_ACTOR = replace(SYSTEM, username="online-payments", client_id="payments-webhook")

Claims = Annotated[Caller, Depends(require(Perm.CLAIM_MANAGE))]
Cashier = Annotated[Caller, Depends(require(Perm.PAYMENT_TAKE))]


class BadSignature(DomainError):
    code = "bad_signature"
    http_status = 401


class FhirClaimDocument(BaseModel):
    """A FHIR R4 Claim resource (served as application/fhir+json); see hl7.org/fhir/R4/claim."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Claim"]
    id: str


class CheckoutRequest(BaseModel):
    """Start an online payment: for an invoice, or on the patient's account when none."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    invoice_id: uuid.UUID | None = None
    amount: Amount = Field(description="Minor units of the hospital currency")


class CheckoutOut(BaseModel):
    provider_ref: str
    pay_url: str


class OnlinePaymentNotice(BaseModel):
    """The acquirer's webhook body: the outcome of a checkout, with the ids we sent it."""

    model_config = ConfigDict(extra="ignore")

    provider_ref: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    status: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    amount: Amount
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    patient_id: uuid.UUID
    invoice_id: uuid.UUID | None = None
    paid_at: AwareDatetime


class NoticeOut(BaseModel):
    recorded: bool = Field(description="True when this notice recorded a new payment")
    payment_id: uuid.UUID | None = None
    receipt_number: str | None = None


def payment_provider(request: Request) -> OnlinePaymentProvider:
    """The acquirer: one set on app.state (another adapter), else the settings' HTTP one."""
    provider = getattr(request.app.state, "payment_provider", None)
    return provider or HttpPaymentProvider.from_settings(request.app.state.settings)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


# --- FHIR claim export -----------------------------------------------------------------------


@router.get(
    "/claims/{claim_id}/fhir",
    response_model=None,
    responses={
        200: {
            "model": FhirClaimDocument,
            "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirClaimDocument"}}},
        },
        404: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
)
def claim_fhir(
    claim_id: uuid.UUID,
    caller: Claims,
    session: UnitOfWork,
    settings: Annotated[Settings, Depends(settings_of)],
) -> Response:
    """The claim as a FHIR R4 Claim resource for the payer (validated before it is sent)."""
    resource = claim_resource(session, claim_id, settings)
    claim = session.get_one(Claim, claim_id)
    record_audit(
        session,
        caller.actor,
        "claim.export",
        patient_id=claim.patient_id,
        detail={"claim_id": str(claim_id), "format": "fhir-r4"},
    )
    return Response(fhir_json(resource), media_type=FHIR_JSON)


# --- online payments -------------------------------------------------------------------------


def _describe(
    session: Session, body: CheckoutRequest, settings: Settings
) -> tuple[str, int, str, str]:
    """(currency, exponent, reference, description) of a checkout, refused in plain words
    when the patient or invoice cannot take it."""
    patient = active_patient(session, body.patient_id)
    if body.invoice_id is None:
        reference = f"MRN {patient.mrn}"
        return settings.currency, settings.currency_exponent, reference, "Payment on account"
    invoice = get_row(
        session, Invoice, body.invoice_id, "This invoice does not exist.", "invoice_id"
    )
    if invoice.patient_id != patient.id:
        raise InvalidData(
            "This invoice belongs to another patient.", fields={"invoice_id": "Other patient"}
        )
    if invoice.kind != INVOICE or invoice.status != FINAL:
        raise Conflict("Finalise the invoice before taking payment for it.")
    owed = invoice_balance(session, invoice)
    if body.amount > owed:
        raise InvalidData(
            f"The amount is more than the invoice's balance "
            f"({format_amount(owed, invoice.exponent, invoice.currency)}).",
            fields={"amount": "More than owed"},
        )
    number = invoice.number or "invoice (number pending)"
    return invoice.currency, invoice.exponent, number, f"Invoice {number}"


@router.post(
    "/online/checkout",
    response_model=CheckoutOut,
    responses={**_ERRORS, 502: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
def online_checkout(
    body: CheckoutRequest,
    caller: Cashier,
    session: UnitOfWork,
    request: Request,
) -> CheckoutOut:
    """Ask the payment provider for a page where the patient pays `amount` online."""
    # Here rather than a dependency: a refused role or a bad body is answered first.
    provider = payment_provider(request)
    settings = settings_of(request)
    currency, exponent, reference, description = _describe(session, body, settings)
    metadata = {"patient_id": str(body.patient_id)}
    if body.invoice_id is not None:
        metadata["invoice_id"] = str(body.invoice_id)
    description = f"{settings.hospital_name}: {description}"
    checkout = provider.create_checkout(
        body.amount, currency, exponent, reference, description, metadata=metadata
    )
    record_audit(
        session,
        caller.actor,
        "payment.online_checkout",
        patient_id=body.patient_id,
        detail={
            "provider_ref": checkout.provider_ref,
            "amount": body.amount,
            "invoice_id": str(body.invoice_id) if body.invoice_id else None,
        },
    )
    return CheckoutOut(provider_ref=checkout.provider_ref, pay_url=checkout.pay_url)


def _audit_refused(db: Database, address: str) -> None:
    """Audit a webhook refused for its signature (in a transaction of its own: it is kept)."""
    with db.unit_of_work() as session:
        record_audit(
            session,
            replace(WEBHOOK_ACTOR, address=address[:64]),
            "payment.online_notice",
            outcome="failure",
            detail={"reason": "bad signature"},
        )


async def signed_body(request: Request, db: Annotated[Database, Depends(get_db)]) -> bytes:
    """The raw webhook body, only when the provider's signature over it is right."""
    provider = payment_provider(request)
    raw = await request.body()
    if provider.verify_webhook(raw, request.headers.get(SIGNATURE_HEADER)):
        return raw
    address = request.client.host if request.client else ""
    await run_in_threadpool(_audit_refused, db, address)
    raise BadSignature(
        "This payment notice is not signed by the payment provider; nothing was recorded."
    )


def _payment_args(session: Session, notice: OnlinePaymentNotice, currency: str) -> TakePayment:
    """What the notice records: a payment on its invoice (or the account) when that much is
    owed, else a deposit on the account, so money received is never refused."""
    invoice = session.get(Invoice, notice.invoice_id) if notice.invoice_id else None
    expected = invoice.currency if invoice is not None else currency
    if notice.currency != expected:
        raise InvalidData(
            f"The payment is in {notice.currency}; this bill is in {expected}.",
            fields={"currency": "Not the bill's currency"},
        )
    owed = (
        invoice_balance(session, invoice)
        if invoice is not None
        else patient_balance(session, notice.patient_id)
    )
    kind = PAYMENT if notice.amount <= owed else DEPOSIT
    note = "Paid online"
    if kind == DEPOSIT and invoice is not None:
        note = f"Paid online for {invoice.number or 'an invoice'}; more than its balance"
    return TakePayment(
        id=uuid.uuid5(ONLINE_PAYMENTS, notice.provider_ref),
        patient_id=notice.patient_id,
        invoice_id=invoice.id if invoice is not None and kind == PAYMENT else None,
        kind=kind,
        method="online",
        amount=notice.amount,
        reference=notice.provider_ref,
        received_at=notice.paid_at,
        note=note,
    )


@router.post(
    "/online/webhook",
    response_model=NoticeOut,
    responses={401: {"model": ErrorResponse}, **_ERRORS},
    openapi_extra={"x-permission": "public"},
)
def online_webhook(
    notice: OnlinePaymentNotice,
    _signed: Annotated[bytes, Depends(signed_body)],
    session: UnitOfWork,
    request: Request,
) -> NoticeOut:
    """The provider's notice of a payment's outcome (HMAC-signed); a success is recorded once."""
    address = request.client.host if request.client else ""
    actor: Actor = replace(WEBHOOK_ACTOR, address=address[:64])
    if notice.status.lower() != "succeeded":
        record_audit(
            session,
            actor,
            "payment.online_notice",
            patient_id=notice.patient_id,
            detail={"provider_ref": notice.provider_ref, "status": notice.status},
        )
        return NoticeOut(recorded=False)
    args = _payment_args(session, notice, settings_of(request).currency)
    existing = session.get(Payment, args.id)
    if existing is not None:
        return NoticeOut(
            recorded=False, payment_id=existing.id, receipt_number=existing.receipt_number
        )
    payment = take_payment(session, actor, args)
    return NoticeOut(recorded=True, payment_id=payment.id, receipt_number=payment.receipt_number)
