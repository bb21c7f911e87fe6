"""Orders through the API: totals by hand, idempotent numbers, timeline purchase, bad input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from khoshnud.commerce.models import Order, Product
from khoshnud.interactions.models import Interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def products() -> None:
    Product.objects.create(sku="GR-1", name="Grinder", category="grinders", price=Decimal("120.50"),
                           currency="USD", support_days=365)  # fmt: skip
    Product.objects.create(sku="BE-1", name="Beans", category="beans", price=Decimal("16.00"),
                           currency="USD")  # fmt: skip


def post(client, body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/orders", json.dumps(body), content_type="application/json")


ORDER = {
    "number": "A-1042",
    "customer": {"phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "first_name": "سارا", "locale": "fa"},
    "placed_at": "2026-11-20T09:30:00+03:30",
    "currency": "usd",
    "lines": [{"sku": "GR-1", "quantity": 1}, {"sku": "BE-1", "quantity": 3, "unit_price": "15"}],
}


def test_order_total_timeline_and_idempotency(api_client, products) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    created = post(client, ORDER)
    assert created.status_code == 201, created.content
    body = created.json()
    assert Decimal(body["total"]) == Decimal("165.50")  # 120.50 + 3 × 15
    assert body["currency"] == "USD" and len(body["lines"]) == 2
    purchase = Interaction.objects.get(type="purchase")
    assert purchase.customer_id == body["customer_id"] and purchase.source == "orders"
    again = post(client, ORDER)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Order.objects.count() == 1 and Interaction.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lines": []}, "at least one line"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown product sku"),
        ({"lines": [{"sku": "GR-1", "quantity": 0}]}, "between 1"),
        ({"currency": "dollars"}, "ISO 4217"),
        ({"customer": {"id": 424242}}, "unknown customer id"),
        ({"customer": {"email": "nope"}}, "invalid email"),
    ],
)
def test_bad_orders_store_nothing(api_client, products, change, message) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client(), {**ORDER, **change})
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert Order.objects.count() == 0 and Interaction.objects.count() == 0


def test_naive_time_is_rejected(api_client, products) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client(), {**ORDER, "placed_at": "2026-11-20T09:30:00"})
    assert response.status_code == 422 and "time zone" in response.json()["detail"]
    assert Order.objects.count() == 0
