"""POST /api/v1/engagement/rules and GET /api/v1/engagement/upcoming, as a client calls them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from khoshnud.customers.models import Customer
from khoshnud.engagement.models import Rule
from khoshnud.engagement.occasions import occasions_sync

from .conftest import rule_data

pytestmark = pytest.mark.django_db


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/engagement/rules", json.dumps(body), content_type="application/json"
    )


def test_manager_creates_a_rule(api_client: Callable[..., Client]) -> None:
    answer = post(api_client("manager"), rule_data())
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"] == Rule.objects.get().pk
    assert body["send_window"] == ["09:00", "20:00"]
    assert body["templates"]["fa"]["body"].startswith("سلام {{ first_name }}")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"templates": {"en": {"subject": "", "body": "Hi {{ nickname }}"}}}, "nickname"),
        ({"templates": {"en": {"body": "Hi {% load x %}"}}}, "templates.en.body"),
        ({"templates": {"en": {"body": "Hi {{ first_name"}}}, "unclosed"),
        ({"send_window": ["20:00", "20:00"]}, "send_window"),
        ({"send_window": []}, "send_window"),
        ({"lead_days": 400}, "lead_days"),
        ({"channels": []}, "channels"),
        ({"channels": ["fax"]}, "channels[0]"),
        ({"occasion": "name_day"}, "occasion"),
    ],
)
def test_bad_rules_answer_422_naming_the_field(
    api_client: Callable[..., Client], change: dict[str, Any], field: str
) -> None:
    answer = post(api_client("manager"), rule_data(**change))
    assert answer.status_code == 422
    assert field in answer.json()["detail"]
    assert not Rule.objects.exists()


def test_agents_may_not_create_rules(api_client: Callable[..., Client]) -> None:
    assert post(api_client("agent"), rule_data()).status_code == 403
    assert not Rule.objects.exists()


def test_upcoming_lists_occasions_with_send_time_in_the_customers_zone(
    api_client: Callable[..., Client], make_customer: Callable[..., Customer], make_rule: Any
) -> None:
    today = timezone.localdate()
    in_two = today + dt.timedelta(days=2)
    # A Tehran customer whose Jalali birthday is the day after tomorrow.
    import jdatetime

    j = jdatetime.date.fromgregorian(date=in_two)
    tehran = make_customer(
        birthday=f"1370-{j.month:02d}-{j.day:02d}", calendar="jalali", time_zone="Asia/Tehran"
    )
    far = make_customer(birthday=(today + dt.timedelta(days=40)).strftime("1990-%m-%d"))
    rule = make_rule(lead_days=1)
    occasions_sync()
    answer = api_client("agent", "read").get("/api/v1/engagement/upcoming?days=3")
    assert answer.status_code == 200
    rows = [r for r in answer.json() if r["occasion"] == "birthday"]
    assert [r["customer_id"] for r in rows] == [tehran.pk]
    assert far.pk not in [r["customer_id"] for r in answer.json()]  # nor joined-today rows
    row = rows[0]
    assert row["date"] == in_two.isoformat()
    assert row["calendar_date"] == f"jalali:1370-{j.month:02d}-{j.day:02d}"
    assert row["rule_id"] == rule.pk
    # Sent the day before (lead 1) at the window's start, 09:00 in Tehran (+03:30, no DST).
    tomorrow = today + dt.timedelta(days=1)
    assert row["send_at"] == f"{tomorrow.isoformat()}T09:00:00+03:30"
    bad = api_client("agent", "read").get("/api/v1/engagement/upcoming?days=abc")
    assert bad.status_code == 422 and "days" in bad.json()["detail"]


def test_preview_names_the_channel_or_none_without_consent(
    api_client: Callable[..., Client], make_customer: Callable[..., Customer], make_rule: Any
) -> None:
    rule = make_rule(channels=["sms", "email"])
    sara = make_customer(birthday="1370-12-30", calendar="jalali", locale="fa", first_name="سارا")
    quiet = make_customer(consent=())
    occasions_sync()
    client = api_client("agent", "read")
    shown = client.get(f"/api/v1/engagement/rules/{rule.pk}/preview/{sara.pk}").json()
    # No phone, so not SMS: email is the next preference. 30 Esfand in her own calendar.
    assert shown["channel"] == "email" and shown["locale"] == "fa"
    assert shown["text"].startswith("سلام سارا") and shown["subject"] == "تولدت مبارک سارا"
    none = client.get(f"/api/v1/engagement/rules/{rule.pk}/preview/{quiet.pk}").json()
    assert none["channel"] is None


def test_an_impossible_date_in_any_calendar_is_refused_and_nothing_stored(
    api_client: Callable[..., Client],
) -> None:
    client = api_client("agent")
    for calendar, date in (("jalali", "1404-12-30"), ("gregorian", "2026-02-29"),
                           ("chinese", "2023-13-01")):  # fmt: skip
        body = {"first_name": "X", "personal_dates": [{"calendar": calendar, "date": date}]}
        answer = client.post("/api/v1/customers", json.dumps(body), content_type="application/json")
        assert answer.status_code in (400, 422), answer.content
        assert "personal_dates[0].date" in answer.content.decode()
    assert not Customer.objects.exists()
