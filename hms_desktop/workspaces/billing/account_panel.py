"""The Account tab of the billing desk: find a patient, see what they owe and why (unbilled
charges, invoices, payments, claims), and act on it. Reads and writes go to the local cache off
the UI thread, so the desk keeps working when the server is down."""

import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from hms_core.rbac import Perm
from hms_core.schemas.billing import (
    AccountView,
    ChargeView,
    ClaimView,
    HospitalProfile,
    InvoiceView,
    PaymentView,
)
from hms_core.schemas.patients import PatientSummary
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.patient_search import PatientSearchBox
from hms_desktop.workspaces.billing import models
from hms_desktop.workspaces.billing.account_actions import AccountActions
from hms_desktop.workspaces.billing.account_header import AccountHeader
from hms_desktop.workspaces.billing.models import Money
from hms_desktop.workspaces.billing.previews import DocumentPreviews
from hms_desktop.workspaces.billing.section import Section
from hms_desktop.workspaces.clinic.notice import Notice
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

OFFLINE_NOTE = " Saved on this computer; it reaches the server when the connection is back."
SENT_NOTE = " Now sent to the server."


class AccountPanel(QWidget):
    """A patient's account and the desk's actions on it."""

    profile_changed = Signal(object)  # HospitalProfile: the issuer and currency of the bills

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.patient_id: uuid.UUID | None = None
        self.view: AccountView | None = None
        self.money = Money()
        self._generation = 0
        self._pending: tuple[Section, uuid.UUID] | None = None  # select once shown
        self.previews = DocumentPreviews(ctx, self, self.refused)
        self._build()
        self.actions = AccountActions(self)
        self._connect()
        self.watch = SyncWatch(ctx.sync, self, self.reload)
        if ctx.sync is not None:
            ctx.sync.status_changed.connect(self._on_sync_status)
        self._update_buttons()
        self._refresh_profile()

    @property
    def ctx(self) -> AppContext:
        return self._ctx

    def can(self, permission: Perm) -> bool:
        return self._ctx.session.can(permission)

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.notice = Notice()
        layout.addWidget(self.notice)
        body = QVBoxLayout()
        body.setContentsMargins(20, 12, 20, 16)
        body.setSpacing(10)
        picker = QHBoxLayout()
        caption = styled_label("Patient", "fieldCaption")
        self.search_box = PatientSearchBox(self._ctx)
        self.search_box.setObjectName("billingPatientSearch")
        self.search_box.setPlaceholderText("Find the patient by MRN, name or phone…")
        self.search_box.setMaximumWidth(520)
        caption.setBuddy(self.search_box)
        picker.addWidget(caption)
        picker.addWidget(self.search_box, 1)
        picker.addStretch(1)
        body.addLayout(picker)
        self.header = AccountHeader()
        body.addWidget(self.header)
        body.addLayout(self._sections(), 1)
        layout.addLayout(body, 1)

    def _sections(self) -> QGridLayout:
        money = self.money
        self.charges_model = models.charges_model(money, self)
        self.invoices_model = models.invoices_model(money, self)
        self.payments_model = models.payments_model(money, self)
        self.claims_model = models.claims_model(money, self)
        self.charges = Section("Unbilled charges", self.charges_model, "No unbilled charges.", 1)
        self.invoices = Section("Invoices", self.invoices_model, "No invoices yet.", 1)
        self.payments = Section("Payments", self.payments_model, "No payments yet.", 2)
        self.claims = Section("Insurance claims", self.claims_model, "No claims.", 1)
        charge, invoice = self.can(Perm.CHARGE_MANAGE), self.can(Perm.INVOICE_MANAGE)
        pay, claim = self.can(Perm.PAYMENT_TAKE), self.can(Perm.CLAIM_MANAGE)
        self.add_charge_button = self.charges.add_button("Add charge…", charge)
        self.void_button = self.charges.add_button("Void…", charge)
        self.stay_button = self.charges.add_button("Bed-days so far", charge)
        self.stay_button.setToolTip(
            "An interim bill for an admitted patient: the server charges the nights up to "
            "today (the rest at discharge)"
        )
        self.create_invoice_button = self.charges.add_button(
            "Create invoice…", invoice, primary=True
        )
        self.create_invoice_button.setToolTip("Create an invoice from the unbilled charges")
        self.finalise_button = self.invoices.add_button("Finalise", invoice, primary=True)
        self.discard_button = self.invoices.add_button("Discard draft", invoice)
        self.credit_button = self.invoices.add_button("Credit note…", invoice)
        self.print_invoice_button = self.invoices.add_button("Preview / print…")
        self.create_claim_button = self.invoices.add_button("Create claim", claim)
        self.take_payment_button = self.payments.add_button("Take payment…", pay, primary=True)
        self.refund_button = self.payments.add_button("Refund…", pay)
        self.print_receipt_button = self.payments.add_button("Print receipt…")
        self.update_claim_button = self.claims.add_button("Update status…", claim)
        grid = QGridLayout()
        grid.setSpacing(10)
        grid.addWidget(self.invoices, 0, 0)
        grid.addWidget(self.payments, 1, 0)
        grid.addWidget(self.charges, 0, 1)
        grid.addWidget(self.claims, 1, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        return grid

    def _connect(self) -> None:
        self.search_box.patient_chosen.connect(self._on_patient)
        for section in (self.charges, self.invoices, self.payments, self.claims):
            section.view.selectionModel().selectionChanged.connect(
                lambda *_: self._update_buttons()
            )
        self.header.add_policy_button.clicked.connect(self.actions.ask_add_policy)
        self.add_charge_button.clicked.connect(self.actions.ask_add_charge)
        self.void_button.clicked.connect(self.actions.ask_void_charge)
        self.stay_button.clicked.connect(self.actions.charge_stay)
        self.create_invoice_button.clicked.connect(self.actions.ask_create_invoice)
        self.finalise_button.clicked.connect(self.actions.ask_finalise)
        self.discard_button.clicked.connect(self.actions.ask_discard)
        self.credit_button.clicked.connect(self.actions.ask_credit_note)
        self.print_invoice_button.clicked.connect(self.preview_invoice)
        self.create_claim_button.clicked.connect(self.actions.create_claim)
        self.take_payment_button.clicked.connect(self.actions.ask_take_payment)
        self.refund_button.clicked.connect(self.actions.ask_refund)
        self.print_receipt_button.clicked.connect(self.preview_receipt)
        self.update_claim_button.clicked.connect(self.actions.ask_update_claim)

    # --- reading ----------------------------------------------------------------------------

    def _refresh_profile(self) -> None:
        """Use the hospital profile kept here, then ask the server for a newer one."""
        billing = self._ctx.billing
        if billing is None:
            return
        self._ctx.run(self, billing.hospital_profile, self.profile_changed.emit)
        self._ctx.run(
            self,
            lambda: billing.refresh_profile(self._ctx.api),
            self._profile_refreshed,
            lambda _exc: None,  # offline, or an older server: the kept profile is used
        )

    def _profile_refreshed(self, profile: HospitalProfile) -> None:
        self.profile_changed.emit(profile)
        self.reload()

    def _on_patient(self, patient: PatientSummary) -> None:
        self.open_patient(patient.id)

    def open_patient(self, patient_id: uuid.UUID) -> None:
        """Show this patient's account."""
        if patient_id != self.patient_id:
            self.notice.clear()
        self.patient_id = patient_id
        self.reload()
        self._refresh_profile()  # a snapshot taken meanwhile starts a new cache without it

    def reload(self) -> None:
        """Read the open account again, off the UI thread."""
        billing, patient_id = self._ctx.billing, self.patient_id
        if billing is None or patient_id is None:
            return
        self._generation += 1
        generation = self._generation
        self._ctx.run(
            self,
            lambda: billing.account(patient_id),
            lambda view: self._show(generation, view),
            self._failed,
        )

    def _show(self, generation: int, view: AccountView) -> None:
        if generation != self._generation or view.patient_id != self.patient_id:
            return
        keep = self._selected_ids()
        self.view = view
        self.money.currency, self.money.exponent = view.currency, view.exponent
        self.header.show_account(view, self.money, self.can(Perm.CLAIM_MANAGE))
        unbilled = [c for c in view.charges if c.invoice_id is None and not c.voided]
        self.charges_model.set_records(unbilled)
        self.invoices_model.set_records(view.invoices)
        self.payments_model.set_records(view.payments)
        self.claims_model.set_records(view.claims)
        self.charges.total_label.setText(f"{self.money.with_code(view.unbilled)}")
        self._reselect(keep)
        if self._pending is not None and self.select(*self._pending):
            self._pending = None
        self._update_buttons()

    def _selected_ids(self) -> list[Any]:
        found = []
        for section in (self.charges, self.invoices, self.payments, self.claims):
            row = section.selected_row()
            found.append(section.model.record(row).id if row >= 0 else None)
        return found

    def _reselect(self, ids: list[Any]) -> None:
        for section, wanted in zip(
            (self.charges, self.invoices, self.payments, self.claims), ids, strict=True
        ):
            if wanted is not None:
                self.select(section, wanted)

    def select_later(self, section: Section, record_id: str | None) -> None:
        """Select this record when the account is next shown (it was just written)."""
        if record_id is not None:
            self._pending = (section, uuid.UUID(record_id))

    def select(self, section: Section, record_id: Any) -> bool:  # noqa: ANN401
        """Select the row of the record with this id; False when it is not shown."""
        for row, record in enumerate(section.model.records()):
            if record.id == record_id:
                section.view.selectRow(row)
                return True
        return False

    def _failed(self, exc: BaseException) -> None:
        self.view = None
        self.header.clear(f"The account could not be read: {describe_error(exc)}")
        for model in (self.charges_model, self.invoices_model, self.payments_model):
            model.set_records([])
        self.claims_model.set_records([])
        self._update_buttons()

    # --- selection --------------------------------------------------------------------------

    def selected_charge(self) -> ChargeView | None:
        row = self.charges.selected_row()
        return self.charges_model.record(row) if row >= 0 else None

    def selected_invoice(self) -> InvoiceView | None:
        row = self.invoices.selected_row()
        return self.invoices_model.record(row) if row >= 0 else None

    def selected_payment(self) -> PaymentView | None:
        row = self.payments.selected_row()
        return self.payments_model.record(row) if row >= 0 else None

    def selected_claim(self) -> ClaimView | None:
        row = self.claims.selected_row()
        return self.claims_model.record(row) if row >= 0 else None

    def _update_buttons(self) -> None:
        opened = self.view is not None
        invoice, payment = self.selected_invoice(), self.selected_payment()
        draft = invoice is not None and invoice.status == "draft"
        final = invoice is not None and invoice.status == "final"
        claimed = invoice is not None and any(c.invoice_id == invoice.id for c in self._claims())
        self.add_charge_button.setEnabled(opened)
        self.void_button.setEnabled(self.selected_charge() is not None)
        self.stay_button.setEnabled(opened)
        self.create_invoice_button.setEnabled(opened and self.charges_model.rowCount() > 0)
        self.finalise_button.setEnabled(draft)
        self.discard_button.setEnabled(draft)
        is_invoice = invoice is not None and invoice.kind == "invoice"
        self.credit_button.setEnabled(final and is_invoice)
        self.print_invoice_button.setEnabled(final)
        payer_share = invoice is not None and invoice.payer_share > 0
        self.create_claim_button.setEnabled(final and is_invoice and payer_share and not claimed)
        self.take_payment_button.setEnabled(opened)
        self.refund_button.setEnabled(payment is not None and _refundable(payment))
        self.print_receipt_button.setEnabled(payment is not None)
        self.update_claim_button.setEnabled(self.selected_claim() is not None)

    def _claims(self) -> list[ClaimView]:
        return self.view.claims if self.view is not None else []

    # --- outcomes ---------------------------------------------------------------------------

    def written(self, text: str) -> None:
        """A change was saved: say so (and that it waits for the server when offline)."""
        sync = self._ctx.sync
        offline = sync is not None and sync.status.online is False
        self.notice.show_done(text + (OFFLINE_NOTE if offline else ""))
        self.reload()

    def _on_sync_status(self, status: Any) -> None:  # noqa: ANN401 - a SyncStatus
        """Everything reached the server: the notice no longer says it waits for it."""
        text = self.notice.text()
        if status.online and status.pending == 0 and text.endswith(OFFLINE_NOTE):
            self.notice.show_done(text.removesuffix(OFFLINE_NOTE) + SENT_NOTE)

    def refused(self, text: str) -> None:
        """A change or a print was refused: say why; nothing was changed."""
        self.notice.show_refused(text)
        self.reload()

    def preview_invoice(self) -> None:
        invoice = self.selected_invoice()
        if invoice is not None:
            self.previews.invoice(invoice.id)

    def preview_receipt(self) -> None:
        payment = self.selected_payment()
        if payment is not None:
            self.previews.receipt(payment.id, self.actions.paper)


def _refundable(payment: PaymentView) -> bool:
    """A patient's payment or deposit with money left to pay back (an insurer's is not)."""
    is_patients = payment.kind != "refund" and payment.method != "insurance"
    return is_patients and payment.amount > payment.refunded
