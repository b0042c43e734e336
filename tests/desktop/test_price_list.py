"""The price list editor against a live server and a real desktop cache: items by category with
today's price, search, a new item with its first price, a dated price change with the history
shown (today's price unchanged until the day comes), a new payer; all of it reaches the server."""

import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialogButtonBox
from sqlalchemy import select

from hms_core.db import Department, Payer, Price, PriceItem
from hms_desktop.store.billing_desk import LocalBillingDesk
from hms_desktop.workspaces.admin.price_list import PriceDialog, PriceListEditor
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
KEEP = Path("/tmp/h4b_shots")


def save_shot(widget, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    path = shots_dir(tmp_path) / name
    QApplication.processEvents()  # let the layouts settle
    widget.grab().save(str(path))
    KEEP.mkdir(exist_ok=True)
    shutil.copy(path, KEEP / name)


def today() -> date:
    return datetime.now(UTC).date()  # the test server's zone is UTC


def make_price_list(db) -> None:  # noqa: ANN001
    """A general consultation priced 15.00 long ago and 20.00 for the last 60 days, a lab
    test with 16% tax, one payer, the Cardiology department."""
    with db.unit_of_work() as session:
        session.add(Department(code="CARD", name="Cardiology", specialty="Cardiology"))
        consult = PriceItem(code="CONS-GEN", name="General consultation", category="consultation")
        lab = PriceItem(code="LAB-FBC", name="Full blood count", category="lab", unit="test")
        session.add_all([consult, lab])
        session.flush()
        session.add_all(
            [
                Price(
                    item_id=consult.id, valid_from=today() - timedelta(days=400), unit_price=1_500
                ),
                Price(
                    item_id=consult.id, valid_from=today() - timedelta(days=60), unit_price=2_000
                ),
                Price(
                    item_id=lab.id,
                    valid_from=today() - timedelta(days=10),
                    unit_price=850,
                    tax_rate=Decimal(16),
                ),
            ]
        )
        session.add(Payer(code="NHIF", name="National Health Insurance Fund"))


def open_editor(qtbot, controller, live_server) -> PriceListEditor:  # noqa: ANN001
    window = sign_in(qtbot, controller, live_server.url, live_server.users["admin"])
    if getattr(window.ctx, "billing_desk", None) is None:
        window.ctx.billing_desk = LocalBillingDesk(window.ctx.sync.store)
    editor = PriceListEditor(window.ctx)
    qtbot.addWidget(editor)
    editor.resize(1500, 800)
    editor.show()
    qtbot.waitUntil(lambda: editor.items_model.rowCount() == 2, timeout=WAIT)
    return editor


def row(editor: PriceListEditor, code: str):  # noqa: ANN201
    return next(r for r in editor.rows if r.code == code)


def cell(editor: PriceListEditor, code: str, column: int) -> str:
    model = editor.items_model
    return model.data(model.index(editor.row_of(row(editor, code).item_id), column))


def on_server(db, model, **where):  # noqa: ANN001, ANN003, ANN201
    with db.unit_of_work() as session:
        query = select(model).filter_by(**where)
        return list(session.execute(query).scalars())


def test_admin_adds_an_item_changes_a_price_from_a_later_day_and_adds_a_payer(
    qtbot, controller, live_server, tmp_path
):
    make_price_list(live_server.db)
    editor = open_editor(qtbot, controller, live_server)
    assert [r.code for r in editor.items_model.records()] == ["CONS-GEN", "LAB-FBC"]
    assert cell(editor, "CONS-GEN", 4) == "20.00"  # the price in force, not the first one
    assert (cell(editor, "LAB-FBC", 4), cell(editor, "LAB-FBC", 5)) == ("8.50 / test", "16")
    assert editor.payers_model.rowCount() == 1

    # search and category filter
    editor.search_edit.setText("blood")
    assert [r.code for r in editor.items_model.records()] == ["LAB-FBC"]
    editor.search_edit.clear()
    editor.category_combo.setCurrentIndex(editor.category_combo.findData("consultation"))
    assert [r.code for r in editor.items_model.records()] == ["CONS-GEN"]
    editor.category_combo.setCurrentIndex(0)

    # a new item with its first price from today
    editor.new_button.click()
    dialog = editor.dialog
    dialog.code_edit.setText("CONS CARD")
    dialog.name_edit.setText("Cardiology consultation (consultant)")
    dialog.ok_button.click()
    assert "without spaces" in dialog.status_label.text()  # refused before anything is saved
    dialog.code_edit.setText("CONS-CARD-SR")
    dialog.category_combo.setCurrentIndex(dialog.category_combo.findData("consultation"))
    dialog.department_combo.setCurrentIndex(dialog.department_combo.findText("Cardiology"))
    dialog.grade_edit.setText("consultant")
    dialog.price_edit.setText("45.o0")
    dialog.ok_button.click()
    assert dialog.status_label.text() == "“45.o0” is not an amount."
    dialog.price_edit.setText("45.00")
    save_shot(dialog, tmp_path, "price_new_item_dialog.png")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: editor.items_model.rowCount() == 3, timeout=WAIT)
    added = row(editor, "CONS-CARD-SR")
    assert (added.unit_price, added.valid_from, added.department) == (4_500, today(), "Cardiology")
    assert cell(editor, "CONS-CARD-SR", 3) == "Cardiology · consultant"
    assert "added to the price list" in editor.notice.text()

    # a new price for the general consultation from next week; today's price stays
    editor.select_code("CONS-GEN")
    qtbot.waitUntil(lambda: len(editor.history_model.records()) == 2, timeout=WAIT)
    assert [s.current for s in editor.history_model.records()] == [True, False]
    editor.price_button.click()
    change = editor.dialog
    assert isinstance(change, PriceDialog)
    assert change.history_model.rowCount() == 2
    assert change.date_edit.minimumDate().toPython() == today()  # never in the past
    next_week = today() + timedelta(days=7)
    change.date_edit.setDate(change.date_edit.date().addDays(7))
    change.price_edit.setText("25.50")
    save_shot(change, tmp_path, "price_change_dialog.png")
    change.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: row(editor, "CONS-GEN").next_change == next_week, timeout=WAIT)
    assert row(editor, "CONS-GEN").unit_price == 2_000
    assert cell(editor, "CONS-GEN", 6).endswith(f"· new from {next_week:%d %b}")
    qtbot.waitUntil(lambda: len(editor.history_model.records()) == 3, timeout=WAIT)
    newest = editor.history_model.records()[0]
    assert (newest.valid_from, newest.unit_price, newest.current) == (next_week, 2_550, False)
    assert newest.set_by == "test-admin"

    # the blood count is renamed and no longer charged; its prices stay as they were
    editor.select_code("LAB-FBC")
    editor.edit_button.click()
    edit = editor.dialog
    assert (edit.code_edit.text(), edit.active_check.isChecked()) == ("LAB-FBC", True)
    edit.name_edit.setText("Full blood count (old analyser)")
    edit.active_check.setChecked(False)
    edit.ok_button.click()
    qtbot.waitUntil(lambda: row(editor, "LAB-FBC").active is False, timeout=WAIT)
    assert row(editor, "LAB-FBC").name == "Full blood count (old analyser)"
    assert row(editor, "LAB-FBC").unit_price == 850

    # a new payer
    editor.new_payer_button.click()
    payer = editor.dialog
    payer.code_edit.setText("AAR")
    payer.name_edit.setText("AAR Insurance")
    payer.email_edit.setText("claims-at-aar")
    payer.ok_button.click()
    assert "not an email address" in payer.status_label.text()
    payer.email_edit.setText("claims@aar.example")
    payer.ok_button.click()
    qtbot.waitUntil(lambda: editor.payers_model.rowCount() == 2, timeout=WAIT)
    editor.select_code("CONS-GEN")
    save_shot(editor, tmp_path, "price_list.png")

    # the server has all of it
    db = live_server.db
    qtbot.waitUntil(lambda: on_server(db, Payer, code="AAR") != [], timeout=WAIT)
    item = on_server(db, PriceItem, code="CONS-CARD-SR")[0]
    assert item.doctor_grade == "consultant"
    assert [p.unit_price for p in on_server(db, Price, item_id=item.id)] == [4_500]
    general = on_server(db, PriceItem, code="CONS-GEN")[0]
    prices = {p.valid_from: p.unit_price for p in on_server(db, Price, item_id=general.id)}
    assert prices[next_week] == 2_550 and len(prices) == 3
    qtbot.waitUntil(lambda: not on_server(db, PriceItem, code="LAB-FBC")[0].active, timeout=WAIT)
