"""Invoice numbers under load on real PostgreSQL: many desks finalising at once get one
unbroken yearly sequence, even when some of their transactions roll back."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from sqlalchemy import select

from hms_core.db import Invoice
from hms_core.db.base import new_id
from hms_core.schemas import billing as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.billing import charges, invoices
from hms_core.services.patients import register_patient
from tests.billing import priced_item

CLERK = Actor(None, "clerk", "billing")
DRAFTS = 24


def drafts(db) -> list:  # noqa: ANN001
    """DRAFTS one-line drafts of one patient."""
    with db.unit_of_work() as session:
        item_id = priced_item(session, "LAB-CBC", "lab", 1800)
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Ada", family_name="Count", birth_date="1980-01-01", sex="female"
            ),
        )
        made = []
        for _ in range(DRAFTS):
            charge = charges.add_charge(
                session,
                CLERK,
                wire.AddCharge(
                    id=new_id(),
                    patient_id=patient.id,
                    item_id=item_id,
                    service_date=date.today(),
                    reason="Ordered by the ward",
                ),
            )
            draft = invoices.create_draft(
                session,
                CLERK,
                wire.CreateDraftInvoice(
                    id=new_id(),
                    patient_id=patient.id,
                    charge_ids=[charge.id],
                    currency="USD",
                    at=datetime.now(UTC),
                ),
            )
            made.append(draft.id)
        return made


class Dropped(Exception):
    """A desk's transaction that fails after taking its number."""


def test_concurrent_finalisations_leave_no_gaps(db):  # noqa: ANN001
    ids = drafts(db)
    failures = threading.Lock()
    failed: list = []

    def finalise(n_and_id: tuple[int, object]) -> None:
        n, invoice_id = n_and_id
        try:
            with db.unit_of_work() as session:
                invoices.finalise(
                    session, CLERK, wire.InvoiceRef(invoice_id=invoice_id, at=datetime.now(UTC))
                )
                if n % 5 == 0:
                    raise Dropped  # the number it took goes back
        except Dropped:
            with failures:
                failed.append(invoice_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(finalise, enumerate(ids)))
    for invoice_id in failed:  # the desks try again
        finalise((1, invoice_id))
    year = datetime.now(UTC).year
    with db.unit_of_work() as session:
        numbers = sorted(session.execute(select(Invoice.number)).scalars())
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, DRAFTS + 1)]
