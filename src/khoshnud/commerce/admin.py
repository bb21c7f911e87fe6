"""Django admin for commerce: products are edited here (audited); orders are read-only, as
orders come through `POST /api/v1/orders` or the CSV import, which also write the timeline."""

from __future__ import annotations

from django.contrib import admin

from khoshnud.admin_base import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline
from khoshnud.admin_display import viewer_datetime
from khoshnud.commerce.models import Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = ["sku", "name", "category", "price", "currency", "support_days"]
    list_filter = ["category", "currency"]
    search_fields = ["sku", "name"]


class OrderLineInline(ReadOnlyInline):
    model = OrderLine


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "customer",
        viewer_datetime(Order, "placed_at"),
        "total",
        "currency",
        "channel",
    ]
    list_filter = ["channel", "currency"]
    search_fields = ["number"]
    inlines = [OrderLineInline]
