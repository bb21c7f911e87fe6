"""Shared fixtures: staff in each role, API clients with tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from khoshnud.accounts.services import staff_create, token_create


@pytest.fixture
def make_staff(db: Any) -> Callable[..., User]:
    def make(username: str = "agent1", role: str = "agent") -> User:
        return staff_create(username=username, password=f"Staff-pass-{username}-2026", role=role)

    return make


@pytest.fixture
def api_client(make_staff: Callable[..., User]) -> Callable[..., Client]:
    """api_client(role="agent", scopes="read,write") → a Client sending a bearer token.

    CSRF checks are enforced, as they are for a real client (Django's test client skips them
    by default, which once hid a 403 that every real token request got).
    """
    counter = {"n": 0}

    def make(role: str = "agent", scopes: str = "read,write") -> Client:
        counter["n"] += 1
        user = make_staff(f"{role}{counter['n']}", role)
        _token, secret = token_create(user=user, scopes=scopes.split(","))
        return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")

    return make


def event(**overrides: Any) -> dict[str, Any]:
    """A valid inbound event; override any field."""
    base: dict[str, Any] = {
        "source": "shop-web",
        "external_id": "m-1",
        "channel": "email",
        "direction": "inbound",
        "type": "message",
        "occurred_at": "2026-11-20T09:30:00+03:30",
        "customer": {"email": "Sara@Example.com", "first_name": "Sara", "locale": "fa"},
        "text": "سلام وقت بخیر سفارشم هنوز نرسیده",
    }
    base.update(overrides)
    return base
