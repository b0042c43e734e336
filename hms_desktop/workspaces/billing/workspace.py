"""The Billing workspace: a patient's account, the cashier's desk, and the reports, as tabs
(each shown only to those allowed to use it)."""

import uuid

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from hms_core.rbac import Perm
from hms_core.schemas.billing import HospitalProfile
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.billing.account_panel import AccountPanel
from hms_desktop.workspaces.billing.cash_desk import CashDeskPanel
from hms_desktop.workspaces.billing.reports_panel import ReportsPanel

STYLE = """
QTabWidget#billingTabs::pane { border: none; border-top: 1px solid #d6dde5; top: -1px; }
QTabWidget#billingTabs > QTabBar::tab {
    background: transparent; color: #5b6b7d; border: none;
    border-bottom: 3px solid transparent; padding: 8px 18px; font-weight: bold;
}
QTabWidget#billingTabs > QTabBar::tab:selected { color: #0f6cbd; border-bottom-color: #0f6cbd; }
QTabWidget#billingTabs > QTabBar::tab:hover { color: #1d2733; }
#billingWorkspace QPushButton[density="compact"] { padding: 6px 10px; }
#billingWorkspace QHeaderView::section { padding: 6px 6px 6px 8px; }
#billingWorkspace QTableView::item { padding: 0px 4px; }
"""


class BillingWorkspace(QWidget):
    """The billing desk."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setObjectName("billingWorkspace")
        self.setStyleSheet(STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("billingTabs")
        self.tabs.setDocumentMode(True)
        self.account = AccountPanel(ctx)
        self.tabs.addTab(self.account, "Account")
        self.cash_desk: QWidget | None = None
        self.reports: QWidget | None = None
        if ctx.session.can(Perm.PAYMENT_TAKE):
            self.cash_desk = CashDeskPanel(ctx)
            self.tabs.addTab(self.cash_desk, "Cash desk")
        if ctx.session.can(Perm.BILLING_REPORT):
            self.reports = ReportsPanel(ctx)
            self.tabs.addTab(self.reports, "Reports")
        layout.addWidget(self.tabs, 1)
        self.account.profile_changed.connect(self._show_profile)

    def _header(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("pageHeader")
        row = QHBoxLayout(frame)
        row.setContentsMargins(28, 14, 28, 10)
        titles = QVBoxLayout()
        titles.addWidget(styled_label("Billing", "pageTitle"))
        self.hospital_label = styled_label("", "hint")
        titles.addWidget(self.hospital_label)
        row.addLayout(titles, 1)
        return frame

    def _show_profile(self, profile: HospitalProfile) -> None:
        """Name the issuer; the other tabs re-read their days and currency from it."""
        self.hospital_label.setText(f"{profile.name} · amounts in {profile.currency}")
        for panel in (self.cash_desk, self.reports):
            if isinstance(panel, CashDeskPanel | ReportsPanel):
                panel.refresh()

    def open_patient(self, patient_id: uuid.UUID) -> None:
        """Open a patient's account on the Account tab."""
        self.tabs.setCurrentWidget(self.account)
        self.account.open_patient(patient_id)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another workspace was in front."""
        super().showEvent(event)
        self.account.watch.shown()
