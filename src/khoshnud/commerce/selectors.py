"""Reads for products and purchases."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.inputs import clean_query_text


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
