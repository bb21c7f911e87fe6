"""The demo's surveys and answers: the metrics show something, through the real ingestion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from khoshnud.feedback.metrics import feedback_metrics
from khoshnud.feedback.models import Survey, SurveyResponse
from khoshnud.ops.demo_data import build_demo
from khoshnud.ops.management.commands.demo import ensure_demo_staff

pytestmark = pytest.mark.django_db


def test_demo_has_surveys_and_answers_over_the_months(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
    ensure_demo_staff()
    counts = build_demo(customers=120)
    # (The demo's history adds answers about its cases: tests/ops/test_demo_history.py.)
    assert counts["survey_answers"] == SurveyResponse.objects.filter(case__isnull=True).count() > 10
    assert Survey.objects.count() == 3
    assert all(s.questions.exists() for s in Survey.objects.all())
    today = timezone.localdate()
    got = feedback_metrics(start=today - dt.timedelta(days=200), end=today)
    assert got["nps"]["n"] > 0 and got["csat"]["n"] > 0 and got["ces"]["n"] > 0
    months = {d.month for d in SurveyResponse.objects.values_list("answered_at", flat=True)}
    assert len(months) >= 4  # spread over the last months
    assert SurveyResponse.objects.filter(kind="csat", agent__isnull=False).exists()
    assert set(SurveyResponse.objects.values_list("source", flat=True)) == {"api"}
    # CSAT and CES answers name a product the customer bought before; after the rollups,
    # the dashboard by product has named rows (cases' products are inferred by the rebuild).
    from khoshnud.insights.rollups import rollups_rebuild
    from khoshnud.insights.selectors import dashboard

    named = SurveyResponse.objects.filter(product__isnull=False)
    assert named.exists() and set(named.values_list("kind", flat=True)) <= {"csat", "ces"}
    rollups_rebuild()
    board = dashboard(start=today - dt.timedelta(days=200), end=today)
    rows = [r for r in board["breakdowns"]["product"] if r["value"] and r["csat_n"]]
    assert rows and all(r["label"] != r["value"] for r in rows)  # names, not ids
