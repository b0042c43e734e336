"""What the account page's buttons do: open the dialog, save the change off the UI thread, then
close the dialog, or keep it open with the refusal in plain words (nothing was changed)."""

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog

from hms_desktop.store.billing import LocalBilling
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.reason_dialog import ConfirmDialog, ReasonDialog
from hms_desktop.workspaces.billing.claim_dialogs import AddPolicyDialog, UpdateClaimDialog
from hms_desktop.workspaces.billing.dialogs import (
    AddChargeDialog,
    BillingDialog,
    CreateInvoiceDialog,
    CreditNoteDialog,
)
from hms_desktop.workspaces.billing.models import invoice_number
from hms_desktop.workspaces.billing.payment_dialog import RefundDialog, TakePaymentDialog

if TYPE_CHECKING:
    from hms_desktop.workspaces.billing.account_panel import AccountPanel

PENDING = "its number is given by the server when it syncs"


class AccountActions(QObject):
    """The dialogs of the account page and the writes behind them."""

    def __init__(self, panel: "AccountPanel") -> None:
        super().__init__(panel)
        self.panel = panel
        self.dialog: QDialog | None = None  # the dialog last opened (tests drive it)
        self.paper = "a4"  # the receipt paper last chosen at this desk

    @property
    def billing(self) -> LocalBilling:
        billing = self.panel.ctx.billing
        assert billing is not None
        return billing

    def _open(self, dialog: QDialog) -> None:
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def _save(
        self,
        dialog: BillingDialog,
        work: Callable[[], Any],
        done: Callable[[Any], str],
        then: Callable[[Any], None] | None = None,
    ) -> None:
        """Run `work`; on success close the dialog and report `done(result)`."""

        def saved(result: Any) -> None:  # noqa: ANN401
            if shiboken6.isValid(dialog):
                dialog.accept()
            self.panel.written(done(result))
            if then is not None:
                then(result)

        def refused(exc: BaseException) -> None:
            if shiboken6.isValid(dialog) and dialog.isVisible():
                dialog.fail(describe_error(exc))
            else:
                self.panel.refused(describe_error(exc))

        self.panel.ctx.write(self.panel, work, saved, refused)

    def _write(self, work: Callable[[], Any], done: str) -> None:
        """A change confirmed in a simple dialog: report the outcome in the notice."""
        self.panel.ctx.write(
            self.panel,
            work,
            lambda _r: self.panel.written(done),
            lambda exc: self.panel.refused(describe_error(exc)),
        )

    # --- charges ----------------------------------------------------------------------------

    def ask_add_charge(self) -> None:
        panel = self.panel
        if panel.patient_id is None:
            return
        billing = self.billing
        panel.ctx.run(panel, billing.items, self._show_add_charge, self._load_failed)

    def _show_add_charge(self, items: list[Any]) -> None:
        patient_id = self.panel.patient_id
        dialog = AddChargeDialog(items, self.panel.money, self.billing.today(), self.panel)

        def save() -> None:
            item_id, quantity = dialog.item_id, dialog.quantity
            day, reason = dialog.service_date, dialog.reason
            billing = self.billing
            assert patient_id is not None and item_id is not None  # the dialog checked
            self._save(
                dialog,
                lambda: billing.add_charge(patient_id, item_id, quantity, reason, day),
                lambda _r: "Charge added.",
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    def charge_stay(self) -> None:
        """Ask the server to charge an admitted patient's nights so far (an interim bill)."""
        patient_id, billing = self.panel.patient_id, self.billing
        if patient_id is None:
            return
        self._write(
            lambda: billing.charge_stay_to_date(patient_id),
            "Bed-days up to today are charged by the server; they appear here after the next "
            "sync (a patient who is not admitted gets a note in “needs attention”).",
        )

    def ask_void_charge(self) -> None:
        charge = self.panel.selected_charge()
        if charge is None:
            return
        dialog = ReasonDialog(
            "Void a charge",
            f"{charge.description} of {charge.service_date} · {self.panel.money(charge.gross)}",
            confirm="Void charge",
            keep="Keep it",
            placeholder="Why this charge is voided",
            missing="Give the reason for voiding the charge.",
            parent=self.panel,
        )
        billing = self.billing

        def void() -> None:
            reason = dialog.reason  # read now: the dialog is gone when the work runs
            self._write(lambda: billing.void_charge(charge.id, reason), "Charge voided.")

        dialog.accepted.connect(void)
        self._open(dialog)

    # --- invoices ---------------------------------------------------------------------------

    def ask_create_invoice(self) -> None:
        panel = self.panel
        view = panel.view
        if view is None:
            return
        unbilled = panel.charges_model.records()
        dialog = CreateInvoiceDialog(unbilled, view.policies, panel.money, panel)
        patient_id, billing = view.patient_id, self.billing

        def save() -> None:
            visit_id, policy_id = dialog.visit_id, dialog.policy_id
            self._save(
                dialog,
                lambda: billing.create_draft_invoice(
                    patient_id, visit_id=visit_id, policy_id=policy_id
                ),
                lambda _r: "Draft invoice created. Check it, then finalise it.",
                lambda r: self._select_invoice(r),
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    def _select_invoice(self, result: dict[str, Any]) -> None:
        self.panel.select_later(self.panel.invoices, result.get("id"))

    def ask_finalise(self) -> None:
        invoice = self.panel.selected_invoice()
        if invoice is None:
            return
        total = self.panel.money.with_code(invoice.gross)
        dialog = ConfirmDialog(
            "Finalise invoice",
            f"A final invoice ({total}) is never changed again; mistakes are corrected with a "
            "credit note.",
            "Finalise",
            self.panel,
        )
        dialog.finish_layout()
        billing = self.billing

        def done(result: dict[str, Any]) -> str:
            number = result.get("number")
            return f"Invoice {number} finalised." if number else f"Invoice finalised; {PENDING}."

        dialog.accepted.connect(
            lambda: self.panel.ctx.write(
                self.panel,
                lambda: billing.finalise_invoice(invoice.id),
                lambda r: self.panel.written(done(r)),
                lambda exc: self.panel.refused(describe_error(exc)),
            )
        )
        self._open(dialog)

    def ask_discard(self) -> None:
        invoice = self.panel.selected_invoice()
        if invoice is None:
            return
        dialog = ConfirmDialog(
            "Discard draft",
            "The draft is given up; its charges are unbilled again.",
            "Discard draft",
            self.panel,
        )
        dialog.finish_layout()
        billing = self.billing
        dialog.accepted.connect(
            lambda: self._write(
                lambda: billing.discard_draft_invoice(invoice.id), "Draft discarded."
            )
        )
        self._open(dialog)

    def ask_credit_note(self) -> None:
        invoice = self.panel.selected_invoice()
        if invoice is None:
            return
        dialog = CreditNoteDialog(invoice, self.panel.money, self.panel)
        billing = self.billing

        def save() -> None:
            line_ids, reason = dialog.line_ids, dialog.reason
            self._save(
                dialog,
                lambda: billing.issue_credit_note(invoice.id, line_ids, reason),
                lambda _r: f"Credit note issued for {invoice_number(invoice)}.",
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    # --- payments ---------------------------------------------------------------------------

    def ask_take_payment(self) -> None:
        panel = self.panel
        view = panel.view
        if view is None:
            return
        owing = [
            i
            for i in view.invoices
            if i.kind == "invoice" and i.status == "final" and i.balance > 0
        ]
        chosen = panel.selected_invoice()
        dialog = TakePaymentDialog(
            owing, chosen.id if chosen else None, panel.money, panel, self.paper
        )
        patient_id, billing = view.patient_id, self.billing

        def save() -> None:
            invoice_id, kind, method = dialog.invoice_id, dialog.kind, dialog.method
            amount, reference, paper = dialog.amount, dialog.reference, dialog.paper
            self.paper = paper
            self._save(
                dialog,
                lambda: billing.take_payment(
                    patient_id,
                    method,
                    amount,
                    invoice_id=invoice_id,
                    kind=kind,
                    reference=reference,
                ),
                lambda _r: (
                    f"{panel.money.with_code(amount)} received; the receipt is ready to print."
                ),
                lambda r: panel.previews.receipt(uuid.UUID(r["payment_id"]), paper),
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    def ask_refund(self) -> None:
        payment = self.panel.selected_payment()
        if payment is None:
            return
        dialog = RefundDialog(payment, self.panel.money, self.panel)
        billing, money = self.billing, self.panel.money

        def save() -> None:
            amount, method = dialog.amount, dialog.method
            reason, reference = dialog.reason, dialog.reference
            self._save(
                dialog,
                lambda: billing.refund_payment(payment.id, amount, method, reason, reference),
                lambda _r: f"{money.with_code(amount)} refunded.",
                lambda r: self.panel.previews.receipt(uuid.UUID(r["refund_id"]), self.paper),
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    # --- insurance --------------------------------------------------------------------------

    def create_claim(self) -> None:
        invoice = self.panel.selected_invoice()
        if invoice is None:
            return
        billing = self.billing
        self._write(
            lambda: billing.create_claim(invoice.id),
            f"Claim created for {invoice_number(invoice)}; submit it to "
            f"{invoice.payer_name or 'the payer'} and record the answer.",
        )

    def ask_update_claim(self) -> None:
        claim = self.panel.selected_claim()
        if claim is None:
            return
        dialog = UpdateClaimDialog(claim, self.panel.money, self.panel)
        billing = self.billing

        def save() -> None:
            values = {
                "approved": dialog.approved,
                "paid": dialog.paid,
                "payer_reference": dialog.payer_reference,
                "reason": dialog.reason,
            }
            status = dialog.status
            self._save(
                dialog,
                lambda: billing.update_claim(claim.id, status, **values),
                lambda _r: "Claim updated.",
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    def ask_add_policy(self) -> None:
        panel = self.panel
        if panel.patient_id is None:
            return
        panel.ctx.run(panel, self.billing.payers, self._show_add_policy, self._load_failed)

    def _show_add_policy(self, payers: list[Any]) -> None:
        patient_id = self.panel.patient_id
        dialog = AddPolicyDialog(payers, self.panel.money, self.billing.today(), self.panel)
        billing = self.billing

        def save() -> None:
            values = {
                "copay_percent": dialog.copay_percent,
                "valid_from": dialog.valid_from,
                "annual_limit": dialog.annual_limit,
                "holder_name": dialog.holder_name,
            }
            payer_id, number, categories = (
                dialog.payer_id,
                dialog.policy_number,
                dialog.categories,
            )
            assert patient_id is not None and payer_id is not None  # the dialog checked
            self._save(
                dialog,
                lambda: billing.add_policy(patient_id, payer_id, number, categories, **values),
                lambda _r: "Policy added.",
            )

        dialog.submitted.connect(save)
        self._open(dialog)

    def _load_failed(self, exc: BaseException) -> None:
        self.panel.refused(describe_error(exc))
