"""Every endpoint × every bad value found by hand: a 4xx JSON answer with a message, never a 500,
and nothing already stored is lost (rows counted before and after). Runs on both databases:
PostgreSQL refuses what SQLite forgives (NUL, 64-bit overflow, column lengths, jsonb)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from khoshnud.accounts.services import token_create
from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.models import Consent, Customer, Identity, PersonalDate
from khoshnud.interactions.models import Interaction
from tests.conftest import event

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
BIG = 10**30
DEEP = "[" * 3000 + "]" * 3000
POISON_TIMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
MODELS = (Customer, Identity, PersonalDate, Consent, Interaction, Product, Order, OrderLine)


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


@pytest.fixture
def world(make_staff: Any) -> dict[str, Any]:
    """An admin write token, a customer with history, two products (USD, IRR) and an order."""
    _token, secret = token_create(user=make_staff("boss", "admin"), scopes=["read", "write"])
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    Product.objects.create(
        sku="CUP", name="Cup", category="cups", price=Decimal("9.50"), currency="USD"
    )
    Product.objects.create(
        sku="GR-1", name="Grinder", category="grinders", price=Decimal("4500000"), currency="IRR"
    )
    posted = client.post(
        "/api/v1/events",
        data=json.dumps({"events": [event(), event(external_id="m-2")]}),
        content_type="application/json",
    )
    assert posted.status_code == 200, posted.content
    cid = posted.json()["results"][0]["customer_id"]
    order = client.post(
        "/api/v1/orders", data=json.dumps(_order(number="A-1")), content_type="application/json"
    )
    assert order.status_code == 201, order.content
    other = client.post(
        "/api/v1/customers",
        data=json.dumps({"first_name": "Li", "identities": {"wechat": "li-wei"}}),
        content_type="application/json",
    )
    assert other.status_code == 201, other.content
    return {
        "client": client,
        "cid": cid,
        "other": other.json()["id"],
        "iid": posted.json()["results"][0]["id"],
    }


def _order(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "number": "A-9",
        "customer": {"email": "sara@example.com"},
        "placed_at": "2026-11-20T09:30:00+03:30",
        "currency": "USD",
        "lines": [{"sku": "CUP", "quantity": 2}],
    }
    base.update(overrides)
    return base


def _line(**overrides: Any) -> dict[str, Any]:
    return _order(number="A-2", lines=[{"sku": "CUP", "quantity": 1, **overrides}])


# (method, path with {cid}/{other}/{iid}, body: object, raw JSON text or None)
CASES: list[tuple[str, str, Any]] = [
    # customers: create and update
    *[
        ("post", "/api/v1/customers", body)
        for body in (
            [],
            None,
            {},
            {"identities": {"fax": "123"}},
            {"first_name": {"x": 1}},
            {"first_name": NUL, "identities": {"email": "n@example.com"}},
            {"last_name": NUL, "identities": {"email": "n@example.com"}},
            {"time_zone": NUL, "identities": {"email": "n@example.com"}},
            {"locale": NUL, "identities": {"email": "n@example.com"}},
            {"tier": ["key"], "identities": {"email": "n@example.com"}},
            {"attributes": {"k": NUL}, "identities": {"email": "n@example.com"}},
            {"attributes": {NUL: 1}, "identities": {"email": "n@example.com"}},
            {"identities": {"wechat": NUL}},
            {"identities": {"external": "x" * 300}},
            {
                "identities": {"email": "n@example.com"},
                "personal_dates": [{"date": "1370-12-15", "label": NUL, "calendar": "jalali"}],
            },
            {"identities": {"email": "n@example.com"}, "personal_dates": [{"date": NUL}]},
            {
                "identities": {"email": "n@example.com"},
                "consents": [{"channel": "sms", "granted": True, "method": NUL}],
            },
            {
                "identities": {"email": "n@example.com"},
                "consents": [{"channel": NUL, "granted": True, "method": "form"}],
            },
            {
                "identities": {"email": "n@example.com"},
                "consents": [
                    {
                        "channel": "sms",
                        "granted": True,
                        "method": "form",
                        "recorded_at": "9999-12-31T23:59:59-14:00",
                    }
                ],
            },
            {
                "identities": {"email": "n@example.com"},
                "consents": [{"channel": "sms", "granted": True, "method": "x" * 101}],
            },
        )
    ],
    *[
        ("patch", "/api/v1/customers/{cid}", body)
        for body in (
            {"first_name": NUL},
            {"first_name": {"x": 1}},
            {"attributes": {"k": NUL}},
            {
                "consents": [
                    {
                        "channel": "sms",
                        "granted": True,
                        "method": "form",
                        "recorded_at": "9999-12-31T23:59:59-14:00",
                    }
                ]
            },
            {"identities": {"email": "li-wei@example.com", "wechat": "li-wei"}},
        )
    ],
    ("patch", f"/api/v1/customers/{BIG}", {"first_name": "x"}),
    ("post", "/api/v1/customers/{cid}/merge", {"source_id": BIG}),
    ("post", "/api/v1/customers/{cid}/merge", {"source_id": 2**63}),
    ("post", f"/api/v1/customers/{BIG}/merge", {"source_id": 1}),
    ("post", "/api/v1/customers/{cid}/erase", {"reason": NUL}),
    ("post", "/api/v1/customers/{cid}/erase", {"reason": "  "}),
    ("post", "/api/v1/customers/{cid}/erase", {"reason": ["x"]}),
    ("post", f"/api/v1/customers/{BIG}/erase", {"reason": "privacy"}),
    # orders
    *[
        ("post", "/api/v1/orders", body)
        for body in (
            _order(number=NUL),
            _order(number="x" * 65),
            _order(currency=NUL),
            _order(channel="x" * 17),
            _order(channel=NUL),
            _order(placed_at="0001-01-01T00:00:00+14:00"),
            _order(placed_at="9999-12-31T23:59:59-14:00"),
            _order(placed_at="2026-11-20T09:30:00"),
            _order(customer={"id": BIG}),
            _order(customer={"id": 2**63}),
            _order(customer={}),
            _order(customer={"email": NUL}),
            _order(lines=[]),
            _line(sku=NUL),
            _line(quantity=10**12),
            _line(quantity=0),
            _line(unit_price="1e20"),
            _line(unit_price="NaN"),
            _line(unit_price="Infinity"),
            _line(unit_price="-1"),
            _line(unit_price="1.001"),
            _order(number="A-3", lines=[{"sku": "GR-1", "quantity": 1}]),  # IRR product, USD order
        )
    ],
    # analyses
    ("get", f"/api/v1/interactions/{BIG}/analysis", None),
    ("post", f"/api/v1/interactions/{BIG}/analysis", {"need": "care"}),
    ("post", "/api/v1/interactions/{iid}/analysis", {"need": NUL}),
    # query strings
    ("get", "/api/v1/customers?page=100000000000000000000", None),
    ("get", "/api/v1/customers?page=0", None),
    ("get", f"/api/v1/customers/{BIG}", None),
    ("get", f"/api/v1/customers/{BIG}/timeline", None),
    *[
        ("get", "/api/v1/customers/{cid}/timeline?" + qs, None)
        for qs in (
            "to=9999-12-31",
            "from=0001-01-01",
            "to=0001-01-01T00:00:00%2B14:00",
            "from=a%00b",
            "page=100000000000000000000",
            "channel=%00",
            "type=a%00b",
        )
    ],
]


def _fill(path: str, world: dict[str, Any]) -> str:
    return path.format(cid=world["cid"], other=world["other"], iid=world["iid"])


def _send(client: Client, method: str, path: str, body: Any) -> Any:
    if method == "get":
        return client.get(path)
    raw = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(path, data=raw, content_type="application/json")


@pytest.mark.parametrize(
    ("method", "path", "body"), CASES, ids=[f"{i}-{c[0]}-{c[1][:40]}" for i, c in enumerate(CASES)]
)
def test_bad_input_is_a_4xx_json_with_a_message(
    world: dict[str, Any], method: str, path: str, body: Any
) -> None:
    before = _counts()
    customer_before = Customer.objects.get(pk=world["cid"])
    response = _send(world["client"], method, _fill(path, world), body)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.strip()
    assert _counts() == before
    customer_after = Customer.objects.get(pk=world["cid"])
    assert (customer_after.first_name, customer_after.attributes) == (
        customer_before.first_name,
        customer_before.attributes,
    )


@pytest.mark.parametrize(
    "raw",
    [
        DEEP,
        '{"events": ' + DEEP + "}",
        '{"events": [NaN]}',
        "\x00",
        '"\\udcff"',
        "[]",
        "null",
        "1" * 5000,
    ],
)
@pytest.mark.parametrize(
    "path",
    ["/api/v1/events", "/api/v1/customers", "/api/v1/orders", "/api/v1/customers/{cid}/erase"],
)
def test_unreadable_bodies(world: dict[str, Any], raw: str, path: str) -> None:
    before = _counts()
    response = _send(world["client"], "post", _fill(path, world), raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert isinstance(response.json()["detail"], str)
    assert _counts() == before


BAD_EVENTS: list[dict[str, Any]] = [
    event(source=NUL),
    event(external_id=NUL),
    event(staff=NUL),
    event(customer={"email": "sara@example.com", "first_name": NUL}),
    event(customer={"email": "sara@example.com", "first_name": {"x": 1}}),
    event(customer={"email": "new@example.com", "first_name": {"x": 1}}),
    event(customer={"wechat": NUL}),
    event(customer={"wechat": "w" * 300}),
    event(metadata={NUL: 1}),
    event(metadata={"k": NUL}),
    event(metadata={"k": [{"k": NUL}]}),
    event(metadata={"k": "\udcff"}),
    event(customer={"email": "new@example.com", "attributes": {"k": NUL}}),
    event(customer={"email": "new@example.com", "attributes": {"k": "\udcff"}}),
    event(customer={"email": "new@example.com", "attributes": {"\udcff": 1}}),
    event(customer={"email": "new@example.com", "attributes": [1]}),
    *[
        event(**{name: value})
        for name in ("channel", "direction", "type", "stage")
        for value in (["email"], {"a": 1}, 5)
    ],
    event(customer={"id": 2**63}),
    event(customer={"id": BIG}),
    event(customer={"id": True}),
    *[event(occurred_at=t) for t in POISON_TIMES],
    event(occurred_at="2026-11-20T09:30:00"),
    event(occurred_at=["2026-11-20T09:30:00Z"]),
    event(occurred_at="۱۴۰۵-۰۸-۲۹"),
    event(text=["x"]),
    event(text="x" * 100_001),
    event(metadata=[1]),
    event(metadata=json.loads("[" * 100 + "]" * 100)),
    event(source="x" * 65),
    event(external_id="x" * 129),
    event(staff=["x"]),
    event(customer={"email": "sara@example.com", "first_name": "x" * 101}),
]


@pytest.mark.parametrize("bad", BAD_EVENTS, ids=[str(i) for i in range(len(BAD_EVENTS))])
def test_one_bad_event_is_rejected_with_its_index_and_the_others_stored(
    world: dict[str, Any], bad: dict[str, Any]
) -> None:
    bad = {**bad, "external_id": bad["external_id"] if bad["external_id"] != "m-1" else "bad-1"}
    body = {"events": [event(external_id="ok-1"), bad, event(external_id="ok-2")]}
    before = _counts()
    raw = json.dumps(body, allow_nan=True)
    response = _send(world["client"], "post", "/api/v1/events", raw)
    assert response.status_code == 200, (response.status_code, response.content[:300])
    data = response.json()
    assert (data["created"], data["rejected"]) == (2, 1), data
    rejected = data["results"][1]
    assert rejected["index"] == 1 and rejected["status"] == "rejected" and rejected["error"]
    after = _counts()
    assert after["Interaction"] == before["Interaction"] + 2
    assert after["Customer"] == before["Customer"]
    sara = Customer.objects.get(pk=world["cid"])
    assert sara.first_name == "Sara"
    assert (
        Interaction.objects.filter(customer_id=world["cid"], external_id__startswith="ok-").count()
        == 2
    )


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("/api/v1/customers?q=a%00b", 0),
        ("/api/v1/customers?q=sa%00ra", 1),
        ("/api/v1/products?category=%00", 2),
        ("/api/v1/products?category=cu%00ps", 1),
    ],
)
def test_nul_in_a_search_is_dropped_not_a_500(world: dict[str, Any], path: str, count: int) -> None:
    response = world["client"].get(path)
    assert response.status_code == 200
    data = response.json()
    assert len(data["items"] if isinstance(data, dict) else data) == count
