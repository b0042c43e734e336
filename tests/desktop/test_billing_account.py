"""The billing desk's Account tab against a live server and a real desktop cache: a patient's
unbilled charges become a draft, then a final invoice (numbered by the server, "pending sync"
while offline); a payment above the balance is refused in plain words and nothing is saved; a
payment prints its receipt at once and the balance follows; a reprint is marked as a copy."""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from hms_core.db import AuditEvent, Invoice, Payment
from hms_core.db.base import new_id
from hms_core.schemas import billing as wire
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.billing import charges, insurance, prices
from hms_core.services.patients import register_patient
from hms_desktop.workspaces.billing import models
from hms_desktop.workspaces.billing.account_panel import AccountPanel
from hms_desktop.workspaces.billing.claim_dialogs import AddPolicyDialog, UpdateClaimDialog
from hms_desktop.workspaces.billing.dialogs import (
    AddChargeDialog,
    CreateInvoiceDialog,
    CreditNoteDialog,
)
from hms_desktop.workspaces.billing.payment_dialog import RefundDialog, TakePaymentDialog
from hms_desktop.workspaces.billing.workspace import BillingWorkspace
from hms_server.app import create_app
from tests.conftest import RestartableServer, free_port
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in
from tests.desktop.test_pdf_preview import has_text

WAIT = SIGN_IN_TIMEOUT_MS
CASHIER = Actor(None, "test-cashier", "billing")
TODAY = datetime.now(UTC).date()


@dataclass
class Seeded:
    patient: uuid.UUID
    mrn: str


@pytest.fixture
def server(live_server) -> Iterator[RestartableServer]:  # noqa: ANN001
    """The test's database on a port the test may stop (offline) and start again."""
    running = RestartableServer(create_app(live_server.settings, live_server.db), free_port())
    running.start()
    yield running
    running.stop()


def _item(session, code: str, name: str, category: str, price: int, tax: str = "0") -> uuid.UUID:  # noqa: ANN001
    item = prices.save_price_item(
        session,
        SYSTEM,
        wire.SavePriceItem(id=new_id(), code=code, name=name, category=category),
    )
    start = TODAY - timedelta(days=30)
    prices.set_price(
        session,
        SYSTEM,
        wire.SetPrice(
            id=new_id(),
            item_id=item.id,
            valid_from=start,
            unit_price=price,
            tax_rate=Decimal(tax),
            today=start,
        ),
    )
    return item.id


def seed_account(db) -> Seeded:  # noqa: ANN001
    """Jane Doe with an X-ray (15% tax) and a blood count unbilled; her policy covers lab
    tests with a 20% co-payment."""
    with db.unit_of_work() as session:
        patient = register_patient(
            session,
            SYSTEM,
            PatientCreate(
                given_name="Jane", family_name="Doe", birth_date=date(1980, 5, 4), sex="female"
            ),
        )
        xray = _item(session, "XRAY-CH", "Chest X-ray", "imaging", 4000, "15")
        cbc = _item(session, "LAB-CBC", "Full blood count", "lab", 1250)
        _item(session, "DRESS", "Wound dressing", "procedure", 800)
        payer = prices.save_payer(
            session, SYSTEM, wire.SavePayer(id=new_id(), code="ACME", name="Acme Health")
        )
        insurance.add_policy(
            session,
            CASHIER,
            wire.AddPolicy(
                id=new_id(),
                patient_id=patient.id,
                payer_id=payer.id,
                policy_number="ACM-778812",
                valid_from=TODAY - timedelta(days=90),
                covered_categories=["lab"],
                copay_percent=Decimal(20),
            ),
        )
        for item_id, reason in ((xray, "Chest X-ray at the emergency desk"), (cbc, "Blood count")):
            charges.add_charge(
                session,
                CASHIER,
                wire.AddCharge(
                    id=new_id(),
                    patient_id=patient.id,
                    item_id=item_id,
                    service_date=TODAY,
                    reason=reason,
                ),
            )
        return Seeded(patient.id, patient.mrn)


