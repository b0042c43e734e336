"""The vital-signs form: spin boxes and choices for one set, NEWS2 scored live as the nurse
types (the pure rule, no network), and each refusal shown beside its field."""

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.widgets.forms import set_invalid, styled_label
from hms_desktop.workspaces.ward import rules

NOT_MEASURED = "—"
# field -> (label, unit, lowest the box goes to (shown as "—"), highest, decimals)
NUMBERS: dict[str, tuple[str, str, float, float, int]] = {
    "respiration_rate": ("Respiration rate", "/min", -1, 100, 0),
    "spo2": ("SpO₂", "%", -1, 100, 0),
    "systolic_bp": ("Systolic BP", "mmHg", -1, 350, 0),
    "diastolic_bp": ("Diastolic BP", "mmHg", -1, 300, 0),
    "pulse": ("Pulse", "/min", -1, 350, 0),
    "temperature_c": ("Temperature", "°C", 0, 50, 1),
}
# The application's stylesheet dresses QSpinBox and QDateEdit; these two look the same.
LOCAL_STYLE = """
QDoubleSpinBox, QDateTimeEdit {
    background: #ffffff; border: 1px solid #c4ccd6; border-radius: 5px;
    padding: 5px 8px; min-height: 20px; selection-background-color: #0f6cbd;
}
QDoubleSpinBox:focus, QDateTimeEdit:focus { border: 2px solid #0f6cbd; padding: 4px 7px; }
QDoubleSpinBox:disabled, QDateTimeEdit:disabled { background: #eef1f5; color: #8a97a6; }
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button { width: 0px; border: none; }
QDoubleSpinBox[invalid="true"] {
    border: 2px solid #d92d20; background: #fffbfa; padding: 4px 7px;
}
"""
ACVPU = (
    ("A", "A · Alert"),
    ("C", "C · New confusion"),
    ("V", "V · Responds to voice"),
    ("P", "P · Responds to pain"),
    ("U", "U · Unresponsive"),
)


