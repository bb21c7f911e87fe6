"""The managers' rules: waiting → remind → close, unassigned → escalate, care follow-ups after
a resolution; each step once; bad rules refused with nothing changed.

Times on the demo calendar "Tehran shop" (+03:30; Saturday–Wednesday 08:00–16:00, Thursday
08:00–12:00, Friday closed). 2026-12-02 is a Wednesday.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from khoshnud.cases.models import Case, CaseEvent, CaseRule, CaseRuleRun, Notification
from khoshnud.cases.rules import case_rule_set, case_rules_run
from khoshnud.cases.selectors import case_handoffs
from khoshnud.cases.services import case_open, case_open_or_attach, case_status_set
from khoshnud.commerce.models import Product
from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from khoshnud.inputs import InputError
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop, analysed
from tests.cases.test_sla import at

pytestmark = pytest.mark.django_db
CSRF = "r" * 32
REMINDER = "سلام، هنوز منتظر پاسخ شما هستیم."


@pytest.fixture
def clock(monkeypatch: Any) -> Any:
    class Clock:
        def set(self, text: str) -> dt.datetime:
            moment = at(text)
            monkeypatch.setattr(timezone, "now", lambda: moment)
            return moment

    return Clock()


def _support_case(shop: Shop) -> Case:
    return case_open(customer_id=shop.customer.pk, kind="support", channel="phone",
                     subject="Grinder noise", opened_at="2026-12-02T14:00:00+03:30")  # fmt: skip


def test_waiting_case_is_reminded_once_then_closed(
    shop: Shop, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case_rule_set(kind="waiting_remind_close", enabled=True, after=1, then=1, message=REMINDER)
    case = _support_case(shop)
    clock.set("12-02 15:00")
    case_status_set(case_id=case.pk, status="waiting", actor=shop.agents["support"])
    # 1 business day after Wednesday: Thursday, whose close is 12:00 → remind then.
    # 1 more: Saturday (Friday is closed), close 16:00 → close then.
    clock.set("12-03 11:59")
    assert case_rules_run(now=at("12-03 11:59")).reminded == 0
    clock.set("12-03 12:00")
    with django_capture_on_commit_callbacks(execute=True):
        done = case_rules_run(now=at("12-03 12:00"))
    assert (done.reminded, done.closed) == (1, 0)
    # The reminder went by the case's channel (a phone case is answered by email).
    [sent] = mail.outbox
    assert sent.to == ["sara@example.com"] and REMINDER in sent.body
    reply = Interaction.objects.get(direction="outbound", text=REMINDER)
    assert case.links.filter(interaction=reply, role="reply").exists()
    assert CaseEvent.objects.filter(case=case, action="case.reminded").count() == 1
    # Again (a retried task, the next minute): nothing more.
    assert case_rules_run(now=at("12-03 12:01")).reminded == 0
    assert len(mail.outbox) == 1
    assert case_rules_run(now=at("12-05 15:59")).closed == 0
    clock.set("12-05 16:00")
    assert case_rules_run(now=at("12-05 16:00")).closed == 1
    case.refresh_from_db()
    assert case.status == "closed"
    event = CaseEvent.objects.filter(case=case, action="case.status_changed").last()
    assert event is not None and event.reason == "no answer from the customer"
    assert case_rules_run(now=at("12-06 10:00")) == type(done)(0, 0, 0)
    assert CaseRuleRun.objects.filter(case=case).count() == 2


def test_an_answer_stops_the_rule_and_a_new_wait_starts_over(
    shop: Shop, clock: Any, ingest: Any
) -> None:
    case_rule_set(kind="waiting_remind_close", enabled=True, after=1, then=1, message=REMINDER)
    case = _support_case(shop)
    clock.set("12-02 15:00")
    case_status_set(case_id=case.pk, status="waiting", actor=shop.agents["support"])
    clock.set("12-03 12:00")
    assert case_rules_run(now=at("12-03 12:00")).reminded == 1
    # The customer calls back on Thursday at 12:30: open again, no close on Saturday.
    [call] = ingest(shop.customer, [("c1", "phone", "inbound", "2026-12-03T12:30:00+03:30",
                                     "I sent the photo")])  # fmt: skip
    analysed(call, shop.customer.pk, "support")
    case_open_or_attach(interaction_ids=[call])
    case.refresh_from_db()
    assert case.status == "open"
    assert case_rules_run(now=at("12-05 16:00")) == type(case_rules_run())(0, 0, 0)
    # Waiting again from Saturday 09:00: a new episode, reminded on Sunday at 16:00.
    clock.set("12-05 09:00")
    case_status_set(case_id=case.pk, status="waiting", actor=shop.agents["support"])
    clock.set("12-06 16:00")
    assert case_rules_run(now=at("12-06 16:00")).reminded == 1


def test_unassigned_case_is_escalated_once(shop: Shop, clock: Any) -> None:
    case_rule_set(kind="unassigned_escalate", enabled=True, after=30)
    case = _support_case(shop)  # opened 14:00, nobody on it
    assert case_rules_run(now=at("12-02 14:29")).escalated == 0
    # Exactly 30 minutes: escalated (opened_at + N minutes ≤ now).
    assert case_rules_run(now=at("12-02 14:30")).escalated == 1
    case.refresh_from_db()
    assert case.priority == "high"
    event = CaseEvent.objects.get(case=case, action="case.escalated")
    assert event.changes == {"rule": "unassigned_escalate", "minutes": 30,
                             "priority": {"from": "normal", "to": "high"}}  # fmt: skip
    note = Notification.objects.get()  # the support team has no lead: the manager
    assert (note.user_id, note.action, note.visible_from) == (
        shop.manager.pk, "case.escalated", at("12-02 14:30"))  # fmt: skip
    fa = Client(HTTP_ACCEPT_LANGUAGE="fa")
    fa.force_login(shop.manager)
    assert "۳۰ دقیقه بدون مسئول: تشدید شد." in fa.get("/notifications/").content.decode()
    assert case_rules_run(now=at("12-02 15:30")).escalated == 0
    case.refresh_from_db()
    assert case.priority == "high"
    # A case someone took is not escalated.
    taken = _support_case(shop)
    clock.set("12-02 14:10")
    case_status_set(case_id=taken.pk, status="open", actor=shop.agents["support"])
    Case.objects.filter(pk=taken.pk).update(assignee=shop.agents["support"])
    assert case_rules_run(now=at("12-02 16:00")).escalated == 0


def _resolve(shop: Shop, case: Case, agent_team: str, hooks: Any) -> None:
    with hooks(execute=True):
        case_status_set(case_id=case.pk, status="resolved", actor=shop.agents[agent_team])


def test_support_resolving_a_key_customers_case_opens_one_care_follow_up(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    case_rule_set(kind="follow_up_tier", enabled=True, tiers=["key"])
    Customer.objects.filter(pk=shop.customer.pk).update(tier="key")
    case = _support_case(shop)
    kettle = Product.objects.create(sku="KTL-1", name="Kettle", category="c", price=1,
                                    currency="USD")  # fmt: skip
    Case.objects.filter(pk=case.pk).update(product=kettle, product_source="order")
    _resolve(shop, case, "support", django_capture_on_commit_callbacks)
    follow = Case.objects.get(follow_up_of=case)
    assert (follow.kind, follow.team.name, follow.status, follow.customer_id) == (  # type: ignore[union-attr]
        "care", "care", "new", shop.customer.pk)  # fmt: skip
    assert (follow.product_id, follow.product_source) == (kettle.pk, "order")  # the same product
    assert case_handoffs(case_ids=[case.pk]) == {case.pk: 1}  # counted as a hand-off
    # Reopened and resolved again: still one follow-up.
    case_status_set(case_id=case.pk, status="open", actor=shop.agents["support"])
    _resolve(shop, case, "support", django_capture_on_commit_callbacks)
    assert Case.objects.filter(follow_up_of=case).count() == 1
    # The follow-up resolved by care opens none of its own.
    _resolve(shop, follow, "care", django_capture_on_commit_callbacks)
    assert Case.objects.count() == 2
    # The case page links the follow-up to its original.
    client = Client()
    client.force_login(shop.agents["care"])
    assert f'href="/cases/{case.pk}/"' in client.get(f"/cases/{follow.pk}/").content.decode()


def test_no_follow_up_for_a_standard_customer_or_a_rule_switched_off(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    case_rule_set(kind="follow_up_tier", enabled=True, tiers=["key"])
    _resolve(shop, _support_case(shop), "support", django_capture_on_commit_callbacks)
    case_rule_set(kind="follow_up_tier", enabled=False, tiers=["standard"])
    _resolve(shop, _support_case(shop), "support", django_capture_on_commit_callbacks)
    assert not Case.objects.filter(follow_up_of__isnull=False).exists()


def test_a_complaint_gets_a_follow_up_a_compliment_does_not(
    shop: Shop, ingest: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case_rule_set(kind="follow_up_complaint", enabled=True)
    rows = [("k1", "email", "inbound", "2026-12-02T10:00:00+03:30", "Broken on arrival!"),
            ("k2", "telegram", "inbound", "2026-12-02T10:05:00+03:30", "Lovely service")]  # fmt: skip
    complaint, compliment = ingest(shop.customer, rows)
    analysed(complaint, shop.customer.pk, "care", "negative")
    analysed(compliment, shop.customer.pk, "care", "positive")
    case_open_or_attach(interaction_ids=[complaint, compliment])
    first = Case.objects.get(channel="email")
    second = Case.objects.get(channel="telegram")
    _resolve(shop, first, "care", django_capture_on_commit_callbacks)
    _resolve(shop, second, "care", django_capture_on_commit_callbacks)
    assert list(Case.objects.filter(follow_up_of__isnull=False).values_list(
        "follow_up_of_id", "kind")) == [(first.pk, "care")]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "waiting_remind_close", "after": 0, "message": "x"}, "after"),
        ({"kind": "waiting_remind_close", "after": -2, "message": "x"}, "after"),
        ({"kind": "waiting_remind_close", "after": 2, "message": "  "}, "message"),  # no action
        ({"kind": "waiting_remind_close", "after": 2, "message": "x", "then": 0}, "then"),
        ({"kind": "unassigned_escalate", "after": 0}, "after"),
        ({"kind": "unassigned_escalate"}, "after"),
        ({"kind": "follow_up_tier", "tiers": []}, "tiers"),  # no action
        ({"kind": "follow_up_tier", "tiers": ["gold"]}, "tiers"),
        ({"kind": "teleport"}, "kind"),
    ],
)
def test_bad_rules_are_refused_and_nothing_changes(values: dict[str, Any], field: str) -> None:
    case_rule_set(kind="waiting_remind_close", enabled=True, after=3, then=2, message="hi")
    before = list(CaseRule.objects.values())
    with pytest.raises(InputError) as exc:
        case_rule_set(enabled=True, **values)
    assert exc.value.field == field
    assert list(CaseRule.objects.values()) == before


def test_rules_page_and_api(shop: Shop) -> None:
    browser = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF, HTTP_ACCEPT_LANGUAGE="fa")
    browser.cookies["csrftoken"] = CSRF
    browser.force_login(shop.manager)
    assert browser.get("/cases/rules/").status_code == 200
    bad = browser.post("/cases/rules/unassigned_escalate/", {"enabled": "1", "after": "0"})
    assert bad.status_code == 400 and 'id="rule-error"' in bad.content.decode()
    assert not CaseRule.objects.exists()
    good = browser.post("/cases/rules/unassigned_escalate/", {"enabled": "1", "after": "۴۵"})
    assert good.status_code == 302
    assert CaseRule.objects.get().after == 45  # Persian digits read
    agent = Client()
    agent.force_login(shop.agents["support"])
    assert agent.get("/cases/rules/").status_code == 403
    # The API: everyone reads, a manager writes; bad input 422, nothing changed.
    api = shop.client(shop.manager)
    resp = api.put("/api/v1/case-rules/waiting_remind_close",
                   {"enabled": True, "after": 2, "then": 3, "message": REMINDER},
                   content_type="application/json")  # fmt: skip
    assert resp.status_code == 200 and resp.json()["then"] == 3
    resp = api.put("/api/v1/case-rules/waiting_remind_close", {"enabled": True, "after": 2},
                   content_type="application/json")  # fmt: skip
    assert resp.status_code == 422 and resp.json()["detail"].startswith("message:")
    assert CaseRule.objects.get(kind="waiting_remind_close").then == 3
    listed = shop.client(shop.agents["care"]).get("/api/v1/case-rules").json()
    assert {r["kind"]: r["enabled"] for r in listed} == {
        "waiting_remind_close": True, "unassigned_escalate": True,
        "follow_up_tier": False, "follow_up_complaint": False}  # fmt: skip
    agent_api = shop.client(shop.agents["care"])
    assert agent_api.put("/api/v1/case-rules/follow_up_complaint", {"enabled": True},
                         content_type="application/json").status_code == 403  # fmt: skip


def test_the_reminder_is_in_the_customers_language(
    shop: Shop, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    chinese = "您好，我们仍在等待您的回复。"
    case_rule_set(kind="waiting_remind_close", enabled=True, after=1,
                  messages={"fa": REMINDER, "zh-hans": chinese})  # fmt: skip
    Customer.objects.filter(pk=shop.customer.pk).update(locale="fa")
    wei = customer_create(data={"first_name": "Wei", "locale": "zh-hans",
                                "identities": {"email": "wei@example.com"}})  # fmt: skip
    james = customer_create(data={"first_name": "James", "locale": "en",
                                  "identities": {"email": "james@example.com"}})  # fmt: skip
    agent = shop.agents["support"]
    clock.set("12-02 15:00")
    ids = {}
    for customer in (shop.customer, wei, james):
        case = case_open(customer_id=customer.pk, kind="support", channel="phone",
                         opened_at="2026-12-02T14:00:00+03:30")  # fmt: skip
        case_status_set(case_id=case.pk, status="waiting", actor=agent)
        ids[customer.first_name] = case.pk
    clock.set("12-03 12:00")
    with django_capture_on_commit_callbacks(execute=True):
        assert case_rules_run(now=at("12-03 12:00")).reminded == 3
    sent = {m.to[0]: m.body.strip() for m in mail.outbox}
    assert sent == {"sara@example.com": REMINDER, "wei@example.com": chinese}
    # James (English) has no text in his language and there is no general one: recorded as
    # not sent, once, with the reason.
    event = CaseEvent.objects.get(case_id=ids["James"], action="case.reminded")
    assert event.changes["sent"] is False and "language" in event.reason
    assert case_rules_run(now=at("12-03 13:00")).reminded == 0


def test_reminder_texts_by_language_are_checked(shop: Shop) -> None:
    with pytest.raises(InputError) as exc:
        case_rule_set(kind="waiting_remind_close", enabled=True, after=1, messages={"de": "Hallo"})
    assert exc.value.field == "messages"
    with pytest.raises(InputError) as exc:  # only blank texts and no close: does nothing
        case_rule_set(kind="waiting_remind_close", enabled=True, after=1, messages={"fa": "  "})
    assert exc.value.field == "message"
    assert not CaseRule.objects.exists()
