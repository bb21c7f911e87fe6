"""SMS (SMS.ir's JSON API) and Telegram to a local server that records the requests; STOP
replies through the inbound pipeline; event rules from "notification" events and the trigger
endpoint; win-back after inactivity."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from khoshnud.commerce.models import Order
from khoshnud.customers.models import Consent, Customer, Identity
from khoshnud.customers.services import consent_record
from khoshnud.engagement.models import Send
from khoshnud.engagement.scheduler import engagement_run
from tests.channels.messaging_helpers import add_account, hook_path, post_json
from tests.channels.providers import FakeProvider

pytestmark = pytest.mark.django_db
Make = Callable[..., Customer]
NOW = dt.datetime(2026, 3, 19, 10, 0, tzinfo=dt.UTC)
SMS_OK = {
    "status": 1,
    "message": "موفق",
    "data": {"packId": "p-1", "messageIds": [89545112], "cost": 1.0},
}


def events(client: Client, items: list[dict[str, Any]], capture: Any) -> Any:
    with capture(execute=True):
        return client.post(
            "/api/v1/events", json.dumps({"events": items}), content_type="application/json"
        )


def consent_in_force(customer: Customer, channel: str) -> bool:
    latest = (
        Consent.objects.filter(customer=customer, channel=channel)
        .order_by("-recorded_at", "-id")
        .first()
    )
    return bool(latest and latest.granted)


def test_sms_goes_by_sms_ir_and_a_stop_reply_withdraws_consent(
    provider: FakeProvider,
    settings: Any,
    make_customer: Make,
    make_rule: Any,
    api_client: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SMS_IR_API_BASE = provider.base + "/v1"
    settings.SMS_IR_API_KEY, settings.SMS_IR_LINE_NUMBER = "sms-ir-key", "30007732000000"
    provider.default["/v1/send/bulk"] = SMS_OK
    c = make_customer(
        birthday="1990-03-20", locale="fa", email=False, consent=("sms",), phone="+989121234567"
    )
    make_rule(lead_days=1, channels=["email", "sms"])  # no email: the next preference
    assert engagement_run(now=NOW).sent == 1
    [seen] = provider.requests
    assert (seen.method, seen.path) == ("POST", "/v1/send/bulk")
    assert {k.lower(): v for k, v in seen.headers.items()}["x-api-key"] == "sms-ir-key"
    assert seen.body["mobiles"] == ["09121234567"]
    assert seen.body["lineNumber"] == 30007732000000
    assert "STOP" in seen.body["messageText"]
    assert Send.objects.get().provider_id == "89545112"
    # The customer answers STOP by SMS: the pipeline withdraws the SMS consent at once.
    phone = Identity.objects.get(customer=c, kind="phone").value
    answer = events(
        api_client("agent"),
        [{"source": "sms-gateway", "external_id": "in-1", "channel": "sms", "direction": "inbound",
          "type": "message", "occurred_at": "2026-03-19T10:05:00+00:00", "text": " stop ",
          "customer": {"phone": phone}}],
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert not consent_in_force(c, "sms")
    make_rule(name="Again", lead_days=1, channels=["sms"], weekly_cap=9)
    assert engagement_run(now=NOW).skipped_no_consent == 1
    assert len(provider.requests) == 1


def test_sms_refused_for_good_is_recorded_and_stops(
    provider: FakeProvider, settings: Any, make_customer: Make, make_rule: Any
) -> None:
    settings.SMS_IR_API_BASE = provider.base + "/v1"
    settings.SMS_IR_API_KEY, settings.SMS_IR_LINE_NUMBER = "sms-ir-key", "30007732000000"
    provider.answer("/v1/send/bulk", 400, {"status": 103, "message": "شماره نامعتبر", "data": None})
    make_customer(birthday="1990-03-20", email=False, consent=("sms",), phone="+989121234567")
    make_rule(lead_days=1, channels=["sms"])
    assert engagement_run(now=NOW).failed == 1
    send = Send.objects.get()
    assert send.status == "failed" and "SMS.ir 103" in send.last_error
    assert engagement_run(now=NOW).as_dict()["failed"] == 0 and len(provider.requests) == 1


def test_telegram_by_the_existing_adapter_and_stop_by_the_bot(
    shop: Any,
    provider: FakeProvider,
    make_rule: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.channels.test_telegram import SECRET, update

    provider.default["/bot"] = {"ok": True, "result": {"message_id": 901}}
    account = add_account("telegram")
    post_json(hook_path(account), update(text="سلام"), django_capture_on_commit_callbacks, **SECRET)
    customer = Identity.objects.get(kind="telegram").customer
    consent_record(customer=customer, channel="telegram", granted=True, method="bot /start")
    make_rule(kind="campaign", audience={"customer_ids": [customer.pk]}, channels=["telegram"])
    assert engagement_run(now=NOW).sent == 1
    [seen] = [r for r in provider.requests if r.path.endswith("/sendMessage")]
    assert seen.body["chat_id"] == 5551234 and "STOP" in seen.body["text"]
    post_json(
        hook_path(account),
        update(update_id=900002, message_id=78, text="STOP"),
        django_capture_on_commit_callbacks,
        **SECRET,
    )
    assert not consent_in_force(customer, "telegram")


def test_event_rules_fire_from_notification_events_and_the_trigger_endpoint(
    smtp: Any,
    make_customer: Make,
    make_rule: Any,
    api_client: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    c = make_customer()
    make_rule(kind="event", event="room_ready", weekly_cap=5,
              templates={"en": {"subject": "Your room", "body": "{{ first_name }}, your room is ready"}})  # fmt: skip
    client = api_client("agent")
    answer = events(
        client,
        [{"source": "hotel-pms", "external_id": "booking-1", "channel": "api", "direction": "inbound",
          "type": "notification", "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
          "metadata": {"event": "room_ready"}, "customer": {"id": c.pk}}],
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    first = engagement_run()
    assert first.sent == 1
    assert smtp.messages[0]["Subject"] == "Your room"
    body = {"event": "room_ready", "customer_id": c.pk, "key": "booking-2"}
    made = client.post(
        "/api/v1/engagement/trigger", json.dumps(body), content_type="application/json"
    )
    again = client.post(
        "/api/v1/engagement/trigger", json.dumps(body), content_type="application/json"
    )
    assert (made.status_code, again.status_code) == (201, 200)
    assert engagement_run().sent == 1 and engagement_run().sent == 0
    bad = client.post("/api/v1/engagement/trigger", json.dumps(body | {"customer_id": 999999}),
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "customer_id" in bad.json()["detail"]


def test_win_back_after_n_days_without_an_order(
    smtp: Any, make_customer: Make, make_rule: Any
) -> None:
    lapsed, recent = make_customer(), make_customer()
    for customer, placed in ((lapsed, "2025-12-01"), (recent, "2026-03-01")):
        Order.objects.create(
            customer=customer, number=f"o-{customer.pk}", currency="IRR", total=Decimal(1000),
            placed_at=dt.datetime.fromisoformat(f"{placed}T12:00:00+00:00"),
        )  # fmt: skip
    make_rule(kind="inactivity", inactivity_days=90)
    # 2025-12-01 + 90 days = 2026-03-01 < 2026-03-19: lapsed; 2026-03-01 is 18 days ago.
    result = engagement_run(now=NOW)
    assert (result.due, result.sent) == (1, 1)
    assert Send.objects.get().customer_id == lapsed.pk
    assert Send.objects.get().occurrence == "lapsed:2025-12-01"
