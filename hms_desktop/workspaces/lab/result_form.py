"""The result entry form: one row per analyte of the order (value, unit, the patient's
reference range), each value flagged as it is typed, and what cannot be saved said in words."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.store.lab import AnalyteLine
from hms_desktop.widgets.forms import set_invalid, set_style_property, styled_label
from hms_desktop.workspaces.lab import rules

LOCAL_STYLE = """
QLabel[flag="H"], QLabel[flag="L"] { color: #b54708; font-weight: bold; }
QLabel[flag="HH"], QLabel[flag="LL"] {
    color: #ffffff; background: #b42318; font-weight: bold; border-radius: 4px; padding: 1px 6px;
}
QLabel[flag="N"] { color: #067647; }
QLabel[role="problem"] { color: #b42318; }
QLabel#labCritical {
    color: #ffffff; background: #b42318; font-weight: bold; border-radius: 6px; padding: 8px 12px;
}
"""
HEADINGS = ("Analyte", "Value", "Unit", "Reference range", "Flag")


class AnalyteRow:
    """The widgets of one analyte."""

    def __init__(self, line: AnalyteLine) -> None:
        self.line = line
        self.name = QLabel(line.name)
        self.value = QLineEdit(line.value)
        self.value.setObjectName(f"lab_value_{line.code}")
        self.value.setPlaceholderText("value")
        self.value.setMaximumWidth(90)
        self.unit = QLineEdit(line.unit)
        self.unit.setObjectName(f"lab_unit_{line.code}")
        self.unit.setMaximumWidth(90)
        self.range = QLabel(rules.range_text(line.ref) or "—")
        self.range.setToolTip(rules.critical_text(line.ref))
        self.flag = QLabel("")
        self.flag.setMinimumWidth(118)
        self.flag.setProperty("flag", "")
        self.problem = styled_label("", "problem")
        self.problem.setWordWrap(True)
        self.problem.hide()

    def checked(self) -> rules.Checked:
        return rules.check(self.line, self.value.text(), self.unit.text())

    def refresh(self) -> rules.Checked:
        """Show the value's flag, or why it cannot be saved."""
        result = self.checked()
        self.flag.setText(rules.flag_text(result.flag) if result.flag else "")
        set_style_property(self.flag, "flag", result.flag)
        self.problem.setText(result.problem)
        self.problem.setVisible(bool(result.problem))
        set_invalid(self.value, bool(result.problem))
        return result


class ResultForm(QFrame):
    """Results of one lab order; `save_requested` carries [(analyte code, value, unit)]."""

    save_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labResultForm")
        self.setProperty("role", "card")
        self.setStyleSheet(LOCAL_STYLE)
        self.rows: dict[str, AnalyteRow] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        self.title_label = styled_label("Enter results", "sectionTitle")
        self.patient_label = styled_label("", "hint")
        self.patient_label.setWordWrap(True)
        layout.addWidget(self.title_label)
        layout.addWidget(self.patient_label)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 6, 0, 6)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(4)
        layout.addWidget(self.grid_host)
        self.critical_label = QLabel("")
        self.critical_label.setObjectName("labCritical")
        self.critical_label.setWordWrap(True)
        self.critical_label.hide()
        layout.addWidget(self.critical_label)
        self.error_label = styled_label("", "errorBox")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("Save results")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.request_save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def set_order(self, heading: str, lines: list[AnalyteLine], editable: bool) -> None:
        """Show an order's analytes (with what was entered so far)."""
        self.patient_label.setText(heading)
        self._clear_grid()
        for column, text in enumerate(HEADINGS):
            self.grid.addWidget(styled_label(text, "fieldCaption"), 0, column)
        for n, line in enumerate(lines):
            row = AnalyteRow(line)
            self.rows[line.code] = row
            at = 1 + 2 * n
            self.grid.addWidget(row.name, at, 0)
            self.grid.addWidget(row.value, at, 1)
            self.grid.addWidget(row.unit, at, 2)
            self.grid.addWidget(row.range, at, 3)
            self.grid.addWidget(row.flag, at, 4)
            self.grid.addWidget(row.problem, at + 1, 0, 1, 5)
            row.value.textChanged.connect(self._changed)
            row.unit.textChanged.connect(self._changed)
            row.value.setReadOnly(not editable)
            row.unit.setReadOnly(not editable)
        self.grid.setColumnStretch(0, 1)
        self.save_button.setVisible(editable)
        self.error_label.hide()
        self._changed()

    def set_value(self, code: str, value: str, unit: str | None = None) -> None:
        """Type a value (and optionally a unit) for the analyte with this code."""
        row = self.rows[code]
        if unit is not None:
            row.unit.setText(unit)
        row.value.setText(value)

    def flag_of(self, code: str) -> str:
        """The flag the form shows for an analyte, as words."""
        return self.rows[code].flag.text()

    def problem_of(self, code: str) -> str:
        return self.rows[code].problem.text() if self.rows[code].problem.isVisibleTo(self) else ""

    def _changed(self) -> None:
        self.error_label.hide()  # an earlier refusal no longer speaks of these values
        critical = [
            f"{row.line.name} {row.value.text().strip()} {row.line.unit}".strip()
            for row in self.rows.values()
            if row.refresh().critical
        ]
        self.critical_label.setText(
            "CRITICAL value: " + "; ".join(critical) + ". Tell the ordering doctor at once."
            if critical
            else ""
        )
        self.critical_label.setVisible(bool(critical))

    def request_save(self) -> None:
        """Check every typed value; send them when all can be saved."""
        self.error_label.hide()
        problems = [row.refresh().problem for row in self.rows.values()]
        if any(problems):
            self.show_error("Some results cannot be saved: " + " ".join(p for p in problems if p))
            return
        values = [
            (code, row.value.text().strip().replace(",", "."), row.unit.text().strip())
            for code, row in self.rows.items()
            if row.value.text().strip()
        ]
        if not values:
            self.show_error("Type at least one result before saving.")
            return
        self.save_requested.emit(values)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _clear_grid(self) -> None:
        self.rows = {}
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