class VitalsForm(QFrame):
    """One set of observations for the selected patient; `save_requested` carries the values."""

    save_requested = Signal(dict, object)  # values for RecordVitals, taken_at (aware datetime)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wardVitalsForm")
        self.setProperty("role", "card")
        self.setStyleSheet(LOCAL_STYLE)
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.errors: dict[str, QLabel] = {}
        self._build()
        self.clear_values()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        self.title_label = styled_label("Chart vital signs", "sectionTitle")
        self.patient_label = styled_label("", "hint")
        layout.addWidget(self.title_label)
        layout.addWidget(self.patient_label)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        row = 0
        for name, (label, unit, low, high, decimals) in NUMBERS.items():
            spin = _spin(low, high, decimals, unit)
            spin.setObjectName(f"ward_{name}")
            spin.valueChanged.connect(self._changed)
            self.spins[name] = spin
            row = self._add_row(grid, row, label, spin, name)
        self.scale_combo = _combo(
            [(1, "Scale 1"), (2, "Scale 2 · target 88–92% (hypercapnic)")], None
        )
        self.oxygen_combo = _combo([(False, "Air"), (True, "Oxygen")], NOT_MEASURED)
        self.acvpu_combo = _combo(list(ACVPU), NOT_MEASURED)
        for combo in (self.scale_combo, self.oxygen_combo, self.acvpu_combo):
            combo.currentIndexChanged.connect(self._changed)
        row = self._add_row(grid, row, "SpO₂ scale", self.scale_combo, "spo2_scale")
        row = self._add_row(grid, row, "Air or oxygen", self.oxygen_combo, "on_oxygen")
        row = self._add_row(grid, row, "Consciousness", self.acvpu_combo, "consciousness")
        self.taken_edit = QDateTimeEdit()
        self.taken_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        row = self._add_row(grid, row, "Time taken", self.taken_edit, "taken_at")
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(500)
        self.note_edit.setPlaceholderText("Optional note")
        self._add_row(grid, row, "Note", self.note_edit, "note")
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        layout.addWidget(self._score_box())
        self.error_label = styled_label("", "errorBox")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_values)
        self.save_button = QPushButton("Save observations")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def _add_row(self, grid: QGridLayout, row: int, label: str, widget: QWidget, key: str) -> int:
        caption = styled_label(label, "fieldLabel")
        caption.setBuddy(widget)
        error = styled_label("", "fieldError")
        error.setWordWrap(True)
        error.hide()
        self.errors[key] = error
        grid.addWidget(caption, row, 0)
        grid.addWidget(widget, row, 1)
        grid.addWidget(error, row + 1, 1)
        return row + 2

    def _score_box(self) -> QFrame:
        self.score_frame = QFrame()
        self.score_frame.setObjectName("wardScore")
        box = QVBoxLayout(self.score_frame)
        box.setContentsMargins(12, 8, 12, 8)
        box.setSpacing(2)
        self.score_label = QLabel()
        self.score_label.setObjectName("wardScoreHeadline")
        self.advice_label = QLabel()
        self.advice_label.setWordWrap(True)
        self.advice_label.setMinimumHeight(36)
        self.advice_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.score_label)
        box.addWidget(self.advice_label)
        return self.score_frame

    # --- values -----------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """What is typed, as RecordVitals value fields (None where not measured)."""
        found: dict[str, Any] = {}
        for name, spin in self.spins.items():
            found[name] = None if spin.value() == spin.minimum() else float(spin.value())
        found["spo2_scale"] = self.scale_combo.currentData()
        found["on_oxygen"] = self.oxygen_combo.currentData()
        found["consciousness"] = self.acvpu_combo.currentData()
        found["note"] = self.note_edit.text().strip()
        return found

    def taken_at(self) -> datetime:
        return self.taken_edit.dateTime().toPython().astimezone(UTC)

    def set_value(self, name: str, value: float | None) -> None:
        """Type a number into a box (None: not measured)."""
        spin = self.spins[name]
        spin.setValue(spin.minimum() if value is None else value)

    def clear_values(self) -> None:
        """An empty set taken now."""
        for spin in self.spins.values():
            spin.setValue(spin.minimum())
        self.scale_combo.setCurrentIndex(0)
        self.oxygen_combo.setCurrentIndex(0)
        self.acvpu_combo.setCurrentIndex(0)
        self.note_edit.clear()
        self.reset_time()
        self.clear_errors()
        self._changed()

    def reset_time(self) -> None:
        self.taken_edit.setDateTime(QDateTime.currentDateTime())

    def set_patient(self, text: str, enabled: bool) -> None:
        self.patient_label.setText(text)
        self.setEnabled(enabled)

    # --- feedback ---------------------------------------------------------------------------

    def _changed(self) -> None:
        """Score what is typed so far, as it is typed."""
        shown = rules.preview(self.values())
        ink, fill = rules.band_colours(shown.total, shown.band)
        self.score_frame.setStyleSheet(
            f"#wardScore {{ background: {fill}; border-radius: 6px; }}"
            f"#wardScore QLabel {{ color: {ink}; background: transparent; }}"
            "#wardScoreHeadline { font-size: 13pt; font-weight: bold; }"
        )
        self.score_label.setText(shown.headline)
        self.advice_label.setText(shown.detail)
        self.score_frame.setToolTip(shown.full)

    def _save(self) -> None:
        self.clear_errors()
        self.save_requested.emit(self.values(), self.taken_at())

    def show_errors(self, message: str, fields: dict[str, str]) -> None:
        """A refusal: the sentence above the buttons, each field's words beside it."""
        self.clear_errors()
        for name, words in fields.items():
            label = self.errors.get(name)
            if label is not None:
                label.setText(words)
                label.show()
            widget = self.spins.get(name)
            if widget is not None:
                set_invalid(widget, True)
        self.error_label.setText(message)
        self.error_label.show()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()
        for spin in self.spins.values():
            set_invalid(spin, False)
        self.error_label.clear()
        self.error_label.hide()


def _spin(low: float, high: float, decimals: int, unit: str) -> QSpinBox | QDoubleSpinBox:
    """A number box whose lowest value reads '—' (not measured)."""
    spin: QSpinBox | QDoubleSpinBox
    if decimals:
        spin = QDoubleSpinBox()
        spin.setDecimals(decimals)
        spin.setSingleStep(0.1)
    else:
        spin = QSpinBox()
    spin.setRange(low, high)  # type: ignore[arg-type]
    spin.setSpecialValueText(NOT_MEASURED)
    spin.setSuffix(f" {unit}")
    spin.setAlignment(Qt.AlignmentFlag.AlignRight)
    spin.setMinimumWidth(120)
    return spin


def _combo(choices: list[tuple[Any, str]], blank: str | None) -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    if blank is not None:
        combo.addItem(blank, None)
    for data, text in choices:
        combo.addItem(text, data)
    return combo
