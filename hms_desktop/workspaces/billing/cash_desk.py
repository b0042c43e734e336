"""The cash desk: the signed-in cashier's payments of today, the totals by method, and the day
close (expected cash against the cash counted in the drawer, over or short shown plainly)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_core.rbac import Perm
from hms_core.rules.money import MoneyError, format_amount, parse_amount
from hms_desktop.store.billing_desk import DeskDay, DeskPayment, LocalBillingDesk
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import set_invalid, set_style_property, styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, RecordTableModel, make_table_view
from hms_desktop.workspaces.clinic.notice import notice_page
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

METHOD_NAMES = {"cash": "Cash", "card": "Card", "online": "Online", "insurance": "Insurance"}
KIND_NAMES = {"payment": "Payment", "deposit": "Deposit", "refund": "Refund"}
AMOUNT_COLUMN = 7
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
OFFLINE_NOTE = " Saved on this computer; it reaches the server when the connection is back."


class AmountTableModel(RecordTableModel[Any]):
    """A record table whose amount columns are right-aligned."""

    def __init__(self, columns: list[Column[Any]], amounts: set[int], parent: Any = None) -> None:
        super().__init__(columns, parent)
        self._amounts = amounts

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self._amounts:
            return RIGHT
        return super().data(index, role)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and orientation == Qt.Orientation.Horizontal
            and section in self._amounts
        ):
            return RIGHT
        return super().headerData(section, orientation, role)


def desk_of(ctx: AppContext) -> LocalBillingDesk | None:
    """The billing desk on this user's cache (None when the desktop has no cache)."""
    return getattr(ctx, "billing_desk", None)


def difference_words(counted: int, expected: int, exponent: int, currency: str) -> str:
    """'Balanced', 'Over by USD 2.00' or 'Short by USD 5.50'."""
    difference = counted - expected
    if difference == 0:
        return "Balanced"
    amount = format_amount(abs(difference), exponent, currency)
    return f"Over by {amount}" if difference > 0 else f"Short by {amount}"


def paid_as(payment: DeskPayment) -> str:
    """'Cash payment', 'Card deposit', 'Cash refund'."""
    kind = KIND_NAMES.get(payment.kind, payment.kind).lower()
    return f"{METHOD_NAMES.get(payment.method, payment.method)} {kind}"


def payment_columns(zone: Callable[[], str], exponent: Callable[[], int]) -> list[Column[Any]]:
    """The payments table's columns; the zone and exponent are the shown day's."""
    return [
        Column("Time", lambda p: local_clock(p.received_at, zone())),
        Column("Receipt", lambda p: p.receipt_number),
        Column("Patient", lambda p: p.patient_name),
        Column("MRN", lambda p: p.mrn),
        Column("Paid as", paid_as),
        Column("Reference", lambda p: p.reference),
        Column("Invoice", lambda p: p.invoice_number or ""),
        Column("Amount", lambda p: format_amount(p.amount, exponent())),
    ]


