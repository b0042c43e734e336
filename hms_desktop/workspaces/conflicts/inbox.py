"""The conflict inbox workspace: compare two versions side by side and decide."""

import uuid

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.store.patients import ConflictView
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_status, styled_label
from hms_desktop.widgets.messages import describe_error, local_time, patient_name
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.conflicts.comparison import ComparisonModel, comparison_rows
from hms_desktop.workspaces.conflicts.field_choice import FieldChoiceDialog

KIND_TEXT = {"duplicate": "Possible duplicate", "identity": "Changed on two computers"}

COLUMNS: list[Column[ConflictView]] = [
    Column("Patient", lambda c: patient_name(c.patient), tooltip=lambda c: c.patient.mrn),
    Column("Kind", lambda c: KIND_TEXT.get(c.kind, c.kind)),
    Column("Found", lambda c: local_time(c.created_at) if c.created_at else ""),
    Column("From", lambda c: c.source_username or "—"),
]


def headline(conflict: ConflictView) -> str:
    """One sentence saying what happened, for the person deciding."""
    if conflict.kind == "duplicate" and conflict.other is not None:
        first, later = conflict.other, conflict.patient
        return (
            f"Two registrations may be the same person: {patient_name(first)} (MRN "
            f"{first.mrn}) and {patient_name(later)} (MRN {later.mrn}), registered on different "
            "computers while one of them was offline."
        )
    return (
        f"The record of {patient_name(conflict.patient)} (MRN {conflict.patient.mrn}) was "
        "changed on two computers at once. The server kept its version for now."
    )


