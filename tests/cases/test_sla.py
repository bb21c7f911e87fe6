"""SLA clocks: the pause while waiting on the customer, the breach scan (exactly at the
boundary), the team lead's notification inside working hours, the notifications page.

All on the demo calendar "Tehran shop" (Asia/Tehran, +03:30 in December; Saturday–Wednesday
08:00–16:00, Thursday 08:00–12:00, Friday closed) with support / standard at 120 / 480
business minutes: a case opened Wednesday 2026-12-02 14:00 is due a first response at 16:00
the same day and a resolution on Saturday 2026-12-05 10:00 (docs/cases.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from khoshnud.accounts.services import staff_create
from khoshnud.cases.models import Case, CaseBreach, CaseEvent, Notification
from khoshnud.cases.notifications import notifications_unread_count
from khoshnud.cases.services import case_open, case_open_or_attach, case_status_set
from khoshnud.cases.sla import breach_scan
from tests.cases.conftest import Shop, analysed

pytestmark = pytest.mark.django_db
TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))
CSRF = "s" * 32


def at(text: str) -> dt.datetime:
    """'12-02 14:00' → 2026-12-02 14:00 Tehran time."""
    day, clock = text.split()
    month, dom = (int(x) for x in day.split("-"))
    hour, minute = (int(x) for x in clock.split(":")[:2])
    second = int(clock.split(":")[2]) if clock.count(":") == 2 else 0
    return dt.datetime(2026, month, dom, hour, minute, second, tzinfo=TEHRAN)


@pytest.fixture
def clock(monkeypatch: Any) -> Any:
    """clock.set('12-02 15:00'): what ``timezone.now()`` answers from then on."""

    class Clock:
        def set(self, text: str) -> None:
            moment = at(text)
            monkeypatch.setattr(timezone, "now", lambda: moment)

    return Clock()


def _support_case(shop: Shop) -> Case:
    return case_open(customer_id=shop.customer.pk, kind="support", channel="phone",
                     subject="Grinder noise", opened_at="2026-12-02T14:00:00+03:30")  # fmt: skip


def test_waiting_stops_the_clock_and_resuming_moves_the_due_times(shop: Shop, clock: Any) -> None:
    case = _support_case(shop)
    agent = shop.agents["support"]
    assert (case.first_response_due, case.resolution_due) == (at("12-02 16:00"), at("12-05 10:00"))
    clock.set("12-02 15:00")
    case_status_set(case_id=case.pk, status="waiting", actor=agent)
    case.refresh_from_db()
    assert case.paused_at == at("12-02 15:00")
    # Paused: no breach even when both due times have passed (Thursday noon > Wednesday 16:00).
    assert breach_scan(now=at("12-05 11:00")).breaches == 0
    clock.set("12-05 09:00")
    case_status_set(case_id=case.pk, status="open", actor=agent)
    case.refresh_from_db()
    # Paused business time: Wed 15:00–16:00 (60) + Thu 08:00–12:00 (240) + Sat 08:00–09:00
    # (60) = 360 minutes. Resolution Sat 10:00 + 360 = Sat 16:00 (10:00–16:00 is 360).
    # First response Wed 16:00 (closing) + 360: Thu 240, Sat 08:00 + 120 = Sat 10:00.
    assert case.paused_at is None
    assert case.resolution_due == at("12-05 16:00")
    assert case.first_response_due == at("12-05 10:00")
    event = case.events.filter(action="case.status_changed").last()
    assert event is not None and event.changes["paused_business_minutes"] == 360.0
    # The API gives the moved due times, with the calendar's offset.
    body = shop.client(agent).get(f"/api/v1/cases/{case.pk}").json()
    assert body["resolution_due"] == "2026-12-05T16:00:00+03:30"
    assert body["first_response_due"] == "2026-12-05T10:00:00+03:30"
    assert body["paused_at"] is None


def test_the_customers_answer_ends_the_wait(shop: Shop, ingest: Any, clock: Any) -> None:
    [first] = ingest(shop.customer, [("m1", "email", "inbound", "2026-12-02T14:00:00+03:30",
                                      "The grinder makes a noise")])  # fmt: skip
    analysed(first, shop.customer.pk, "support")
    case_open_or_attach(interaction_ids=[first])
    case = Case.objects.get()
    assert case.resolution_due == at("12-05 10:00")
    clock.set("12-02 15:00")
    case_status_set(case_id=case.pk, status="waiting", actor=shop.agents["support"])
    [answer] = ingest(shop.customer, [("m2", "email", "inbound", "2026-12-03T10:00:00+03:30",
                                       "Here is the photo")])  # fmt: skip
    analysed(answer, shop.customer.pk, "support")
    case_open_or_attach(interaction_ids=[answer])
    case.refresh_from_db()
    # Paused Wed 15:00–16:00 (60) + Thu 08:00–10:00 (120) = 180 minutes: Sat 10:00 → 13:00.
    assert (case.status, case.paused_at) == ("open", None)
    assert case.resolution_due == at("12-05 13:00")
    event = case.events.get(reason="customer answered")
    assert event.actor_id is None and event.changes["status"] == {"from": "waiting", "to": "open"}


def test_breach_exactly_at_the_boundary_then_once(shop: Shop) -> None:
    lead = staff_create(username="support-lead", password="Case-desk-2026", role="manager",
                        teams=["support"])  # fmt: skip
    case = _support_case(shop)
    # Due Wednesday 16:00: at 16:00 exactly it is not late yet (due < now is a breach).
    assert breach_scan(now=at("12-02 16:00")).breaches == 0
    assert not CaseBreach.objects.exists()
    found = breach_scan(now=at("12-02 16:00:01"))
    assert (found.first_response, found.resolution, found.notifications) == ([case.pk], [], 1)
    case.refresh_from_db()
    assert case.priority == "high"  # normal → high, one step
    breach = CaseBreach.objects.get()
    assert (breach.target, breach.due, breach.detected_at) == (
        "first_response", at("12-02 16:00"), at("12-02 16:00:01"))  # fmt: skip
    event = CaseEvent.objects.get(case=case, action="case.breached")
    assert event.changes["priority"] == {"from": "normal", "to": "high"}
    # The lead of the support team only (not the manager outside it), told when the shop
    # opens again: 16:00:01 is after Wednesday's close → Thursday 08:00.
    note = Notification.objects.get()
    assert (note.user_id, note.case_id) == (lead.pk, case.pk)
    assert note.visible_from == at("12-03 08:00")
    assert notifications_unread_count(user_id=lead.pk, now=at("12-03 07:59")) == 0
    assert notifications_unread_count(user_id=lead.pk, now=at("12-03 08:00")) == 1
    # A second scan records, raises and notifies nothing more.
    assert breach_scan(now=at("12-03 09:00")).breaches == 0
    assert (CaseBreach.objects.count(), Notification.objects.count()) == (1, 1)
    case.refresh_from_db()
    assert case.priority == "high"
    # The resolution target (Saturday 10:00) is missed later: high → urgent, told at once
    # (Saturday 10:00:01 is inside working hours).
    later = breach_scan(now=at("12-05 10:00:01"))
    assert (later.first_response, later.resolution) == ([], [case.pk])
    case.refresh_from_db()
    assert case.priority == "urgent"
    assert Notification.objects.order_by("id").last().visible_from == at("12-05 10:00:01")  # type: ignore[union-attr]
    assert breach_scan(now=at("12-09 10:00")).breaches == 0  # urgent stays; nothing twice


def test_a_team_without_a_lead_tells_the_managers(shop: Shop) -> None:
    case = _support_case(shop)
    breach_scan(now=at("12-03 09:00"))
    note = Notification.objects.get()
    assert (note.user_id, note.case_id) == (shop.manager.pk, case.pk)
    assert note.visible_from == at("12-03 09:00")  # Thursday 09:00: open


def test_answered_resolved_and_waiting_cases_do_not_breach(shop: Shop, clock: Any) -> None:
    answered, resolved, waiting = (_support_case(shop) for _ in range(3))
    Case.objects.filter(pk=answered.pk).update(first_responded_at=at("12-02 15:00"))
    agent = shop.agents["support"]
    clock.set("12-02 15:00")
    case_status_set(case_id=resolved.pk, status="resolved", actor=agent)
    case_status_set(case_id=waiting.pk, status="waiting", actor=agent)
    found = breach_scan(now=at("12-02 17:00"))
    assert (found.first_response, found.resolution) == ([], [])
    found = breach_scan(now=at("12-05 10:00:01"))
    assert (found.first_response, found.resolution) == ([], [answered.pk])


def test_notifications_page_and_header_count(shop: Shop) -> None:
    lead = staff_create(username="support-lead", password="Case-desk-2026", role="manager",
                        teams=["support"])  # fmt: skip
    case = _support_case(shop)
    breach_scan(now=at("12-02 16:00:01"))  # visible from Thursday 08:00 (in the past now)
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF, HTTP_ACCEPT_LANGUAGE="fa")
    client.cookies["csrftoken"] = CSRF
    client.force_login(lead)
    page = client.get("/notifications/").content.decode()
    assert f'href="/cases/{case.pk}/"' in page
    assert 'class="badge prio-high unread-count"' in page  # the header's count
    assert "پاسخ نخست" in page  # "First response" in Persian
    note = Notification.objects.get()
    # Someone else cannot mark the lead's notification read.
    other = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    other.cookies["csrftoken"] = CSRF
    other.force_login(shop.manager)
    other.post("/notifications/read/", {"id": note.pk})
    note.refresh_from_db()
    assert note.read_at is None
    assert client.post("/notifications/read/", {"id": note.pk}).status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert "unread-count" not in client.get("/notifications/").content.decode()


def test_case_page_and_inbox_show_the_stopped_clock(shop: Shop, clock: Any, settings: Any) -> None:
    settings.KHOSHNUD_INBOX_BREACHING_HOURS = 100  # Saturday 10:00 is within 100 h of Wednesday
    case = _support_case(shop)
    agent = shop.agents["support"]
    clock.set("12-02 15:00")
    case_status_set(case_id=case.pk, status="waiting", actor=agent)
    client = Client()
    client.force_login(agent)
    assert "sla-paused" in client.get(f"/cases/{case.pk}/").content.decode()
    assert "sla-paused" in client.get("/cases/?tab=team").content.decode()
    # A stopped clock is not "breaching soon"; running again, it is.
    assert f"/cases/{case.pk}/" not in client.get("/cases/?tab=breaching").content.decode()
    case_status_set(case_id=case.pk, status="open", actor=agent)
    assert f"/cases/{case.pk}/" in client.get("/cases/?tab=breaching").content.decode()
