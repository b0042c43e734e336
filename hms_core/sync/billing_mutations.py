"""The billing desk's named mutations: each wraps a billing service and returns the ids and
numbers the desk shows (an invoice number is None until the server has assigned it)."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from hms_core.db.base import ReplicatedMixin
from hms_core.schemas import billing as wire
from hms_core.services.actor import Actor
from hms_core.services.billing import (
    cash_desk,
    charges,
    insurance,
    invoices,
    payments,
    prices,
    prints,
    stays,
)

Run = Callable[[Session, Actor, Any], dict[str, Any]]


def _ids(service: Callable[[Session, Actor, Any], ReplicatedMixin], *extra: str) -> Run:
    """A mutation returning the row's id and the named attributes."""

    def run(session: Session, actor: Actor, args: BaseModel) -> dict[str, Any]:
        row = service(session, actor, args)
        result: dict[str, Any] = {"id": str(row.id), "row_version": row.row_version}
        for name in extra:
            value = getattr(row, name)
            result[name] = value if value is None or isinstance(value, int | bool) else str(value)
        return result

    return run


def _stay(session: Session, actor: Actor, args: wire.ChargeStayToDate) -> dict[str, Any]:
    """Bed-days so far: the server answers with the charges it made (a desk: none yet)."""
    made = stays.charge_stay_to_date(session, actor, args)
    return {"charges": [str(c.id) for c in made], "days": sum(int(c.quantity) for c in made)}


BILLING_MUTATIONS: list[tuple[str, type[BaseModel], Run]] = [
    ("save_price_item", wire.SavePriceItem, _ids(prices.save_price_item, "code")),
    ("set_price", wire.SetPrice, _ids(prices.set_price, "valid_from")),
    ("save_payer", wire.SavePayer, _ids(prices.save_payer, "code")),
    ("add_charge", wire.AddCharge, _ids(charges.add_charge, "unit_price")),
    ("void_charge", wire.VoidCharge, _ids(charges.void_charge)),
    ("charge_stay_to_date", wire.ChargeStayToDate, _stay),
    (
        "create_draft_invoice",
        wire.CreateDraftInvoice,
        _ids(invoices.create_draft, "gross", "patient_share", "payer_share"),
    ),
    ("discard_draft_invoice", wire.InvoiceRef, _ids(invoices.discard_draft, "status")),
    ("finalise_invoice", wire.InvoiceRef, _ids(invoices.finalise, "number", "status")),
    ("issue_credit_note", wire.IssueCreditNote, _ids(invoices.issue_credit_note, "number")),
    ("take_payment", wire.TakePayment, _ids(payments.take_payment, "receipt_number")),
    ("refund_payment", wire.RefundPayment, _ids(payments.refund_payment, "receipt_number")),
    ("add_policy", wire.AddPolicy, _ids(insurance.add_policy)),
    ("end_policy", wire.EndPolicy, _ids(insurance.end_policy)),
    ("create_claim", wire.CreateClaim, _ids(insurance.create_claim, "claimed")),
    ("update_claim", wire.UpdateClaim, _ids(insurance.update_claim, "status")),
    ("close_cash_day", wire.CloseCashDay, _ids(cash_desk.close_cash_day, "expected_cash")),
    ("record_print", wire.RecordPrint, _ids(prints.record_print, "is_copy")),
]
