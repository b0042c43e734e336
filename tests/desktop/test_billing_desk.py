"""The cash desk and the billing reports against a live server and a real desktop cache: the
cashier's totals by method after payments, the counted cash over or short, the day close (once
only), and the reports' bars at the heights of the sums."""

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from hms_core.db import AuditEvent, CashClose, Department, Invoice, InvoiceLine
from hms_core.db.base import new_id
from hms_core.schemas.billing import RefundPayment, TakePayment
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM, Actor
from hms_core.services.billing.payments import refund_payment, take_payment
from hms_core.services.errors import Conflict
from hms_core.services.patients import register_patient
from hms_desktop.store.billing_desk import LocalBillingDesk
from hms_desktop.workspaces.billing.cash_desk import CashDeskPanel
from hms_desktop.workspaces.billing.reports_panel import ReportsPanel
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in

WAIT = SIGN_IN_TIMEOUT_MS
CASHIER = Actor(None, "test-billing", "billing")
OTHER = Actor(None, "test-admin", "admin")
KEEP = Path("/tmp/h4b_shots")


def save_shot(widget, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    path = shots_dir(tmp_path) / name
    QApplication.processEvents()  # let the layouts settle (word-wrapped labels grow)
    widget.grab().save(str(path))
    KEEP.mkdir(exist_ok=True)
    shutil.copy(path, KEEP / name)


def today_moment(minutes_ago: int) -> datetime:
    """A moment earlier today (UTC, the test server's zone), never before midnight."""
    now = datetime.now(UTC)
    start = datetime.combine(now.date(), time.min, UTC)
    return max(now - timedelta(minutes=minutes_ago), start)


def add_patient(session, given: str = "Amina"):  # noqa: ANN001, ANN201
    data = PatientCreate(
        given_name=given, family_name="Said", birth_date=date(1985, 4, 2), sex="female"
    )
    return register_patient(session, SYSTEM, data)


def take(session, actor: Actor, patient_id, amount: int, method: str, minutes: int, **kw):  # noqa: ANN001, ANN201
    args = TakePayment(
        id=new_id(),
        patient_id=patient_id,
        kind="deposit",
        method=method,
        amount=amount,
        received_at=today_moment(minutes),
        **kw,
    )
    return take_payment(session, actor, args)


def make_day(db) -> None:  # noqa: ANN001
    """The cashier took cash 120.00 and 30.00 and a card 45.50, and refunded 5.00 in cash;
    another cashier took 99.00 cash today."""
    with db.unit_of_work() as session:
        patient = add_patient(session)
        first = take(session, CASHIER, patient.id, 12_000, "cash", 50)
        take(session, CASHIER, patient.id, 4_550, "card", 40, reference="T-4411")
        take(session, CASHIER, patient.id, 3_000, "cash", 30)
        refund = RefundPayment(
            id=new_id(),
            payment_id=first.id,
            amount=500,
            method="cash",
            reason="Overpaid at the desk",
            received_at=today_moment(20),
        )
        refund_payment(session, CASHIER, refund)
        take(session, OTHER, patient.id, 9_900, "cash", 10)


def desk_panel(qtbot, window) -> CashDeskPanel:  # noqa: ANN001
    if getattr(window.ctx, "billing_desk", None) is None:
        window.ctx.billing_desk = LocalBillingDesk(window.ctx.sync.store)
    panel = CashDeskPanel(window.ctx)  # on its own (the workspace shows it as a tab)
    qtbot.addWidget(panel)
    panel.resize(1300, 700)
    panel.show()
    return panel


def test_cashier_sees_todays_totals_counts_the_drawer_and_closes_the_day_once(
    qtbot, controller, live_server, tmp_path
):
    make_day(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["billing"])
    panel = desk_panel(qtbot, window)
    qtbot.waitUntil(lambda: panel.payments_model.rowCount() == 4, timeout=WAIT)
    totals = {method: label.text() for method, label in panel.total_labels.items()}
    assert totals == {
        "cash": "USD 145.00",
        "card": "USD 45.50",
        "online": "USD 0.00",
        "insurance": "USD 0.00",
        "total": "USD 190.50",
    }
    assert panel.expected_label.text() == "Expected cash in the drawer: USD 145.00"
    amounts = [panel.payments_model.data(panel.payments_model.index(r, 7)) for r in range(4)]
    assert amounts == ["120.00", "45.50", "30.00", "-5.00"]
    assert "4 payments" in panel.summary_label.text()

    # the counted cash: a plain error for nonsense, over and short said plainly
    panel.counted_edit.setText("12o")
    assert panel.counted_error.text() == "“12o” is not an amount."
    assert not panel.difference_label.isVisible()
    panel.counted_edit.setText("150.5")
    assert panel.difference_label.text() == "Over by USD 5.50"
    panel.counted_edit.setText("145")
    assert panel.difference_label.text().startswith("Balanced")
    panel.counted_edit.setText("144.00")
    assert panel.difference_label.text() == "Short by USD 1.00"
    assert panel.difference_label.property("role") == "errorBox"
    save_shot(panel, tmp_path, "cash_desk_short.png")

    # close the day: asked first, then shown as closed
    panel.note_edit.setText("One dollar missing")
    panel.close_button.click()
    box = panel.confirm_box
    assert box is not None and "Short by USD 1.00" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: panel.closed_label.isVisible(), timeout=WAIT)
    closed = panel.closed_label.text()
    assert "Closed at" in closed and "by test-billing" in closed
    assert "Counted USD 144.00" in closed and "Short by USD 1.00" in closed
    assert not panel.close_button.isVisible() and not panel.counted_edit.isEnabled()
    assert panel.notice.text().startswith("The day is closed.")
    save_shot(panel, tmp_path, "cash_desk_closed.png")

    # the server has it, and a second close of the day is refused in plain words
    def on_server() -> CashClose | None:
        with live_server.db.unit_of_work() as session:
            query = select(CashClose).where(CashClose.cashier == "test-billing")
            return session.execute(query).scalar_one_or_none()

    qtbot.waitUntil(lambda: on_server() is not None, timeout=WAIT)
    close = on_server()
    assert (close.expected_cash, close.counted_cash, close.note) == (
        14_500,
        14_400,
        "One dollar missing",
    )
    with live_server.db.unit_of_work() as session:  # the look at the day's payments is audited
        looks = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "billing.cashdesk"))
            .scalars()
            .all()
        )
        assert [e.actor_username for e in looks] == ["test-billing"]
    try:
        window.ctx.billing_desk.close_day(14_500)
    except Conflict as exc:
        assert "closed" in exc.message and "already" in exc.message
    else:
        raise AssertionError("a second close of the same day was accepted")


