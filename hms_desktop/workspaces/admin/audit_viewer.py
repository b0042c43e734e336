"""The audit log viewer: who did what to which patient, from which PC, when."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QGridLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.rules.mrn import is_valid_mrn
from hms_core.schemas.audit import AuditEventOut
from hms_desktop.sync.api_client import ApiClient
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error, local_time
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

AUDIT_LIMIT = 500
DEFAULT_DAYS = 7

COLUMNS: list[Column[AuditEventOut]] = [
    Column("When", lambda e: local_time(e.at)),
    Column("User", lambda e: e.actor_username),
    Column("Role", lambda e: e.actor_role),
    Column("Action", lambda e: e.action),
    Column("Outcome", lambda e: e.outcome),
    Column(
        "Patient",
        lambda e: f"…{e.patient_id.hex[-8:]}" if e.patient_id else "—",
        tooltip=lambda e: str(e.patient_id or ""),
    ),
    Column(
        "Client",
        lambda e: f"{e.client_address} · {e.client_id[:8]}".strip(" ·"),
        tooltip=lambda e: f"{e.client_address}\n{e.client_id}",
    ),
    Column(
        "Detail",
        lambda e: json.dumps(e.detail, ensure_ascii=False) if e.detail else "",
        tooltip=lambda e: json.dumps(e.detail, ensure_ascii=False, indent=2),
    ),
]


@dataclass(frozen=True)
class AuditFilter:
    """What the admin asked for; `patient` is an MRN or a patient id, or empty."""

    patient: str
    username: str
    since: date
    until: date


class PatientNotFound(LookupError):
    """No patient has the MRN typed in the filter."""


def fetch_audit(api: ApiClient, wanted: AuditFilter) -> list[AuditEventOut]:
    """Resolve an MRN to a patient id if needed, then ask the server (runs off the UI thread)."""
    patient_id = resolve_patient(api, wanted.patient.strip()) if wanted.patient.strip() else None
    since = datetime.combine(wanted.since, time.min).astimezone()
    until = datetime.combine(wanted.until + timedelta(days=1), time.min).astimezone()
    return api.audit(
        patient_id=patient_id,
        username=wanted.username.strip() or None,
        since=since,
        until=until,
        limit=AUDIT_LIMIT,
    )


def resolve_patient(api: ApiClient, text: str) -> uuid.UUID:
    """A patient id from an id or an MRN."""
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    if not is_valid_mrn(text):
        raise PatientNotFound(f"“{text}” is neither a patient id nor a valid MRN.")
    for patient in api.search_patients(text, limit=5):
        if patient.mrn == text:
            return patient.id
    raise PatientNotFound(f"No patient has MRN {text}.")


class AuditLogViewer(QWidget):
    """Filters (patient, username, dates) over a table of audit events."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(styled_label("Audit log", "pageTitle"))
        layout.addWidget(
            styled_label("Every read and change of patient data, with who, where and when.", "hint")
        )
        layout.addLayout(self._filters())
        self.status_label = styled_label("", "statusText")
        layout.addWidget(self.status_label)
        self.model: RecordTableModel[AuditEventOut] = RecordTableModel(COLUMNS, self)
        self.view = make_table_view(self.model)
        header = self.view.horizontalHeader()
        for column, width in enumerate((140, 130, 90, 200, 90, 110, 170)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.view, 1)
        self._loaded_once = False

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Load the last days' events the first time the viewer is shown."""
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self.refresh()

    def _filters(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.patient_edit = QLineEdit()
        self.patient_edit.setPlaceholderText("MRN or patient id")
        self.username_edit = QLineEdit()
        self.username_edit.setPlaceholderText("Any user")
        today = QDate.currentDate()
        self.since_edit = _date_edit(today.addDays(-DEFAULT_DAYS))
        self.until_edit = _date_edit(today)
        self.search_button = QPushButton("Show events")
        self.search_button.setProperty("role", "primary")
        self.search_button.clicked.connect(self.refresh)
        for edit in (self.patient_edit, self.username_edit):
            edit.returnPressed.connect(self.refresh)
        fields: list[tuple[str, QWidget]] = [
            ("Patient", self.patient_edit),
            ("Username", self.username_edit),
            ("From", self.since_edit),
            ("To", self.until_edit),
        ]
        for column, (label, widget) in enumerate(fields):
            caption = styled_label(label, "fieldCaption")
            caption.setBuddy(widget)
            grid.addWidget(caption, 0, column)
            grid.addWidget(widget, 1, column)
        grid.addWidget(self.search_button, 1, len(fields))
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 2)
        return grid

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            patient=self.patient_edit.text(),
            username=self.username_edit.text(),
            since=self.since_edit.date().toPython(),
            until=self.until_edit.date().toPython(),
        )

    def refresh(self) -> None:
        """Load the events matching the filters, off the UI thread."""
        wanted = self.current_filter()
        if wanted.until < wanted.since:
            set_status(self.status_label, "“To” is before “From”.", error=True)
            return
        set_status(self.status_label, "Loading…")
        self.search_button.setEnabled(False)
        self._ctx.run(self, lambda: fetch_audit(self._ctx.api, wanted), self._show, self._failed)

    def _show(self, events: list[AuditEventOut]) -> None:
        self.search_button.setEnabled(True)
        self.model.set_records(events)
        more = (
            " (the newest ones; narrow the filters to see older)"
            if len(events) >= AUDIT_LIMIT
            else ""
        )
        set_status(self.status_label, f"{len(events)} events{more}.")

    def _failed(self, exc: BaseException) -> None:
        self.search_button.setEnabled(True)
        message = str(exc) if isinstance(exc, PatientNotFound) else describe_error(exc)
        set_status(self.status_label, message, error=True)


def _date_edit(value: QDate) -> QDateEdit:
    edit = QDateEdit(value)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit
