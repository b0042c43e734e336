"""The lab bench on the cache: the worklist of open orders, each order's analytes with their
units and reference ranges for the patient, and every step (specimen collected and received,
results entered, report written, results validated, order cancelled) as a queued mutation, so
the bench works offline too.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core import catalogues
from hms_core.catalogues import RefRange
from hms_core.db import Patient
from hms_core.db.base import new_id, utcnow
from hms_core.db.clinical import (
    CANCELLED,
    STAT,
    URGENT,
    VALIDATED,
    Attachment,
    ClinicalOrder,
    Observation,
)
from hms_core.rules.lab_flags import age_days
from hms_core.services.audit import record_audit
from hms_core.services.errors import NotFound
from hms_desktop.store.cache import LocalStore

ORDER_READ = "patient.read"  # the access record of opening an order at the bench
WORKLIST_READ = "lab.worklist"  # the access record of the worklist (it names patients)
REPLACED = "cancelled"  # a result entered again before validation
PRIORITY_RANK = {STAT: 0, URGENT: 1}  # routine and anything else after them


@dataclass(frozen=True)
class WorkItem:
    """One open order on the worklist, with the patient it is for."""

    order_id: uuid.UUID
    number: str
    kind: str
    test_code: str
    test_name: str
    specimen: str
    priority: str
    status: str
    ordered_at: datetime
    ordered_by: str
    indication: str
    patient_id: uuid.UUID
    patient_name: str
    mrn: str
    birth_date: date | None
    sex: str
    resulted_by: str | None = None
    critical: bool = False
    body_site: str = ""
    collected_at: datetime | None = None

    def age_text(self, on: date | None = None) -> str:
        """The patient's age in years (months or days for infants)."""
        if self.birth_date is None:
            return ""
        days = age_days(self.birth_date, on or utcnow().date())
        if days >= 730:
            today = on or utcnow().date()
            born = self.birth_date
            return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
        return f"{days // 30} mo" if days >= 60 else f"{days} d"

    def waiting_minutes(self, now: datetime) -> int:
        """Minutes since the order was placed."""
        return max(0, int((now - self.ordered_at).total_seconds() // 60))


@dataclass(frozen=True)
class AnalyteLine:
    """One analyte of an order: its unit, the reference range for this patient, and the
    value entered so far (if any)."""

    code: str
    name: str
    unit: str
    decimals: int
    ref: RefRange | None
    numeric: bool = True
    plausible: tuple[Decimal | None, Decimal | None] = (None, None)
    value: str = ""
    flag: str = ""


@dataclass(frozen=True)
class AttachmentInfo:
    id: uuid.UUID
    file_name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class OrderDetail:
    """An order as the bench opens it: the worklist line, its analytes, report, files."""

    item: WorkItem
    analytes: list[AnalyteLine] = field(default_factory=list)
    findings: str = ""
    impression: str = ""
    attachments: list[AttachmentInfo] = field(default_factory=list)


class LocalLab:
    """The lab's orders and results on this user's cache."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self._audited: set[uuid.UUID] = set()  # orders already audited in this session
        self._worklist_audited = False

    # --- reads ------------------------------------------------------------------------------

    def worklist(self) -> list[WorkItem]:
        """Open orders (not validated, not cancelled): stat, then urgent, then routine, the
        longest waiting first within each (audited the first time this session reads it)."""

        def read(session: Session) -> list[WorkItem]:
            items = _work_items(session)
            if not self._worklist_audited:
                detail = {"rows": len(items)}
                record_audit(session, self.store.actor, WORKLIST_READ, detail=detail)
                session.flush()  # hands the record to the cache's access log
            return items

        items = self.store.read(read)
        self._worklist_audited = True
        return sorted(items, key=lambda i: (PRIORITY_RANK.get(i.priority, 2), i.ordered_at))

    def order(self, order_id: uuid.UUID) -> OrderDetail:
        """One order with its analytes and report (audited the first time it is opened)."""

        def read(session: Session) -> OrderDetail:
            detail = _order_detail(session, order_id)
            if order_id not in self._audited:
                record_audit(
                    session,
                    self.store.actor,
                    ORDER_READ,
                    patient_id=detail.item.patient_id,
                    detail={"order": detail.item.number, "view": "lab"},
                )
                session.flush()  # hands the record to the cache's access log
            return detail

        detail = self.store.read(read)
        self._audited.add(order_id)
        return detail

    # --- steps ------------------------------------------------------------------------------

    def collect_specimen(self, order_id: uuid.UUID) -> dict[str, Any]:
        return self.store.mutate("collect_specimen", _step(order_id))

    def receive_specimen(self, order_id: uuid.UUID) -> dict[str, Any]:
        return self.store.mutate("receive_specimen", _step(order_id))

    def validate_results(self, order_id: uuid.UUID) -> dict[str, Any]:
        """A second person's validation (the service refuses the one who entered them)."""
        return self.store.mutate("validate_results", _step(order_id))

    def enter_results(
        self, order_id: uuid.UUID, values: list[tuple[str, str, str]]
    ) -> dict[str, Any]:
        """Results as (analyte code, value as typed, unit)."""
        results = [
            {"id": str(new_id()), "analyte": code, "value": value, "unit": unit}
            for code, value, unit in values
        ]
        args = {"order_id": str(order_id), "results": results, "at": _now()}
        return self.store.mutate("enter_results", args)

    def enter_imaging_report(
        self, order_id: uuid.UUID, findings: str, impression: str
    ) -> dict[str, Any]:
        args = {
            "order_id": str(order_id),
            "findings": findings,
            "impression": impression,
            "at": _now(),
        }
        return self.store.mutate("enter_imaging_report", args)

    def cancel_order(self, order_id: uuid.UUID, reason: str) -> dict[str, Any]:
        args = {"order_id": str(order_id), "reason": reason, "at": _now()}
        return self.store.mutate("cancel_order", args)


def _work_items(session: Session) -> list[WorkItem]:
    rows = session.execute(
        select(ClinicalOrder, Patient)
        .join(Patient, Patient.id == ClinicalOrder.patient_id)
        .where(
            ClinicalOrder.status.not_in((VALIDATED, CANCELLED)),
            ClinicalOrder.deleted_at.is_(None),
        )
    ).all()
    return [_item(order, patient) for order, patient in rows]


def _item(order: ClinicalOrder, patient: Patient) -> WorkItem:
    return WorkItem(
        order_id=order.id,
        number=order.number,
        kind=order.kind,
        test_code=order.test_code,
        test_name=order.test_name,
        specimen=order.specimen,
        priority=order.priority,
        status=order.status,
        ordered_at=_aware(order.ordered_at),
        ordered_by=order.ordered_by,
        indication=order.indication,
        patient_id=patient.id,
        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
        mrn=patient.mrn,
        birth_date=patient.birth_date,
        sex=patient.sex,
        resulted_by=order.resulted_by,
        critical=bool(order.critical),
        body_site=order.body_site,
        collected_at=_aware(order.collected_at) if order.collected_at else None,
    )


def _order_detail(session: Session, order_id: uuid.UUID) -> OrderDetail:
    order = session.get(ClinicalOrder, order_id)
    if order is None:
        raise NotFound("That order is not on this computer yet.")
    patient = session.get(Patient, order.patient_id)
    assert patient is not None
    item = _item(order, patient)
    files = session.execute(
        select(Attachment)
        .where(Attachment.order_id == order_id, Attachment.deleted_at.is_(None))
        .order_by(Attachment.uploaded_at)
    ).scalars()
    attachments = [AttachmentInfo(a.id, a.file_name, a.content_type, a.size) for a in files]
    return OrderDetail(
        item=item,
        analytes=_analytes(session, order, patient),
        findings=order.findings,
        impression=order.impression,
        attachments=attachments,
    )


def _analytes(session: Session, order: ClinicalOrder, patient: Patient) -> list[AnalyteLine]:
    test = catalogues.lab_test(order.test_code) if order.kind == "lab" else None
    if test is None:
        return []
    entered = _entered(session, order.id)
    days = age_days(patient.birth_date, order.ordered_at.date())
    lines = []
    for analyte in test.analytes:
        ref = catalogues.reference_range(analyte, patient.sex, days)
        seen = entered.get(analyte.code)
        value = flag = ""
        if seen is not None:
            value = seen.value_text or (str(seen.value_num) if seen.value_num is not None else "")
            flag = seen.flag
        lines.append(
            AnalyteLine(
                code=analyte.code,
                name=analyte.name,
                unit=analyte.unit,
                decimals=analyte.decimals,
                ref=ref,
                numeric=getattr(analyte, "value_type", "numeric") != "text",
                plausible=(
                    getattr(analyte, "plausible_low", None),
                    getattr(analyte, "plausible_high", None),
                ),
                value=value,
                flag=flag,
            )
        )
    return lines


def _entered(session: Session, order_id: uuid.UUID) -> dict[str, Observation]:
    """The latest result of each analyte of the order."""
    found = session.execute(
        select(Observation)
        .where(
            Observation.order_id == order_id,
            Observation.status != REPLACED,
            Observation.deleted_at.is_(None),
        )
        .order_by(Observation.created_at, Observation.id)
    ).scalars()
    return {o.code: o for o in found}


def _aware(moment: datetime) -> datetime:
    """SQLite hands times back without their zone; they are stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _step(order_id: uuid.UUID) -> dict[str, Any]:
    return {"order_id": str(order_id), "at": _now()}


def _now() -> str:
    return utcnow().isoformat()
