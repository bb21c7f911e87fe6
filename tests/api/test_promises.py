"""What the API promises, each with hand-computed values: no empty customers, one currency per
order, times in the customer's zone, body limits answered 413 JSON, one error shape."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings

from khoshnud.commerce.models import Order, Product
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from tests.conftest import event

pytestmark = pytest.mark.django_db


def _post(client: Client, path: str, body: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=raw, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[]", "JSON object"),
        ("null", "JSON object"),
        ({}, "needs a name or an identity"),
        ({"identities": {"fax": "+982112345678"}}, "unknown kind(s) ['fax']"),
        ({"identities": {}}, "needs a name or an identity"),
        ({"first_name": {"x": 1}, "identities": {"email": "x@example.com"}}, "invalid request"),
    ],
)
def test_no_empty_customer(api_client: Any, body: Any, message: str) -> None:
    response = _post(api_client(), "/api/v1/customers", body)
    assert 400 <= response.status_code < 500
    assert message in response.json()["detail"]
    assert Customer.objects.count() == 0


def test_first_name_as_an_object_is_refused_in_events_too(api_client: Any) -> None:
    bad = event(customer={"email": "x@example.com", "first_name": {"x": 1}})
    data = _post(api_client(), "/api/v1/events", {"events": [bad]}).json()
    assert data["results"][0]["status"] == "rejected"
    assert "first_name: must be a string, not an object" in data["results"][0]["error"]
    assert Customer.objects.count() == 0


def test_a_customer_with_only_a_name_or_only_an_identity_is_fine(api_client: Any) -> None:
    client = api_client()
    assert _post(client, "/api/v1/customers", {"first_name": "Walk-in"}).status_code == 201
    only_id = _post(client, "/api/v1/customers", {"identities": {"email": "a@example.com"}})
    assert only_id.status_code == 201
    assert Customer.objects.count() == 2


def test_an_order_line_in_another_currency_is_refused(api_client: Any) -> None:
    Product.objects.create(
        sku="CUP", name="Cup", category="c", price=Decimal("9.50"), currency="USD"
    )
    Product.objects.create(
        sku="TEA", name="Tea", category="t", price=Decimal("450000"), currency="IRR"
    )
    order = {
        "number": "A-1",
        "customer": {"email": "a@example.com"},
        "placed_at": "2026-11-20T09:30:00+03:30",
        "currency": "USD",
        "lines": [{"sku": "CUP", "quantity": 2}, {"sku": "TEA", "quantity": 1}],
    }
    response = _post(api_client(), "/api/v1/orders", order)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "lines[1]: product TEA is priced in IRR, the order is in USD; use one currency per order"
    )
    assert Order.objects.count() == 0 and Interaction.objects.count() == 0
    order["lines"] = [
        {"sku": "CUP", "quantity": 2},
        {"sku": "CUP", "quantity": 1, "unit_price": "8.25"},
    ]
    stored = _post(api_client(), "/api/v1/orders", order)
    assert stored.status_code == 201
    assert stored.json()["total"] == "27.25"  # 2 × 9.50 + 8.25


def test_timeline_times_are_in_the_customers_zone(api_client: Any) -> None:
    client = api_client()
    events = [
        # 09:30 in Tehran (+03:30) = 06:00 UTC; the customer lives in Tehran (locale fa).
        event(external_id="1", occurred_at="2026-11-20T09:30:00+03:30",
              customer={"email": "sara@example.com", "locale": "fa"}),
        # sent in UTC+08:00: 2026-11-20T14:00+08:00 = 06:00 UTC + 4 h = 10:00 UTC = 13:30 Tehran
        event(external_id="2", occurred_at="2026-11-20T18:00:00+08:00",
              customer={"email": "sara@example.com"}),
    ]  # fmt: skip
    data = _post(client, "/api/v1/events", {"events": events}).json()
    cid = data["results"][0]["customer_id"]
    items = client.get(f"/api/v1/customers/{cid}/timeline").json()["items"]
    assert [i["occurred_at"] for i in items] == [
        "2026-11-20T13:30:00+03:30",  # 18:00+08:00 = 10:00Z = 13:30+03:30
        "2026-11-20T09:30:00+03:30",
    ]
    Customer.objects.filter(pk=cid).update(time_zone="Asia/Shanghai")
    items = client.get(f"/api/v1/customers/{cid}/timeline").json()["items"]
    assert [i["occurred_at"] for i in items] == [
        "2026-11-20T18:00:00+08:00",
        "2026-11-20T14:00:00+08:00",
    ]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_body_over_the_limit_is_413_json(api_client: Any) -> None:
    body = {"events": [event(external_id=str(i)) for i in range(20)]}
    response = _post(api_client(), "/api/v1/events", body)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "the body is larger than 2,000 bytes; send fewer events per request"
    }
    assert Interaction.objects.count() == 0
    too_big = _post(api_client(), "/api/v1/customers", {"first_name": "x" * 3000})
    assert too_big.status_code == 413


def test_a_thousand_events_of_ten_kib_fit_the_limit(api_client: Any) -> None:
    """The documented promise: 1,000 events of up to 10 KiB of JSON each in one body."""
    events = []
    for i in range(1000):
        one = event(external_id=str(i), customer={"email": f"c{i % 50}@example.com"})
        one["text"] = ""
        one["text"] = "x" * (10 * 1024 - len(json.dumps(one)))
        events.append(one)
    raw = json.dumps({"events": events})
    assert 10 * 1024 * 1000 - 1000 < len(raw) <= 10 * 1024 * 1024
    response = _post(api_client(), "/api/v1/events", raw)
    assert response.status_code == 200, response.content[:200]
    assert response.json()["created"] == 1000


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/nothing-here", 404),
        ("delete", "/api/v1/events", 405),
        ("get", "/api/v1/customers/424242", 404),
    ],
)
def test_errors_outside_the_views_are_json_too(
    api_client: Any, method: str, path: str, status: int
) -> None:
    response = getattr(api_client(), method)(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_validation_errors_have_the_one_shape_without_echoing_input(api_client: Any) -> None:
    response = _post(api_client(), "/api/v1/customers/1/erase", {"reason": ["secret"]})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "invalid request"
    assert body["errors"] == [
        {
            "loc": ["body", "payload", "reason"],
            "msg": "Input should be a valid string",
            "type": "string_type",
        }
    ]
    assert "secret" not in response.content.decode()
