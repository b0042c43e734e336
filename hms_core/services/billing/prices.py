"""The price list: items, their dated prices, and the payers. A price applies from its
`valid_from` day on, so a charge is priced as of its service date and old invoices keep theirs."""

import uuid
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.billing import Payer, Price, PriceItem
from hms_core.rbac import Perm
from hms_core.schemas.billing import SavePayer, SavePriceItem, SetPrice
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.billing.common import get_row, touch
from hms_core.services.errors import Conflict, InvalidData

T = TypeVar("T", PriceItem, Payer)


def save_price_item(session: Session, actor: Actor, args: SavePriceItem) -> PriceItem:
    """Create an item, or change its name, category, scope or whether it is in use."""
    actor.require(Perm.PRICE_MANAGE)
    clash = session.execute(
        select(PriceItem).where(PriceItem.code == args.code, PriceItem.id != args.id)
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(
            f"The code {args.code} is already used by “{clash.name}”.",
            fields={"code": "Already used"},
        )
    item = _save(session, PriceItem, args)
    record_audit(session, actor, "price.item", detail={"code": args.code, "name": args.name})
    return item


def set_price(session: Session, actor: Actor, args: SetPrice) -> Price:
    """Price an item from a day on (today or later: days already billed keep their price)."""
    actor.require(Perm.PRICE_MANAGE)
    item = get_row(
        session, PriceItem, args.item_id, "This price-list item does not exist.", "item_id"
    )
    if args.valid_from < args.today:
        raise InvalidData(
            "A new price cannot start in the past: bills of those days used the old price.",
            fields={"valid_from": "In the past"},
        )
    price = session.get(Price, args.id) or _price_from(session, item.id, args.valid_from)
    if price is not None and price.valid_from <= args.today:
        raise Conflict(
            f"{item.name} already has a price from {args.valid_from:%d %b %Y}, and it may "
            "have been charged. Set the new price from a later day.",
            fields={"valid_from": "Already priced"},
        )
    if price is None:
        price = Price(id=args.id, item_id=item.id, valid_from=args.valid_from, unit_price=0)
        session.add(price)
    else:
        touch(price)
    price.unit_price, price.tax_rate, price.set_by = args.unit_price, args.tax_rate, actor.username
    session.flush()
    record_audit(
        session,
        actor,
        "price.set",
        detail={
            "code": item.code,
            "valid_from": args.valid_from.isoformat(),
            "unit_price": args.unit_price,
            "tax_rate": str(args.tax_rate),
        },
    )
    return price


def save_payer(session: Session, actor: Actor, args: SavePayer) -> Payer:
    """Create or change an insurer."""
    actor.require(Perm.PRICE_MANAGE)
    clash = session.execute(
        select(Payer).where(Payer.code == args.code, Payer.id != args.id)
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(f"The code {args.code} is already used by {clash.name}.")
    payer = _save(session, Payer, args)
    record_audit(session, actor, "payer.save", detail={"code": args.code, "name": args.name})
    return payer


def _save(session: Session, model: type[T], args: SavePriceItem | SavePayer) -> T:
    """Create the row with the arguments' id and fields, or change it to them."""
    values = args.model_dump(exclude={"id"})
    row = session.get(model, args.id)
    if row is None:
        row = model(id=args.id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        touch(row)
    session.flush()
    return row


def price_on(session: Session, item_id: uuid.UUID, day: date) -> Price | None:
    """The item's price on `day`: the latest one that started on or before it."""
    return (
        session.execute(
            select(Price)
            .where(Price.item_id == item_id, Price.valid_from <= day, Price.deleted_at.is_(None))
            .order_by(Price.valid_from.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def _price_from(session: Session, item_id: uuid.UUID, day: date) -> Price | None:
    query = select(Price).where(Price.item_id == item_id, Price.valid_from == day)
    return session.execute(query).scalars().first()


def find_item(
    session: Session,
    category: str,
    *,
    department_id: uuid.UUID | None = None,
    doctor_grade: str | None = None,
    ward_class: str | None = None,
) -> PriceItem | None:
    """The most specific active item of a category: department and grade (or ward class)
    first, then the department alone, then the hospital-wide item."""
    items = session.execute(
        select(PriceItem).where(
            PriceItem.category == category,
            PriceItem.active.is_(True),
            PriceItem.deleted_at.is_(None),
        )
    ).scalars()
    best, best_rank = None, -1
    for item in items:
        rank = _rank(item, department_id, doctor_grade, ward_class)
        if rank > best_rank or (rank == best_rank and best is not None and item.code < best.code):
            best, best_rank = item, rank
    return best if best_rank >= 0 else None


def _rank(
    item: PriceItem,
    department_id: uuid.UUID | None,
    doctor_grade: str | None,
    ward_class: str | None,
) -> int:
    """How well an item fits (-1: it is for another department, grade or ward class)."""
    rank = 0
    for wanted, have, weight in (
        (department_id, item.department_id, 4),
        (doctor_grade, item.doctor_grade, 2),
        (ward_class, item.ward_class, 1),
    ):
        if have is None:
            continue
        if have != wanted:
            return -1
        rank += weight
    return rank
