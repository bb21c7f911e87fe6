"""The Outreach pages through Django's client with a session (CSRF enforced)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from khoshnud.customers.models import Customer
from khoshnud.engagement.models import Rule
from khoshnud.engagement.scheduler import engagement_run
from tests.channels.conftest import Inbox

pytestmark = pytest.mark.django_db
CSRF = "k" * 32


def session(user: User) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.cookies["csrftoken"] = CSRF
    client.force_login(user)
    return client


FORM = {
    "name": "Birthday",
    "kind": "occasion",
    "occasion": "birthday",
    "lead_days": "۱",
    "channel1": "email",
    "window_start": "09:00",
    "window_end": "20:00",
    "weekly_cap": "1",
    "subject_en": "Hi {{ first_name }}",
    "body_en": "Happy birthday, {{ first_name }}!",
}


def test_manager_saves_a_rule_from_the_editor_and_errors_name_the_field(
    make_staff: Callable[..., User],
) -> None:
    manager = session(make_staff("boss", "manager"))
    bad = manager.post("/outreach/rules/new/", FORM | {"body_en": "Hi {{ nick }}"})
    assert bad.status_code == 400 and "nick" in bad.content.decode()
    empty = manager.post("/outreach/rules/new/", FORM | {"window_end": "09:00"})
    assert empty.status_code == 400 and "send_window" in empty.content.decode()
    assert not Rule.objects.exists()
    saved = manager.post("/outreach/rules/new/", FORM)
    rule = Rule.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/outreach/rules/{rule.pk}/"
    assert (rule.lead_days, rule.channels, rule.is_active) == (1, ["email"], False)
    assert manager.post(f"/outreach/rules/{rule.pk}/active/", {"active": "1"}).status_code == 302
    rule.refresh_from_db()
    assert rule.is_active
    agent = session(make_staff("agent7", "agent"))
    assert agent.post(f"/outreach/rules/{rule.pk}/", FORM | {"name": "Mine"}).status_code == 403
    assert Rule.objects.get().name == "Birthday"


def test_log_and_customer_360_show_the_outreach(
    smtp: Inbox,
    make_staff: Callable[..., User],
    make_customer: Callable[..., Customer],
    make_rule: Any,
) -> None:
    c = make_customer(birthday="1990-03-20")
    make_rule(name="Birthday greeting", lead_days=1)
    engagement_run(now=dt.datetime(2026, 3, 19, 10, tzinfo=dt.UTC))
    agent = session(make_staff("agent8", "agent"))
    page = agent.get(f"/customers/{c.pk}/").content.decode()
    assert "Outreach history" in page and "Birthday greeting" in page
    log = agent.get("/outreach/log/?status=sent&channel=email").content.decode()
    assert log.count('class="send-sent"') == 1
    assert 'class="send-' not in agent.get("/outreach/log/?status=failed").content.decode()
    preview = agent.get(f"/outreach/rules/{Rule.objects.get().pk}/?customer={c.pk}").content
    assert b"Hello Customer1" in preview  # en template: "Hello {{ first_name }}"
