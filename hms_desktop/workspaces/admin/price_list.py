"""The price list editor (admin): items by category with the price and tax in force today,
a dated price history, new items and price changes from a day on, and the insurance payers.

A price is never changed in place: a new price starts on a day from today on, so invoices of
earlier days keep the price of their day. Everything is read from and written to the cache off
the UI thread; the server has the last word when the changes sync.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QDate, QItemSelection, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hms_core.db.billing import CATEGORIES
from hms_core.rbac import Perm
from hms_core.rules.money import MoneyError, format_amount, parse_amount
from hms_desktop.store.billing_desk import LocalBillingDesk, PayerRow, PriceRow, PriceStep
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.tables import Column, make_table_view
from hms_desktop.workspaces.billing.cash_desk import AmountTableModel
from hms_desktop.workspaces.clinic.notice import notice_page
from hms_desktop.workspaces.clinic.sync_watch import SyncWatch

CATEGORY_NAMES = {
    "consultation": "Consultation",
    "lab": "Laboratory",
    "imaging": "Imaging",
    "procedure": "Procedure",
    "surgery": "Surgery",
    "bed_day": "Bed-day",
    "medicine": "Medicine",
    "other": "Other",
}
ALL = ""
OFFLINE_NOTE = " Saved on this computer; it reaches the server when the connection is back."


class InputError(ValueError):
    """A field typed in a way that cannot be used; the message says how to fix it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_rate(text: str) -> Decimal:
    """'16' or '7.5' (percent) -> Decimal; empty means no tax."""
    cleaned = text.strip().rstrip("%").strip() or "0"
    try:
        rate = Decimal(cleaned)
    except InvalidOperation:
        message = f"“{text}” is not a tax rate; type a percentage such as 16."
        raise InputError("tax", message) from None
    if not rate.is_finite() or not 0 <= rate <= 100 or rate != round(rate, 2):
        raise InputError("tax", "A tax rate is a percentage from 0 to 100 (two decimals at most).")
    return rate


def parse_price(text: str, exponent: int) -> int:
    """The price typed in, in minor units (never negative)."""
    try:
        value = parse_amount(text, exponent)
    except MoneyError as exc:
        raise InputError("price", str(exc)) from None
    if value < 0:
        raise InputError("price", "A price cannot be negative.")
    return value


def scope_text(row: PriceRow) -> str:
    """Which department, doctor grade or ward class an item is for ('' = hospital-wide)."""
    parts = [row.department, row.doctor_grade or "", row.ward_class or ""]
    return " · ".join(p for p in parts if p)


def _price_columns(exponent: Any) -> list[Column[PriceRow]]:
    def money(value: int | None) -> str:
        return "no price yet" if value is None else format_amount(value, exponent())

    return [
        Column("Category", lambda r: CATEGORY_NAMES.get(r.category, r.category)),
        Column("Code", lambda r: r.code),
        Column(
            "Name",
            lambda r: r.name + ("" if r.active else " (not in use)"),
            tooltip=lambda r: r.name,
        ),
        Column("For", scope_text),
        Column("Price", lambda r: money(r.unit_price) + per_unit(r)),
        Column("Tax %", lambda r: "" if r.tax_rate is None else f"{r.tax_rate:g}"),
        Column("Since", since_text),
    ]


def per_unit(row: PriceRow) -> str:
    """' / test' for an item not priced 'each'."""
    return "" if row.unit == "each" or row.unit_price is None else f" / {row.unit}"


def since_text(row: PriceRow) -> str:
    """'07 Oct 2026', with the day of an upcoming change: '07 Oct 2026 · new from 13 Dec'."""
    since = f"{row.valid_from:%d %b %Y}" if row.valid_from else ""
    if row.next_change is None:
        return since
    upcoming = f"new from {row.next_change:%d %b}"
    return f"{since} · {upcoming}" if since else upcoming


def _history_columns(exponent: Any) -> list[Column[PriceStep]]:
    return [
        Column("From", step_from),
        Column("Price", lambda s: format_amount(s.unit_price, exponent())),
        Column("Tax %", lambda s: f"{s.tax_rate:g}"),
        Column("Set by", lambda s: s.set_by),
    ]


