"""Ingestion under real concurrency (PostgreSQL): 8 clients, overlapping customers and keys."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from khoshnud.accounts.services import staff_create, token_create
from khoshnud.customers.models import Customer, Identity
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from tests.conftest import event

CLIENTS = 8
BATCHES = 6
BATCH = 150
PEOPLE = 120  # shared by every client: most batches create some of them at the same time


def _batch(rng: random.Random) -> list[dict[str, Any]]:
    events = []
    for _n in range(BATCH):
        key = rng.randrange(2000)  # clients resend each other's keys, in any order
        person = key % PEOPLE
        customer: dict[str, Any] = {"email": f"p{person}@example.com"}
        if person % 3 == 0:  # a second identity, so new people get two at once
            customer["telegram"] = f"p{person}_tg"
        events.append(event(external_id=f"k{key}", customer=customer))
    return events


def _client(seed: int, results: list[Any], failures: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(BATCHES):
            events = _batch(rng)
            out = events_ingest(events=events)
            results.extend((e["external_id"], r.status, r.id, r.customer_id)
                           for e, r in zip(events, out, strict=True))  # fmt: skip
    except BaseException as exc:
        failures.append(exc)
    finally:
        connections.close_all()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers")
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_clients_lose_and_duplicate_nothing() -> None:
    results: list[Any] = []
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_client, args=(seed, results, failures)) for seed in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []
    assert len(results) == CLIENTS * BATCHES * BATCH
    assert {status for _k, status, _i, _c in results} <= {"created", "duplicate"}
    sent = {key for key, *_ in results}
    stored = Counter(Interaction.objects.values_list("external_id", flat=True))
    assert set(stored) == sent and max(stored.values()) == 1  # every key exactly once
    assert sum(status == "created" for _k, status, _i, _c in results) == len(sent)
    # Every answer for a key names the row stored for it and that row's customer.
    rows = {
        e: (i, c) for e, i, c in Interaction.objects.values_list("external_id", "id", "customer_id")
    }
    assert all(rows[key] == (iid, cid) for key, _s, iid, cid in results)
    # One customer per person, owning each of their identities; no customer left without one.
    people = {int(key[1:]) % PEOPLE for key in sent}
    owners = dict(Identity.objects.filter(kind="email").values_list("value", "customer_id"))
    assert set(owners) == {f"p{p}@example.com" for p in people}
    assert Customer.objects.count() == len(people) == len(set(owners.values()))
    tg = dict(Identity.objects.filter(kind="telegram").values_list("value", "customer_id"))
    assert all(tg[f"p{p}_tg"] == owners[f"p{p}@example.com"] for p in people if p % 3 == 0)
    assert all(rows[key][1] == owners[f"p{int(key[1:]) % PEOPLE}@example.com"] for key in sent)


def _http_client(seed: int, token: str, statuses: list[int], failures: list[BaseException]) -> None:
    rng = random.Random(seed)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    try:
        for _ in range(BATCHES):
            response = client.post("/api/v1/events", {"events": _batch(rng)}, "application/json")
            statuses.append(response.status_code)
    except BaseException as exc:
        failures.append(exc)
    finally:
        connections.close_all()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers")
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_api_clients_all_get_200() -> None:
    """The same load through the API (8 clients at once): every batch answered 200."""
    user = staff_create(username="feeder", password="Feeding-batches-2026", role="agent")
    _token, secret = token_create(user=user, scopes=["write"])
    statuses: list[int] = []
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_http_client, args=(seed, secret, statuses, failures))
        for seed in range(100, 100 + CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []
    assert statuses == [200] * (CLIENTS * BATCHES)
    stored = Counter(Interaction.objects.values_list("external_id", flat=True))
    assert max(stored.values()) == 1
    assert Customer.objects.count() == len({int(k[1:]) % PEOPLE for k in stored})
