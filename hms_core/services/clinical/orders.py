"""Lab and imaging orders, from the doctor's order to the specimen in the lab.

A lab order walks ordered → collected (specimen taken) → received (in the lab) → resulted →
validated. An imaging study has no specimen: it is never "collected", and "received" means
the patient arrived in imaging (receive_specimen on an ordered study). An order is cancelled
only before it has results.

Every step is replay-safe: running it again for an order already at or past that step returns
the order unchanged, so a desktop's outbox can be pushed twice.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from hms_core import catalogues
from hms_core.db.clinical import (
    CANCELLED,
    COLLECTED,
    IMAGING,
    LAB,
    ORDERED,
    RECEIVED,
    RESULTED,
    VALIDATED,
    ClinicalOrder,
)
from hms_core.rbac import Perm
from hms_core.schemas.clinical import CancelOrder, OrderStep, PlaceOrder
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import check_not_ahead, get_row, touch
from hms_core.services.clinical.encounters import check_encounter
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.patients import active_patient

# How far along each status is (a cancelled order is off the path).
PROGRESS = {ORDERED: 0, COLLECTED: 1, RECEIVED: 2, RESULTED: 3, VALIDATED: 4}


def order_number(order_id: uuid.UUID, at: datetime) -> str:
    """'ORD-20261206-3F9A0C': the day ordered and the random tail of the order's UUIDv7, so a
    ward PC prints the specimen label offline and the server keeps the same number."""
    return f"ORD-{at.astimezone(UTC):%Y%m%d}-{order_id.hex[-6:].upper()}"


def place_order(session: Session, actor: Actor, args: PlaceOrder) -> ClinicalOrder:
    """A lab test or imaging study from the catalogue, with its indication and priority."""
    actor.require(Perm.ORDER_PLACE)
    existing = session.get(ClinicalOrder, args.id)
    if existing is not None:
        return existing  # a replay
    patient = active_patient(session, args.patient_id)
    check_encounter(session, args.encounter_id, patient)
    check_not_ahead(args.at, "at", "The time of the order")
    catalogued = _from_catalogue(args)
    at = args.at.astimezone(UTC)
    order = ClinicalOrder(
        id=args.id,
        number=order_number(args.id, at),
        patient_id=patient.id,
        encounter_id=args.encounter_id,
        kind=args.kind,
        indication=args.indication,
        priority=args.priority,
        status=ORDERED,
        ordered_by=actor.username,
        ordered_at=at,
        **catalogued,
    )
    session.add(order)
    session.flush()
    audit_order(session, actor, "order.place", order, test=order.test_code, priority=order.priority)
    return order


def cancel_order(session: Session, actor: Actor, args: CancelOrder) -> ClinicalOrder:
    """Withdraw an order that has no results yet, with the reason."""
    actor.require_any(Perm.ORDER_PLACE, Perm.LAB_WORK)
    order = load_order(session, args.order_id)
    if order.status == CANCELLED:
        return order  # a replay
    if PROGRESS[order.status] >= PROGRESS[RESULTED]:
        raise Conflict(
            f"Order {order.number} already has results; it can no longer be cancelled.",
            fields={"order_id": "Has results"},
        )
    order.status = CANCELLED
    order.cancelled_reason = args.reason
    touch(order)
    audit_order(session, actor, "order.cancel", order, reason=args.reason)
    return order


def collect_specimen(session: Session, actor: Actor, args: OrderStep) -> ClinicalOrder:
    """The specimen of a lab order was taken from the patient."""
    actor.require(Perm.LAB_WORK)
    order = load_order(session, args.order_id)
    if order.kind == IMAGING:
        raise InvalidData(
            f"{order.test_name} is an imaging study: there is no specimen to collect. "
            "Mark the patient as arrived instead.",
            fields={"order_id": "Imaging study"},
        )
    if _done(order, COLLECTED):
        return order
    _expect(order, ORDERED, "collected")
    order.status = COLLECTED
    order.collected_by, order.collected_at = actor.username, args.at.astimezone(UTC)
    touch(order)
    audit_order(session, actor, "order.collect", order)
    return order


def receive_specimen(session: Session, actor: Actor, args: OrderStep) -> ClinicalOrder:
    """A lab order's specimen reached the lab (it must have been collected), or the patient
    of an imaging study arrived in imaging."""
    actor.require(Perm.LAB_WORK)
    order = load_order(session, args.order_id)
    if _done(order, RECEIVED):
        return order
    if order.kind == LAB:
        _expect(order, COLLECTED, "received")
    else:
        _expect(order, ORDERED, "marked as arrived")
    order.status = RECEIVED
    order.received_by, order.received_at = actor.username, args.at.astimezone(UTC)
    touch(order)
    audit_order(session, actor, "order.receive", order)
    return order


def load_order(session: Session, order_id: uuid.UUID) -> ClinicalOrder:
    """The live order with this id, or NotFound in plain words."""
    return get_row(session, ClinicalOrder, order_id, "This order does not exist.", "order_id")


def refuse_cancelled(order: ClinicalOrder) -> None:
    """Nothing more happens to a cancelled order."""
    if order.status == CANCELLED:
        reason = f" ({order.cancelled_reason})" if order.cancelled_reason else ""
        raise Conflict(
            f"Order {order.number} was cancelled{reason}.", fields={"order_id": "Cancelled"}
        )


def _from_catalogue(args: PlaceOrder) -> dict[str, str]:
    """The test's name and codes from the lab or imaging catalogue; unknown codes refused."""
    if args.kind == LAB:
        test = catalogues.lab_test(args.test_code)
        if test is None:
            raise InvalidData(
                f"There is no lab test with the code {args.test_code} in the catalogue.",
                fields={"test_code": "Unknown test"},
            )
        return {
            "test_code": test.code,
            "test_name": test.name,
            "loinc": test.loinc,
            "specimen": test.specimen,
        }
    study = catalogues.imaging_study(args.test_code)
    if study is None:
        raise InvalidData(
            f"There is no imaging study with the code {args.test_code} in the catalogue.",
            fields={"test_code": "Unknown study"},
        )
    return {
        "test_code": study.code,
        "test_name": study.name,
        "modality": study.modality,
        "body_site": args.body_site or study.body_site,
    }


def _done(order: ClinicalOrder, step: str) -> bool:
    """True when the order already reached `step` (a replay changes nothing)."""
    refuse_cancelled(order)
    return PROGRESS[order.status] >= PROGRESS[step]


def _expect(order: ClinicalOrder, status: str, doing: str) -> None:
    if order.status != status:
        raise Conflict(
            f"Order {order.number} is {order.status}; it cannot be {doing} now.",
            fields={"order_id": f"Order {order.status}"},
        )


def audit_order(
    session: Session, actor: Actor, action: str, order: ClinicalOrder, **detail: object
) -> None:
    """An audit event naming the order and its patient."""
    record_audit(
        session,
        actor,
        action,
        patient_id=order.patient_id,
        detail={"order_id": str(order.id), "number": order.number, **detail},
    )