class CashDeskPanel(QWidget):
    """Today's payments of the signed-in cashier and the day close."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cashDeskPanel")
        self._ctx = ctx
        self.day: DeskDay | None = None
        self.confirm_box: QMessageBox | None = None
        self._build()
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self.refresh()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        margins = (20, 14, 20, 16)
        self.notice, body = notice_page(self, self._header(), margins)
        left = QVBoxLayout()
        left.addWidget(styled_label("Payments you took today", "sectionTitle"))
        columns = payment_columns(
            lambda: self.day.timezone if self.day else "UTC",
            lambda: self.day.exponent if self.day else 2,
        )
        self.payments_model = AmountTableModel(columns, {AMOUNT_COLUMN}, self)
        self.payments_view = make_table_view(self.payments_model)
        self.payments_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.payments_view.setObjectName("cashDeskPayments")
        self.empty_label = styled_label("No payments yet today.", "hint")
        left.addWidget(self.payments_view, 1)
        left.addWidget(self.empty_label)
        body.addLayout(left, 1)
        body.addWidget(self._close_card())

    def _header(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(20, 12, 20, 4)
        self.summary_label = styled_label("", "sectionTitle")
        row.addWidget(self.summary_label, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        return bar

    def _close_card(self) -> QFrame:
        card = QFrame()
        card.setProperty("role", "card")
        card.setFixedWidth(400)
        box = QVBoxLayout(card)
        box.setContentsMargins(20, 16, 20, 16)
        box.setSpacing(10)
        box.addWidget(styled_label("Day close", "sectionTitle"))
        grid = QGridLayout()
        grid.setVerticalSpacing(6)
        self.total_labels: dict[str, QLabel] = {}
        for row, (method, name) in enumerate([*METHOD_NAMES.items(), ("total", "Total")]):
            grid.addWidget(styled_label(name, "detailLabel"), row, 0)
            value = QLabel("—")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(value, row, 1)
            self.total_labels[method] = value
        box.addLayout(grid)
        box.addWidget(self._separator())
        self.expected_label = QLabel("Expected cash in the drawer: —")
        self.expected_label.setStyleSheet("font-weight: bold;")
        box.addWidget(self.expected_label)
        box.addWidget(styled_label("Counted cash", "fieldLabel"))
        self.counted_edit = QLineEdit()
        self.counted_edit.setObjectName("countedCash")
        self.counted_edit.setPlaceholderText("The cash you counted, e.g. 1,250.00")
        self.counted_edit.textChanged.connect(self._update_difference)
        box.addWidget(self.counted_edit)
        self.counted_error = styled_label("", "fieldError")
        self.counted_error.setWordWrap(True)
        box.addWidget(self.counted_error)
        self.difference_label = styled_label("", "infoBox")
        self.difference_label.setWordWrap(True)
        self.difference_label.hide()
        box.addWidget(self.difference_label)
        box.addWidget(styled_label("Note (optional)", "fieldLabel"))
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(500)
        self.note_edit.setPlaceholderText("e.g. why the drawer is short")
        box.addWidget(self.note_edit)
        self.close_button = QPushButton("Close the day…")
        self.close_button.setProperty("role", "primary")
        self.close_button.clicked.connect(self.ask_close)
        self.close_button.setVisible(self._ctx.session.can(Perm.PAYMENT_TAKE))
        box.addWidget(self.close_button)
        self.closed_label = styled_label("", "infoBox")
        self.closed_label.setWordWrap(True)
        self.closed_label.hide()
        box.addWidget(self.closed_label)
        box.addStretch(1)
        return card

    @staticmethod
    def _separator() -> QFrame:
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #d6dde5;")
        return line

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the cashier's day again, off the UI thread."""
        desk = desk_of(self._ctx)
        if desk is None:
            self.summary_label.setText("The cash desk is not available on this computer.")
            return
        self._ctx.run(self, desk.day, self._show_day, self._failed)

    def _show_day(self, day: DeskDay) -> None:
        self.day = day
        preview = day.preview
        self.payments_model.set_records(day.payments)
        self.empty_label.setVisible(not day.payments)
        money = self._money
        for method, label in self.total_labels.items():
            amount = sum(preview.by_method.values()) if method == "total" else None
            label.setText(money(amount if amount is not None else preview.by_method.get(method, 0)))
        self.expected_label.setText(f"Expected cash in the drawer: {money(preview.expected_cash)}")
        self.summary_label.setText(
            f"{preview.business_date:%A %d %B %Y} · cashier {preview.cashier} · "
            f"{preview.count} payment{'s' if preview.count != 1 else ''}"
        )
        self._show_closed(day)
        self._update_difference()

    def _show_closed(self, day: DeskDay) -> None:
        closed = day.preview.closed
        for widget in (self.counted_edit, self.note_edit, self.close_button):
            widget.setEnabled(not closed)
        self.close_button.setVisible(not closed and self._ctx.session.can(Perm.PAYMENT_TAKE))
        self.closed_label.setVisible(closed)
        if not closed:
            return
        counted = day.preview.counted_cash or 0
        when = (
            f" at {local_clock(day.closed_at, day.timezone)}" if day.closed_at is not None else ""
        )
        difference = difference_words(
            counted, day.preview.expected_cash, day.exponent, day.preview.currency
        )
        note = f" Note: {day.close_note}" if day.close_note else ""
        self.closed_label.setText(
            f"Closed{when} by {day.closed_by}. Counted {self._money(counted)}. {difference}.{note}"
        )
        if self.counted_edit.text() == "":
            self.counted_edit.setText(format_amount(counted, day.exponent))

    def _money(self, minor: int) -> str:
        day = self.day
        return format_amount(minor, day.exponent, day.preview.currency) if day else "—"

    # --- counted cash -----------------------------------------------------------------------

    def counted(self) -> int | None:
        """The counted cash typed in, in minor units (None when empty or not an amount)."""
        day, text = self.day, self.counted_edit.text().strip()
        if day is None or not text:
            return None
        try:
            value = parse_amount(text, day.exponent)
        except MoneyError:
            return None
        return value if value >= 0 else None

    def _update_difference(self) -> None:
        day, text = self.day, self.counted_edit.text().strip()
        self.counted_error.clear()
        set_invalid(self.counted_edit, False)
        if day is None or not text or day.preview.closed:
            self.difference_label.hide()
            return
        try:
            value = parse_amount(text, day.exponent)
            if value < 0:
                raise MoneyError("Counted cash cannot be negative.")
        except MoneyError as exc:
            self.counted_error.setText(str(exc))
            set_invalid(self.counted_edit, True)
            self.difference_label.hide()
            return
        expected = day.preview.expected_cash
        words = difference_words(value, expected, day.exponent, day.preview.currency)
        if value == expected:
            words += ": the drawer holds exactly the expected cash."
        kind = (
            "infoBox" if value == expected else ("warningBox" if value > expected else "errorBox")
        )
        set_style_property(self.difference_label, "role", kind)
        self.difference_label.setText(words)
        self.difference_label.show()

    # --- closing ----------------------------------------------------------------------------

    def ask_close(self) -> None:
        """Ask before closing the day with the counted cash."""
        day, counted = self.day, self.counted()
        if day is None:
            return
        if counted is None:
            self._update_difference()
            if not self.counted_error.text():
                self.counted_error.setText("Count the cash in the drawer and type the amount.")
                set_invalid(self.counted_edit, True)
            return
        preview = day.preview
        text = (
            f"Close {preview.business_date:%d %b %Y} for {preview.cashier}?\n\n"
            f"Expected cash: {self._money(preview.expected_cash)}\n"
            f"Counted cash: {self._money(counted)}\n"
            f"{difference_words(counted, preview.expected_cash, day.exponent, preview.currency)}"
            "\n\nA day is closed once; payments taken later belong to no close."
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Close the day",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Close the day")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda answer: self._close_answered(answer, counted))
        box.finished.connect(box.deleteLater)
        self.confirm_box = box
        box.open()

    def _close_answered(self, answer: int, counted: int) -> None:
        self.confirm_box = None
        desk = desk_of(self._ctx)
        if answer != QMessageBox.StandardButton.Yes or desk is None:
            return
        note = self.note_edit.text().strip()
        self.close_button.setEnabled(False)
        self._ctx.write(self, lambda: desk.close_day(counted, note), self._closed, self._refused)

    def _closed(self, _result: Any) -> None:
        sync = self._ctx.sync
        offline = sync is not None and sync.status.online is False
        self.notice.show_done("The day is closed." + (OFFLINE_NOTE if offline else ""))
        self.refresh()

    def _refused(self, exc: BaseException) -> None:
        self.close_button.setEnabled(True)
        self.notice.show_refused(describe_error(exc))
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.summary_label.setText(f"The cash desk could not be read: {describe_error(exc)}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another tab was in front."""
        super().showEvent(event)
        self.watch.shown()


def local_clock(moment: datetime, tz: str) -> str:
    """HH:MM of a moment in the hospital's zone."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%H:%M")
