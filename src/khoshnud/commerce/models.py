"""Products and purchases: what later work (entitlements, offers, recommendations) reads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.customers.models import Customer


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True, verbose_name=_("SKU"))
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, db_index=True)
    tags = models.JSONField(default=list, blank=True, verbose_name=_("tags"))
    price = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("price"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    support_days = models.PositiveIntegerField(_("support entitlement (days)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    number = models.CharField(max_length=64, unique=True, verbose_name=_("number"))
    placed_at = models.DateTimeField(verbose_name=_("placed at"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    total = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("total"))
    channel = models.CharField(max_length=16, default="web", verbose_name=_("channel"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-placed_at"])]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("unit price"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"