# --- reports ----------------------------------------------------------------------------------


def days_ago(days: int, hour: int = 10) -> datetime:
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=days), time(hour), UTC)


def invoice(session, patient_id, share: int, finalised: datetime, lines=(), **kw):  # noqa: ANN001, ANN201
    row = Invoice(
        patient_id=patient_id,
        status="final",
        currency="USD",
        patient_share=share,
        net=share,
        gross=share,
        created_by="test-billing",
        finalised_at=finalised,
        **kw,
    )
    session.add(row)
    session.flush()
    for n, (net, department) in enumerate(lines, start=1):
        session.add(
            InvoiceLine(
                invoice_id=row.id,
                position=n,
                code=f"L{n}",
                description="Service",
                category="procedure",
                department_id=department.id if department else None,
                service_date=finalised.date(),
                quantity=1,
                unit_price=net,
                net=net,
                tax=0,
                patient_share=net,
            )
        )
    session.flush()
    return row


def make_history(db) -> None:  # noqa: ANN001
    """Collections on three days (one outside the last week), invoices of three ages, revenue
    in two departments and none, and a credit note."""
    with db.unit_of_work() as session:
        patient = add_patient(session, "Baraka")
        cardiology = Department(code="CARD", name="Cardiology", specialty="Cardiology")
        surgery = Department(code="SURG", name="General Surgery", specialty="Surgery")
        session.add_all([cardiology, surgery])
        session.flush()

        def deposit(amount: int, method: str, at: datetime, **kw: str):  # noqa: ANN202
            args = TakePayment(
                id=new_id(),
                patient_id=patient.id,
                kind="deposit",
                method=method,
                amount=amount,
                received_at=at,
                **kw,
            )
            return take_payment(session, CASHIER, args)

        deposit(10_000, "cash", today_moment(5))
        deposit(5_000, "card", days_ago(2), reference="T-1")
        cash = deposit(2_000, "cash", days_ago(2, 11))
        refund = RefundPayment(
            id=new_id(),
            payment_id=cash.id,
            amount=500,
            method="cash",
            reason="Paid twice",
            received_at=days_ago(2, 12),
        )
        refund_payment(session, CASHIER, refund)
        deposit(7_000, "online", days_ago(10), reference="ONL-9")

        recent = invoice(
            session,
            patient.id,
            43_000,
            days_ago(3),
            [(30_000, cardiology), (12_000, surgery), (1_000, None)],
        )
        invoice(
            session,
            patient.id,
            5_000,
            days_ago(1),
            [(5_000, cardiology)],
            kind="credit_note",
            credits_invoice_id=recent.id,
        )
        invoice(session, patient.id, 8_000, days_ago(45), [(8_000, surgery)])
        invoice(session, patient.id, 2_500, days_ago(100), [(2_500, None)])


