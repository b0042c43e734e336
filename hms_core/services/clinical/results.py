"""Results: entered per analyte by the lab, validated by a second person, acknowledged by the
doctor who ordered them.

Each value is checked against the lab catalogue before anything is written: the analyte must
belong to the ordered test, the unit must be the catalogue's, a number must be a number and
possible. Values are flagged against the reference range for the patient's sex and age on
the day of the result (N, L, H, and LL/HH for critical values).

Results stay `preliminary` until validated, then become `final`. Entering an analyte again
before validation replaces its preliminary row: the new row names the one it amends
(`amends_id`) and the old one is marked `cancelled`, so an order's current results are its
rows that are not cancelled.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core import catalogues
from hms_core.db.clinical import (
    CRITICAL_HIGH,
    CRITICAL_LOW,
    IMAGING,
    RECEIVED,
    RESULTED,
    VALIDATED,
    CarePlan,
    ClinicalOrder,
    Observation,
)
from hms_core.db.patients import Patient
from hms_core.rbac import Perm
from hms_core.rules.lab_flags import age_days, flag
from hms_core.schemas.clinical import (
    AcknowledgeResult,
    EnterResults,
    ImagingReport,
    OrderStep,
    UpdateCarePlan,
)
from hms_core.services.actor import Actor
from hms_core.services.clinical import touch
from hms_core.services.clinical.care_plans import update_care_plan
from hms_core.services.clinical.orders import audit_order, load_order, refuse_cancelled
from hms_core.services.errors import Conflict, InvalidData
from hms_core.services.unit import emit

LOINC = "http://loinc.org"
PRELIMINARY, FINAL, REPLACED = "preliminary", "final", "cancelled"


@dataclass(frozen=True)
class _Checked:
    """One entered value, checked against its analyte."""

    id: uuid.UUID
    analyte: catalogues.Analyte
    number: Decimal | None
    text: str


def enter_results(session: Session, actor: Actor, args: EnterResults) -> ClinicalOrder:
    """The lab's values for a received specimen (or corrections before validation), flagged."""
    actor.require(Perm.LAB_WORK)
    order = load_order(session, args.order_id)
    refuse_cancelled(order)
    if all(session.get(Observation, r.id) is not None for r in args.results):
        return order  # a replay
    if order.kind == IMAGING:
        raise InvalidData(
            f"{order.test_name} is an imaging study: write its report instead.",
            fields={"order_id": "Imaging study"},
        )
    _check_enterable(order)
    checked = _check_values(order, args)
    patient = session.get(Patient, order.patient_id)
    at = args.at.astimezone(UTC)
    previous = {o.code: o for o in current_observations(session, order.id)}
    for value in checked:
        replaced = previous.get(value.analyte.code)
        if replaced is not None:
            replaced.status = REPLACED
            touch(replaced)
        session.add(_observation(order, patient, value, actor, at, replaced))
    session.flush()
    order.status, order.resulted_by, order.resulted_at = RESULTED, actor.username, at
    order.critical = any(
        o.flag in (CRITICAL_LOW, CRITICAL_HIGH) for o in current_observations(session, order.id)
    )
    touch(order)
    analytes = [v.analyte.code for v in checked]
    audit_order(session, actor, "result.enter", order, analytes=analytes, critical=order.critical)
    return order


def enter_imaging_report(session: Session, actor: Actor, args: ImagingReport) -> ClinicalOrder:
    """The findings and impression of an imaging study whose patient has arrived."""
    actor.require(Perm.LAB_WORK)
    order = load_order(session, args.order_id)
    refuse_cancelled(order)
    if order.kind != IMAGING:
        raise InvalidData(
            f"{order.test_name} is a lab test: enter its results per analyte.",
            fields={"order_id": "Lab test"},
        )
    if order.status == RESULTED and (order.findings, order.impression) == (
        args.findings,
        args.impression,
    ):
        return order  # a replay
    _check_enterable(order)
    at = args.at.astimezone(UTC)
    order.findings, order.impression = args.findings, args.impression
    order.status, order.resulted_by, order.resulted_at = RESULTED, actor.username, at
    touch(order)
    audit_order(session, actor, "result.report", order)
    return order


