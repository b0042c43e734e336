"""Billing test data shared by the core, server and sync tests: priced price-list items."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from hms_core.db.base import new_id
from hms_core.schemas import billing as wire
from hms_core.services.actor import SYSTEM
from hms_core.services.billing import prices

PRICED_FROM = date(2024, 1, 1)


def priced_item(
    session: Session,
    code: str,
    category: str,
    unit_price: int,
    tax: str = "0",
    since: date = PRICED_FROM,
    **scope: object,
) -> uuid.UUID:
    """A price-list item priced from `since` on (its name is the code in title case)."""
    item = prices.save_price_item(
        session,
        SYSTEM,
        wire.SavePriceItem(id=new_id(), code=code, name=code.title(), category=category, **scope),
    )
    prices.set_price(
        session,
        SYSTEM,
        wire.SetPrice(
            id=new_id(),
            item_id=item.id,
            valid_from=since,
            unit_price=unit_price,
            tax_rate=Decimal(tax),
            today=since,
        ),
    )
    return item.id
