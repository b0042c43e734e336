"""Changes the server refused (what, when, why) until dismissed; a refused booking offers the
next free times, one click books one instead for the same patient and reason."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import AppointmentView, FreeSlot
from hms_core.services.errors import DomainError
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.patients import LocalPatients
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.tasks import TaskManager
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error, local_time
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view

BOOKINGS = ("book_appointment", "reschedule_appointment")
HINT = (
    "These changes were made on this computer but the server did not accept them, so they are "
    "not in the record. Read why, redo what is still needed, then dismiss."
)
Alternative = tuple[FreeSlot, ZoneInfo]


def when_words(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue 8 Dec 09:30' in the doctor's zone."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def alternatives_of(entry: dict[str, Any]) -> list[FreeSlot]:
    """The next free times the server offered with a refused booking."""
    detail = (entry.get("error") or {}).get("detail") or {}
    return [FreeSlot.model_validate(a) for a in detail.get("alternatives") or []]


def describe_change(entry: dict[str, Any]) -> str:
    """A refused mutation in words: 'Register Kofi Boateng', 'Change of city, phone'."""
    args = entry.get("args") or {}
    if entry["name"] == "register_patient":
        patient = args.get("patient", {})
        return f"Register {patient.get('given_name', '')} {patient.get('family_name', '')}".strip()
    if entry["name"] == "update_patient":
        fields = sorted(k for k in args.get("changes", {}) if k != "expected_row_version")
        return "Change of " + ", ".join(f.replace("_", " ") for f in fields)
    if entry["name"] in BOOKINGS and "_when" in entry:
        verb = "Book" if entry["name"] == "book_appointment" else "Move"
        return f"{verb} {entry['_patient']} with {entry['_doctor']}, {entry['_when']}"
    return entry["name"].replace("_", " ").capitalize()


def why(entry: dict[str, Any]) -> str:
    """The server's reason, and for a refused booking the next free times."""
    zone, found = entry.get("_zone") or ZoneInfo("UTC"), alternatives_of(entry)[:3]
    times = ", ".join(f"{when_words(s.starts_at, zone)} {s.doctor_name}" for s in found)
    return f"{entry['message']} Next free: {times}" if found else entry["message"]


