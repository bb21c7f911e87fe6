"""Cases fixtures: the demo catalog, the three teams with an agent each, a standard customer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation

from khoshnud.accounts.services import staff_create, token_create
from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from khoshnud.interactions.services import events_ingest
from khoshnud.language.models import MessageAnalysis
from khoshnud.ops.demo_data import demo_service_catalog


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A request in Persian leaves its language active in the thread; later tests expect English."""
    yield
    translation.deactivate()


@dataclass
class Shop:
    customer: Customer
    agents: dict[str, User]  # team name → an agent of that team only
    manager: User

    def client(self, user: User, scopes: str = "read,write") -> Client:
        _token, secret = token_create(user=user, scopes=scopes.split(","))
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def shop(db: Any) -> Shop:
    demo_service_catalog()
    agents = {
        team: staff_create(
            username=f"{team}-agent", password="Case-desk-2026", role="agent", teams=[team]
        )
        for team in ("service", "support", "care")
    }
    manager = staff_create(username="boss", password="Case-desk-2026", role="manager")
    customer = customer_create(
        data={"first_name": "Sara", "identities": {"email": "sara@example.com"}}
    )
    return Shop(customer=customer, agents=agents, manager=manager)


@pytest.fixture
def ingest(settings: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., list[int]]:
    """ingest(customer, [(external_id, channel, direction, occurred_at, text), …]) → ids, with the
    pipeline switched off (tests run the case step themselves, after setting analyses)."""
    settings.KHOSHNUD_INTERACTION_PIPELINE = []

    def run(customer: Customer, rows: list[tuple[str, str, str, str, str]]) -> list[int]:
        events = [
            {
                "source": "test",
                "external_id": uid,
                "channel": channel,
                "direction": direction,
                "type": "message",
                "occurred_at": when,
                "text": text,
                "customer": {"id": customer.pk},
            }
            for uid, channel, direction, when, text in rows
        ]
        results = events_ingest(events=events)
        assert all(r.status == "created" for r in results), results
        return [r.id for r in results if r.id is not None]

    return run


def analysed(interaction_id: int, customer_id: int, need: str, sentiment: str = "neutral") -> None:
    """Store what the classifier would have said about a message."""
    MessageAnalysis.objects.create(
        interaction_id=interaction_id,
        customer_id=customer_id,
        language="en",
        language_confidence=1.0,
        need=need,
        sentiment=sentiment,
        sentiment_score=-0.9 if sentiment == "negative" else 0.0,
        model_version="test",
        analysed_at=timezone.now(),
    )
