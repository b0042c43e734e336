"""Banners over the appointments workspace: the last booking's fate, and refused bookings."""

from typing import Any

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from hms_core.schemas.scheduling import AppointmentView
from hms_desktop.widgets.forms import set_style_property, styled_label
from hms_desktop.workspaces.appointments.models import when_text, zone_of
from hms_desktop.workspaces.appointments.patient_field import ChosenPatient

BOOKINGS = ("book_appointment", "reschedule_appointment")


class Banner(QFrame):
    """A one-line coloured message across the page, with an optional action button."""

    def __init__(self, action: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "banner")
        row = QHBoxLayout(self)
        row.setContentsMargins(28, 9, 20, 9)
        self.label = styled_label("", "bannerText")
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.button = QPushButton(action)
        self.button.setVisible(bool(action))
        row.addWidget(self.button)
        self.hide()

    def say(self, text: str, kind: str = "success") -> None:
        """Show `text` ('' hides the banner); kind: success, info, warning or none."""
        self.label.setText(text)
        set_style_property(self, "kind", kind)
        self.setVisible(bool(text))


class BookingTracker:
    """Follows the last booking made here until the server confirms or refuses it."""

    def __init__(self, banner: Banner) -> None:
        self.banner = banner
        self.booking: AppointmentView | None = None
        self.patient: ChosenPatient | None = None
        self._zone = zone_of(None)

    def booked(self, view: AppointmentView, patient: ChosenPatient, zone_name: str) -> None:
        self.booking, self.patient, self._zone = view, patient, zone_of(zone_name)
        self.show(view)

    def sentence(self, view: AppointmentView) -> str:
        """'Patient X with Dr Y on Tue 8 Dec at 09:30'."""
        when = when_text(view.starts_at, self._zone)
        return f"{view.patient_name} with {view.doctor_name} on {when}"

    def show(self, now: AppointmentView | None) -> None:
        """Tell where the tracked booking stands (`now`: as the cache has it, None: gone)."""
        if self.booking is None:
            return
        if now is None:
            who = self.patient.name if self.patient else "the patient"
            self.banner.say(
                f"The server refused the booking of {who}: see the refused changes below.",
                "warning",
            )
            return
        what = self.sentence(now)
        if now.status == "tentative":
            self.banner.say(f"Booked {what} — waiting for the server to confirm.", "info")
        elif now.status == "requested":
            self.banner.say(f"Requested {what} — the doctor confirms it.", "success")
        elif now.status == "confirmed":
            self.banner.say(f"Booked {what} — confirmed by the server.", "success")
        else:  # it has moved on (checked in, cancelled…): stop following it
            self.booking = None
            if now.status in ("cancelled", "no_show"):
                self.banner.say("")


def refused_text(entries: list[dict[str, Any]]) -> str:
    """'2 bookings were refused by the server: …' ('' when none)."""
    refused = [e for e in entries if e["name"] in BOOKINGS]
    if not refused:
        return ""
    noun = "booking was" if len(refused) == 1 else "bookings were"
    return f"{len(refused)} {noun} refused by the server: {refused[0]['message']}"
