"""Customers with dates in three calendars, and a rule factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from khoshnud.engagement.models import Rule
from khoshnud.engagement.services import rule_create
from tests.cases.conftest import _english_after_each_test, shop  # noqa: F401 (fixtures)
from tests.channels.conftest import provider, refusing_smtp, smtp  # noqa: F401 (fixtures)


def templates(body: str = "Hello {{ first_name }}") -> dict[str, Any]:
    return {
        "fa": {"subject": "تولدت مبارک {{ first_name }}", "body": "سلام {{ first_name }} " + body},
        "en": {"subject": "Happy birthday {{ first_name }}", "body": body},
        "zh-hans": {
            "subject": "生日快乐 {{ first_name }}",
            "body": "你好 {{ first_name }} " + body,
        },
    }


def rule_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Birthday greeting",
        "kind": "occasion",
        "occasion": "birthday",
        "lead_days": 1,
        "channels": ["email"],
        "send_window": ["09:00", "20:00"],
        "templates": templates(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_rule(db: Any) -> Callable[..., Rule]:
    def make(**overrides: Any) -> Rule:
        return rule_create(data=rule_data(**overrides))

    return make


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Customer]:
    counter = {"n": 0}

    def make(
        *,
        birthday: str | None = None,
        calendar: str = "gregorian",
        leap_month: bool = False,
        locale: str = "en",
        time_zone: str = "UTC",
        email: bool = True,
        consent: tuple[str, ...] = ("email",),
        first_name: str = "",
        phone: str | None = None,
    ) -> Customer:
        counter["n"] += 1
        n = counter["n"]
        data: dict[str, Any] = {
            "first_name": first_name or f"Customer{n}",
            "locale": locale,
            "time_zone": time_zone,
            "identities": {},
            "consents": [{"channel": c, "granted": True, "method": "signup form"} for c in consent],
        }
        if email:
            data["identities"]["email"] = f"c{n}@example.com"
        if phone:
            data["identities"]["phone"] = phone
        if birthday:
            data["personal_dates"] = [
                {
                    "kind": "birthday",
                    "calendar": calendar,
                    "date": birthday,
                    "leap_month": leap_month,
                }
            ]
        return customer_create(data=data)

    return make
