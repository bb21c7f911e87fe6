"""API for the product catalogue and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Scope
from khoshnud.commerce.models import Product

router = Router(tags=["commerce"])


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category: str
    tags: list[str]
    price: Decimal
    currency: str
    support_days: int
    created_at: dt.datetime


@router.get("/products", response=list[ProductOut])
def list_products(request: HttpRequest, category: str = "") -> list[Product]:
    """The product catalogue, by category and name."""
    require(request, scope=Scope.READ)
    qs = Product.objects.all()
    if category:
        qs = qs.filter(category=category)
    return list(qs)
