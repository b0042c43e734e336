"""The main window: workspaces rail, global patient search, status bar, sign out."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QWidget,
)

from hms_core.rbac import Perm
from hms_core.schemas.notifications import CLOSE_UNAUTHENTICATED
from hms_core.schemas.patients import PatientSummary
from hms_desktop.live import LiveClient
from hms_desktop.session import Session
from hms_desktop.widgets.bell import NotificationBell
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.nav_rail import NavRail
from hms_desktop.widgets.patient_search import PatientSearchBox
from hms_desktop.widgets.status_bar import ServerStatus, user_badge
from hms_desktop.widgets.sync_indicator import SyncIndicator
from hms_desktop.workspaces.admin.audit_viewer import AuditLogViewer
from hms_desktop.workspaces.admin.price_list import PriceListEditor
from hms_desktop.workspaces.appointments.workspace import AppointmentsWorkspace
from hms_desktop.workspaces.billing.workspace import BillingWorkspace
from hms_desktop.workspaces.clinic.workspace import ClinicWorkspace
from hms_desktop.workspaces.conflicts.inbox import ConflictInbox
from hms_desktop.workspaces.icu.workspace import IcuWorkspace
from hms_desktop.workspaces.lab.workspace import LabWorkspace
from hms_desktop.workspaces.pharmacy.workspace import PharmacyWorkspace
from hms_desktop.workspaces.reception.workspace import PatientsWorkspace
from hms_desktop.workspaces.schedules.editor import ScheduleEditor
from hms_desktop.workspaces.ward.workspace import WardWorkspace


@dataclass(frozen=True)
class WorkspaceSpec:
    """A workspace: its rail entry, who may open it, and how to build it."""

    key: str
    title: str
    allowed: Callable[[Session], bool]
    build: Callable[[AppContext], QWidget]


def is_pharmacy(session: Session) -> bool:
    """The pharmacy queue is the pharmacist's (and the admin's): prescribers and nurses, who
    also read prescriptions, see them in the chart instead."""
    return session.can(Perm.PRESCRIPTION_READ) and session.user.role in ("pharmacy", "admin")


WORKSPACES = [
    WorkspaceSpec(
        "reception",
        "Reception",
        lambda s: s.can(Perm.PATIENT_REGISTER),
        lambda ctx: PatientsWorkspace(ctx, "Reception"),
    ),
    # Roles that read patients but do not register them get the same search and record view.
    WorkspaceSpec(
        "patients",
        "Patients",
        lambda s: s.can(Perm.PATIENT_READ) and not s.can(Perm.PATIENT_REGISTER),
        lambda ctx: PatientsWorkspace(ctx, "Patients"),
    ),
    WorkspaceSpec(
        "appointments",
        "Appointments",
        lambda s: s.can(Perm.APPOINTMENT_BOOK),
        AppointmentsWorkspace,
    ),
    WorkspaceSpec("clinic", "Clinic", lambda s: s.can(Perm.APPOINTMENT_ATTEND), ClinicWorkspace),
    WorkspaceSpec("ward", "Ward", lambda s: s.can(Perm.VITALS_RECORD), WardWorkspace),
    WorkspaceSpec("icu", "ICU station", lambda s: s.can(Perm.MONITOR_VIEW), IcuWorkspace),
    WorkspaceSpec("billing", "Billing", lambda s: s.can(Perm.BILLING_READ), BillingWorkspace),
    WorkspaceSpec("lab", "Lab", lambda s: s.can(Perm.LAB_WORK), LabWorkspace),
    WorkspaceSpec("pharmacy", "Pharmacy", is_pharmacy, PharmacyWorkspace),
    WorkspaceSpec("conflicts", "Conflicts", lambda s: s.can(Perm.PATIENT_MERGE), ConflictInbox),
    WorkspaceSpec(
        "schedules", "Doctors' hours", lambda s: s.can(Perm.SCHEDULE_MANAGE), ScheduleEditor
    ),
    WorkspaceSpec("prices", "Price list", lambda s: s.can(Perm.PRICE_MANAGE), PriceListEditor),
    WorkspaceSpec("audit", "Audit log", lambda s: s.can(Perm.AUDIT_READ), AuditLogViewer),
]


def allowed_workspaces(session: Session) -> list[WorkspaceSpec]:
    """The workspaces the signed-in role may open, in rail order."""
    return [spec for spec in WORKSPACES if spec.allowed(session)]


class MainWindow(QMainWindow):
    """One window per signed-in session; emits `signed_out(reason)` when it ends."""

    signed_out = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.resize(1360, 860)
        self._signing_out = False
        self.workspaces: dict[str, QWidget] = {}
        self.set_hospital_name("")
        self.rail = NavRail()
        self.stack = QStackedWidget()
        self.stack.setObjectName("workspaceStack")
        self._build_toolbar()
        self._build_workspaces()
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.rail)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_status_bar()
        ctx.session_expired.connect(self._on_session_expired)
        if ctx.sync is not None:
            ctx.sync.status_changed.connect(self._on_sync_status)
        self._end_offline_session_in_time()

    # --- layout -----------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setEnabled(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        brand = styled_label("hms", "brand")
        brand.setFixedWidth(184)
        bar.addWidget(brand)
        self.search_box = PatientSearchBox(self.ctx)
        self.search_box.setMinimumWidth(420)
        self.search_box.setMaximumWidth(620)
        self.search_box.patient_chosen.connect(self.open_patient)
        self.search_box.setEnabled(self.ctx.session.can(Perm.PATIENT_READ))
        bar.addWidget(self.search_box)
        QShortcut(QKeySequence("Ctrl+K"), self, activated=self.search_box.setFocus)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.live = LiveClient(
            self.ctx.session.server_url,
            lambda: self.ctx.api.token,
            self,
            client_id=self.ctx.api.client_id,
        )
        self.live.refused.connect(self._on_live_refused)
        self.bell = NotificationBell(self.ctx, self.live)
        bar.addWidget(self.bell)
        self.live.start()
        bar.addWidget(self._user_button())

    def _user_button(self) -> QToolButton:
        user = self.ctx.session.user
        button = QToolButton()
        button.setObjectName("userButton")
        button.setText(f"{user.full_name or user.username}  ▾")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        menu.addSection(f"{user.username} · {user.role}")
        self.logout_action = QAction("Sign out", self)
        self.logout_action.triggered.connect(self.logout)
        menu.addAction(self.logout_action)
        button.setMenu(menu)
        return button

    def _build_workspaces(self) -> None:
        for spec in allowed_workspaces(self.ctx.session):
            widget = spec.build(self.ctx)
            self.workspaces[spec.key] = widget
            self.stack.addWidget(widget)
            self.rail.add_item(spec.key, spec.title)
        if not self.workspaces:
            empty = QFrame()
            row = QHBoxLayout(empty)
            row.addWidget(
                styled_label("Your role has no workspaces in this program yet.", "hint"),
                0,
                Qt.AlignmentFlag.AlignCenter,
            )
            self.stack.addWidget(empty)
        self.rail.selected.connect(self.show_workspace)
        for widget in self.workspaces.values():
            requested = getattr(widget, "patient_requested", None)
            if requested is not None:  # a workspace asks to open a patient's record
                requested.connect(self.open_patient_id)
            if isinstance(widget, PatientsWorkspace):
                widget.book_requested.connect(self.book_for_patient)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        self.server_status = ServerStatus(self.ctx)
        self.server_status.health_changed.connect(self._on_health)
        status.addWidget(self.server_status)
        self.sync_indicator = SyncIndicator(self.ctx)
        if "conflicts" in self.workspaces:
            self.sync_indicator.conflicts_requested.connect(
                lambda: self.show_workspace("conflicts")
            )
        status.addWidget(self.sync_indicator)
        status.addPermanentWidget(user_badge(self.ctx))

    # --- behaviour --------------------------------------------------------------------------

    def rail_titles(self) -> list[str]:
        return self.rail.titles()

    def show_workspace(self, key: str) -> None:
        """Bring workspace `key` to the front."""
        self.stack.setCurrentWidget(self.workspaces[key])
        self.rail.set_current(key)

    def open_patient(self, patient: PatientSummary) -> None:
        """Open a patient chosen in the global search: their account when the billing desk is
        in front, their chart when the clinic is, else their record in the patients workspace."""
        current = self.stack.currentWidget()
        if isinstance(current, BillingWorkspace | ClinicWorkspace):
            current.open_patient(patient.id)
            return
        self.open_patient_id(patient.id)

    def open_patient_id(self, patient_id: object) -> None:
        """Open a patient's record by id (from an appointment list, for example)."""
        for key in ("reception", "patients"):
            workspace = self.workspaces.get(key)
            if isinstance(workspace, PatientsWorkspace):
                self.show_workspace(key)
                workspace.open_patient(uuid.UUID(str(patient_id)))
                return

    def book_for_patient(self, patient_id: object) -> None:
        """Start booking an appointment for a patient (from their record)."""
        workspace = self.workspaces.get("appointments")
        if isinstance(workspace, AppointmentsWorkspace):
            self.show_workspace("appointments")
            workspace.book_for(uuid.UUID(str(patient_id)))

    def set_hospital_name(self, name: str) -> None:
        """Window title 'hms — <hospital>' (the server's host until the name is known)."""
        fallback = urlsplit(self.ctx.session.server_url).netloc or self.ctx.session.server_url
        self.setWindowTitle(f"hms — {name or fallback}")

    def logout(self) -> None:
        """Revoke the token on the server, forget it on this PC, and go back to sign-in."""
        if self._signing_out:
            return
        self._signing_out = True
        session, api, vault = self.ctx.session, self.ctx.api, self.ctx.vault

        def work() -> None:
            vault.forget(session.server_url, session.user.username)
            api.logout()

        self.ctx.tasks.run(work, self._finish_logout, self._finish_logout, owner=self)

    def _close_live_feeds(self) -> None:
        """Close the bell's socket and any workspace's own live feed (the ICU station's)."""
        self.live.close()
        for widget in self.workspaces.values():
            shutdown = getattr(widget, "shutdown", None)
            if shutdown is not None:
                shutdown()

    def _finish_logout(self, _result: Any = None) -> None:
        self._close_live_feeds()
        self.ctx.api.close()
        self.signed_out.emit("")

    def _on_session_expired(self, message: str) -> None:
        if self._signing_out:
            return
        self._signing_out = True
        session, vault = self.ctx.session, self.ctx.vault
        self.ctx.tasks.run(
            lambda: vault.forget(session.server_url, session.user.username),
            lambda _r: self.signed_out.emit(
                message or "Your session has ended. Please sign in again."
            ),
            owner=self,
        )

    def _end_offline_session_in_time(self) -> None:
        """An offline sign-in expires like any session (a server session expires by itself)."""
        session = self.ctx.session
        if session.offline and session.expires_at is not None:
            left = (session.expires_at - datetime.now(UTC)).total_seconds()
            QTimer.singleShot(
                max(0, int(left * 1000)),
                lambda: self._on_session_expired("Your session has ended. Please sign in again."),
            )

    def _on_sync_status(self, status: Any) -> None:
        if status.needs_sign_in and not self.ctx.session.offline:
            self._on_session_expired(
                "Your session has ended. Please sign in again; "
                "changes made on this computer are kept and will be sent."
            )

    def _on_live_refused(self, code: int, reason: str) -> None:
        if code == CLOSE_UNAUTHENTICATED and not self.ctx.session.offline:
            self.ctx.session_expired.emit(reason)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._close_live_feeds()
        super().closeEvent(event)

    def _on_health(self, health: dict[str, Any] | None) -> None:
        if health:
            self.set_hospital_name(str(health.get("hospital") or health.get("hospital_name") or ""))
