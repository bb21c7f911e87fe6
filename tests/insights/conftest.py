"""Insights fixtures: the cases app's shop (catalog, teams, agents, a manager) and its
weekend of five cases (tests/cases/test_metrics.py explains them), plus interactions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from khoshnud.cases.models import Case
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import _english_after_each_test, shop  # noqa: F401
from tests.cases.test_metrics import weekend  # noqa: F401

TEHRAN = ZoneInfo("Asia/Tehran")


def log(customer_id: int, when: dt.datetime, channel: str = "email", type_: str = "message",
        uid: str = "") -> Interaction:  # fmt: skip
    return Interaction.objects.create(
        customer_id=customer_id, channel=channel, direction="inbound", type=type_,
        occurred_at=when, source="test", external_id=uid or f"{channel}-{when.isoformat()}",
        created_at=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def logged(weekend: dict[str, Case]) -> list[Interaction]:  # noqa: F811
    """Three interactions around Saturday's end in Tehran: 23:50 Saturday (20:20 UTC) is
    Saturday; 00:10 Sunday (20:40 UTC Saturday) is Sunday although UTC still says Saturday;
    a call on Thursday is in the previous period (Thu–Fri)."""
    customer = weekend["A"].customer_id
    return [
        log(customer, dt.datetime(2026, 12, 5, 23, 50, tzinfo=TEHRAN)),
        log(customer, dt.datetime(2026, 12, 6, 0, 10, tzinfo=TEHRAN), channel="telegram"),
        log(customer, dt.datetime(2026, 12, 3, 12, 0, tzinfo=TEHRAN), channel="phone",
            type_="call"),
    ]  # fmt: skip
