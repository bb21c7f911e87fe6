"""Fixtures for the staff web UI: a signed-in agent and a customer with a full 360."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from khoshnud.accounts.services import staff_create
from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from khoshnud.interactions.services import events_ingest
from khoshnud.language.models import MessageAnalysis

TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))


@pytest.fixture
def agent(db: Any) -> User:
    return staff_create(
        username="nasrin", password="Tulip-garden-77", role="agent", first_name="Nasrin"
    )


@pytest.fixture
def agent_client(agent: User) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def in_language(client: Client, language: str) -> Client:
    """Switch the UI language the way a person does: the switcher's POST to set_language."""
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert response.status_code == 302
    return client


def make_sara() -> Customer:
    """A Persian customer with a phone, email, consents, a Jalali birthday and one order."""
    customer = customer_create(
        data={
            "first_name": "سارا",
            "last_name": "کریمی",
            "locale": "fa",
            "tier": "loyal",
            "attributes": {"favourite roast": "medium"},
            "identities": {"email": "sara@example.com", "phone": "09123456789"},
            "personal_dates": [
                {"kind": "birthday", "calendar": "jalali", "date": "1370-12-15"},
                {"kind": "wedding_anniversary", "calendar": "gregorian", "date": "06-21"},
            ],
            "consents": [
                {
                    "channel": "sms",
                    "granted": True,
                    "method": "shop counter form",
                    "recorded_at": "2026-01-10T10:00:00+03:30",
                },
                {
                    "channel": "email",
                    "granted": False,
                    "method": "unsubscribe link",
                    "recorded_at": "2026-02-01T10:00:00+03:30",
                },
            ],
        }
    )
    product = Product.objects.create(
        sku="GR-1",
        name="Burr grinder",
        category="grinders",
        price=Decimal("4500000"),
        currency="IRR",
    )
    order = Order.objects.create(
        customer=customer,
        number="A-1042",
        placed_at=dt.datetime(2026, 10, 1, 12, 0, tzinfo=TEHRAN),
        currency="IRR",
        total=Decimal("9000000"),
    )
    OrderLine.objects.create(order=order, product=product, quantity=2, unit_price=product.price)
    return customer


@pytest.fixture
def sara(db: Any) -> Customer:
    return make_sara()


def ingester(customer: Customer) -> Callable[..., int]:
    """add(channel=..., at=datetime, **fields) → the id of a new interaction of ``customer``."""
    counter = {"n": 0}

    def add(*, channel: str = "email", at: dt.datetime, **fields: Any) -> int:
        counter["n"] += 1
        event = {
            "source": "test",
            "external_id": f"{customer.pk}-{counter['n']}",
            "channel": channel,
            "direction": "inbound",
            "type": "message",
            "occurred_at": at.isoformat(),
            "customer": {"id": customer.pk},
            "text": "سلام، سفارشم A-1042 هنوز نرسیده",
            **fields,
        }
        [result] = events_ingest(events=[event])
        assert result.status == "created", result.error
        assert result.id is not None
        return result.id

    return add


@pytest.fixture
def ingest(sara: Customer) -> Callable[..., int]:
    """ingest(channel=..., at=datetime, **fields) → the new interaction id for Sara."""
    return ingester(sara)


def analyse(interaction_id: int, customer_id: int, **fields: Any) -> MessageAnalysis:
    """A stored analysis, as the language pipeline would leave it."""
    values: dict[str, Any] = {
        "language": "fa",
        "language_confidence": 0.98,
        "need": "support",
        "need_probabilities": {"support": 0.8, "service": 0.1, "care": 0.1},
        "sentiment": "negative",
        "sentiment_score": -0.6,
        "model_version": "test-1",
        "analysed_at": dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC),
        **fields,
    }
    analysis, _created = MessageAnalysis.objects.update_or_create(
        interaction_id=interaction_id, defaults={"customer_id": customer_id, **values}
    )
    return analysis
