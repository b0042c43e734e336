"""The orders' named mutations (lab and imaging, from the order to the doctor's
acknowledgement): each wraps a service and returns what the desktop shows of the order."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from hms_core.db.clinical import ClinicalOrder
from hms_core.schemas import clinical as wire
from hms_core.services.actor import Actor
from hms_core.services.clinical import orders, results

Run = Callable[[Session, Actor, Any], dict[str, Any]]


def _order(service: Callable[[Session, Actor, Any], ClinicalOrder]) -> Run:
    """A mutation returning the order's id, number, status and whether it is critical."""

    def run(session: Session, actor: Actor, args: BaseModel) -> dict[str, Any]:
        order = service(session, actor, args)
        return {
            "id": str(order.id),
            "row_version": order.row_version,
            "number": order.number,
            "status": order.status,
            "critical": order.critical,
        }

    return run


ORDER_MUTATIONS: list[tuple[str, type[BaseModel], Run]] = [
    ("place_order", wire.PlaceOrder, _order(orders.place_order)),
    ("cancel_order", wire.CancelOrder, _order(orders.cancel_order)),
    ("collect_specimen", wire.OrderStep, _order(orders.collect_specimen)),
    ("receive_specimen", wire.OrderStep, _order(orders.receive_specimen)),
    ("enter_results", wire.EnterResults, _order(results.enter_results)),
    ("enter_imaging_report", wire.ImagingReport, _order(results.enter_imaging_report)),
    ("validate_results", wire.OrderStep, _order(results.validate_results)),
    ("acknowledge_result", wire.AcknowledgeResult, _order(results.acknowledge_result)),
]
