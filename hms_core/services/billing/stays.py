"""A stay's bed-days: charged at discharge, or up to a day while the patient is still in
(an interim bill), by the ward's class, each day at the price of its day. Days already charged
are never charged again, so an interim charge and the discharge add up to the stay.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db import Admission, Bed, Ward
from hms_core.db.billing import BED_DAY, Charge, PriceItem
from hms_core.rbac import Perm
from hms_core.schemas.billing import ChargeStayToDate
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.charges import add_automatic, charge_id_for, priced_charge
from hms_core.services.billing.prices import find_item, price_on
from hms_core.services.errors import InvalidData
from hms_core.services.patients import active_patient
from hms_core.services.unit import emit, is_provisional


def capture_bed_days(
    session: Session, admission: Admission, through: date | None = None
) -> list[Charge]:
    """Charge the stay's uncharged nights up to `through` (at discharge: the whole stay, at
    least one day). Server only: a desk's cache has neither the ward nor the last word."""
    if is_provisional(session):
        return []
    days = _nights(admission, through)
    if not days:
        return []
    bed = session.get(Bed, admission.bed_id)
    ward = session.get(Ward, bed.ward_id) if bed else None
    item = find_item(session, BED_DAY, ward_class=ward.ward_class if ward else None)
    if item is None:
        emit(session, "charge.unpriced", admission_id=str(admission.id), category=BED_DAY)
        return []
    made = []
    charged = _charged_days(session, admission)
    for first, count in _price_runs(session, item, [d for d in days if d not in charged]):
        charge = _bed_day_charge(session, admission, ward, item, first, count)
        if charge is not None:
            made.append(charge)
    return made


def charge_stay_to_date(session: Session, actor: Actor, args: ChargeStayToDate) -> list[Charge]:
    """An interim bill: the admitted patient's bed-days so far (charged by the server)."""
    actor.require(Perm.CHARGE_MANAGE)
    patient = active_patient(session, args.patient_id)
    if is_provisional(session):
        return []  # the desk does not hold admissions; the server charges at sync
    admission = _open_admission(session, patient.id)
    if admission is None:
        raise InvalidData(
            f"{patient.given_name} {patient.family_name} is not admitted now: bed-days are "
            "charged at discharge.",
            fields={"patient_id": "Not admitted"},
        )
    made = capture_bed_days(session, admission, args.through)
    record_audit(
        session,
        actor,
        "charge.bed_days",
        patient_id=patient.id,
        detail={"admission_id": str(admission.id), "through": args.through.isoformat(),
                "charges": len(made)},
    )  # fmt: skip
    return made


def _open_admission(session: Session, patient_id: uuid.UUID) -> Admission | None:
    query = select(Admission).where(
        Admission.patient_id == patient_id,
        Admission.discharged_at.is_(None),
        Admission.deleted_at.is_(None),
    )
    return session.execute(query).scalars().first()


def bed_days(admitted: date, discharged: date) -> list[date]:
    """The nights of a stay (at least one day: admitted and discharged the same day)."""
    nights = max((discharged - admitted).days, 1)
    return [admitted + timedelta(days=i) for i in range(nights)]


def _nights(admission: Admission, through: date | None) -> list[date]:
    admitted = admission.admitted_at.date()
    if admission.discharged_at is not None:
        end = admission.discharged_at.date()
        return bed_days(admitted, end if through is None else min(end, through))
    if through is None:
        return []
    return [admitted + timedelta(days=i) for i in range((through - admitted).days)]


def _charged_days(session: Session, admission: Admission) -> set[date]:
    """The days the stay's bed-day charges already cover (voided ones included: a day taken
    back on purpose is not charged again)."""
    rows = session.execute(
        select(Charge).where(
            Charge.source == "admission",
            Charge.source_id == admission.id,
            Charge.category == BED_DAY,
        )
    ).scalars()
    return {row.service_date + timedelta(days=i) for row in rows for i in range(int(row.quantity))}


def _price_runs(session: Session, item: PriceItem, days: list[date]) -> list[tuple[date, int]]:
    """Consecutive days that share one price: (first day, number of days)."""
    runs: list[tuple[date, int]] = []
    last: tuple[date, object] | None = None
    for day in days:
        price = price_on(session, item.id, day)
        key = price.id if price else None
        if last is not None and last == (day - timedelta(days=1), key):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((day, 1))
        last = (day, key)
    return runs


def _bed_day_charge(
    session: Session,
    admission: Admission,
    ward: Ward | None,
    item: PriceItem,
    first: date,
    count: int,
) -> Charge | None:
    charge_id = charge_id_for("admission", admission.id, f"{BED_DAY}:{first.isoformat()}")
    if session.get(Charge, charge_id) is not None:
        return None
    charge = priced_charge(session, item, Decimal(count), first)
    if charge is None:
        return None
    charge.id, charge.patient_id = charge_id, admission.patient_id
    charge.source, charge.source_id = "admission", admission.id
    charge.visit_kind, charge.visit_id = "admission", admission.id
    charge.department_id = ward.department_id if ward else None
    if ward is not None:
        charge.description = f"{charge.description} — {ward.name}"
    return add_automatic(session, charge)
