"""Billing: the price list, charges for care given, invoices and credit notes, payments with
their receipts, insurance payers, policies and claims, the cash desk's day close, and the log
of printed documents.

Money is integer minor units of the hospital currency (`hms_core.rules.money`); quantities and
rates are exact decimals (`DecimalText`). Invoices, lines, payments and prints are append-only
in meaning: a final invoice is never changed (a credit note corrects it), a payment is never
changed (a refund is a new payment row pointing at it).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms_core.db.base import Base, ReplicatedMixin
from hms_core.db.types import DecimalText

# Price and charge categories (what a coverage rule names).
CONSULTATION = "consultation"
LAB = "lab"
IMAGING = "imaging"
PROCEDURE = "procedure"
SURGERY = "surgery"
BED_DAY = "bed_day"
MEDICINE = "medicine"
OTHER = "other"
CATEGORIES = (CONSULTATION, LAB, IMAGING, PROCEDURE, SURGERY, BED_DAY, MEDICINE, OTHER)

# Invoice kinds and statuses.
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DRAFT = "draft"
FINAL = "final"
DISCARDED = "discarded"  # a draft given up before it was finalised (its charges are free again)

# Payment kinds and methods.
PAYMENT = "payment"
DEPOSIT = "deposit"
REFUND = "refund"
CASH = "cash"
CARD = "card"
ONLINE = "online"
INSURANCE = "insurance"
METHODS = (CASH, CARD, ONLINE, INSURANCE)

# Claim statuses.
CLAIM_DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
PARTIAL = "partially_approved"
REJECTED = "rejected"
PAID = "paid"
CLAIM_STATUSES = (CLAIM_DRAFT, SUBMITTED, APPROVED, PARTIAL, REJECTED, PAID)


class PriceItem(ReplicatedMixin, Base):
    """Something the hospital charges for; its prices over time are `Price` rows.

    A consultation item may be specific to a department and a doctor grade, a bed-day item to
    a ward class; the most specific active item wins when a charge is captured.
    """

    __tablename__ = "price_item"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("department.id"), default=None
    )
    doctor_grade: Mapped[str | None] = mapped_column(String(40), default=None)
    ward_class: Mapped[str | None] = mapped_column(String(20), default=None)
    unit: Mapped[str] = mapped_column(String(20), default="each")
    active: Mapped[bool] = mapped_column(default=True)


class Price(ReplicatedMixin, Base):
    """The price of an item from `valid_from` on (until the next row's `valid_from`)."""

    __tablename__ = "price"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_item.id"), index=True)
    valid_from: Mapped[date]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0))  # percent
    set_by: Mapped[str] = mapped_column(String(80), default="")

    __table_args__ = (UniqueConstraint("item_id", "valid_from", name="uq_price_item_from"),)


class Charge(ReplicatedMixin, Base):
    """One billable thing done for a patient, priced on its service date.

    `source`/`source_id` name what caused it (an appointment, an admission, a manual entry);
    automatic charges have an id derived from their source, so capturing twice is harmless.
    `visit_id` groups charges into one bill per visit (appointment) or admission.
    """

    __tablename__ = "charge"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("price_item.id"), default=None)
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("department.id"), default=None
    )
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0))
    service_date: Mapped[date]
    source: Mapped[str] = mapped_column(String(20))  # appointment | admission | manual | ...
    source_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    visit_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoice.id"), default=None, index=True
    )
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_by: Mapped[str | None] = mapped_column(String(80), default=None)
    void_reason: Mapped[str | None] = mapped_column(String(500), default=None)


class Invoice(ReplicatedMixin, Base):
    """A draft or final invoice, or a credit note (`kind`) that corrects a final invoice.

    A final invoice's `number` comes from a gap-free yearly sequence on the server; a draft
    finalised offline is final with no number until the server assigns it at sync.
    """

    __tablename__ = "invoice"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default=INVOICE)
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    number: Mapped[str | None] = mapped_column(String(24), unique=True, default=None)
    credits_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoice.id"), default=None, index=True
    )
    visit_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    currency: Mapped[str] = mapped_column(String(3))
    exponent: Mapped[int] = mapped_column(Integer, default=2)
    net: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    patient_share: Mapped[int] = mapped_column(BigInteger, default=0)
    payer_share: Mapped[int] = mapped_column(BigInteger, default=0)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("insurance_policy.id"), default=None
    )
    reason: Mapped[str] = mapped_column(String(500), default="")  # a credit note's reason
    created_by: Mapped[str] = mapped_column(String(80))
    finalised_at: Mapped[datetime | None] = mapped_column(default=None)
    finalised_by: Mapped[str | None] = mapped_column(String(80), default=None)


