"""The appointments card of a patient's record: upcoming and past visits, and "Book"."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_core.rbac import Perm
from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.status_chip import STATUS_ROLE, StatusChipDelegate, status_words
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

SHOWN = 8  # the next and latest few; the Appointments workspace has the rest


@dataclass(frozen=True)
class Visit:
    """An appointment with the time zone of its doctor, for display."""

    appointment: AppointmentView
    zone: ZoneInfo

    @property
    def when(self) -> str:
        return self.appointment.starts_at.astimezone(self.zone).strftime("%a %d %b %Y  %H:%M")


class _Model(RecordTableModel[Visit]):
    def data(self, index, role=0):  # noqa: ANN001, ANN201 - Qt's signature
        if role == STATUS_ROLE and index.isValid():
            return self.record(index.row()).appointment.status
        return super().data(index, role)


COLUMNS = [
    Column("When", lambda v: v.when),
    Column("Doctor", lambda v: v.appointment.doctor_name),
    Column("Status", lambda v: status_words(v.appointment.status)),
    Column("Reason", lambda v: v.appointment.reason or "—",
           lambda v: v.appointment.cancel_reason or v.appointment.reason),
]  # fmt: skip


def upcoming_first(visits: list[Visit], now: datetime) -> list[Visit]:
    """Coming visits soonest first, then past ones latest first; at most SHOWN."""
    coming = sorted((v for v in visits if v.appointment.starts_at >= now),
                    key=lambda v: v.appointment.starts_at)  # fmt: skip
    past = [v for v in visits if v.appointment.starts_at < now]  # already latest first
    return (coming + past)[:SHOWN]


class PatientAppointments(QFrame):
    """A card listing a patient's appointments; `book_requested(patient_id)` from its button."""

    book_requested = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._patient_id: uuid.UUID | None = None
        self.setProperty("role", "card")
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 16, 20, 16)
        head = QHBoxLayout()
        head.addWidget(styled_label("Appointments", "sectionTitle"), 1)
        self.book_button = QPushButton("Book appointment…")
        self.book_button.setVisible(ctx.session.can(Perm.APPOINTMENT_BOOK))
        self.book_button.clicked.connect(self._book)
        head.addWidget(self.book_button)
        column.addLayout(head)
        self.model = _Model(COLUMNS, self)
        self.table = make_table_view(self.model)
        self.table.setItemDelegateForColumn(2, StatusChipDelegate(self.table))
        self.table.setMinimumHeight(34 * 4 + 30)
        for index, width in enumerate((190, 200, 150)):
            self.table.setColumnWidth(index, width)
        column.addWidget(self.table)
        self.hint = styled_label("", "hint")
        column.addWidget(self.hint)

    def load(self, patient_id: uuid.UUID) -> None:
        """Read the patient's appointments from this computer's copy (off the UI thread)."""
        self._patient_id = patient_id
        scheduling = self._ctx.scheduling
        if scheduling is None:
            return
        self.hint.setText("Loading…")

        def read() -> list[Visit]:
            zones = {d.id: ZoneInfo(d.timezone) for d in scheduling.doctors()}
            found = scheduling.patient_appointments(patient_id)
            return [Visit(a, zones.get(a.doctor_id, ZoneInfo("UTC"))) for a in found]

        self._ctx.run(self, read, self._show, lambda exc: self.hint.setText(describe_error(exc)))

    def _show(self, visits: list[Visit]) -> None:
        shown = upcoming_first(visits, datetime.now(UTC))
        self.model.set_records(shown)
        more = len(visits) - len(shown)
        if not visits:
            self.hint.setText("No appointments yet.")
        else:
            self.hint.setText(f"{more} older not shown." if more > 0 else "")

    def _book(self) -> None:
        if self._patient_id is not None:
            self.book_requested.emit(self._patient_id)