def open_account(qtbot, window, seeded: Seeded, search: str = "") -> AccountPanel:  # noqa: ANN001
    """The Billing workspace in front, on the seeded patient's account: opened directly, or
    found by typing in the account's own search box ("panel") or the global one ("global")."""
    assert "Billing" in window.rail_titles()
    workspace = window.workspaces["billing"]
    assert isinstance(workspace, BillingWorkspace)
    window.show_workspace("billing")
    panel = workspace.account
    if not search:
        workspace.open_patient(seeded.patient)
    else:
        box = panel.search_box if search == "panel" else window.search_box
        with qtbot.waitSignal(box.results_shown, timeout=WAIT):
            box.setText("doe jan")
            box.search_now()
        qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.charges_model.rowCount() == 2, timeout=WAIT)
    store = window.ctx.sync.store
    qtbot.waitUntil(lambda: store.get_state("hospital_profile") is not None, timeout=WAIT)
    return panel


def go_offline(qtbot, window, server: RestartableServer) -> None:  # noqa: ANN001
    server.stop()
    window.sync_indicator.sync_button.click()
    qtbot.waitUntil(lambda: window.server_status.online is False, timeout=WAIT)


def cell(model, row: int, column: int) -> str:  # noqa: ANN001
    return model.data(model.index(row, column))


def payments_on_server(db) -> list[Payment]:  # noqa: ANN001
    with db.unit_of_work() as session:
        return list(session.execute(select(Payment)).scalars())


def test_cashier_invoices_offline_takes_payment_and_the_number_arrives_with_sync(
    qtbot, controller, live_server, server, tmp_path
):
    seeded = seed_account(live_server.db)
    window = sign_in(qtbot, controller, server.url, server.users["billing"])
    window.resize(1440, 900)
    panel = open_account(qtbot, window, seeded)
    assert "DOE, Jane" in panel.header.name_label.text()
    assert panel.header.mrn_label.text() == seeded.mrn
    assert "Acme Health · ACM-778812 · 20% co-pay" in panel.header.policies_label.text()
    assert panel.header.balance_label.text().startswith("Settled")
    assert panel.charges.total_label.text() == "USD 58.50"  # 46.00 with tax + 12.50

    go_offline(qtbot, window, server)

    # the unbilled charges become a draft, split for the lab cover
    panel.create_invoice_button.click()
    dialog = panel.actions.dialog
    assert isinstance(dialog, CreateInvoiceDialog)
    assert dialog.policy_combo.currentText() == "Acme Health · ACM-778812"
    assert "2 charges, USD 58.50" in dialog.total_label.text()
    assert dialog.grab().save(str(shots_dir(tmp_path) / "billing_create_invoice.png"))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.invoices_model.rowCount() == 1, timeout=WAIT)
    assert panel.charges_model.rowCount() == 0
    draft = panel.invoices_model.record(0)
    assert (draft.status, draft.gross, draft.patient_share, draft.payer_share) == (
        "draft",
        5850,
        4850,  # the X-ray in full, 20% of the blood count
        1000,
    )
    assert "Draft invoice created" in panel.notice.text()
    qtbot.waitUntil(lambda: panel.selected_invoice() is not None, timeout=WAIT)
    assert not panel.print_invoice_button.isEnabled()  # a draft is not a bill

    # finalised offline: final, its number pending until the server gives it
    panel.finalise_button.click()
    panel.actions.dialog.confirm_button.click()
    qtbot.waitUntil(lambda: panel.invoices_model.record(0).status == "final", timeout=WAIT)
    assert cell(panel.invoices_model, 0, 0) == "pending sync"
    assert "number is given by the server when it syncs" in panel.notice.text()
    assert "Saved on this computer" in panel.notice.text()
    assert panel.header.balance_label.text() == "Owes USD 48.50"
    assert panel.header.balance_colour == models.OWING_INK

    # more than the balance: refused in plain words, nothing saved, the dialog keeps it all
    panel.take_payment_button.click()
    pay = panel.actions.dialog
    assert isinstance(pay, TakePaymentDialog)
    assert pay.amount_edit.text() == "48.50"  # the invoice's balance to start with
    pay.amount_edit.setText("60.00")
    pay.ok_button.click()
    qtbot.waitUntil(lambda: bool(pay.error_label.text()), timeout=WAIT)
    assert "is more than the balance" in pay.error_label.text()
    assert "deposit" in pay.error_label.text()
    assert pay.isVisible() and pay.amount_edit.text() == "60.00"
    QApplication.processEvents()
    assert pay.grab().save(str(shots_dir(tmp_path) / "billing_payment_refused.png"))
    assert panel.payments_model.rowCount() == 0
    assert not any(e["name"] == "take_payment" for e in window.ctx.sync.store.pending(100))

    # part of it in cash: the receipt preview opens at once, the balance follows
    pay.amount_edit.setText("20.00")
    pay.paper_combo.setCurrentIndex(pay.paper_combo.findData("thermal"))
    pay.ok_button.click()
    qtbot.waitUntil(lambda: panel.previews.dialog is not None, timeout=WAIT)
    preview = panel.previews.dialog
    assert preview.name.startswith("Receipt RC-") and not panel.previews.last_is_copy
    assert preview.page_count == 1
    assert not shiboken6.isValid(pay)  # the payment dialog closed
    qtbot.waitUntil(lambda: panel.payments_model.rowCount() == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.header.balance_label.text() == "Owes USD 28.50", timeout=WAIT)
    receipt = panel.payments_model.record(0)
    assert re.fullmatch(r"RC-\d{8}-[0-9A-F]{8}", receipt.receipt_number)
    assert cell(panel.payments_model, 0, 2) == "Cash payment"
    assert models.payment_details(receipt).startswith("Payment for invoice pending sync")
    assert cell(panel.invoices_model, 0, 7) == "28.50"
    assert "USD 20.00 received" in panel.notice.text()
    shots = shots_dir(tmp_path)
    qtbot.waitUntil(lambda: has_text(preview.view.viewport()), timeout=WAIT)  # drawn, not blank
    assert preview.grab().save(str(shots / "billing_receipt_preview.png"))
    preview.close()
    QApplication.processEvents()
    assert window.grab().save(str(shots / "billing_account_offline.png"))

    # back online: the invoice gets its number and the payment reaches the server
    server.start()
    window.sync_indicator.sync_button.click()
    number = re.compile(rf"INV-{TODAY.year}-\d{{6}}")
    qtbot.waitUntil(lambda: bool(number.fullmatch(cell(panel.invoices_model, 0, 0))), timeout=WAIT)
    with live_server.db.unit_of_work() as session:
        on_server = session.execute(select(Invoice)).scalars().one()
        assert on_server.number == cell(panel.invoices_model, 0, 0)
    assert [p.amount for p in payments_on_server(live_server.db)] == [2000]
    qtbot.waitUntil(lambda: panel.notice.text().endswith("Now sent to the server."), timeout=WAIT)
    QApplication.processEvents()
    assert window.grab().save(str(shots / "billing_account.png"))


