"""Wire models of billing: the mutations' arguments (price list, charges, invoices, payments,
insurance, the day close, prints) and the views the billing workspace shows.

Amounts are integer minor units; quantities and rates are decimals. Mutation arguments carry
every id and moment they record, so the desktop and the server run them to the same rows.
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from hms_core.schemas.ward import Moment

Category = Literal[
    "consultation", "lab", "imaging", "procedure", "surgery", "bed_day", "medicine", "other"
]
Method = Literal["cash", "card", "online", "insurance"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^\S+$")
]
MAX_AMOUNT = 10**13  # minor units: far above any bill, below anything that overflows
Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT)]
Quantity = Annotated[Decimal, Field(gt=0, le=100_000, max_digits=12, decimal_places=3)]
Rate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- price list ------------------------------------------------------------------------------


class SavePriceItem(_Args):
    """Create or change a price-list item (not its price: prices are dated, see SetPrice)."""

    id: uuid.UUID
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    category: Category
    department_id: uuid.UUID | None = None
    doctor_grade: Annotated[str, StringConstraints(max_length=40)] | None = None
    ward_class: Annotated[str, StringConstraints(max_length=20)] | None = None
    unit: Annotated[str, StringConstraints(min_length=1, max_length=20)] = "each"
    active: bool = True


class SetPrice(_Args):
    """The item's price from `valid_from` on; earlier days keep their price."""

    id: uuid.UUID
    item_id: uuid.UUID
    valid_from: date
    unit_price: Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
    tax_rate: Rate = Decimal(0)
    today: date = Field(description="The hospital's date on the desk that set it")


class SavePayer(_Args):
    id: uuid.UUID
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    identifier: Annotated[str, StringConstraints(max_length=100)] = ""
    email: Annotated[str, StringConstraints(max_length=254)] = ""
    active: bool = True


# --- charges ---------------------------------------------------------------------------------


class AddCharge(_Args):
    """A charge entered by hand (with a reason), priced from the list on its service date."""

    id: uuid.UUID
    patient_id: uuid.UUID
    item_id: uuid.UUID
    quantity: Quantity = Decimal(1)
    service_date: date
    reason: Reason
    visit_id: uuid.UUID | None = None
    visit_kind: Literal["appointment", "admission"] | None = None


class ChargeStayToDate(_Args):
    """An interim bill of an admitted patient: the bed-days up to `through` (not included)."""

    patient_id: uuid.UUID
    through: date


class VoidCharge(_Args):
    charge_id: uuid.UUID
    reason: Reason
    at: AwareDatetime


# --- invoices --------------------------------------------------------------------------------


class CreateDraftInvoice(_Args):
    """Gather the named unbilled charges of one patient into a draft, split for insurance
    by the policy (if any) valid on the invoice date."""

    id: uuid.UUID
    patient_id: uuid.UUID
    charge_ids: list[uuid.UUID] = Field(min_length=1, max_length=2000)
    policy_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    visit_kind: Literal["appointment", "admission"] | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    exponent: Annotated[int, Field(ge=0, le=4)] = 2
    at: AwareDatetime
    line_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="Ids for the lines, one per charge in order (minted by the client)",
    )


class InvoiceRef(_Args):
    invoice_id: uuid.UUID
    at: AwareDatetime


class IssueCreditNote(_Args):
    """Correct a final invoice: credit the named lines (all when empty), with a reason."""

    id: uuid.UUID
    invoice_id: uuid.UUID
    line_ids: list[uuid.UUID] = Field(default_factory=list, max_length=2000)
    reason: Reason
    at: AwareDatetime
    new_line_ids: list[uuid.UUID] = Field(default_factory=list)


# --- payments --------------------------------------------------------------------------------


