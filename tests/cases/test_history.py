"""``case_history_record``: a desk history recorded after the fact, in bulk, under the desk's
rules — each change at its own moment, the SLA outcome of a past resolution, a reopen, a
hand-off counted, and nothing queued for a resolution whose moment has passed."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from khoshnud.cases.history import HistoryStep, case_history_record
from khoshnud.cases.metrics import case_metrics
from khoshnud.cases.models import Case, CaseEvent
from khoshnud.cases.selectors import case_handoffs
from khoshnud.cases.services import case_open
from khoshnud.inputs import InputError
from tests.cases.conftest import Shop

pytestmark = pytest.mark.django_db
TEHRAN = ZoneInfo("Asia/Tehran")


def tehran(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TEHRAN)


def _case(shop: Shop, day: int = 25) -> Case:
    """A standard customer's service case by phone, opened on Wednesday 25 November 14:00
    Tehran. Service standard is 240 / 960 business minutes on 08:00–16:00, Thursday to 12:00
    (Friday closed): first response due Wednesday 2 h + Thursday 2 h → Thursday 26th 10:00
    (06:30 UTC); resolution due Wed 2 h + Thu 4 h + Sat 8 h + Sun 2 h → Sunday 29th 10:00."""
    return case_open(customer_id=shop.customer.pk, kind="service", channel="phone",
                     subject="Which grinder?", opened_at=tehran(day, 14))  # fmt: skip


def test_a_past_resolution_sets_resolved_at_and_its_sla_outcome(
    shop: Shop, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # a real queue
    early, late = _case(shop), _case(shop)
    assert early.resolution_due == dt.datetime(2026, 11, 29, 6, 30, tzinfo=dt.UTC)
    agent = shop.agents["service"]
    steps = [
        HistoryStep(early.pk, tehran(25, 14, 10), agent, assignee=agent, reason="taken"),
        HistoryStep(early.pk, tehran(28, 12), agent, status="resolved"),  # before Sunday 10:00
        HistoryStep(late.pk, tehran(30, 9), agent, status="resolved"),  # Monday: too late
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        recorded = case_history_record(steps=steps)
    assert recorded.changes == 3 and sorted(recorded.resolved) == sorted([early.pk, late.pk])
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.status == "resolved" and early.resolved_at == tehran(28, 12)
    assert early.assignee_id == agent.pk
    assert late.status == "resolved" and late.resolved_at == tehran(30, 9)
    assert late.assignee_id is None  # nobody took it in this history
    # Each history row is dated at its moment and names who did it.
    rows = list(
        CaseEvent.objects.filter(case=early)
        .exclude(action="case.opened")
        .values_list("action", "created_at", "actor_id", "reason", "changes")
    )
    assert rows == [
        ("case.assigned", tehran(25, 14, 10), agent.pk, "taken",
         {"assignee": {"from": None, "to": "service-agent"},
          "status": {"from": "new", "to": "open"}}),
        ("case.status_changed", tehran(28, 12), agent.pk, "",
         {"status": {"from": "open", "to": "resolved"}}),
    ]  # fmt: skip
    # The SLA outcome: early met its resolution target, late missed it → 50 %. Resolution
    # times: 25th 14:00 → 28th 12:00 = 70 h = 4,200 min; 25th 14:00 → 30th 09:00 = 115 h.
    [figures] = case_metrics(start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 30),
                             tz="Asia/Tehran")  # fmt: skip
    assert figures.resolved == 2
    assert figures.resolution_judged == 2 and figures.resolution_attainment == 50.0
    assert figures.resolution_minutes_mean == (4200 + 6900) / 2
    # A past resolution announces nothing: no verdict task, no survey, no care follow-up rule.
    assert callbacks == []
    assert not DBTaskResult.objects.exists()


def test_a_reopen_clears_the_resolution_and_counts(shop: Shop) -> None:
    case = _case(shop)
    agent = shop.agents["service"]
    case_history_record(steps=[
        HistoryStep(case.pk, tehran(25, 15), agent, status="resolved"),
        HistoryStep(case.pk, tehran(26, 9), agent, status="open"),
    ])  # fmt: skip
    case.refresh_from_db()
    assert case.status == "open" and case.resolved_at is None
    reopen = CaseEvent.objects.get(case=case, changes__status__to="open")
    assert reopen.reason == "reopened" and reopen.created_at == tehran(26, 9)
    case_history_record(steps=[HistoryStep(case.pk, tehran(26, 11), agent, status="resolved")])
    case.refresh_from_db()
    assert case.resolved_at == tehran(26, 11)
    # Up to the Sunday the resolution was due (attainment is judged once the due time is in).
    [figures] = case_metrics(start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 29),
                             tz="Asia/Tehran")  # fmt: skip
    assert figures.resolved == 1 and figures.reopen_rate == 100.0
    # 25th 14:00 → 26th 11:00 = 21 h, before the Sunday due time.
    assert figures.resolution_minutes_mean == 21 * 60 and figures.resolution_attainment == 100.0


def test_a_hand_off_is_recorded_and_counted(shop: Shop) -> None:
    case = _case(shop)
    agent, support = shop.agents["service"], shop.agents["support"]
    recorded = case_history_record(steps=[
        HistoryStep(case.pk, tehran(25, 14, 5), agent, assignee=agent, reason="taken"),
        HistoryStep(case.pk, tehran(25, 15), agent, kind="support", reason="grinder noise"),
        HistoryStep(case.pk, tehran(25, 15, 30), support, assignee=support, reason="taken"),
    ])  # fmt: skip
    assert recorded.handed_off == 1 and recorded.changes == 3
    case.refresh_from_db()
    assert case.kind == "support" and case.team is not None and case.team.name == "support"
    assert case.assignee_id == support.pk
    # support standard: 480 business minutes from Wednesday 14:00 → Saturday 10:00 Tehran.
    assert case.resolution_due == dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.UTC)
    event = case.events.get(action="case.handed_off")
    assert event.created_at == tehran(25, 15) and event.actor_id == agent.pk
    assert event.reason == "grinder noise"
    assert event.changes == {
        "kind": {"from": "service", "to": "support"},
        "team": {"from": "service", "to": "support"},
        "assignee": {"from": "service-agent", "to": None},
    }
    assert case_handoffs(case_ids=[case.pk]) == {case.pk: 1}
    [figures] = case_metrics(start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 25),
                             tz="Asia/Tehran")  # fmt: skip
    assert figures.opened == 1 and figures.handoffs == 1 and figures.handoffs_per_case == 1.0


def test_a_step_against_the_rules_refuses_the_whole_history(shop: Shop) -> None:
    first, second = _case(shop), _case(shop)
    agent = shop.agents["service"]
    before = CaseEvent.objects.count()
    with pytest.raises(InputError, match="out of order"):
        case_history_record(steps=[
            HistoryStep(first.pk, tehran(25, 15), agent, status="resolved"),
            HistoryStep(second.pk, tehran(25, 16), agent, status="resolved"),
            HistoryStep(second.pk, tehran(25, 15), agent, status="open"),
        ])  # fmt: skip
    with pytest.raises(InputError, match="may not change"):
        case_history_record(steps=[
            HistoryStep(first.pk, tehran(25, 15), shop.agents["care"], status="resolved"),
        ])  # fmt: skip
    with pytest.raises(InputError, match="already a service case"):
        case_history_record(steps=[HistoryStep(first.pk, tehran(25, 15), agent, kind="service")])
    first.refresh_from_db()
    assert first.status == "new" and first.resolved_at is None
    assert CaseEvent.objects.count() == before