def enrich(store: LocalStore, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the patient's and doctor's names and the time to refused bookings (blocking)."""
    scheduling, patients = LocalScheduling(store), LocalPatients(store)
    doctors = {str(d.id): d for d in scheduling.doctors()}
    for entry in entries:
        args = entry.get("args") or {}
        if entry["name"] not in BOOKINGS:
            continue
        patient_id = args.get("patient_id")
        if entry["name"] == "reschedule_appointment":
            current = scheduling.appointment(uuid.UUID(args["appointment_id"]))
            patient_id = current.patient_id if current else None
        doctor = doctors.get(str(args.get("doctor_id")))
        entry["_zone"] = zone = ZoneInfo(doctor.timezone if doctor else "UTC")
        entry["_doctor"] = doctor.display_name if doctor else "the doctor"
        entry["_patient"] = _patient_name(patients, patient_id)
        entry["_when"] = when_words(datetime.fromisoformat(args["starts_at"]), zone)
    return entries


def _patient_name(patients: LocalPatients, patient_id: Any) -> str:
    try:
        found = patients.get_patient(uuid.UUID(str(patient_id)))
        return f"{found.given_name} {found.family_name}"
    except (DomainError, ValueError):
        return "the patient"


COLUMNS: list[Column[dict[str, Any]]] = [
    Column("Refused", lambda e: local_time(e["rejected_at"])),
    Column("Change", describe_change, tooltip=describe_change),
    Column("Why", why, tooltip=why),
]
ALTERNATIVES: list[Column[Alternative]] = [
    Column("Free time", lambda a: when_words(a[0].starts_at, a[1])),
    Column("Doctor", lambda a: a[0].doctor_name),
]


class AttentionDialog(QDialog):
    """Lists refused changes; "Dismiss" removes one from the list (it stays in the audit)."""

    rebooked = Signal(object)  # the AppointmentView booked (or moved) instead

    def __init__(
        self,
        store: LocalStore,
        tasks: TaskManager,
        parent: QWidget | None = None,
        *,
        after_write: Callable[[], None] | None = None,
    ) -> None:
        """`after_write` (sync's nudge) is called after booking another time."""
        super().__init__(parent)
        self._store, self._tasks, self._after_write = store, tasks, after_write
        self.setWindowTitle("Changes the server refused")
        self.setMinimumSize(900, 460)
        self.resize(1000, 680)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(styled_label("Changes the server refused", "dialogTitle"))
        hint = styled_label(HINT, "hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.model: RecordTableModel[dict[str, Any]] = RecordTableModel(COLUMNS, self)
        self.view = make_table_view(self.model)
        self.view.horizontalHeader().resizeSection(0, 140)
        self.view.horizontalHeader().resizeSection(1, 430)
        self.view.setMinimumHeight(36 + 3 * 34)
        self.view.selectionModel().selectionChanged.connect(self._show_alternatives)
        layout.addWidget(self.view, 1)
        layout.addWidget(self._alternatives_box())
        self.status_label = styled_label("", "statusText")
        layout.addWidget(self.status_label)
        self.dismiss_button = QPushButton("Dismiss selected")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        layout.addLayout(_row(self.dismiss_button, None, QPushButton("Close", clicked=self.accept)))
        self.refresh()

    def _alternatives_box(self) -> QFrame:
        self.alternatives_box = box = QFrame()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 4, 0, 0)
        self.reason_label = styled_label("", "errorBox")
        self.reason_label.setWordWrap(True)
        column.addWidget(self.reason_label)
        column.addWidget(styled_label("Next free times — book one instead:", "fieldCaption"))
        self.alternatives: RecordTableModel[Alternative] = RecordTableModel(ALTERNATIVES, self)
        self.alternatives_view = make_table_view(self.alternatives)
        self.alternatives_view.horizontalHeader().resizeSection(0, 200)
        self.alternatives_view.setFixedHeight(5 * 34 + 44)
        column.addWidget(self.alternatives_view)
        self.book_instead_button = QPushButton("Book this time instead")
        self.book_instead_button.setProperty("role", "primary")
        self.book_instead_button.clicked.connect(self.book_instead)
        column.addLayout(_row(None, self.book_instead_button))
        box.hide()
        return box

    def refresh(self) -> None:
        store = self._store
        self._tasks.run(lambda: enrich(store, store.rejections()), self._show, owner=self)

    def _show(self, entries: list[dict[str, Any]]) -> None:
        self.model.set_records(entries)
        if entries:
            self.view.selectRow(0)
        self._show_alternatives()

    def _selected(self) -> dict[str, Any] | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def _show_alternatives(self, *_args: object) -> None:
        entry = self._selected()
        found = alternatives_of(entry) if entry and entry["name"] in BOOKINGS else []
        zone = (entry or {}).get("_zone") or ZoneInfo("UTC")
        self.alternatives.set_records([(s, zone) for s in found])
        self.reason_label.setText(entry["message"] if entry else "")
        if found:
            self.alternatives_view.selectRow(0)
        moving = entry is not None and entry["name"] == "reschedule_appointment"
        self.book_instead_button.setText(f"{'Move to' if moving else 'Book'} this time instead")
        self.alternatives_box.setVisible(bool(found))

    def book_instead(self) -> None:
        """Book (or move to) the chosen free time, then dismiss the refused change."""
        entry, rows = self._selected(), self.alternatives_view.selectionModel().selectedRows()
        if entry is None or not rows:
            return
        slot = self.alternatives.record(rows[0].row())[0]
        work = _redo(self._store, entry, slot)
        self.book_instead_button.setEnabled(False)
        self._tasks.run(work, self._rebooked, self._failed, owner=self)

    def _rebooked(self, view: AppointmentView) -> None:
        self.book_instead_button.setEnabled(True)
        if self._after_write is not None:
            self._after_write()
        set_status(self.status_label, "Booked the new time; waiting for the server to confirm.")
        self.rebooked.emit(view)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.book_instead_button.setEnabled(True)
        set_status(self.status_label, f"Not booked. {describe_error(exc)}", error=True)

    def dismiss_selected(self) -> None:
        if (entry := self._selected()) is not None:
            dismiss, done = self._store.dismiss, lambda _r: self.refresh()
            self._tasks.run(lambda: dismiss(entry["mutation_id"]), done, owner=self)


def _row(*widgets: QWidget | None) -> QHBoxLayout:
    """Widgets in a row; None stands for the stretch between them."""
    row = QHBoxLayout()
    for widget in widgets:
        row.addStretch(1) if widget is None else row.addWidget(widget)
    return row


def _redo(store: LocalStore, entry: dict[str, Any], slot: FreeSlot) -> Callable[[], Any]:
    """The work that books (or moves) `slot` for a refused entry and dismisses the entry."""
    args, scheduling = entry.get("args") or {}, LocalScheduling(store)

    def work() -> Any:
        if entry["name"] == "reschedule_appointment":
            view = scheduling.reschedule(
                uuid.UUID(args["appointment_id"]), slot, args.get("reason", "")
            )
        else:
            follow_up = args.get("follow_up_id")
            view = scheduling.book(
                uuid.UUID(args["patient_id"]),
                slot,
                args.get("reason", ""),
                request_only=bool(args.get("request_only")),
                follow_up_id=uuid.UUID(follow_up) if follow_up else None,
                department_wide=bool(args.get("department_wide")),
            )
        store.dismiss(entry["mutation_id"])
        return view

    return work