def validate_results(session: Session, actor: Actor, args: OrderStep) -> ClinicalOrder:
    """A second person releases the results: they become final and the doctor is told."""
    actor.require(Perm.LAB_VALIDATE)
    order = load_order(session, args.order_id)
    refuse_cancelled(order)
    if order.status == VALIDATED:
        return order  # a replay
    if order.status != RESULTED:
        raise Conflict(
            f"Order {order.number} has no results to validate yet.",
            fields={"order_id": f"Order {order.status}"},
        )
    observations = current_observations(session, order.id)
    if actor.username in {order.resulted_by, *(o.entered_by for o in observations)}:
        raise Conflict(
            "A second person validates: you entered these results.",
            fields={"order_id": "Entered by you"},
        )
    for observation in observations:
        observation.status = FINAL
        touch(observation)
    order.status = VALIDATED
    order.validated_by, order.validated_at = actor.username, args.at.astimezone(UTC)
    touch(order)
    audit_order(session, actor, "result.validate", order, critical=order.critical)
    emit(session, "result.validated", order_id=str(order.id), critical=order.critical)
    return order


def acknowledge_result(session: Session, actor: Actor, args: AcknowledgeResult) -> ClinicalOrder:
    """The doctor read a validated result: their interpretation, and the plan updated if given."""
    actor.require(Perm.RESULT_REVIEW)
    order = load_order(session, args.order_id)
    if order.acknowledged_at is not None:
        return order  # a replay
    if order.status != VALIDATED:
        raise Conflict(
            f"The result of order {order.number} is not validated yet; acknowledge it once "
            "the lab has validated it.",
            fields={"order_id": f"Order {order.status}"},
        )
    if args.plan and args.plan_id is None:
        raise InvalidData("A new plan needs its id.", fields={"plan_id": "Required"})
    plan = _plan_version(session, actor, order, args) if args.plan else None
    order.acknowledged_by, order.acknowledged_at = actor.username, args.at.astimezone(UTC)
    order.interpretation = args.interpretation
    touch(order)
    audit_order(
        session,
        actor,
        "result.acknowledge",
        order,
        plan_id=str(plan.id) if plan is not None else None,
    )
    return order


def unacknowledged(session: Session, ordered_by: str | None = None) -> list[ClinicalOrder]:
    """Validated results no doctor has acknowledged yet (critical first, then oldest first),
    of one doctor's orders when `ordered_by` is given."""
    query = select(ClinicalOrder).where(
        ClinicalOrder.status == VALIDATED,
        ClinicalOrder.acknowledged_at.is_(None),
        ClinicalOrder.deleted_at.is_(None),
    )
    if ordered_by is not None:
        query = query.where(ClinicalOrder.ordered_by == ordered_by)
    query = query.order_by(ClinicalOrder.critical.desc(), ClinicalOrder.validated_at)
    return list(session.scalars(query))


def current_observations(session: Session, order_id: uuid.UUID) -> list[Observation]:
    """An order's results as they stand (rows replaced by a re-entry left out)."""
    query = select(Observation).where(
        Observation.order_id == order_id,
        Observation.status != REPLACED,
        Observation.deleted_at.is_(None),
    )
    return list(session.scalars(query.order_by(Observation.created_at, Observation.id)))


def _check_enterable(order: ClinicalOrder) -> None:
    if order.status == VALIDATED:
        raise Conflict(
            f"The results of order {order.number} are already validated.",
            fields={"order_id": "Validated"},
        )
    if order.status not in (RECEIVED, RESULTED):
        what = "specimen has" if order.kind != IMAGING else "patient has"
        raise Conflict(
            f"Order {order.number} is {order.status}: its {what} not reached us yet.",
            fields={"order_id": f"Order {order.status}"},
        )


