"""Writes for purchases: an order with its lines, and its place on the customer's timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.resolution import customer_reference_from, customer_resolve
from khoshnud.customers.services import CustomerInputError
from khoshnud.db import retry_transient
from khoshnud.inputs import (
    InputError,
    clean_aware_datetime,
    clean_choice,
    clean_int,
    clean_money,
    clean_str,
)
from khoshnud.interactions.models import Channel
from khoshnud.interactions.services import events_ingest

ORDER_SOURCE = "orders"


class OrderInputError(ValueError):
    """An order that cannot be stored as given; nothing was stored."""


# A line's quantity: far past any real order, far below what the column holds.
MAX_QUANTITY = 1_000_000
MAX_TOTAL = Decimal(10) ** 12  # a DecimalField(max_digits=14, decimal_places=2)


def clean_order_lines(
    lines: Sequence[Mapping[str, Any]], *, currency: str | None = None
) -> list[tuple[Product, int, Decimal]]:
    """(product, quantity, unit price) per line; the product's price when none is given.

    Every product must be priced in ``currency`` (the order's): an order does not add
    amounts in two currencies. Prices go through the one money rule (inputs.clean_money).
    """
    if not isinstance(lines, Sequence) or isinstance(lines, str) or not lines:
        raise OrderInputError("an order needs at least one line")
    out = []
    try:
        skus = [
            clean_str(line.get("sku"), field=f"lines[{i}].sku", max_length=64)
            for i, line in enumerate(lines)
        ]
    except InputError as exc:
        raise OrderInputError(str(exc)) from None
    products = {p.sku: p for p in Product.objects.filter(sku__in=set(skus))}
    for i, (sku, line) in enumerate(zip(skus, lines, strict=True)):
        product = products.get(sku)
        if product is None:
            raise OrderInputError(f"lines[{i}]: unknown product sku {sku!r}")
        if currency is not None and product.currency != currency:
            raise OrderInputError(
                f"lines[{i}]: product {sku} is priced in {product.currency}, "
                f"the order is in {currency}; use one currency per order"
            )
        try:
            quantity = clean_int(
                line.get("quantity", 1), field=f"lines[{i}].quantity", maximum=MAX_QUANTITY
            )
            price = line.get("unit_price")
            unit = (
                product.price
                if price in (None, "")
                else clean_money(price, field=f"lines[{i}].unit_price")
            )
        except InputError as exc:
            raise OrderInputError(str(exc)) from None
        out.append((product, quantity, unit))
    return out


def order_create(
    *,
    customer: Mapping[str, Any],
    number: str,
    placed_at: dt.datetime | str,
    currency: str,
    lines: Sequence[Mapping[str, Any]],
    channel: str = "web",
) -> tuple[Order, bool]:
    """Store an order and a ``purchase`` interaction on the buyer's timeline, in one transaction.

    ``customer`` is a reference as in ingestion ({"id": …} or identities; a new buyer is created).
    Idempotent on ``number``: an order stored before is returned as it is, with False.
    Raises OrderInputError (nothing stored) for bad lines, currency, channel, time or customer;
    every line's product must be priced in the order's currency. Raises db.DatabaseBusyError
    when concurrent writers kept it from being stored (send it again).
    """
    try:
        number = clean_str(number, field="number", max_length=64, allow_int=True)
        code = clean_str(currency, field="currency", max_length=8).upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise InputError("currency", f"{code!r} is not an ISO 4217 code")
        channel = clean_choice(channel, field="channel", allowed=Channel.values, default="web")
        placed_at = clean_aware_datetime(placed_at, field="placed_at")
    except InputError as exc:
        raise OrderInputError(str(exc)) from None
    # Checked before the idempotency look-up: a bad request is refused even when it repeats.
    cleaned = clean_order_lines(lines, currency=code)
    total = sum((unit * quantity for _p, quantity, unit in cleaned), Decimal(0))
    if total >= MAX_TOTAL:
        raise OrderInputError(f"the order's total {total} is not below {MAX_TOTAL:,}")
    existing = Order.objects.filter(number=number).first()
    if existing is not None:
        return existing, False
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
                    "channel": channel,
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
