"""Reads for products and purchases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum

from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.inputs import clean_query_text
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