class ConflictInbox(QWidget):
    """Open conflicts on the left; the chosen one compared side by side, with its decisions."""

    resolved = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.current: ConflictView | None = None
        self.last_merged: uuid.UUID | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(styled_label("Conflicts to resolve", "pageTitle"))
        layout.addWidget(
            styled_label(
                "Sync could not decide these alone. Compare both versions, ask the patient if "
                "needed, then choose. Every decision is recorded, and a merge can be undone.",
                "hint",
            )
        )
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._list())
        splitter.addWidget(self._detail())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 800])
        layout.addWidget(splitter, 1)
        if ctx.sync is not None:
            ctx.sync.data_changed.connect(self.refresh)

    def _list(self) -> QWidget:
        self.model: RecordTableModel[ConflictView] = RecordTableModel(COLUMNS, self)
        self.table = make_table_view(self.model)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        for column, width in enumerate((170, 190, 130)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.setMinimumWidth(340)
        return self.table

    def _detail(self) -> QWidget:
        box = QFrame()
        box.setProperty("role", "card")
        column = QVBoxLayout(box)
        column.setContentsMargins(20, 16, 20, 16)
        self.headline = styled_label("Nothing to resolve.", "sectionTitle")
        self.headline.setWordWrap(True)
        self.reasons = styled_label("", "hint")
        self.reasons.setWordWrap(True)
        self.comparison = ComparisonModel(self)
        self.compare_view = make_table_view(self.comparison)
        header = self.compare_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.status_label = styled_label("", "statusText")
        self.status_label.setWordWrap(True)
        for widget in (self.headline, self.reasons):
            column.addWidget(widget)
        column.addWidget(self.compare_view, 1)
        column.addLayout(self._buttons())
        column.addWidget(self.status_label)
        return box

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.keep_left = QPushButton()
        self.keep_right = QPushButton()
        self.different = QPushButton("Different people")
        self.per_field = QPushButton("Choose field by field…")
        self.per_field.clicked.connect(self._choose_fields)
        self.field_dialog: FieldChoiceDialog | None = None
        self.undo_merge = QPushButton("Undo the last merge")
        self.keep_left.clicked.connect(lambda: self._decide("left"))
        self.keep_right.clicked.connect(lambda: self._decide("right"))
        self.different.clicked.connect(lambda: self._decide("different"))
        self.undo_merge.clicked.connect(self._undo)
        self.undo_merge.hide()
        for button in (self.keep_left, self.keep_right, self.different, self.per_field):
            button.setEnabled(False)
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.undo_merge)
        return row

    # --- loading ----------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Load the open conflicts from the cache (off the UI thread)."""
        if self._ctx.patients is not None:
            self._ctx.run(self, self._ctx.patients.open_conflicts, self._show, self._failed)

    def _show(self, conflicts: list[ConflictView]) -> None:
        keep = self.current.id if self.current else None
        self.model.set_records(conflicts)
        rows = [i for i, c in enumerate(conflicts) if c.id == keep] or ([0] if conflicts else [])
        if rows:
            self.table.selectRow(rows[0])
        else:
            self._present(None)

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._present(self.model.record(rows[0].row()) if rows else None)

    def _present(self, conflict: ConflictView | None) -> None:
        self.current = conflict
        enabled = conflict is not None
        for button in (self.keep_left, self.keep_right, self.different, self.per_field):
            button.setEnabled(enabled)
        if conflict is None:
            self.headline.setText("Nothing to resolve.")
            self.reasons.clear()
            self.comparison.show([], "", "")
            return
        self.headline.setText(headline(conflict))
        self.reasons.setText("Why: " + "; ".join(conflict.reasons))
        rows = comparison_rows(conflict)
        if conflict.kind == "duplicate" and conflict.other is not None:
            left, right = f"MRN {conflict.other.mrn}", f"MRN {conflict.patient.mrn}"
            self.comparison.show(rows, f"Registered first ({left})", f"Registered later ({right})")
            self.keep_left.setText(f"Same person: keep {left}")
            self.keep_right.setText(f"Same person: keep {right}")
            self.different.show()
            self.per_field.hide()
        else:
            self.comparison.show(rows, "Server's version (kept now)", "Offline edit")
            self.keep_left.setText("Keep the server's version")
            self.keep_right.setText("Use the offline edit")
            self.different.hide()
            self.per_field.setVisible(len(conflict.fields) > 1)

    # --- deciding ---------------------------------------------------------------------------

    def _choose_fields(self) -> None:
        if self.current is None:
            return
        self.field_dialog = FieldChoiceDialog(self.current.fields, self)
        self.field_dialog.chosen.connect(lambda values: self._decide("fields", values))
        self.field_dialog.open()

    def _decide(self, choice: str, values: dict | None = None) -> None:
        conflict = self.current
        if conflict is None or self._ctx.patients is None:
            return
        patients = self._ctx.patients
        survivor: uuid.UUID | None = None
        if conflict.kind == "duplicate" and conflict.other is not None:
            resolution = "different" if choice == "different" else "merge"
            if resolution == "merge":
                survivor = conflict.other.id if choice == "left" else conflict.patient.id
        elif choice == "fields":
            resolution = "merge"
        else:
            resolution = "keep_theirs" if choice == "left" else "keep_ours"
        merged = None
        if survivor is not None:
            merged = conflict.patient.id if survivor == conflict.other.id else conflict.other.id

        def work() -> None:
            patients.resolve_conflict(conflict.id, resolution, survivor_id=survivor, values=values)

        set_status(self.status_label, "Saving your decision…")
        self._ctx.write(self, work, lambda _r: self._done(resolution, merged), self._failed)

    def _done(self, resolution: str, merged: uuid.UUID | None) -> None:
        self.last_merged = merged
        self.undo_merge.setVisible(merged is not None)
        text = {
            "merge": "Merged: the record now holds the values you chose."
            if merged is None
            else "Merged: the other record now points to the one you kept.",
            "different": "Recorded: these are two different people.",
            "keep_theirs": "Kept the server's version.",
            "keep_ours": "The offline edit was applied.",
        }[resolution]
        set_status(self.status_label, text)
        self.current = None
        self.resolved.emit(resolution)
        self.refresh()

    def _undo(self) -> None:
        if self.last_merged is None or self._ctx.patients is None:
            return
        patient_id, patients = self.last_merged, self._ctx.patients
        self._ctx.write(
            self, lambda: patients.unmerge_patient(patient_id), self._undone, self._failed
        )

    def _undone(self, _result: object) -> None:
        self.last_merged = None
        self.undo_merge.hide()
        set_status(self.status_label, "Merge undone: both records are patients of their own again.")

    def _failed(self, exc: BaseException) -> None:
        set_status(self.status_label, describe_error(exc), error=True)