class TakePayment(_Args):
    """Money received: against an invoice (payment) or on account (deposit)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    invoice_id: uuid.UUID | None = None
    kind: Literal["payment", "deposit"] = "payment"
    method: Method
    amount: Amount
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    received_at: AwareDatetime
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class RefundPayment(_Args):
    """Pay money back from an earlier payment or deposit (never more than is left of it)."""

    id: uuid.UUID
    payment_id: uuid.UUID
    amount: Amount
    method: Method
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    reason: Reason
    received_at: AwareDatetime


# --- insurance -------------------------------------------------------------------------------


class AddPolicy(_Args):
    id: uuid.UUID
    patient_id: uuid.UUID
    payer_id: uuid.UUID
    policy_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)
    ]
    holder_name: Text200 = ""
    valid_from: date
    valid_to: date | None = None
    covered_categories: list[Category] = Field(min_length=1)
    copay_percent: Rate = Decimal(0)
    annual_limit: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] | None = None


class EndPolicy(_Args):
    policy_id: uuid.UUID
    valid_to: date


class CreateClaim(_Args):
    id: uuid.UUID
    invoice_id: uuid.UUID
    at: AwareDatetime


class UpdateClaim(_Args):
    """Move a claim on: submitted, approved (in full or part), rejected, paid."""

    claim_id: uuid.UUID
    status: Literal["submitted", "approved", "partially_approved", "rejected", "paid"]
    approved: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] | None = None
    paid: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] | None = None
    payer_reference: Annotated[str, StringConstraints(max_length=100)] = ""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    at: AwareDatetime
    payment_id: uuid.UUID | None = Field(
        default=None, description="Id of the insurance payment row when the claim is paid"
    )


# --- cash desk and prints --------------------------------------------------------------------


class CloseCashDay(_Args):
    id: uuid.UUID
    business_date: date
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    counted_cash: Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    at: AwareDatetime


class RecordPrint(_Args):
    id: uuid.UUID
    doc_kind: Literal["invoice", "receipt"]
    doc_id: uuid.UUID
    action: Literal["print", "pdf"] = "print"
    at: AwareDatetime


# --- views -----------------------------------------------------------------------------------


class ChargeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    code: str
    description: str
    category: str
    quantity: Decimal
    unit_price: int
    tax_rate: Decimal
    gross: int
    service_date: date
    source: str
    visit_id: uuid.UUID | None
    invoice_id: uuid.UUID | None
    reason: str
    created_by: str
    voided: bool


class InvoiceLineView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    code: str
    description: str
    category: str
    service_date: date
    quantity: Decimal
    unit_price: int
    tax_rate: Decimal
    net: int
    tax: int
    covered: bool
    patient_share: int
    payer_share: int


class InvoiceView(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    status: str
    number: str | None
    credits_invoice_id: uuid.UUID | None
    credits_number: str | None = None
    currency: str
    exponent: int
    net: int
    tax: int
    gross: int
    patient_share: int
    payer_share: int
    payer_name: str | None = None
    policy_number: str | None = None
    paid: int = 0
    balance: int = 0
    reason: str = ""
    created_at: Moment
    finalised_at: Moment | None
    lines: list[InvoiceLineView] = Field(default_factory=list)


class PaymentView(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    invoice_id: uuid.UUID | None
    invoice_number: str | None = None
    kind: str
    method: str
    amount: int
    reference: str
    received_at: Moment
    received_by: str
    receipt_number: str
    refunded: int = 0


class ClaimView(BaseModel):
    id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str | None
    payer_name: str
    policy_number: str
    status: str
    claimed: int
    approved: int | None
    paid: int
    reason: str
    submitted_at: Moment | None


class PolicyView(BaseModel):
    id: uuid.UUID
    payer_id: uuid.UUID
    payer_name: str
    policy_number: str
    holder_name: str
    valid_from: date
    valid_to: date | None
    covered_categories: list[str]
    copay_percent: Decimal
    annual_limit: int | None
    active: bool


class AccountView(BaseModel):
    """A patient's account: what the billing desk's account page shows."""

    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    currency: str
    exponent: int
    charges: list[ChargeView]
    invoices: list[InvoiceView]
    payments: list[PaymentView]
    claims: list[ClaimView]
    policies: list[PolicyView]
    unbilled: int = Field(description="Gross of charges not yet on an invoice")
    invoiced: int = Field(description="The patient's share of final invoices less credits")
    paid: int = Field(description="Payments and deposits less refunds")
    balance: int = Field(description="What the patient owes now (negative: in credit)")


class DayClosePreview(BaseModel):
    """What a cashier's payments of one day add up to, by method (refunds subtracted)."""

    cashier: str
    business_date: date
    currency: str
    by_method: dict[str, int]
    count: int
    expected_cash: int
    closed: bool = False
    counted_cash: int | None = None


class HospitalProfile(BaseModel):
    """The issuer on printed bills and the money and time conventions of the hospital; served
    by `GET /api/hospital/profile` and kept by each desktop for offline printing."""

    name: str
    address_lines: list[str] = Field(default_factory=list)
    phone: str = ""
    tax_id: str = ""
    currency: str = "USD"
    exponent: int = 2
    timezone: str = "UTC"
