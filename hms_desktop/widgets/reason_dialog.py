"""Dialogs that confirm one action on a record, and the one that asks why (a required reason)."""

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from hms_desktop.widgets.forms import set_invalid, styled_label

MIN_REASON = 3  # as hms_core.schemas.scheduling.RequiredReason
MAX_REASON = 300


class ConfirmDialog(QDialog):
    """Title, the record in one line, then the caller's fields, an error line and the buttons.

    Subclasses add their fields to `body`, then call `finish_layout()`; `problem()` says what
    still stops the confirmation.
    """

    def __init__(
        self,
        title: str,
        text: str,
        confirm: str,
        parent: QWidget | None,
        heading: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(24, 20, 24, 16)
        self.body.setSpacing(10)
        self.body.addWidget(styled_label(heading or title, "dialogTitle"))
        line = styled_label(text, "hint")
        line.setWordWrap(True)
        self.body.addWidget(line)
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        self.keep_button = QPushButton("Keep as it is")
        self.keep_button.clicked.connect(self.reject)
        self.confirm_button = QPushButton(confirm)
        self.confirm_button.setProperty("role", "primary")
        self.confirm_button.setDefault(True)
        self.confirm_button.clicked.connect(self._confirm)

    def finish_layout(self) -> None:
        """Append the error line and the buttons under the caller's fields."""
        self.body.addWidget(self.error_label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.keep_button)
        row.addWidget(self.confirm_button)
        self.body.addLayout(row)

    def problem(self) -> str:
        """What still stops the confirmation ('' when nothing)."""
        return ""

    def _confirm(self) -> None:
        problem = self.problem()
        self.error_label.setText(problem)
        if not problem:
            self.accept()


class ReasonDialog(ConfirmDialog):
    """Asks why before an action; accepted only with a reason of `MIN_REASON` characters or more.

    `missing` is said when the reason is too short: under the field after a click on the
    confirm button, or, with `hold`, as the tooltip of that button, disabled until it is given.
    """

    def __init__(
        self,
        title: str,
        text: str,
        *,
        confirm: str,
        keep: str,
        placeholder: str,
        missing: str,
        parent: QWidget | None,
        heading: str | None = None,
        caption: str | None = None,
        hold: bool = False,
    ) -> None:
        super().__init__(title, text, confirm, parent, heading)
        self._missing, self._hold = missing, hold
        self.keep_button.setText(keep)
        self.confirm_button.setProperty("role", "danger")
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText(placeholder)
        self.reason_edit.setMaxLength(MAX_REASON)
        if caption:
            self.body.addWidget(styled_label(caption, "fieldCaption"))
        self.body.addWidget(self.reason_edit)
        self.finish_layout()
        self.setMinimumWidth(520)
        self.error_label.setVisible(not hold)
        if hold:
            self.reason_edit.textChanged.connect(self._hold_until_given)
            self._hold_until_given()

    @property
    def reason(self) -> str:
        """The reason as typed, trimmed."""
        return self.reason_edit.text().strip()

    def problem(self) -> str:
        missing = len(self.reason) < MIN_REASON
        if not self._hold:
            set_invalid(self.reason_edit, missing)
        return self._missing if missing else ""

    def _hold_until_given(self) -> None:
        ready = len(self.reason) >= MIN_REASON
        self.confirm_button.setEnabled(ready)
        self.confirm_button.setToolTip("" if ready else self._missing)
