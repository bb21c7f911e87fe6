from __future__ import annotations

from django.contrib import admin

from khoshnud.admin_display import viewer_datetime
from khoshnud.commerce.models import Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "currency", "support_days"]
    list_filter = ["category", "currency"]
    search_fields = ["sku", "name"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
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
    raw_id_fields = ["customer"]
    inlines = [OrderLineInline]