def test_invoice_print_is_audited_and_a_reprint_is_a_copy_then_claimed(
    qtbot, controller, live_server, tmp_path
):
    seeded = seed_account(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["billing"])
    window.resize(1440, 900)
    panel = open_account(qtbot, window, seeded, search="global")
    panel.create_invoice_button.click()
    panel.actions.dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.selected_invoice() is not None, timeout=WAIT)
    panel.finalise_button.click()
    panel.actions.dialog.confirm_button.click()
    number = re.compile(rf"INV-{TODAY.year}-\d{{6}}")
    qtbot.waitUntil(lambda: bool(number.fullmatch(cell(panel.invoices_model, 0, 0))), timeout=WAIT)
    panel.select(panel.invoices, panel.invoices_model.record(0).id)

    # first print: the original; saving it is recorded, so the next one is a copy
    panel.print_invoice_button.click()
    qtbot.waitUntil(lambda: panel.previews.dialog is not None, timeout=WAIT)
    first = panel.previews.dialog
    assert first.name.startswith("Invoice INV-") and not panel.previews.last_is_copy
    first.save_to(tmp_path / "invoice.pdf")
    first.close()
    qtbot.waitUntil(lambda: panel.previews.dialog is None, timeout=WAIT)
    panel.print_invoice_button.click()
    qtbot.waitUntil(lambda: panel.previews.dialog is not None, timeout=WAIT)
    assert panel.previews.last_is_copy
    assert panel.previews.dialog.name.endswith("(copy)")
    panel.previews.dialog.close()

    # the insurer's share is claimed
    assert panel.create_claim_button.isEnabled()
    panel.create_claim_button.click()
    qtbot.waitUntil(lambda: panel.claims_model.rowCount() == 1, timeout=WAIT)
    claim = panel.claims_model.record(0)
    assert (claim.status, claim.claimed, claim.payer_name) == ("draft", 1000, "Acme Health")
    assert not panel.create_claim_button.isEnabled()  # one claim per invoice

    # the payer's answers: submitted, then approved in part; the patient owes the cut
    for status, approved in (("submitted", ""), ("partially_approved", "8.00")):
        panel.select(panel.claims, claim.id)
        panel.update_claim_button.click()
        update = panel.actions.dialog
        assert isinstance(update, UpdateClaimDialog)
        update.status_combo.setCurrentIndex(update.status_combo.findData(status))
        update.approved_edit.setText(approved)
        update.reason_edit.setText("Tariff cap" if approved else "")
        assert update.grab().save(str(shots_dir(tmp_path) / f"billing_claim_{status}.png"))
        update.ok_button.click()
        qtbot.waitUntil(lambda s=status: panel.claims_model.record(0).status == s, timeout=WAIT)
    assert cell(panel.claims_model, 0, 1) == "Partial"
    assert cell(panel.claims_model, 0, 3) == "8.00"
    qtbot.waitUntil(lambda: panel.header.balance_label.text() == "Owes USD 50.50", timeout=WAIT)

    # a charge by hand needs a reason; without one nothing is written
    panel.add_charge_button.click()
    qtbot.waitUntil(lambda: isinstance(panel.actions.dialog, AddChargeDialog), timeout=WAIT)
    add = panel.actions.dialog
    add.item_combo.setCurrentIndex(
        add.item_combo.findText("Wound dressing", Qt.MatchFlag.MatchStartsWith)
    )
    assert "USD 8.00 per each" in add.item_combo.currentText()
    add.quantity_edit.setText("2")
    add.ok_button.click()
    assert add.error_label.text() == "Give the reason for a charge added by hand."
    assert add.isVisible()
    add.reason_edit.setText("Dressing changed twice at the ward")
    add.ok_button.click()
    qtbot.waitUntil(lambda: panel.charges_model.rowCount() == 1, timeout=WAIT)
    charge = panel.charges_model.record(0)
    assert (charge.description, charge.gross, charge.source) == ("Wound dressing", 1600, "manual")
    assert panel.charges.total_label.text() == "USD 16.00"
    QApplication.processEvents()
    assert window.grab().save(str(shots_dir(tmp_path) / "billing_account_claim.png"))


