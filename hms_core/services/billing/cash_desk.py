"""The cash desk's day close: a cashier's payments of one hospital-zone day by method
(refunds subtracted), the cash expected in the drawer against the cash counted."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.billing import CASH, METHODS, REFUND, CashClose, Payment
from hms_core.rbac import Perm
from hms_core.rules.money import format_amount
from hms_core.schemas.billing import CloseCashDay
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.errors import Conflict, InvalidData


def day_window(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC start and end of a day in the hospital's zone."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidData(f"“{tz}” is not a known time zone.") from None
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_totals(session: Session, cashier: str, day: date, tz: str) -> tuple[dict[str, int], int]:
    """What a cashier took on a day, by method (refunds subtracted), and how many rows."""
    start, end = day_window(day, tz)
    rows = session.execute(
        select(Payment).where(
            Payment.received_by == cashier,
            Payment.received_at >= start,
            Payment.received_at < end,
            Payment.claim_id.is_(None),
            Payment.deleted_at.is_(None),
        )
    ).scalars()
    totals = {method: 0 for method in METHODS}
    count = 0
    for payment in rows:
        sign = -1 if payment.kind == REFUND else 1
        totals[payment.method] = totals.get(payment.method, 0) + sign * payment.amount
        count += 1
    return totals, count


def close_cash_day(session: Session, actor: Actor, args: CloseCashDay) -> CashClose:
    """Close the cashier's day once: totals by method, expected and counted cash (audited)."""
    actor.require(Perm.PAYMENT_TAKE)
    existing = session.get(CashClose, args.id)
    if existing is not None:
        return existing
    done = (
        session.execute(
            select(CashClose).where(
                CashClose.cashier == actor.username, CashClose.business_date == args.business_date
            )
        )
        .scalars()
        .first()
    )
    if done is not None:
        closed = _aware(done.closed_at).astimezone(ZoneInfo(args.timezone))
        raise Conflict(
            f"You closed {args.business_date:%d %b %Y} already, at {closed:%H:%M}.",
            detail={"close_id": str(done.id)},
        )
    totals, _count = day_totals(session, actor.username, args.business_date, args.timezone)
    close = CashClose(
        id=args.id,
        cashier=actor.username,
        business_date=args.business_date,
        currency=args.currency,
        expected_cash=totals[CASH],
        counted_cash=args.counted_cash,
        totals=";".join(f"{method}={amount}" for method, amount in totals.items()),
        note=args.note,
        closed_at=args.at.astimezone(UTC),
    )
    session.add(close)
    session.flush()
    difference = args.counted_cash - totals[CASH]
    record_audit(
        session,
        actor,
        "cash.close",
        detail={
            "date": args.business_date.isoformat(),
            "expected_cash": totals[CASH],
            "counted_cash": args.counted_cash,
            "difference": difference,
            "difference_text": format_amount(difference),
        },
    )
    return close


def _aware(moment: datetime) -> datetime:
    """A stored moment with its zone (the SQLite cache hands back naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_totals(text: str) -> dict[str, int]:
    """The `totals` column back as {method: amount}."""
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {method: int(amount) for method, amount in pairs}
