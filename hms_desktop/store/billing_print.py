"""Invoices and receipts as the desk prints them: the printable document read from the cache
(a reprint marked as a copy), and the name it is shown and saved under."""

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from hms_core.db import Invoice
from hms_core.db.billing import CREDIT_NOTE
from hms_core.printing.documents import InvoiceDocument, Receipt
from hms_core.printing.invoice_pdf import render_invoice
from hms_core.printing.receipt_pdf import Width, render_receipt
from hms_core.printing.records import (
    hospital_from_profile,
    invoice_document,
    is_reprint,
    receipt_document,
)
from hms_core.schemas.billing import HospitalProfile

Paper = Literal["a4", "thermal"]
PAPER_WIDTH: dict[str, Width] = {"a4": "a4", "thermal": "80mm"}


@dataclass(frozen=True)
class Printable:
    """A document ready to render: what it says, its name, and whether it is a copy."""

    document: InvoiceDocument | Receipt
    name: str
    is_copy: bool


def invoice_printable(
    session: Session, invoice_id: uuid.UUID, profile: HospitalProfile
) -> Printable:
    """The final invoice or credit note `invoice_id` as printed now."""
    is_copy = is_reprint(session, "invoice", invoice_id)
    document = invoice_document(
        session,
        invoice_id,
        hospital_from_profile(profile),
        is_copy=is_copy,
        timezone=profile.timezone,
    )
    invoice = session.get(Invoice, invoice_id)
    kind = "Credit note" if invoice is not None and invoice.kind == CREDIT_NOTE else "Invoice"
    return Printable(document, f"{kind} {document.number} MRN {document.patient.mrn}", is_copy)


def receipt_printable(
    session: Session, payment_id: uuid.UUID, profile: HospitalProfile
) -> Printable:
    """The receipt of payment `payment_id` as printed now."""
    is_copy = is_reprint(session, "receipt", payment_id)
    document = receipt_document(
        session,
        payment_id,
        hospital_from_profile(profile),
        is_copy=is_copy,
        timezone=profile.timezone,
        currency=(profile.currency, profile.exponent),
    )
    return Printable(document, f"Receipt {document.number} MRN {document.patient.mrn}", is_copy)


def render(printable: Printable, paper: Paper = "a4") -> bytes:
    """The PDF bytes (a receipt on A4 or 80 mm thermal paper; an invoice always on A4)."""
    if isinstance(printable.document, Receipt):
        return render_receipt(printable.document, PAPER_WIDTH[paper])
    return render_invoice(printable.document)