def step_from(step: PriceStep) -> str:
    """'07 Oct 2026 · in force' for the price that applies today."""
    return f"{step.valid_from:%d %b %Y}" + (" · in force" if step.current else "")


PAYER_COLUMNS: list[Column[PayerRow]] = [
    Column("Code", lambda p: p.code),
    Column(
        "Name",
        lambda p: p.name + ("" if p.active else " (not in use)"),
        tooltip=lambda p: f"Payer's id for the hospital: {p.identifier}" if p.identifier else "",
    ),
    Column("Email", lambda p: p.email),
]


class PriceListEditor(QWidget):
    """Items, their dated prices and the payers, for whoever may manage prices."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("priceListEditor")
        self._ctx = ctx
        self.rows: list[PriceRow] = []
        self.history: list[PriceStep] = []
        self.departments: list[tuple[uuid.UUID, str]] = []
        self.today = date.today()
        self.exponent = 2
        self.currency = ""
        self.dialog: QDialog | None = None
        self._selected: uuid.UUID | None = None
        self._build()
        self.watch = SyncWatch(ctx.sync, self, self.refresh)
        self.refresh()

    @property
    def desk(self) -> LocalBillingDesk | None:
        return getattr(self._ctx, "billing_desk", None)

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        margins = (28, 14, 28, 18)
        self.notice, body = notice_page(self, self._header(), margins)
        self.items_model = AmountTableModel(_price_columns(lambda: self.exponent), {4, 5})
        self.items_view = make_table_view(self.items_model)
        self.items_view.setObjectName("priceItems")
        _fit_columns(self.items_view, stretch=(2,))
        self.items_view.selectionModel().selectionChanged.connect(self._on_selection)
        self.items_view.doubleClicked.connect(lambda _i: self.ask_price())
        body.addWidget(self.items_view, 1)
        side = QVBoxLayout()
        side.setSpacing(14)
        side.addWidget(self._history_card(), 1)
        side.addWidget(self._payers_card(), 1)
        holder = QWidget()
        holder.setLayout(side)
        holder.setFixedWidth(440)
        body.addWidget(holder)

    def _header(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("pageHeader")
        row = QHBoxLayout(frame)
        row.setContentsMargins(28, 16, 28, 14)
        row.setSpacing(10)
        titles = QVBoxLayout()
        titles.addWidget(styled_label("Price list", "pageTitle"))
        self.summary_label = styled_label("", "hint")
        titles.addWidget(self.summary_label)
        row.addLayout(titles, 1)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("priceSearch")
        self.search_edit.setPlaceholderText("Search code or name")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(240)
        self.search_edit.textChanged.connect(lambda _t: self._show_rows())
        self.category_combo = QComboBox()
        self.category_combo.addItem("All categories", ALL)
        for category in CATEGORIES:
            self.category_combo.addItem(CATEGORY_NAMES[category], category)
        self.category_combo.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.new_button = QPushButton("New item…")
        self.new_button.clicked.connect(self.ask_new_item)
        self.edit_button = QPushButton("Edit item…")
        self.edit_button.setEnabled(False)
        self.edit_button.clicked.connect(self.ask_edit_item)
        self.price_button = QPushButton("Change price…")
        self.price_button.setProperty("role", "primary")
        self.price_button.setEnabled(False)
        self.price_button.clicked.connect(self.ask_price)
        may = self._ctx.session.can(Perm.PRICE_MANAGE)
        buttons = (self.new_button, self.edit_button, self.price_button)
        for button in buttons:
            button.setVisible(may)
        for widget in (self.search_edit, self.category_combo, *buttons):
            row.addWidget(widget)
        return frame

    def _history_card(self) -> QFrame:
        card = QFrame()
        card.setProperty("role", "card")
        box = QVBoxLayout(card)
        box.setContentsMargins(16, 12, 16, 12)
        box.addWidget(styled_label("Price history", "sectionTitle"))
        self.history_label = styled_label("Select an item to see its prices.", "hint")
        self.history_label.setWordWrap(True)
        box.addWidget(self.history_label)
        self.history_model = AmountTableModel(_history_columns(lambda: self.exponent), {1, 2})
        self.history_view = make_table_view(self.history_model)
        self.history_view.setObjectName("priceHistory")
        _fit_columns(self.history_view, stretch=(3,))
        box.addWidget(self.history_view, 1)
        return card

    def _payers_card(self) -> QFrame:
        card = QFrame()
        card.setProperty("role", "card")
        box = QVBoxLayout(card)
        box.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(styled_label("Insurance payers", "sectionTitle"), 1)
        self.new_payer_button = QPushButton("New payer…")
        self.new_payer_button.clicked.connect(self.ask_new_payer)
        self.new_payer_button.setVisible(self._ctx.session.can(Perm.PRICE_MANAGE))
        top.addWidget(self.new_payer_button)
        box.addLayout(top)
        self.payers_model = AmountTableModel(PAYER_COLUMNS, set())
        self.payers_view = make_table_view(self.payers_model)
        self.payers_view.setObjectName("payers")
        _fit_columns(self.payers_view, stretch=(1,))
        box.addWidget(self.payers_view, 1)
        return card

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the price list, the payers and the departments again, off the UI thread."""
        desk = self.desk
        if desk is None:
            self.summary_label.setText("The price list is not available on this computer.")
            return

        def read() -> dict[str, Any]:
            profile = desk.profile()
            today = desk.today(profile)
            return {
                "profile": profile,
                "today": today,
                "rows": desk.price_list(today),
                "payers": desk.payers(),
                "departments": desk.departments(),
            }

        self._ctx.run(self, read, self._show, self._failed)

    def _show(self, found: dict[str, Any]) -> None:
        profile = found["profile"]
        self.exponent, self.currency, self.today = (
            profile.exponent,
            profile.currency,
            found["today"],
        )
        self.rows, self.departments = found["rows"], found["departments"]
        self.payers_model.set_records(found["payers"])
        self._show_rows()

    def visible_rows(self) -> list[PriceRow]:
        """The items that match the search and the category chosen."""
        needle = self.search_edit.text().strip().lower()
        category = self.category_combo.currentData()
        return [
            r
            for r in self.rows
            if (not category or r.category == category)
            and (not needle or needle in r.code.lower() or needle in r.name.lower())
        ]

    def _show_rows(self) -> None:
        order = {c: n for n, c in enumerate(CATEGORIES)}
        rows = sorted(self.visible_rows(), key=lambda r: (order.get(r.category, 99), r.name))
        self.items_model.set_records(rows)
        unpriced = sum(1 for r in self.rows if r.unit_price is None and r.active)
        self.summary_label.setText(
            f"{len(self.rows)} items · prices as of {self.today:%d %b %Y}"
            + (f" · amounts in {self.currency}" if self.currency else "")
            + (f" · {unpriced} without a price" if unpriced else "")
        )
        row = self.row_of(self._selected) if self._selected else -1
        if row >= 0:
            self.items_view.selectRow(row)
        else:
            self._select(None)

    def row_of(self, item_id: uuid.UUID | None) -> int:
        return next(
            (n for n, r in enumerate(self.items_model.records()) if r.item_id == item_id), -1
        )

    def select_code(self, code: str) -> None:
        """Select the item with this code (when shown)."""
        for n, r in enumerate(self.items_model.records()):
            if r.code == code:
                self.items_view.selectRow(n)
                return

    def selected(self) -> PriceRow | None:
        row = self.row_of(self._selected) if self._selected else -1
        return self.items_model.record(row) if row >= 0 else None

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        self._select(self.items_model.record(rows[0].row()) if rows else None)

    def _select(self, row: PriceRow | None) -> None:
        self._selected = row.item_id if row else None
        self.price_button.setEnabled(row is not None)
        self.edit_button.setEnabled(row is not None)
        if row is None:
            self.history_label.setText("Select an item to see its prices.")
            self.history_model.set_records([])
            return
        self.history_label.setText(f"{row.code} · {row.name}")
        desk, item_id = self.desk, row.item_id
        if desk is None:
            return

        def show(steps: list[PriceStep]) -> None:
            if self._selected == item_id:
                self.history = steps
                self.history_model.set_records(steps)

        self._ctx.run(self, lambda: desk.price_history(item_id, self.today), show, self._failed)

    # --- changes ----------------------------------------------------------------------------

    def ask_new_item(self) -> None:
        """Open the new-item dialog."""
        dialog = ItemDialog(self.departments, self.exponent, self.currency, self)
        dialog.save_requested.connect(lambda f, p, t: self._save_item(dialog, f, p, t))
        self._open(dialog)

    def ask_edit_item(self) -> None:
        """Change the selected item's name, scope, unit or whether it is still charged."""
        row = self.selected()
        if row is None:
            return
        dialog = ItemDialog(self.departments, self.exponent, self.currency, self, row=row)
        dialog.save_requested.connect(lambda f, _p, _t: self._update_item(dialog, row, f))
        self._open(dialog)

    def _update_item(self, dialog: "ItemDialog", row: PriceRow, fields: dict[str, Any]) -> None:
        desk = self.desk
        if desk is None:
            return

        def saved(_item_id: uuid.UUID) -> None:
            dialog.accept()
            self._selected = row.item_id
            self._written(f"{fields['name']} changed.")

        self._ctx.write(
            self, lambda: desk.save_item(fields, item_id=row.item_id), saved, dialog.show_refusal
        )

    def _save_item(
        self, dialog: "ItemDialog", fields: dict[str, Any], price: int | None, tax: Decimal
    ) -> None:
        desk = self.desk
        if desk is None:
            return
        today = self.today

        def save() -> uuid.UUID:
            item_id = desk.save_item(fields)
            if price is not None:
                desk.set_price(item_id, today, price, tax)
            return item_id

        def saved(item_id: uuid.UUID) -> None:
            dialog.accept()
            self._selected = item_id
            self._written(f"{fields['name']} added to the price list.")

        self._ctx.write(self, save, saved, dialog.show_refusal)

    def ask_price(self) -> None:
        """Open the change-price dialog for the selected item."""
        row, desk = self.selected(), self.desk
        if row is None or desk is None:
            return
        dialog = PriceDialog(row, self.history, self.today, self.exponent, self.currency, self)
        dialog.save_requested.connect(lambda d, p, t: self._set_price(dialog, row, d, p, t))
        self._open(dialog)

    def _set_price(
        self, dialog: "PriceDialog", row: PriceRow, start: date, price: int, tax: Decimal
    ) -> None:
        desk = self.desk
        if desk is None:
            return
        money = format_amount(price, self.exponent, self.currency)

        def saved(_result: Any) -> None:
            dialog.accept()
            self._written(f"{row.name}: {money} from {start:%d %b %Y}.")

        self._ctx.write(
            self, lambda: desk.set_price(row.item_id, start, price, tax), saved, dialog.show_refusal
        )

    def ask_new_payer(self) -> None:
        """Open the new-payer dialog."""
        dialog = PayerDialog(self)
        dialog.save_requested.connect(lambda f: self._save_payer(dialog, f))
        self._open(dialog)

    def _save_payer(self, dialog: "PayerDialog", fields: dict[str, Any]) -> None:
        desk = self.desk
        if desk is None:
            return

        def saved(_payer_id: uuid.UUID) -> None:
            dialog.accept()
            self._written(f"Payer {fields['name']} added.")

        self._ctx.write(self, lambda: desk.save_payer(fields), saved, dialog.show_refusal)

    def _open(self, dialog: QDialog) -> None:
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def _written(self, text: str) -> None:
        sync = self._ctx.sync
        offline = sync is not None and sync.status.online is False
        self.notice.show_done(text + (OFFLINE_NOTE if offline else ""))
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.summary_label.setText(f"The price list could not be read: {describe_error(exc)}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Catch up with changes sync brought while another workspace was in front."""
        super().showEvent(event)
        self.watch.shown()


# --- dialogs ----------------------------------------------------------------------------------


class _Dialog(QDialog):
    """A small form dialog: title, fields, a plain-words status line, OK and Cancel."""

    def __init__(self, title: str, ok_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(styled_label(title, "dialogTitle"))
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.status_label = styled_label("", "fieldError")
        self.status_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.status_label)
        self.layout_.addWidget(self.buttons)
        for edit in self.findChildren(QLineEdit):  # an old complaint goes once typing starts
            edit.textEdited.connect(lambda _t: self.status_label.clear())

    def _submit(self) -> None:
        try:
            self.status_label.clear()
            self.submit()
        except InputError as exc:
            self.status_label.setText(exc.message)

    def submit(self) -> None:
        raise NotImplementedError

    def show_refusal(self, exc: BaseException) -> None:
        """The cache (or the rules) refused the change: say why, keep what was typed."""
        self.ok_button.setEnabled(True)
        self.status_label.setText(describe_error(exc))


def _text(edit: QLineEdit) -> str:
    return edit.text().strip()


def _code(edit: QLineEdit, what: str) -> str:
    code = _text(edit)
    if not code or any(ch.isspace() for ch in code) or len(code) > 40:
        raise InputError("code", f"Give the {what} a short code without spaces, e.g. CONS-GEN.")
    return code


def _name(edit: QLineEdit, what: str) -> str:
    name = _text(edit)
    if len(name) < 2:
        raise InputError("name", f"Give the {what} a name.")
    return name


class ItemDialog(_Dialog):
    """A new price-list item, with its first price from today when one is given; or, given
    `row`, the changes to an item (its prices are changed apart, from a date)."""

    save_requested = Signal(dict, object, object)  # fields, price (minor units or None), tax

    def __init__(
        self,
        departments: list[tuple[uuid.UUID, str]],
        exponent: int,
        currency: str,
        parent: QWidget | None = None,
        *,
        row: PriceRow | None = None,
    ) -> None:
        title, ok = ("Edit price-list item", "Save") if row else ("New price-list item", "Add item")
        super().__init__(title, ok, parent)
        self.exponent = exponent
        self.code_edit, self.name_edit = QLineEdit(), QLineEdit()
        self.code_edit.setPlaceholderText("e.g. CONS-CARD-SR")
        self.category_combo = QComboBox()
        for category in CATEGORIES:
            self.category_combo.addItem(CATEGORY_NAMES[category], category)
        self.department_combo = QComboBox()
        self.department_combo.addItem("Any department", None)
        for department_id, name in departments:
            self.department_combo.addItem(name, department_id)
        self.grade_edit, self.ward_class_edit = QLineEdit(), QLineEdit()
        self.grade_edit.setPlaceholderText("Consultations only, e.g. consultant")
        self.ward_class_edit.setPlaceholderText("Bed-days only, e.g. general, private, icu")
        self.unit_edit = QLineEdit("each")
        self.price_edit, self.tax_edit = QLineEdit(), QLineEdit("0")
        self.price_edit.setPlaceholderText(f"{currency} from today (may be left empty)".strip())
        for label, widget in (
            ("Code", self.code_edit),
            ("Name", self.name_edit),
            ("Category", self.category_combo),
            ("Department", self.department_combo),
            ("Doctor grade", self.grade_edit),
            ("Ward class", self.ward_class_edit),
            ("Unit", self.unit_edit),
        ):
            self.form.addRow(label, widget)
        self.active_check = QCheckBox("Still charged (untick to stop charging it)")
        self.editing = row is not None
        if row is None:
            self.form.addRow("Price", self.price_edit)
            self.form.addRow("Tax %", self.tax_edit)
        else:
            self._fill(row)
            self.form.addRow("", self.active_check)
        self.finish_layout()

    def _fill(self, row: PriceRow) -> None:
        """Start from the item as it is."""
        self.code_edit.setText(row.code)
        self.name_edit.setText(row.name)
        self.category_combo.setCurrentIndex(self.category_combo.findData(row.category))
        self.department_combo.setCurrentIndex(
            max(self.department_combo.findData(row.department_id), 0)
        )
        self.grade_edit.setText(row.doctor_grade or "")
        self.ward_class_edit.setText(row.ward_class or "")
        self.unit_edit.setText(row.unit)
        self.active_check.setChecked(row.active)

    def submit(self) -> None:
        fields = {
            "code": _code(self.code_edit, "item"),
            "name": _name(self.name_edit, "item"),
            "category": self.category_combo.currentData(),
            "department_id": self.department_combo.currentData(),
            "doctor_grade": _text(self.grade_edit) or None,
            "ward_class": _text(self.ward_class_edit) or None,
            "unit": _text(self.unit_edit) or "each",
            "active": self.active_check.isChecked() if self.editing else True,
        }
        price_text = _text(self.price_edit)
        price = parse_price(price_text, self.exponent) if price_text else None
        tax = parse_rate(self.tax_edit.text())
        self.ok_button.setEnabled(False)
        self.save_requested.emit(fields, price, tax)


class PriceDialog(_Dialog):
    """A new price for an item from a day on (today or later), with its history shown."""

    save_requested = Signal(object, object, object)  # start date, price, tax

    def __init__(
        self,
        row: PriceRow,
        history: list[PriceStep],
        today: date,
        exponent: int,
        currency: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Change the price of {row.name}", "Set price", parent)
        self.today, self.exponent = today, exponent
        now = (
            format_amount(row.unit_price, exponent, currency)
            if row.unit_price is not None
            else "no price yet"
        )
        self.form.addRow("Item", styled_label(f"{row.code} · {row.name}", "detailLabel"))
        self.form.addRow("Price today", styled_label(now, "detailLabel"))
        self.history_model = AmountTableModel(_history_columns(lambda: exponent), {1, 2})
        self.history_model.set_records(history)
        view = make_table_view(self.history_model)
        view.setFixedHeight(150)
        _fit_columns(view, stretch=(3,))
        self.form.addRow("History", view)
        self.price_edit = QLineEdit()
        self.price_edit.setPlaceholderText(f"New price in {currency}".strip())
        tax = row.tax_rate if row.tax_rate is not None else Decimal(0)
        self.tax_edit = QLineEdit(f"{tax:g}")
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("dd MMM yyyy")
        self.date_edit.setMinimumDate(_qdate(today))
        taken = {s.valid_from for s in history}
        self.date_edit.setDate(_qdate(today if today not in taken else today + timedelta(days=1)))
        self.form.addRow("New price", self.price_edit)
        self.form.addRow("Tax %", self.tax_edit)
        self.form.addRow("From", self.date_edit)
        self.finish_layout()

    def start(self) -> date:
        return self.date_edit.date().toPython()

    def submit(self) -> None:
        start = self.start()
        if start < self.today:
            raise InputError("from", "A new price starts today or later.")
        price = parse_price(_text(self.price_edit), self.exponent)
        tax = parse_rate(self.tax_edit.text())
        self.ok_button.setEnabled(False)
        self.save_requested.emit(start, price, tax)


class PayerDialog(_Dialog):
    """A new insurer (or other third party that pays part of bills)."""

    save_requested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("New payer", "Add payer", parent)
        self.code_edit, self.name_edit = QLineEdit(), QLineEdit()
        self.code_edit.setPlaceholderText("e.g. NHIF")
        self.identifier_edit, self.email_edit = QLineEdit(), QLineEdit()
        self.identifier_edit.setPlaceholderText("The payer's own id for the hospital")
        self.email_edit.setPlaceholderText("Where claims go")
        for label, widget in (
            ("Code", self.code_edit),
            ("Name", self.name_edit),
            ("Payer's id", self.identifier_edit),
            ("Email", self.email_edit),
        ):
            self.form.addRow(label, widget)
        self.finish_layout()

    def submit(self) -> None:
        email = _text(self.email_edit)
        if email and "@" not in email:
            raise InputError("email", f"“{email}” is not an email address.")
        fields = {
            "code": _code(self.code_edit, "payer"),
            "name": _name(self.name_edit, "payer"),
            "identifier": _text(self.identifier_edit),
            "email": email,
        }
        self.ok_button.setEnabled(False)
        self.save_requested.emit(fields)


def _fit_columns(view: QTableView, stretch: tuple[int, ...]) -> None:
    """Columns as wide as their contents, the `stretch` ones sharing what is left."""
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for column in stretch:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
