"""Reads for products and purchases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum

from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.inputs import InputError, clean_query_text, clean_str
from khoshnud.interactions.models import Interaction


def orders_of_customer(*, customer_id: int, limit: int = 10) -> QuerySet[Order]:
    """A customer's latest orders with their lines and products (three queries in all)."""
    lines = OrderLine.objects.select_related("product").order_by("id")
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("lines", queryset=lines)
    )[:limit]


def products_list(*, category: str = "") -> QuerySet[Product]:
    """The catalogue by category and name; ``category`` as typed in a URL (NULs dropped)."""
    qs = Product.objects.all()
    category = clean_query_text(category, max_length=100)
    if category:
        qs = qs.filter(category=category)
    return qs


def timeline_orders(*, interaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Timeline annotator (settings.KHOSHNUD_TIMELINE_ANNOTATORS): each purchase's order.

    A ``purchase`` interaction names its order in ``metadata["order"]``; its row gets ``order``
    (number, placed_at, total, currency, items = quantities summed) so the UI words it in the
    viewer's language instead of showing the English text stored with the event. Other rows, and
    purchases whose order is unknown (or erased), get nothing. At most two queries a page.
    """
    numbers: dict[int, str] = {}
    rows = Interaction.objects.filter(pk__in=interaction_ids, type="purchase")
    for pk, metadata in rows.values_list("pk", "metadata"):
        number = metadata.get("order") if isinstance(metadata, dict) else None
        if isinstance(number, str) and number:
            numbers[pk] = number
    if not numbers:
        return {}
    orders = {
        order["number"]: order
        for order in Order.objects.filter(number__in=set(numbers.values()))
        .annotate(items=Sum("lines__quantity"))
        .values("number", "placed_at", "total", "currency", "items")
    }
    return {pk: {"order": orders[number]} for pk, number in numbers.items() if number in orders}


@dataclass(frozen=True)
class SupportPeriod:
    """Support a purchase grants: from the order until ``support_days`` later."""

    start: dt.datetime
    until: dt.datetime
    product: str
    order: str


def support_periods(*, customer_ids: Iterable[int]) -> dict[int, list[SupportPeriod]]:
    """customer id → the support periods their purchases grant (products with
    ``support_days`` > 0), latest end first; one query."""
    out: dict[int, list[SupportPeriod]] = {}
    rows = (
        OrderLine.objects.filter(
            order__customer_id__in=list(customer_ids), product__support_days__gt=0
        )
        .order_by()
        .values_list(
            "order__customer_id", "order__placed_at", "product__support_days", "product__name",
            "order__number",
        )
    )  # fmt: skip
    for customer_id, placed_at, days, product, number in rows:
        out.setdefault(customer_id, []).append(
            SupportPeriod(placed_at, placed_at + dt.timedelta(days=days), product, number)
        )
    for periods in out.values():
        periods.sort(key=lambda p: p.until, reverse=True)
    return out


def entitlement_at(periods: Sequence[SupportPeriod], moment: dt.datetime) -> SupportPeriod | None:
    """The period covering ``moment`` that lasts longest (``start`` ≤ moment < ``until``)."""
    for period in periods:  # latest end first
        if period.start <= moment < period.until:
            return period
    return None


def product_by_sku(*, sku: object, field: str = "product") -> Product | None:
    """The product with this SKU; None for a missing or empty one. Raises ``InputError``
    naming ``field`` for a SKU that is not text or names no product (one query)."""
    text = clean_str(sku, field=field, max_length=64, required=False)
    if not text:
        return None
    product = Product.objects.filter(sku=text).first()
    if product is None:
        raise InputError(field, f"no product with SKU {text!r}")
    return product


def order_product_id(*, order_id: int) -> int | None:
    """The product an order is about: its first line's (the line stored first)."""
    return (
        OrderLine.objects.filter(order_id=order_id)
        .order_by("id")
        .values_list("product_id", flat=True)
        .first()
    )