def reports_panel(qtbot, window) -> ReportsPanel:  # noqa: ANN001
    if getattr(window.ctx, "billing_desk", None) is None:
        window.ctx.billing_desk = LocalBillingDesk(window.ctx.sync.store)
    panel = ReportsPanel(window.ctx)  # on its own (the workspace shows it as a tab)
    qtbot.addWidget(panel)
    panel.resize(1300, 1100)
    panel.show()
    return panel


def test_reports_draw_collections_balances_and_revenue_at_the_right_heights(
    qtbot, controller, live_server, tmp_path
):
    make_history(live_server.db)
    window = sign_in(qtbot, controller, live_server.url, live_server.users["billing"])
    panel = reports_panel(qtbot, window)
    qtbot.waitUntil(lambda: panel.data is not None and panel.data.revenue != [], timeout=WAIT)

    # last 7 days: today is the last bar; two days ago card 50.00 and cash 20.00 - 5.00
    bars = panel.collections.bars
    assert set(bars) == {"cash", "card"}  # no online payment this week
    assert list(bars["cash"].opts["height"]) == [0, 0, 0, 0, 1_500, 0, 10_000]
    assert list(bars["card"].opts["height"]) == [0, 0, 0, 0, 5_000, 0, 0]
    assert list(bars["card"].opts["y0"])[4] == 1_500  # stacked on the cash
    table = [
        (r["day"], r["cash"], r["card"], r["total"]) for r in panel.collections.model.records()
    ]
    today, two_days_ago = panel.data.end, panel.data.end - timedelta(days=2)
    assert table == [
        (f"{today:%a %d %b}", "100.00", "0.00", "100.00"),  # days with money, newest first
        (f"{two_days_ago:%a %d %b}", "15.00", "50.00", "65.00"),
        ("Total", "115.00", "50.00", "165.00"),
    ]

    # balances by age: 430.00 less the 50.00 credit note; 80.00 at 45 days; 25.00 at 100
    assert list(panel.outstanding.bar.opts["height"]) == [38_000, 8_000, 0, 2_500]
    assert "USD 485.00 owed" in panel.outstanding.caption.text()

    # revenue: net of the credit note, largest at the top of the chart
    assert panel.data.revenue == [
        ("Cardiology", 25_000),
        ("General Surgery", 12_000),
        ("No department", 1_000),
    ]
    assert list(panel.revenue.bar.opts["width"]) == [1_000, 12_000, 25_000]
    left = panel.revenue.plot.getPlotItem().getAxis("left")
    assert [label for _n, label in left._tickLevels[0]] == [
        "No department",
        "General Surgery",
        "Cardiology",
    ]
    # axis labels are amounts, not raw minor units
    assert panel.revenue.axis.tickStrings([20_000.0, 1_250.0], 1, 1) == ["200", "12.50"]
    save_shot(panel, tmp_path, "billing_reports_7_days.png")

    # the last 30 days take in the online payment ten days ago
    panel.choose_days(30)
    qtbot.waitUntil(lambda: "online" in panel.collections.bars, timeout=WAIT)
    online = list(panel.collections.bars["online"].opts["height"])
    assert len(online) == 30 and online[19] == 7_000 and sum(online) == 7_000
    save_shot(panel, tmp_path, "billing_reports_30_days.png")
