"""Charges: what was done for a patient, priced from the list on its service date.

Care creates its own charges through the domain services (a completed consultation here, a
stay's bed-days in `stays`); their ids derive from what caused them, so capturing twice does
nothing. Automatic capture runs on the server only: a clinical desk's cache has no price list.
Staff with the right add charges by hand, always with a reason.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Appointment, DoctorProfile
from hms_core.db.base import utcnow
from hms_core.db.billing import CONSULTATION, DRAFT, Charge, Invoice, PriceItem
from hms_core.rbac import Perm
from hms_core.rules.money import line_amounts
from hms_core.schemas.billing import AddCharge, VoidCharge
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.common import get_row, touch
from hms_core.services.billing.prices import find_item, price_on
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit, is_provisional

CAPTURE = uuid.UUID("2f1d9c3e-8a57-4c1b-9e0f-6b5a4d3c2b1a")  # namespace of automatic charge ids
SYSTEM_USER = "system"
MAX_AHEAD = timedelta(days=1)


def charge_id_for(source: str, source_id: uuid.UUID, part: str) -> uuid.UUID:
    """The id of an automatic charge: the same cause gives the same id, everywhere."""
    return uuid.uuid5(CAPTURE, f"{source}:{source_id}:{part}")


def add_charge(session: Session, actor: Actor, args: AddCharge) -> Charge:
    """A charge entered by hand with its reason, priced on its service date."""
    actor.require(Perm.CHARGE_MANAGE)
    existing = session.get(Charge, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    item = get_row(
        session, PriceItem, args.item_id, "This price-list item does not exist.", "item_id"
    )
    if not item.active:
        raise InvalidData(f"{item.name} is no longer charged.", fields={"item_id": "Not in use"})
    if args.service_date > utcnow().date() + MAX_AHEAD:
        raise InvalidData(
            "The service date is in the future: charge care once it is given.",
            fields={"service_date": "In the future"},
        )
    charge = priced_charge(session, item, args.quantity, args.service_date)
    if charge is None:
        raise InvalidData(
            f"{item.name} has no price on {args.service_date:%d %b %Y}. "
            "Ask the billing manager to price it.",
            fields={"item_id": "No price"},
        )
    charge.id, charge.patient_id, charge.source = args.id, patient.id, "manual"
    charge.visit_id, charge.visit_kind = args.visit_id, args.visit_kind
    charge.reason, charge.created_by = args.reason, actor.username
    session.add(charge)
    session.flush()
    record_audit(
        session,
        actor,
        "charge.add",
        patient_id=patient.id,
        detail={"charge_id": str(charge.id), "code": item.code, "reason": args.reason},
    )
    return charge


def void_charge(session: Session, actor: Actor, args: VoidCharge) -> Charge:
    """Take back a charge that is on no invoice yet (with a reason)."""
    actor.require(Perm.CHARGE_MANAGE)
    charge = get_row(session, Charge, args.charge_id, "This charge does not exist.", "charge_id")
    if charge.voided_at is not None:
        return charge
    if charge.invoice_id is not None:
        invoice = session.get(Invoice, charge.invoice_id)
        if invoice is not None and invoice.status == DRAFT:
            raise Conflict("This charge is on a draft invoice: discard the draft first.")
        number = invoice.number if invoice and invoice.number else "a final invoice"
        raise Conflict(f"This charge is on {number}: correct it with a credit note.")
    charge.voided_at, charge.voided_by, charge.void_reason = args.at, actor.username, args.reason
    touch(charge)
    session.flush()
    record_audit(
        session,
        actor,
        "charge.void",
        patient_id=charge.patient_id,
        detail={"charge_id": str(charge.id), "reason": args.reason},
    )
    return charge


def capture_item(
    session: Session,
    *,
    source: str,
    source_id: uuid.UUID,
    item_code: str,
    patient_id: uuid.UUID,
    service_date: date,
    quantity: Decimal = Decimal(1),
    visit: tuple[str, uuid.UUID] | None = None,
) -> Charge | None:
    """The hook for services that bill a priced item (a lab order, a dispensing, a
    procedure): charged once per source on the server; None when unknown or unpriced."""
    if is_provisional(session):
        return None
    charge_id = charge_id_for(source, source_id, item_code)
    if session.get(Charge, charge_id) is not None:
        return None
    item = session.execute(
        select(PriceItem).where(PriceItem.code == item_code, PriceItem.active.is_(True))
    ).scalar_one_or_none()
    charge = priced_charge(session, item, quantity, service_date) if item else None
    if charge is None:
        emit(session, "charge.unpriced", source=source, source_id=str(source_id), code=item_code)
        return None
    charge.id, charge.patient_id, charge.source, charge.source_id = (
        charge_id,
        patient_id,
        source,
        source_id,
    )
    if visit is not None:
        charge.visit_kind, charge.visit_id = visit
    return add_automatic(session, charge)


def capture_consultation(session: Session, appointment: Appointment) -> Charge | None:
    """Charge a completed consultation by the doctor's department and grade (server only)."""
    if is_provisional(session):
        return None
    charge_id = charge_id_for("appointment", appointment.id, CONSULTATION)
    if session.get(Charge, charge_id) is not None:
        return None
    doctor = session.get(DoctorProfile, appointment.doctor_id)
    department_id = doctor.department_id if doctor else None
    item = find_item(
        session,
        CONSULTATION,
        department_id=department_id,
        doctor_grade=doctor.grade if doctor else None,
    )
    day = (appointment.completed_at or appointment.starts_at).date()
    charge = priced_charge(session, item, Decimal(1), day) if item else None
    if charge is None:
        emit(session, "charge.unpriced", appointment_id=str(appointment.id), category=CONSULTATION)
        return None
    charge.id, charge.patient_id, charge.source, charge.source_id = (
        charge_id,
        appointment.patient_id,
        "appointment",
        appointment.id,
    )
    charge.visit_kind, charge.visit_id = "appointment", appointment.id
    charge.department_id = department_id or charge.department_id
    if doctor is not None:
        charge.description = f"{charge.description} — {doctor.display_name}"
    return add_automatic(session, charge)


def priced_charge(session: Session, item: PriceItem, quantity: Decimal, day: date) -> Charge | None:
    """A charge of `quantity` x the item's price on `day` (None when it has no price then)."""
    price = price_on(session, item.id, day)
    if price is None:
        return None
    line_amounts(quantity, price.unit_price, price.tax_rate)  # refuses what money rules refuse
    return Charge(
        item_id=item.id,
        code=item.code,
        description=item.name,
        category=item.category,
        department_id=item.department_id,
        quantity=quantity,
        unit_price=price.unit_price,
        tax_rate=price.tax_rate,
        service_date=day,
        created_by=SYSTEM_USER,
    )


def add_automatic(session: Session, charge: Charge) -> Charge:
    session.add(charge)
    session.flush()
    emit(session, "charge.captured", charge_id=str(charge.id), patient_id=str(charge.patient_id))
    return charge


def charge_gross(charge: Charge) -> int:
    """A charge's amount with tax, as its invoice line will have it."""
    return line_amounts(charge.quantity, charge.unit_price, charge.tax_rate).gross
