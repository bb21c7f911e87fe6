"""API for the product catalogue and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Scope
from khoshnud.commerce.models import Order, Product
from khoshnud.commerce.selectors import products_list
from khoshnud.commerce.services import OrderInputError, order_create

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
    return list(products_list(category=category))


class OrderLineIn(Schema):
    sku: str
    quantity: int = 1
    unit_price: Decimal | None = Field(None, description="default: the product's price")


class OrderIn(Schema):
    number: str = Field(..., examples=["A-1042"])
    customer: dict[str, Any] = Field(
        ...,
        description="as in events: {id} or identities",
        examples=[{"email": "sara@example.com"}],
    )
    placed_at: dt.datetime = Field(..., examples=["2026-11-20T09:30:00+03:30"])
    currency: str = Field(..., examples=["USD"])
    channel: str = "web"
    lines: list[OrderLineIn]


class OrderLineOut(Schema):
    sku: str
    quantity: int
    unit_price: Decimal


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int
    placed_at: dt.datetime
    currency: str
    total: Decimal
    channel: str
    lines: list[OrderLineOut]


def _order_out(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "customer_id": order.customer_id,
        "placed_at": order.placed_at,
        "currency": order.currency,
        "total": order.total,
        "channel": order.channel,
        "lines": [
            {"sku": line.product.sku, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in order.lines.select_related("product").order_by("id")
        ],
    }


@router.post("/orders", response={200: OrderOut, 201: OrderOut})
def create_order(request: HttpRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    """Record a purchase (201); the same `number` again returns the stored order (200).

    The purchase also lands on the customer's timeline (type `purchase`, source `orders`)."""
    require(request, scope=Scope.WRITE)
    try:
        order, created = order_create(
            customer=payload.customer,
            number=payload.number,
            placed_at=payload.placed_at,
            currency=payload.currency,
            channel=payload.channel,
            lines=[line.model_dump() for line in payload.lines],
        )
    except OrderInputError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201 if created else 200, _order_out(order))
