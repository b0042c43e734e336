"""A patient's account at the billing desk: charges, invoices, payments, claims and policies read
from the cache; every change a queued named mutation (so the desk works offline too).

A draft finalised here has no number until the server assigns it at sync; a receipt number is
made from the payment's id, so the receipt is printed on the spot.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Charge, InvoiceLine
from hms_core.db.base import new_id, utcnow
from hms_core.schemas.billing import AccountView, HospitalProfile
from hms_core.services.audit import record_audit
from hms_core.services.errors import InvalidData
from hms_desktop.store import billing_print
from hms_desktop.store.billing_print import Paper
from hms_desktop.store.billing_views import (
    PayerChoice,
    PricedItem,
    account_view,
    payer_choices,
    priced_items,
)
from hms_desktop.store.cache import LocalStore

PROFILE_KEY = "hospital_profile"
ACCOUNT_READ = "billing.account"  # the access record of an account read


class LocalBilling:
    """The billing desk's patient accounts on the cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited: set[uuid.UUID] = set()  # accounts already audited in this session

    # --- reads ------------------------------------------------------------------------------

    def account(self, patient_id: uuid.UUID) -> AccountView:
        """The patient's account (audited the first time this session opens it)."""
        profile = self.hospital_profile()

        def read(session: Session) -> AccountView:
            view = account_view(session, patient_id, profile)
            if patient_id not in self._audited:
                detail = {"invoices": len(view.invoices)}
                record_audit(
                    session, self.store.actor, ACCOUNT_READ, patient_id=patient_id, detail=detail
                )
                session.flush()  # hands the record to the cache's access log
            return view

        view = self.store.read(read)
        self._audited.add(patient_id)
        return view

    def items(self) -> list[PricedItem]:
        """Active price-list items with today's price, by name."""
        today = self.today()
        return self.store.read(lambda s: priced_items(s, today))

    def payers(self) -> list[PayerChoice]:
        """Active insurance payers, by name."""
        return self.store.read(payer_choices)

    def hospital_profile(self) -> HospitalProfile:
        """The hospital's name, address, currency and time zone as last heard from the server."""
        kept = self.store.get_state(PROFILE_KEY)
        return HospitalProfile.model_validate(kept) if kept else HospitalProfile(name="Hospital")

    def refresh_profile(self, api: Any) -> HospitalProfile:  # noqa: ANN401 - an ApiClient
        """Ask the server for the hospital profile and keep it for offline use."""
        profile: HospitalProfile = api.hospital_profile()
        self.store.set_state(PROFILE_KEY, profile.model_dump(mode="json"))
        return profile

    def today(self) -> date:
        """The hospital's date now (in its own time zone)."""
        return datetime.now(ZoneInfo(self.hospital_profile().timezone)).date()

    # --- charges ----------------------------------------------------------------------------

    def add_charge(
        self,
        patient_id: uuid.UUID,
        item_id: uuid.UUID,
        quantity: Decimal,
        reason: str,
        service_date: date | None = None,
    ) -> dict[str, Any]:
        """A charge entered by hand, priced from the list on its service date."""
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "item_id": str(item_id),
            "quantity": str(quantity),
            "service_date": (service_date or self.today()).isoformat(),
            "reason": reason,
        }
        return self.store.mutate("add_charge", args)

    def charge_stay_to_date(self, patient_id: uuid.UUID) -> dict[str, Any]:
        """Queue an interim bill of an admitted patient's bed-days up to today (the server
        makes the charges: this desk holds no admissions)."""
        args = {"patient_id": str(patient_id), "through": self.today().isoformat()}
        return self.store.mutate("charge_stay_to_date", args)

    def void_charge(self, charge_id: uuid.UUID, reason: str) -> dict[str, Any]:
        args = {"charge_id": str(charge_id), "reason": reason, "at": _now()}
        return self.store.mutate("void_charge", args)

    # --- invoices ---------------------------------------------------------------------------

    def create_draft_invoice(
        self,
        patient_id: uuid.UUID,
        *,
        visit_id: uuid.UUID | None = None,
        policy_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """A draft of the patient's unbilled charges (of one visit when `visit_id` is given)."""
        profile = self.hospital_profile()
        args: dict[str, Any] = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "policy_id": str(policy_id) if policy_id else None,
            "currency": profile.currency,
            "exponent": profile.exponent,
            "at": _now(),
        }

        def gather(session: Session, args: dict[str, Any]) -> dict[str, Any]:
            charges = _unbilled(session, patient_id, visit_id)
            if not charges:
                raise InvalidData("There are no unbilled charges to put on an invoice.")
            if visit_id is not None and charges:
                args |= {"visit_id": str(visit_id), "visit_kind": charges[0].visit_kind}
            ids = [str(c.id) for c in charges]
            return args | {"charge_ids": ids, "line_ids": [str(new_id()) for _ in ids]}

        return self.store.mutate("create_draft_invoice", args, prepare=gather)

    def discard_draft_invoice(self, invoice_id: uuid.UUID) -> dict[str, Any]:
        return self.store.mutate("discard_draft_invoice", _invoice_ref(invoice_id))

    def finalise_invoice(self, invoice_id: uuid.UUID) -> dict[str, Any]:
        """Finalise a draft (its number comes from the server; offline it is pending)."""
        return self.store.mutate("finalise_invoice", _invoice_ref(invoice_id))

    def issue_credit_note(
        self, invoice_id: uuid.UUID, line_ids: list[uuid.UUID], reason: str
    ) -> dict[str, Any]:
        """Credit the named lines of a final invoice (all of them when none are named)."""
        args: dict[str, Any] = {
            "id": str(new_id()),
            "invoice_id": str(invoice_id),
            "line_ids": [str(i) for i in line_ids],
            "reason": reason,
            "at": _now(),
        }

        def mint(session: Session, args: dict[str, Any]) -> dict[str, Any]:
            count = len(line_ids) or _line_count(session, invoice_id)
            return args | {"new_line_ids": [str(new_id()) for _ in range(count)]}

        return self.store.mutate("issue_credit_note", args, prepare=mint)

    # --- payments ---------------------------------------------------------------------------

    def take_payment(
        self,
        patient_id: uuid.UUID,
        method: str,
        amount: int,
        *,
        invoice_id: uuid.UUID | None = None,
        kind: str = "payment",
        reference: str = "",
        note: str = "",
    ) -> dict[str, Any]:
        """Money received; the answer names the payment (`payment_id`) for its receipt."""
        payment_id = new_id()
        args = {
            "id": str(payment_id),
            "patient_id": str(patient_id),
            "invoice_id": str(invoice_id) if invoice_id else None,
            "kind": kind,
            "method": method,
            "amount": amount,
            "reference": reference,
            "received_at": _now(),
            "note": note,
        }
        result = self.store.mutate("take_payment", args)
        return {**result, "payment_id": str(payment_id)}

    def refund_payment(
        self, payment_id: uuid.UUID, amount: int, method: str, reason: str, reference: str = ""
    ) -> dict[str, Any]:
        refund_id = new_id()
        args = {
            "id": str(refund_id),
            "payment_id": str(payment_id),
            "amount": amount,
            "method": method,
            "reference": reference,
            "reason": reason,
            "received_at": _now(),
        }
        return {**self.store.mutate("refund_payment", args), "refund_id": str(refund_id)}

    # --- insurance --------------------------------------------------------------------------

    def add_policy(
        self,
        patient_id: uuid.UUID,
        payer_id: uuid.UUID,
        policy_number: str,
        covered_categories: list[str],
        *,
        copay_percent: Decimal = Decimal(0),
        valid_from: date | None = None,
        valid_to: date | None = None,
        annual_limit: int | None = None,
        holder_name: str = "",
    ) -> dict[str, Any]:
        args = {
            "id": str(new_id()),
            "patient_id": str(patient_id),
            "payer_id": str(payer_id),
            "policy_number": policy_number,
            "holder_name": holder_name,
            "valid_from": (valid_from or self.today()).isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
            "covered_categories": covered_categories,
            "copay_percent": str(copay_percent),
            "annual_limit": annual_limit,
        }
        return self.store.mutate("add_policy", args)

    def create_claim(self, invoice_id: uuid.UUID) -> dict[str, Any]:
        args = {"id": str(new_id()), "invoice_id": str(invoice_id), "at": _now()}
        return self.store.mutate("create_claim", args)

    def update_claim(
        self,
        claim_id: uuid.UUID,
        status: str,
        *,
        approved: int | None = None,
        paid: int | None = None,
        payer_reference: str = "",
        reason: str = "",
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "claim_id": str(claim_id),
            "status": status,
            "approved": approved,
            "paid": paid,
            "payer_reference": payer_reference,
            "reason": reason,
            "at": _now(),
        }
        if status == "paid":
            args["payment_id"] = str(new_id())
        return self.store.mutate("update_claim", args)

    # --- printing ---------------------------------------------------------------------------

    def record_print(self, doc_kind: str, doc_id: uuid.UUID, action: str) -> dict[str, Any]:
        """An invoice or receipt was printed ("print") or saved as a PDF ("pdf")."""
        args = {
            "id": str(new_id()),
            "doc_kind": doc_kind,
            "doc_id": str(doc_id),
            "action": action,
            "at": _now(),
        }
        return self.store.mutate("record_print", args)

    def invoice_pdf(self, invoice_id: uuid.UUID) -> tuple[bytes, str, bool]:
        """The invoice (or credit note) as a PDF, its name, and whether it is a reprint."""
        profile = self.hospital_profile()
        found = self.store.read(lambda s: billing_print.invoice_printable(s, invoice_id, profile))
        return billing_print.render(found), found.name, found.is_copy

    def receipt_pdf(self, payment_id: uuid.UUID, paper: Paper = "a4") -> tuple[bytes, str, bool]:
        """A payment's receipt on A4 or 80 mm thermal paper, its name, whether a reprint."""
        profile = self.hospital_profile()
        found = self.store.read(lambda s: billing_print.receipt_printable(s, payment_id, profile))
        return billing_print.render(found, paper), found.name, found.is_copy


def _unbilled(session: Session, patient_id: uuid.UUID, visit_id: uuid.UUID | None) -> list[Charge]:
    query = select(Charge).where(
        Charge.patient_id == patient_id,
        Charge.invoice_id.is_(None),
        Charge.voided_at.is_(None),
        Charge.deleted_at.is_(None),
    )
    if visit_id is not None:
        query = query.where(Charge.visit_id == visit_id)
    return list(session.execute(query.order_by(Charge.service_date, Charge.id)).scalars())


def _line_count(session: Session, invoice_id: uuid.UUID) -> int:
    lines = session.execute(
        select(InvoiceLine.id).where(
            InvoiceLine.invoice_id == invoice_id, InvoiceLine.deleted_at.is_(None)
        )
    ).all()
    return len(lines)


def _invoice_ref(invoice_id: uuid.UUID) -> dict[str, Any]:
    return {"invoice_id": str(invoice_id), "at": _now()}


def _now() -> str:
    return utcnow().isoformat()
