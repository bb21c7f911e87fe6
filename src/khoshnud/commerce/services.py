"""Writes for purchases: an order with its lines, and its place on the customer's timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from khoshnud.calendars import latin_digits
from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.resolution import customer_reference_from, customer_resolve
from khoshnud.customers.services import CustomerInputError
from khoshnud.db import retry_transient
from khoshnud.interactions.models import Channel
from khoshnud.interactions.services import events_ingest

ORDER_SOURCE = "orders"


class OrderInputError(ValueError):
    """An order that cannot be stored as given; nothing was stored."""


def _amount(value: object, name: str) -> Decimal:
    try:
        amount = Decimal(latin_digits(str(value)).replace(",", ""))
    except InvalidOperation:
        raise OrderInputError(f"{name} {value!r} is not an amount") from None
    if amount < 0 or not amount.is_finite():
        raise OrderInputError(f"{name} {value!r} must be zero or more")
    return amount


def clean_order_lines(lines: Sequence[Mapping[str, Any]]) -> list[tuple[Product, int, Decimal]]:
    """(product, quantity, unit price) per line; the product's price when none is given."""
    if not lines:
        raise OrderInputError("an order needs at least one line")
    skus = {str(line.get("sku", "")) for line in lines}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    out = []
    for i, line in enumerate(lines):
        product = products.get(str(line.get("sku", "")))
        if product is None:
            raise OrderInputError(f"lines[{i}]: unknown product sku {line.get('sku')!r}")
        try:
            quantity = int(latin_digits(str(line.get("quantity", 1))))
        except ValueError:
            raise OrderInputError(f"lines[{i}]: quantity must be a whole number") from None
        if quantity < 1:
            raise OrderInputError(f"lines[{i}]: quantity must be at least 1")
        price = line.get("unit_price")
        unit = product.price if price in (None, "") else _amount(price, f"lines[{i}].unit_price")
        out.append((product, quantity, unit))
    return out


def order_create(
    *,
    customer: Mapping[str, Any],
    number: str,
    placed_at: dt.datetime,
    currency: str,
    lines: Sequence[Mapping[str, Any]],
    channel: str = "web",
) -> tuple[Order, bool]:
    """Store an order and a ``purchase`` interaction on the buyer's timeline, in one transaction.

    ``customer`` is a reference as in ingestion ({"id": …} or identities; a new buyer is created).
    Idempotent on ``number``: an order stored before is returned as it is, with False.
    Raises OrderInputError (nothing stored) for bad lines, currency, time or customer;
    db.DatabaseBusyError when concurrent writers kept it from being stored (send it again).
    """
    number = str(number).strip()
    if not number or len(number) > 64:
        raise OrderInputError("number is required (at most 64 characters)")
    code = str(currency).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise OrderInputError(f"currency {currency!r} is not an ISO 4217 code")
    if placed_at.tzinfo is None:
        raise OrderInputError("placed_at needs a time zone")
    existing = Order.objects.filter(number=number).first()
    if existing is not None:
        return existing, False
    cleaned = clean_order_lines(lines)
    total = sum((unit * quantity for _p, quantity, unit in cleaned), Decimal(0))
    try:
        reference = customer_reference_from(customer)
    except CustomerInputError as exc:
        raise OrderInputError(str(exc)) from None

    def store() -> tuple[Order, bool]:
        existing = Order.objects.filter(number=number).first()
        if existing is not None:
            return existing, False
        try:
            customer_id = customer_resolve(reference=reference)
        except CustomerInputError as exc:
            raise OrderInputError(str(exc)) from None
        [result] = events_ingest(
            events=[
                {
                    "source": ORDER_SOURCE,
                    "external_id": number,
                    "channel": channel if channel in Channel.values else "web",
                    "direction": "inbound",
                    "type": "purchase",
                    "stage": "purchase",
                    "occurred_at": placed_at.isoformat(),
                    "customer": {"id": customer_id},
                    "text": f"{number}: {total} {code}",
                    "metadata": {
                        "order": number,
                        "total": str(total),
                        "currency": code,
                        "lines": [
                            {"sku": p.sku, "quantity": q, "unit_price": str(u)}
                            for p, q, u in cleaned
                        ],
                    },
                }
            ]
        )
        if result.status == "rejected" or result.customer_id is None:
            raise OrderInputError(result.error or "the customer could not be resolved")
        order = Order.objects.create(
            customer_id=result.customer_id,
            number=number,
            placed_at=placed_at,
            currency=code,
            total=total,
            channel=channel,
        )
        OrderLine.objects.bulk_create(
            [OrderLine(order=order, product=p, quantity=q, unit_price=u) for p, q, u in cleaned]
        )
        return order, True

    # Two requests with the same new number: the one that loses the race finds the other's.
    return retry_transient(store)