def _check_values(order: ClinicalOrder, args: EnterResults) -> list[_Checked]:
    """Every value checked before anything is written; the first problem refuses them all."""
    test = catalogues.lab_test(order.test_code)
    if test is None:
        raise InvalidData(
            f"The test {order.test_code} is no longer in the lab catalogue.",
            fields={"order_id": "Unknown test"},
        )
    by_code = {a.code: a for a in test.analytes}
    checked: list[_Checked] = []
    for index, entry in enumerate(args.results):
        field = f"results.{index}"
        analyte = by_code.get(entry.analyte)
        if analyte is None:
            raise InvalidData(
                f"{entry.analyte} is not a result of {test.name}.",
                fields={f"{field}.analyte": "Not part of this test"},
            )
        if any(c.analyte.code == analyte.code for c in checked):
            raise InvalidData(
                f"{analyte.name} is entered twice.", fields={f"{field}.analyte": "Twice"}
            )
        checked.append(_check_value(entry.id, analyte, entry.value, entry.unit, field))
    return checked


def _check_value(
    row_id: uuid.UUID, analyte: catalogues.Analyte, raw: str, unit: str, field: str
) -> _Checked:
    if not _numeric(analyte):
        return _Checked(row_id, analyte, None, raw)
    if unit and unit.casefold() != analyte.unit.casefold():
        raise InvalidData(
            f"{analyte.name} is reported in {analyte.unit}, not {unit}.",
            fields={f"{field}.unit": f"Use {analyte.unit}"},
        )
    number = _number(raw)
    if number is None:
        raise InvalidData(
            f"“{raw}” is not a number for {analyte.name}.",
            fields={f"{field}.value": "Not a number"},
        )
    _check_possible(analyte, number, field)
    return _Checked(row_id, analyte, number, "")


def _numeric(analyte: catalogues.Analyte) -> bool:
    """Numbers are checked and flagged; a text result (a culture, a comment) is kept as typed."""
    return analyte.value_type != "text"


def _number(raw: str) -> Decimal | None:
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_possible(analyte: catalogues.Analyte, number: Decimal, field: str) -> None:
    """Refuse values no patient can have: outside the catalogue's plausible values (a typing
    error, such as a missing decimal point)."""
    low, high = analyte.plausible_low, analyte.plausible_high
    if (low is not None and number < low) or (high is not None and number > high):
        unit = f" {analyte.unit}" if analyte.unit else ""
        raise InvalidData(
            f"{analyte.name} of {number}{unit} is not possible (expected {low} to {high}{unit}). "
            "Please check the value.",
            fields={f"{field}.value": "Impossible value"},
        )


def _observation(
    order: ClinicalOrder,
    patient: Patient | None,
    value: _Checked,
    actor: Actor,
    at: datetime,
    replaced: Observation | None,
) -> Observation:
    analyte = value.analyte
    ref = None
    if value.number is not None and patient is not None:
        ref = catalogues.reference_range(
            analyte, patient.sex, age_days(patient.birth_date, at.date())
        )
    return Observation(
        id=value.id,
        patient_id=order.patient_id,
        order_id=order.id,
        encounter_id=order.encounter_id,
        category="laboratory",
        code_system=LOINC,
        code=analyte.code,
        display=analyte.name,
        effective_at=order.collected_at or at,
        value_num=value.number,
        value_text=value.text,
        unit=analyte.unit if value.number is not None else "",
        ref_low=ref.low if ref is not None else None,
        ref_high=ref.high if ref is not None else None,
        flag=flag(value.number, ref) if value.number is not None else "",
        status=PRELIMINARY,
        entered_by=actor.username,
        amends_id=replaced.id if replaced is not None else None,
    )


def _plan_version(
    session: Session, actor: Actor, order: ClinicalOrder, args: AcknowledgeResult
) -> CarePlan:
    """The next version of the patient's treatment plan, written after this result."""
    assert args.plan_id is not None
    change = UpdateCarePlan(
        id=args.plan_id,
        patient_id=order.patient_id,
        encounter_id=order.encounter_id,
        text=args.plan,
        reason=f"After the {order.test_name} result ({order.number})"[:500],
        at=args.at,
    )
    return update_care_plan(session, actor, change)
