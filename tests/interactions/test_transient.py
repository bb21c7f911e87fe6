"""A transient database failure (deadlock, serialization failure) is retried, and when it
persists the API answers 503 with Retry-After — never 500 — and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection

from khoshnud.db import DatabaseBusyError, is_transient
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from tests.conftest import event

pytestmark = pytest.mark.django_db


@contextmanager
def deadlocks_on_insert(times: int) -> Iterator[dict[str, int]]:
    """The database answers the next ``times`` interaction inserts with a deadlock (40P01)."""
    state = {"left": times, "seen": 0}

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        if sql.startswith("INSERT INTO interactions_interaction"):
            state["seen"] += 1
            if state["left"] > 0:
                state["left"] -= 1
                raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected()
        return execute(sql, params, many, ctx)

    with connection.execute_wrapper(wrapper):
        yield state


def test_transient_errors_are_told_apart() -> None:
    deadlock = OperationalError("deadlock detected")
    deadlock.__cause__ = psycopg.errors.DeadlockDetected()
    serialization = OperationalError("could not serialize")
    serialization.__cause__ = psycopg.errors.SerializationFailure()
    assert is_transient(deadlock) and is_transient(serialization)
    assert is_transient(OperationalError("database is locked"))
    assert not is_transient(OperationalError("no such table: x"))
    unique_race = IntegrityError("duplicate key value violates unique constraint")
    unique_race.__cause__ = psycopg.errors.UniqueViolation()
    assert is_transient(unique_race)
    assert not is_transient(IntegrityError("NOT NULL constraint failed: x.y"))
    assert not is_transient(IntegrityError("UNIQUE constraint failed: x.y"))  # SQLite: no race


def test_a_deadlock_is_retried_and_the_batch_stored_once() -> None:
    with deadlocks_on_insert(2) as state:
        results = events_ingest(events=[event(external_id="a"), event(external_id="b")])
    assert state["seen"] == 3  # two deadlocks, then the insert that went through
    assert [r.status for r in results] == ["created", "created"]
    assert sorted(Interaction.objects.values_list("external_id", flat=True)) == ["a", "b"]


def test_a_lasting_deadlock_raises_database_busy_and_stores_nothing() -> None:
    with deadlocks_on_insert(100) as state, pytest.raises(DatabaseBusyError):
        events_ingest(events=[event(external_id="a")])
    assert state["seen"] == 6
    assert not Interaction.objects.exists()


def test_api_answers_503_with_retry_after_and_keeps_what_was_stored(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    url = "/api/v1/events"
    first = client.post(url, {"events": [event(external_id="kept")]}, "application/json")
    assert first.status_code == 200
    with deadlocks_on_insert(100):
        response = client.post(url, {"events": [event(external_id="new")]}, "application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("application/json")
    assert "send it again" in json.loads(response.content)["detail"]
    assert list(Interaction.objects.values_list("external_id", flat=True)) == ["kept"]
    again = client.post(url, {"events": [event(external_id="new")]}, "application/json")
    assert again.json()["created"] == 1
