"""Ordering a lab test or an imaging study from the catalogue, with the indication and the
priority; the order number (made on this computer, offline too) is shown once it is placed."""

import uuid
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.catalogues import ImagingStudy, LabTest
from hms_core.rules.names import fold
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.workspaces.chart.clinical_store import ClinicalStore

ITEM_ROLE = Qt.ItemDataRole.UserRole
PRIORITIES = (("routine", "Routine"), ("urgent", "Urgent"), ("stat", "STAT (at once)"))
MIN_INDICATION = 3
MODALITY_NAMES = {"xray": "X-ray", "us": "Ultrasound", "ct": "CT", "mri": "MRI"}


class OrderDialog(QDialog):
    """A lab or imaging order for the patient; stays open to show the number it was given."""

    placed = Signal(dict)

    def __init__(
        self,
        ctx: AppContext,
        patient_id: uuid.UUID,
        parent: QWidget | None = None,
        *,
        encounter_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.encounter_id = ctx, patient_id, encounter_id
        self.number = ""
        self.setWindowTitle("Order a test")
        self.setMinimumWidth(580)
        self._build()
        self._on_kind()

    clinical = ClinicalStore()

    def _build(self) -> None:
        body = QVBoxLayout(self)
        body.setContentsMargins(24, 20, 24, 16)
        body.setSpacing(10)
        body.addWidget(styled_label("Order a test", "dialogTitle"))
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        self.lab_radio, self.imaging_radio = QRadioButton("Lab test"), QRadioButton("Imaging")
        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        for radio in (self.lab_radio, self.imaging_radio):
            self.kind_group.addButton(radio)
            kinds.addWidget(radio)
        kinds.addStretch(1)
        self.lab_radio.setChecked(True)
        self.lab_radio.toggled.connect(lambda _on: self._on_kind())
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search the catalogue")
        self.search_edit.textChanged.connect(lambda _t: self._fill())
        self.items = QListWidget()
        self.items.setMinimumHeight(150)
        self.items.currentItemChanged.connect(lambda *_a: self._on_item())
        self.indication_edit = QLineEdit()
        self.indication_edit.setMaxLength(500)
        self.indication_edit.setPlaceholderText("Why the test is needed (required)")
        self.priority_combo = QComboBox()
        for key, text in PRIORITIES:
            self.priority_combo.addItem(text, key)
        self.body_site_edit = QLineEdit()
        self.body_site_edit.setMaxLength(100)
        form.addRow("Kind", kinds)
        form.addRow("Test", self.search_edit)
        form.addRow("", self.items)
        form.addRow("Indication", self.indication_edit)
        form.addRow("Priority", self.priority_combo)
        form.addRow("Body site", self.body_site_edit)
        self.form = form
        body.addLayout(form)
        self.placed_label = styled_label("", "infoBox")
        self.placed_label.setWordWrap(True)
        self.placed_label.hide()
        body.addWidget(self.placed_label)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        body.addWidget(self.error_label)
        body.addLayout(self._buttons())

    def _buttons(self) -> QHBoxLayout:
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self._close)
        self.order_button = QPushButton("Place order")
        self.order_button.setProperty("role", "primary")
        self.order_button.setDefault(True)
        self.order_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.close_button)
        row.addWidget(self.order_button)
        return row

    # --- the catalogue ----------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return "imaging" if self.imaging_radio.isChecked() else "lab"

    def _on_kind(self) -> None:
        imaging = self.kind == "imaging"
        self.form.setRowVisible(self.body_site_edit, imaging)
        self.body_site_edit.setPlaceholderText("Side or region, e.g. left knee" if imaging else "")
        if not imaging:
            self.body_site_edit.clear()
        self._fill()

    def _fill(self) -> None:
        words = fold(self.search_edit.text()).split()
        entries: list[LabTest] | list[ImagingStudy]
        if self.kind == "lab":
            entries = self.clinical.lab_tests()
        else:
            entries = self.clinical.imaging_studies()
        self.items.clear()
        for entry in entries:
            text = _entry_text(entry)
            if all(word in fold(f"{text} {entry.code}") for word in words):
                item = QListWidgetItem(text)
                item.setData(ITEM_ROLE, entry)
                self.items.addItem(item)
        if self.items.count() == 1:
            self.items.setCurrentRow(0)

    def choose(self, code: str) -> bool:
        """Select the catalogue entry `code` in the list (False when it is not shown)."""
        for row in range(self.items.count()):
            if self.items.item(row).data(ITEM_ROLE).code == code:
                self.items.setCurrentRow(row)
                return True
        return False

    @property
    def chosen(self) -> LabTest | ImagingStudy | None:
        item = self.items.currentItem()
        return item.data(ITEM_ROLE) if item is not None else None

    def _on_item(self) -> None:
        study = self.chosen
        if isinstance(study, ImagingStudy) and not self.body_site_edit.text().strip():
            self.body_site_edit.setText(study.body_site)

    # --- placing ----------------------------------------------------------------------------

    def problem(self) -> str:
        if self.chosen is None:
            return "Choose the test from the catalogue."
        short = len(self.indication_edit.text().strip()) < MIN_INDICATION
        set_invalid(self.indication_edit, short)
        if short:
            return "Give the indication: why the test is needed."
        return ""

    def submit(self) -> None:
        problem = self.problem()
        self.error_label.setText(problem)
        chosen = self.chosen
        if problem or chosen is None:
            return
        clinical, patient_id, kind = self.clinical, self.patient_id, self.kind
        indication = self.indication_edit.text().strip()
        priority = str(self.priority_combo.currentData())
        body_site, encounter_id = self.body_site_edit.text().strip(), self.encounter_id
        self.order_button.setEnabled(False)
        self.ctx.write(
            self,
            lambda: clinical.place_order(
                patient_id,
                kind,
                chosen.code,
                indication,
                priority=priority,
                body_site=body_site,
                encounter_id=encounter_id,
            ),
            self._placed,
            self._refused,
        )

    def _placed(self, result: dict[str, Any]) -> None:
        self.number = str(result.get("number", ""))
        name = self.chosen.name if self.chosen is not None else "The test"
        self.placed_label.setText(
            f"{name} ordered.<br>Order number <b>{self.number}</b> (the specimen label and "
            "the request form carry the same number)."
        )
        self.placed_label.show()
        self.order_button.setText("Order another")
        self.order_button.setEnabled(True)
        self.order_button.clicked.disconnect()
        self.order_button.clicked.connect(self._another)
        self.close_button.setText("Close")
        self.placed.emit(result)

    def _another(self) -> None:
        """Keep the indication, clear the test, place the next one."""
        self.placed_label.hide()
        self.order_button.setText("Place order")
        self.order_button.clicked.disconnect()
        self.order_button.clicked.connect(self.submit)
        self.search_edit.clear()
        self.items.setCurrentRow(-1)
        self.body_site_edit.clear()

    def _refused(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.order_button.setEnabled(True)
            self.error_label.setText(describe_error(exc))

    def _close(self) -> None:
        if self.number:
            self.accept()
        else:
            self.reject()


def _entry_text(entry: LabTest | ImagingStudy) -> str:
    if isinstance(entry, ImagingStudy):
        return f"{entry.name} ({MODALITY_NAMES.get(entry.modality, entry.modality)})"
    return f"{entry.name} · {entry.specimen}"
