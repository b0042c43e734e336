"""The selected prescription in full: the patient with allergies in red, the medicine and its
directions, and every safety warning the prescriber overrode with the reason given."""

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hms_desktop.store.pharmacy import OverrideLine, QueueItem
from hms_desktop.widgets.forms import set_style_property, styled_label
from hms_desktop.widgets.messages import local_time

NOTHING_SELECTED = "Select a prescription in the queue to see it in full."
NO_ALLERGIES = "No known allergies"
NOT_ASKED = "Allergies not recorded — ask the patient before dispensing."
NO_OVERRIDES = "No safety warnings were overridden."
DISPENSING_LATER = (
    "Recording what is dispensed against stock comes in a later release: dispense as usual "
    "from this queue."
)


def override_text(override: OverrideLine) -> str:
    """'⚠ Allergy … — overridden by dr.x: "Tolerated it in 2024"'."""
    who = f" by {override.by}" if override.by else ""
    return f"⚠ {override.message}\nOverridden{who}: “{override.reason}”"


class AllergyStrip(QFrame):
    """Red when the patient has allergies, amber when nobody recorded any answer, grey when
    the patient has none known."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pharmacyAllergies")
        self.setProperty("role", "banner")
        self.setProperty("kind", "none")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)

    def show_allergies(self, allergies: tuple[str, ...], asked: bool = True) -> None:
        if allergies:
            text, kind = "ALLERGIES: " + "   ·   ".join(allergies), "severe"
        else:
            text, kind = (NO_ALLERGIES, "none") if asked else (NOT_ASKED, "warning")
        self.label.setText(text)
        set_style_property(self, "kind", kind)


class DetailPanel(QFrame):
    """The prescription the pharmacist has selected; `print_requested` asks for its paper."""

    print_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pharmacyDetail")
        self.setProperty("role", "card")
        self.item: QueueItem | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        self.patient_label = styled_label("", "sectionTitle")
        self.patient_line = styled_label("", "hint")
        self.allergy_strip = AllergyStrip()
        self.medicine_label = styled_label("", "patientName")
        self.medicine_label.setWordWrap(True)
        self.directions_label = QLabel()
        self.directions_label.setWordWrap(True)
        self.directions_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prescriber_label = styled_label("", "hint")
        self.overrides_title = styled_label("Safety warnings overridden", "sectionTitle")
        self.overrides_label = styled_label("", "warningBox")
        self.overrides_label.setWordWrap(True)
        self.overrides_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_button = QPushButton("Print prescription…")
        self.print_button.setObjectName("pharmacyPrint")
        self.dispensing_hint = styled_label(DISPENSING_LATER, "hint")
        self.dispensing_hint.setWordWrap(True)
        self.empty_label = styled_label(NOTHING_SELECTED, "hint")
        self.empty_label.setWordWrap(True)
        for widget in (
            self.patient_label,
            self.patient_line,
            self.allergy_strip,
            self.medicine_label,
            self.directions_label,
            self.prescriber_label,
            self.overrides_title,
            self.overrides_label,
        ):
            layout.addWidget(widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.dispensing_hint)
        layout.addWidget(self.empty_label)
        layout.addStretch(1)
        self.print_button.clicked.connect(self.print_requested)
        self.show_item(None)

    def show_item(self, item: QueueItem | None) -> None:
        """Show `item` in full, or the hint to select one."""
        self.item = item
        shown = item is not None
        for widget in self._details():
            widget.setVisible(shown)
        self.empty_label.setVisible(not shown)
        if item is None:
            return
        self.patient_label.setText(item.patient_name)
        sex = {"female": "F", "male": "M"}.get(item.sex, item.sex)
        self.patient_line.setText(f"MRN {item.mrn} · {item.age} · {sex}")
        self.allergy_strip.show_allergies(item.allergies, item.allergies_asked)
        self.medicine_label.setText(item.product)
        self.directions_label.setText(_directions_html(item))
        self.prescriber_label.setText(
            f"Prescribed by {item.prescriber} on {local_time(item.prescribed_at)}"
        )
        self._show_overrides(item.overrides)

    def _show_overrides(self, overrides: tuple[OverrideLine, ...]) -> None:
        if overrides:
            self.overrides_label.setText("\n\n".join(override_text(o) for o in overrides))
            set_style_property(self.overrides_label, "role", "warningBox")
        else:
            self.overrides_label.setText(NO_OVERRIDES)
            set_style_property(self.overrides_label, "role", "hint")

    def _details(self) -> list[QWidget]:
        return [
            self.patient_label,
            self.patient_line,
            self.allergy_strip,
            self.medicine_label,
            self.directions_label,
            self.prescriber_label,
            self.overrides_title,
            self.overrides_label,
            self.print_button,
            self.dispensing_hint,
        ]


def _directions_html(item: QueueItem) -> str:
    rows = [
        ("Dose", item.dose),
        ("Route", item.route),
        ("Frequency", item.frequency),
        ("Duration", _days(item.duration_days)),
        ("Quantity", item.quantity),
        ("Instructions", item.instructions),
    ]
    cells = "".join(
        f"<tr><td style='color:#5b6b7d; padding-right:12px'>{name}</td>"
        f"<td><b>{escape(value)}</b></td></tr>"
        for name, value in rows
        if value
    )
    return f"<table>{cells}</table>"


def _days(days: int | None) -> str:
    return f"{days} day{'s' if days != 1 else ''}" if days else ""
