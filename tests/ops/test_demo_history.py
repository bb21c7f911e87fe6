"""The demo's history (issue 10): its cases worked like a team would have, in the past, with
verdicts, answers about cases, care follow-ups and the rollups the dashboard reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from khoshnud import events
from khoshnud.cases.models import Case, CaseEvent
from khoshnud.feedback.models import CaseVerdict, Recovery, SurveyResponse
from khoshnud.insights.selectors import business_today, dashboard
from khoshnud.ops.demo_data import build_demo
from khoshnud.ops.demo_history import RECENT
from khoshnud.ops.management.commands.demo import ensure_demo_staff

pytestmark = pytest.mark.django_db


def test_demo_history_is_worked_in_the_past_and_shows_on_the_dashboard(
    settings: Any, tmp_path: Any
) -> None:
    settings.DATA_DIR = tmp_path
    # The demo's own queue (tests run tasks at once): what the build leaves for the worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ensure_demo_staff()
    counts = build_demo(customers=150)
    now = timezone.now()
    # The pipeline's cases, and the care follow-ups unhappy answers opened.
    assert Case.objects.count() == counts["cases"] + Recovery.objects.count()
    assert counts["cases"] > 300
    assert counts["resolved"] > 0

    resolved = Case.objects.filter(resolved_at__isnull=False)
    assert resolved.count() > Case.objects.count() / 2  # most are worked
    for case in resolved:
        assert case.first_responded_at is not None
        assert case.opened_at <= case.first_responded_at < now
        assert case.opened_at < case.resolved_at < now
        assert case.status in ("resolved", "closed")
    # Every resolved case is judged; no verdict without a resolution.
    assert set(CaseVerdict.objects.values_list("case_id", flat=True)) == set(
        resolved.values_list("pk", flat=True)
    )
    assert {"met", "exceeded", "fell_short"} <= set(
        CaseVerdict.objects.values_list("verdict", flat=True)
    )
    # The history rows are dated when things happened, by the agents who did them.
    changes = CaseEvent.objects.filter(action=events.CASE_STATUS_CHANGED)
    assert changes.exists() and not changes.filter(actor__isnull=True).exists()
    for case in resolved.filter(status="resolved")[:50]:
        last = changes.filter(case=case, changes__status__to="resolved").latest("created_at")
        assert last.created_at == case.resolved_at
    reopened = changes.filter(changes__status__from="resolved", changes__status__to="open")
    assert reopened.exists()
    assert CaseEvent.objects.filter(action=events.CASE_HANDED_OFF).exists()
    assert Case.objects.filter(status="waiting", paused_at__isnull=False).exists()
    # Recent cases are still the inbox's work.
    recent = Case.objects.filter(opened_at__gte=now - RECENT + dt.timedelta(hours=2)).exclude(
        pk__in=Recovery.objects.values("case_id")
    )
    assert recent.exists()
    assert set(recent.values_list("status", flat=True)) == {"new"}
    # Answers about cases rate the agent who resolved them.
    about = SurveyResponse.objects.filter(case__isnull=False, kind="csat")
    assert about.exists()
    for answer in about.select_related("case")[:50]:
        assert answer.case is not None and answer.case.resolved_at is not None
        assert answer.answered_at > answer.case.resolved_at
        assert answer.agent_id is not None

    today = business_today()
    board = dashboard(start=today - dt.timedelta(days=179), end=today)
    totals = board["totals"]
    assert totals["resolved"] == resolved.count()
    assert totals["resolution_minutes_mean"] is not None
    assert totals["first_response_minutes_mean"] is not None
    assert 0 < totals["resolution_attainment"] < 100
    assert 0 < totals["first_response_attainment"] < 100
    assert totals["delight_rate"] is not None and totals["delight_rate"] > 0
    if Recovery.objects.filter(won_back__isnull=False).exists():
        assert totals["recovery_rate"] is not None

    # Verdicts are dated when they would have been decided (the resolution or a later answer
    # about the case), not at the build.
    for verdict in CaseVerdict.objects.select_related("case")[:200]:
        assert verdict.resolved_at <= verdict.decided_at < now - dt.timedelta(minutes=29)
    # A follow-up resolved in the history has its outcome dated at the resolution.
    for recovery in Recovery.objects.filter(outcome="resolved").select_related("case"):
        assert recovery.outcome_at == recovery.case.resolved_at
    # The history's resolutions queued nothing: no verdict / survey task, no follow-up rule.
    queued = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert not queued & {
        "khoshnud.feedback.tasks.after_case_resolved",
        "khoshnud.feedback.tasks.invite_after_case",
        "khoshnud.cases.tasks.open_follow_up",
    }, queued