class InvoiceLine(ReplicatedMixin, Base):
    """One itemized line of an invoice, with its amounts fixed when the invoice was made."""

    __tablename__ = "invoice_line"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("charge.id"), default=None)
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    service_date: Mapped[date]
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0))
    net: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    covered: Mapped[bool] = mapped_column(default=False)
    patient_share: Mapped[int] = mapped_column(BigInteger)
    payer_share: Mapped[int] = mapped_column(BigInteger, default=0)


class Payment(ReplicatedMixin, Base):
    """Money received (payment, deposit) or paid back (refund); never changed afterwards.

    `amount` is always positive; a refund's `refund_of_id` names the payment it returns.
    `receipt_number` is printed on the spot, offline too, so it is made from the payment's
    own id rather than drawn from a server counter.
    """

    __tablename__ = "payment"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoice.id"), default=None, index=True
    )
    claim_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("insurance_claim.id"), default=None
    )
    kind: Mapped[str] = mapped_column(String(10), default=PAYMENT)
    method: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100), default="")
    refund_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"), default=None)
    received_at: Mapped[datetime]
    received_by: Mapped[str] = mapped_column(String(80))
    receipt_number: Mapped[str] = mapped_column(String(30), unique=True)
    note: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_payment_received", "received_by", "received_at"),)


class Payer(ReplicatedMixin, Base):
    """An insurer (or other third party) that pays part of patients' bills."""

    __tablename__ = "insurance_payer"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(100), default="")  # the payer's own id
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Policy(ReplicatedMixin, Base):
    """A patient's cover with a payer: which categories, the co-payment, the yearly limit."""

    __tablename__ = "insurance_policy"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_payer.id"))
    policy_number: Mapped[str] = mapped_column(String(60))
    holder_name: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date]
    valid_to: Mapped[date | None] = mapped_column(default=None)
    covered_categories: Mapped[str] = mapped_column(String(200))  # comma-separated
    copay_percent: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0))
    annual_limit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")


class Claim(ReplicatedMixin, Base):
    """The payer's share of one final invoice, claimed, and what the payer made of it."""

    __tablename__ = "insurance_claim"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), unique=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_policy.id"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_payer.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=CLAIM_DRAFT)
    claimed: Mapped[int] = mapped_column(BigInteger)
    approved: Mapped[int | None] = mapped_column(BigInteger, default=None)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    payer_reference: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)


class CashClose(ReplicatedMixin, Base):
    """A cashier's day close: what the payments say by method, and the cash counted."""

    __tablename__ = "cash_close"

    cashier: Mapped[str] = mapped_column(String(80))
    business_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    expected_cash: Mapped[int] = mapped_column(BigInteger)
    counted_cash: Mapped[int] = mapped_column(BigInteger)
    totals: Mapped[str] = mapped_column(String(500))  # "cash=1200;card=500;..." by method, net
    note: Mapped[str] = mapped_column(String(500), default="")
    closed_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("cashier", "business_date", name="uq_cash_close_day"),)


class DocumentPrint(ReplicatedMixin, Base):
    """One print (or saved PDF) of an invoice or receipt: who, when, and whether a copy."""

    __tablename__ = "document_print"

    doc_kind: Mapped[str] = mapped_column(String(12))  # invoice | receipt
    doc_id: Mapped[uuid.UUID] = mapped_column(index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    action: Mapped[str] = mapped_column(String(12), default="print")  # print | pdf
    is_copy: Mapped[bool] = mapped_column(default=False)
    printed_at: Mapped[datetime]
    printed_by: Mapped[str] = mapped_column(String(80))
