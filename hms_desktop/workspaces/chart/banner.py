"""The top of a chart: the allergy banner (always visible) and the patient's header line."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from hms_desktop.store.chart import Allergies, AllergyLine, PatientHeader
from hms_desktop.widgets.forms import set_style_property, styled_label

NOT_RECORDED = "Allergies not recorded — ask the patient before prescribing."
NONE_KNOWN = "No known allergies"


def allergy_banner_text(allergies: Allergies) -> tuple[str, str]:
    """The banner's text and its kind: 'severe' (red), 'present', 'none' or 'warning'."""
    if allergies.status == "not_recorded":
        return NOT_RECORDED, "warning"
    if allergies.status == "none_known":
        return NONE_KNOWN, "none"
    parts = [_allergy_text(a) for a in allergies.items]
    label = "ALLERGIES" if any(a.kind != "intolerance" for a in allergies.items) else "INTOLERANCES"
    return f"{label}: " + "   ·   ".join(parts), "severe" if allergies.severe else "present"


def _allergy_text(allergy: AllergyLine) -> str:
    details = [allergy.severity]
    if allergy.kind == "intolerance":
        details.insert(0, "intolerance")
    if allergy.reaction:
        details.append(allergy.reaction)
    return f"{allergy.substance} ({', '.join(details)})"


class AllergyBanner(QFrame):
    """A coloured strip: red for a severe allergy, amber when allergies were never asked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartAllergies")
        self.setProperty("role", "banner")
        self.setProperty("kind", "none")
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 8, 20, 8)
        self.label = QLabel("Reading allergies…")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.kind = "none"

    def show_allergies(self, allergies: Allergies) -> None:
        text, self.kind = allergy_banner_text(allergies)
        self.label.setText(text)
        set_style_property(self, "kind", self.kind)

    def clear(self, text: str = "") -> None:
        self.label.setText(text)
        self.kind = "none"
        set_style_property(self, "kind", "none")


class ChartHeader(QFrame):
    """Name, MRN, age and sex; the action bar sits at its right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageHeader")
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 10, 20, 10)
        row.setSpacing(10)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.name_label = styled_label("", "patientName")
        self.details_label = styled_label("", "hint")
        titles.addWidget(self.name_label)
        titles.addWidget(self.details_label)
        row.addLayout(titles, 1)
        self.actions = QHBoxLayout()
        self.actions.setSpacing(8)
        row.addLayout(self.actions)

    def show_header(self, header: PatientHeader) -> None:
        self.name_label.setText(header.name)
        born = header.birth_date.strftime("%d %b %Y")
        self.details_label.setText(
            f"MRN {header.mrn}   ·   {header.age}   ·   {header.sex}   ·   born {born}"
        )

    def show_text(self, name: str, details: str = "") -> None:
        self.name_label.setText(name)
        self.details_label.setText(details)
