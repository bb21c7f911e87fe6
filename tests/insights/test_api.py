"""GET /api/v1/insights like a client: a manager's token reads, an agent's is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from khoshnud.insights.rollups import rollups_build
from tests.cases.test_metrics import NOW


@pytest.fixture
def built(logged: Any) -> None:
    rollups_build(dt.date(2026, 12, 1), dt.date(2026, 12, 9), now=NOW)


def test_a_manager_reads_the_dashboard(built: None, api_client: Callable[..., Client]) -> None:
    client = api_client("manager", "read")
    response = client.get("/api/v1/insights", {"from": "2026-12-05", "to": "2026-12-06"})
    assert response.status_code == 200, response.content
    body = response.json()
    # By hand: tests/insights/test_rollups.py (4 opened, 3 first-response due times, 1 met).
    assert body["totals"]["opened"] == 4
    assert body["totals"]["first_response_attainment"] == 33.33
    assert body["delta"]["opened"] == 3
    assert [row["bucket"] for row in body["trend"]] == ["2026-12-05", "2026-12-06"]
    assert body["preset"] == ""


def test_daily_rows_of_a_table(built: None, api_client: Callable[..., Client]) -> None:
    client = api_client("manager", "read")
    response = client.get(
        "/api/v1/insights/daily", {"from": "2026-12-05", "to": "2026-12-06", "table": "channel"}
    )
    rows = [(r["day"], r["value"], r["interactions"]) for r in response.json()]
    # The 23:50 Saturday email and the 00:10 Sunday Telegram message; the cases are email ones.
    assert rows == [("2026-12-05", "email", 1), ("2026-12-06", "email", 0),
                    ("2026-12-06", "telegram", 1)]  # fmt: skip


def test_an_agent_is_refused(built: None, api_client: Callable[..., Client]) -> None:
    response = api_client("agent", "read").get("/api/v1/insights")
    assert response.status_code == 403
    assert "manager" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-12-06", "to": "2026-12-05"}, "before it starts"),
        ({"from": "2026-13-01", "to": "2026-12-05"}, "is not a day"),
        ({"from": "2026-12-01"}, "give both"),
        ({"preset": "decade"}, "not one of"),
        ({"by": "hour"}, "not one of"),
        ({"calendar": "mayan"}, "not one of"),
    ],
)
def test_bad_input_is_a_clear_422(
    built: None, api_client: Callable[..., Client], params: dict[str, str], message: str
) -> None:
    response = api_client("manager", "read").get("/api/v1/insights", params)
    assert response.status_code == 422
    assert message in response.json()["detail"]
