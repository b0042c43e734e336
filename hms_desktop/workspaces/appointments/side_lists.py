"""The waiting room (checked-in patients, longest wait first) and the follow-ups due."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QPushButton, QVBoxLayout, QWidget

from hms_core.schemas.scheduling import AppointmentView, FollowUpView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import make_table_view
from hms_desktop.workspaces.appointments.delegates import two_line_table
from hms_desktop.workspaces.appointments.directory import Directory
from hms_desktop.workspaces.appointments.models import (
    ZonedModel,
    follow_up_model,
    waited_minutes,
    waiting_model,
)

FOLLOW_UP_HORIZON = timedelta(days=14)


def longest_wait_first(found: list[AppointmentView]) -> list[AppointmentView]:
    """Checked-in patients, the one who arrived first on top."""
    waiting = [a for a in found if waited_minutes(a) is not None]
    return sorted(waiting, key=lambda a: a.checked_in_at or datetime.max.replace(tzinfo=UTC))


class _ListPanel(QWidget):
    """A table over a ZonedModel, a status line and a row of buttons under it."""

    loaded = Signal(int)

    def __init__(self, ctx: AppContext, model: ZonedModel, hint: str, parent: QWidget | None):
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        self.directory = Directory()
        self.model = model
        model.setParent(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(styled_label(hint, "hint"))
        self.view = make_table_view(model)
        two_line_table(self.view, {1: True, 2: False})
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 100)
        header.resizeSection(3, 100)
        layout.addWidget(self.view, 1)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        layout.addLayout(self.buttons)
        self.status_label = styled_label("", "statusText")
        layout.addWidget(self.status_label)

    def _load(
        self, work: Callable[[], list[Any]], arrange: Callable[[list[Any]], list[Any]] = list
    ) -> None:
        self._generation += 1
        generation = self._generation
        self._ctx.run(
            self,
            work,
            lambda found: self._show(generation, arrange(found)),
            lambda exc: self._failed(generation, exc),
        )

    def _show(self, generation: int, found: list[Any]) -> None:
        if generation == self._generation:
            self.model.set_records(found)
            set_status(self.status_label, "")
            self.loaded.emit(len(found))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            set_status(self.status_label, describe_error(exc), error=True)

    def _selected(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None


class WaitingRoomPanel(_ListPanel):
    """Today's checked-in patients with how long they have waited."""

    patient_requested = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(
            ctx, waiting_model(), "Patients who have arrived, longest wait first.", parent
        )
        self.open_button = QPushButton("Open patient")
        self.open_button.clicked.connect(self._open)
        self.buttons.addWidget(self.open_button)

    def reload(self) -> None:
        zone, scheduling = self.directory.zone(), self._ctx.scheduling
        self.model.zone = zone
        today = datetime.now(zone).date()
        self._load(lambda: scheduling.day(today, zone), longest_wait_first)

    def refresh_waiting(self) -> None:
        self.model.refresh_column(0)

    def _open(self) -> None:
        chosen = self._selected()
        if isinstance(chosen, AppointmentView):
            self.patient_requested.emit(chosen.patient_id)


class FollowUpsPanel(_ListPanel):
    """Follow-ups the doctors asked for, due in the next two weeks; "Book" prefills a booking."""

    book_requested = Signal(object)  # FollowUpView

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        model = follow_up_model(lambda key: self.directory.department_name(key))
        super().__init__(ctx, model, "Follow-ups due in the next 14 days, soonest first.", parent)
        self.book_button = QPushButton("Book…")
        self.book_button.setProperty("role", "primary")
        self.book_button.clicked.connect(self._book)
        self.view.doubleClicked.connect(lambda _i: self._book())
        self.buttons.addWidget(self.book_button)

    def reload(self) -> None:
        scheduling = self._ctx.scheduling
        until = date.today() + FOLLOW_UP_HORIZON
        self._load(lambda: scheduling.follow_ups_due(until))

    def _book(self) -> None:
        chosen = self._selected()
        if isinstance(chosen, FollowUpView):
            self.book_requested.emit(chosen)
        else:
            set_status(self.status_label, "Select the follow-up to book first.", error=True)
