"""The cases API contract: open by hand, read one, list a customer's; permissions; bad input."""

from __future__ import annotations

from typing import Any

import pytest

from khoshnud.accounts.models import AuditLog
from khoshnud.cases.models import Case, CaseEvent
from tests.cases.conftest import Shop

pytestmark = pytest.mark.django_db


def body(shop: Shop, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_id": shop.customer.pk,
        "kind": "support",
        "channel": "phone",
        "subject": "Grinder makes a noise",
        "opened_at": "2026-12-02T14:00:00+03:30",
    }
    data.update(overrides)
    return data


def test_open_read_and_list_a_case(shop: Shop) -> None:
    agent = shop.client(shop.agents["support"])
    resp = agent.post("/api/v1/cases", body(shop), content_type="application/json")
    assert resp.status_code == 201, resp.content
    case = resp.json()
    # Wednesday 14:00 + 120 business minutes = 16:00; + 480 = Saturday 10:00 (2 h + 4 h + 2 h).
    assert case["first_response_due"] == "2026-12-02T16:00:00+03:30"
    assert case["resolution_due"] == "2026-12-05T10:00:00+03:30"
    assert case["opened_at"] == "2026-12-02T14:00:00+03:30"
    expected = {"kind": "support", "status": "new", "priority": "normal", "team": "support",
                "assignee": None, "channel": "phone", "interaction_ids": [],
                "customer_id": shop.customer.pk, "subject": "Grinder makes a noise"}  # fmt: skip
    assert {k: case[k] for k in expected} == expected
    assert agent.get(f"/api/v1/cases/{case['id']}").json() == case
    assert agent.get(f"/api/v1/cases?customer_id={shop.customer.pk}").json() == [case]
    # The history says who opened it; the audit log too.
    [event] = CaseEvent.objects.filter(case_id=case["id"])
    assert (event.action, event.actor, event.changes["team"]) == (
        "case.opened", shop.agents["support"], "support"
    )  # fmt: skip
    assert AuditLog.objects.filter(action="case.opened", object_id=str(case["id"])).count() == 1


def test_times_are_shown_in_the_calendar_zone_whatever_offset_was_sent(shop: Shop) -> None:
    agent = shop.client(shop.agents["support"])
    # 10:30 UTC = 14:00 in Tehran.
    resp = agent.post("/api/v1/cases", body(shop, opened_at="2026-12-02T10:30:00Z"),
                      content_type="application/json")  # fmt: skip
    assert resp.json()["opened_at"] == "2026-12-02T14:00:00+03:30"
    assert resp.json()["resolution_due"] == "2026-12-05T10:00:00+03:30"


def test_a_key_customer_gets_the_key_targets(shop: Shop) -> None:
    shop.customer.tier = "key"
    shop.customer.save()
    resp = shop.client(shop.manager).post(
        "/api/v1/cases", body(shop), content_type="application/json"
    )
    # Key support: 60 / 240 business minutes → Wednesday 15:00 and Thursday 10:00.
    assert resp.json()["first_response_due"] == "2026-12-02T15:00:00+03:30"
    assert resp.json()["resolution_due"] == "2026-12-03T10:00:00+03:30"


def test_agents_see_and_open_only_their_teams_cases_managers_all(shop: Shop) -> None:
    support = shop.client(shop.agents["support"])
    care = shop.client(shop.agents["care"])
    manager = shop.client(shop.manager)
    support_case = support.post("/api/v1/cases", body(shop), content_type="application/json").json()
    care_case = manager.post("/api/v1/cases", body(shop, kind="care"),
                             content_type="application/json").json()  # fmt: skip
    assert care_case["team"] == "care"

    resp = care.get(f"/api/v1/cases/{support_case['id']}")
    assert resp.status_code == 403
    assert "team you are not in" in resp.json()["detail"]
    assert [c["id"] for c in care.get("/api/v1/cases").json()] == [care_case["id"]]
    assert [
        c["id"] for c in support.get(f"/api/v1/cases?customer_id={shop.customer.pk}").json()
    ] == [support_case["id"]]
    both = {c["id"] for c in manager.get(f"/api/v1/cases?customer_id={shop.customer.pk}").json()}
    assert both == {support_case["id"], care_case["id"]}
    assert manager.get(f"/api/v1/cases/{support_case['id']}").status_code == 200

    # An agent cannot open a case of a kind another team serves: 403 and nothing stored.
    before = Case.objects.count()
    resp = care.post("/api/v1/cases", body(shop, kind="support"), content_type="application/json")
    assert resp.status_code == 403 and "team you are not in" in resp.json()["detail"]
    assert Case.objects.count() == before
    # A read-only token cannot open one either.
    reader = shop.client(shop.agents["support"], scopes="read")
    assert (
        reader.post("/api/v1/cases", body(shop), content_type="application/json").status_code == 403
    )
    assert Case.objects.count() == before


def test_unknown_case_is_404(shop: Shop) -> None:
    resp = shop.client(shop.manager).get("/api/v1/cases/999999")
    assert resp.status_code == 404
    assert resp.json()["detail"] == "no case #999999"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer_id": 999999}, "customer_id: no customer #999999"),
        ({"customer_id": 0}, "customer_id: must be between 1"),
        ({"kind": "sales"}, "kind: 'sales' is not one of service, support, care"),
        ({"channel": "pigeon"}, "channel: 'pigeon' is not a channel"),
        ({"priority": "critical"}, "priority: 'critical'"),
        ({"opened_at": "2026-12-02T14:00:00"}, "opened_at: '2026-12-02T14:00:00' has no time zone"),
        ({"opened_at": "yesterday"}, "opened_at: 'yesterday' is not an ISO 8601 date-time"),
        ({"opened_at": "3000-01-01T00:00:00+00:00"}, "opened_at: must be between 1900-01-01"),
        ({"subject": "x" * 201}, "subject: is longer than 200 characters"),
        ({"subject": "bad\x00"}, "subject: holds a NUL character"),
    ],
)
def test_bad_input_is_422_with_a_message_and_nothing_changes(
    shop: Shop, change: dict[str, Any], message: str
) -> None:
    manager = shop.client(shop.manager)
    kept = manager.post("/api/v1/cases", body(shop), content_type="application/json").json()
    counts = (Case.objects.count(), CaseEvent.objects.count(), AuditLog.objects.count())
    resp = manager.post("/api/v1/cases", body(shop, **change), content_type="application/json")
    assert resp.status_code == 422, resp.content
    assert message in resp.json()["detail"]
    assert (Case.objects.count(), CaseEvent.objects.count(), AuditLog.objects.count()) == counts
    assert manager.get(f"/api/v1/cases/{kept['id']}").json() == kept


def test_a_kind_without_a_team_is_seen_by_managers_only(shop: Shop, settings: Any) -> None:
    settings.KHOSHNUD_CASE_TEAMS = {"service": "service", "support": "no such team", "care": "care"}
    case = (
        shop.client(shop.manager)
        .post("/api/v1/cases", body(shop), content_type="application/json")
        .json()
    )
    assert case["team"] is None
    assert shop.client(shop.agents["support"]).get(f"/api/v1/cases/{case['id']}").status_code == 403
