"""A dismissable strip under the header telling the outcome of the doctor's last action."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hms_desktop.widgets.forms import set_style_property


class Notice(QFrame):
    """Green for done, amber for refused; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clinicNotice")
        self.setProperty("role", "banner")
        self.setProperty("kind", "success")
        row = QHBoxLayout(self)
        row.setContentsMargins(28, 8, 20, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QPushButton("Dismiss")
        self.close_button.setProperty("role", "link")
        self.close_button.clicked.connect(self.clear)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button)
        self.hide()

    def show_done(self, text: str) -> None:
        """Report an action that worked."""
        self._show(text, "success")

    def show_refused(self, text: str) -> None:
        """Report an action that was refused or failed, in plain words."""
        self._show(text, "warning")

    def clear(self) -> None:
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def _show(self, text: str, kind: str) -> None:
        if self.property("kind") != kind:
            set_style_property(self, "kind", kind)
        self.label.setText(text)
        self.show()


def notice_page(
    page: QWidget, header: QWidget, margins: tuple[int, int, int, int]
) -> tuple[Notice, QHBoxLayout]:
    """Lay out a workspace page: its header, the notice strip under it, and the body row
    (returned empty, already stretched to fill the rest) inside `margins`."""
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(header)
    notice = Notice()
    layout.addWidget(notice)
    body = QHBoxLayout()
    body.setContentsMargins(*margins)
    body.setSpacing(16)
    layout.addLayout(body, 1)
    return notice, body