def test_corrections_void_discard_credit_note_and_refund_each_leave_the_account_right(
    qtbot, controller, live_server, tmp_path
):
    seeded = seed_account(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["billing"])
    window.resize(1440, 900)
    panel = open_account(qtbot, window, seeded, search="panel")

    # the blood count was entered twice: voided with a reason
    panel.select(panel.charges, _charge(panel, "Full blood count").id)
    panel.void_button.click()
    void = panel.actions.dialog
    void.reason_edit.setText("Entered twice")
    void.confirm_button.click()
    qtbot.waitUntil(lambda: panel.charges_model.rowCount() == 1, timeout=WAIT)
    assert "Charge voided." in panel.notice.text()

    # a draft given up frees its charges again
    panel.create_invoice_button.click()
    panel.actions.dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.selected_invoice() is not None, timeout=WAIT)
    assert panel.invoices_model.record(0).payer_share == 0  # an X-ray is not covered
    panel.discard_button.click()
    panel.actions.dialog.confirm_button.click()
    qtbot.waitUntil(lambda: panel.invoices_model.rowCount() == 0, timeout=WAIT)
    assert panel.charges_model.rowCount() == 1

    # invoiced, finalised and paid by card (the terminal's reference is asked for)
    panel.create_invoice_button.click()
    panel.actions.dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.selected_invoice() is not None, timeout=WAIT)
    panel.finalise_button.click()
    panel.actions.dialog.confirm_button.click()
    qtbot.waitUntil(lambda: bool(panel.invoices_model.record(0).number), timeout=WAIT)
    panel.take_payment_button.click()
    pay = panel.actions.dialog
    pay.method_combo.setCurrentIndex(pay.method_combo.findData("card"))
    pay.ok_button.click()
    assert pay.error_label.text() == "Type the card terminal's reference (on its slip)."
    pay.reference_edit.setText("TRM-0042")
    pay.ok_button.click()
    qtbot.waitUntil(lambda: panel.previews.dialog is not None, timeout=WAIT)
    panel.previews.dialog.close()
    qtbot.waitUntil(lambda: panel.header.balance_label.text().startswith("Settled"), timeout=WAIT)

    # the X-ray was not done after all: a credit note, and the patient is in credit
    panel.select(panel.invoices, panel.invoices_model.record(0).id)
    panel.credit_button.click()
    credit = panel.actions.dialog
    assert isinstance(credit, CreditNoteDialog) and credit.lines.count() == 1
    credit.ok_button.click()
    assert credit.error_label.text() == "Give the reason for the credit note."
    credit.reason_edit.setText("X-ray cancelled by the radiologist")
    assert credit.grab().save(str(shots_dir(tmp_path) / "billing_credit_note.png"))
    credit.ok_button.click()
    qtbot.waitUntil(lambda: panel.invoices_model.rowCount() == 2, timeout=WAIT)

    def credit_number() -> str:
        note = next(i for i in panel.invoices_model.records() if i.kind == "credit_note")
        return note.number or ""

    qtbot.waitUntil(lambda: credit_number().startswith(f"CN-{TODAY.year}-"), timeout=WAIT)
    qtbot.waitUntil(
        lambda: panel.header.balance_label.text() == "In credit USD 46.00", timeout=WAIT
    )
    assert panel.header.balance_colour == models.CREDIT_INK

    # the card payment is refunded; its receipt opens at once and the account is settled
    panel.select(panel.payments, panel.payments_model.record(0).id)
    panel.refund_button.click()
    refund = panel.actions.dialog
    assert isinstance(refund, RefundDialog) and refund.amount_edit.text() == "46.00"
    refund.reason_edit.setText("X-ray cancelled")
    refund.reference_edit.setText("TRM-0043")
    refund.ok_button.click()
    qtbot.waitUntil(lambda: panel.payments_model.rowCount() == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.previews.dialog is not None, timeout=WAIT)
    assert panel.previews.last_name.startswith("Receipt RC-")
    panel.previews.dialog.close()
    qtbot.waitUntil(lambda: panel.header.balance_label.text().startswith("Settled"), timeout=WAIT)
    paid = next(p for p in panel.payments_model.records() if p.kind == "payment")
    assert paid.refunded == 4600 and not panel.refund_button.isEnabled()

    # a second cover is added at the desk
    panel.header.add_policy_button.click()
    qtbot.waitUntil(lambda: isinstance(panel.actions.dialog, AddPolicyDialog), timeout=WAIT)
    policy = panel.actions.dialog
    policy.number_edit.setText("ACM-990001")
    policy.copay_edit.setText("10")
    assert policy.grab().save(str(shots_dir(tmp_path) / "billing_add_policy.png"))
    policy.ok_button.click()
    qtbot.waitUntil(lambda: "ACM-990001" in panel.header.policies_label.text(), timeout=WAIT)

    # all of it reached the server
    def on_server() -> bool:
        with live_server.db.unit_of_work() as session:
            kinds = sorted(p.kind for p in session.execute(select(Payment)).scalars())
        return kinds == ["payment", "refund"]

    qtbot.waitUntil(on_server, timeout=WAIT)

    # the account reads were audited on the server against the patient
    def audited() -> bool:
        with live_server.db.unit_of_work() as session:
            events = session.execute(
                select(AuditEvent).where(AuditEvent.patient_id == seeded.patient)
            ).scalars()
            return any(e.action == "billing.account" for e in events)

    qtbot.waitUntil(audited, timeout=WAIT)


def _charge(panel: AccountPanel, description: str):  # noqa: ANN202
    return next(c for c in panel.charges_model.records() if c.description == description)
