"""Background tasks of the language app (thin: they call a service)."""

from __future__ import annotations

from django_tasks import task
from django_tasks.base import TASK_MIN_PRIORITY

from khoshnud.language.services import (
    REANALYSE_BUDGET_S,
    analyses_reanalyse,
    interactions_classify,
    reanalysis_schedule,
)


@task()
def classify_interactions(interaction_ids: list[int]) -> int:
    """Classify newly ingested inbound interactions; idempotent, safe to retry."""
    return interactions_classify(interaction_ids=[int(i) for i in interaction_ids])


@task(priority=TASK_MIN_PRIORITY)
def reanalyse_fast_analyses() -> int:
    """Quiet-time re-analysis: the fast path's rows get the default path's answer.

    Lowest priority (the database queue runs everything else first); gives way as soon as new
    messages wait for classification, works ``REANALYSE_BUDGET_S`` seconds at most, then queues
    the next run if fast rows remain. Idempotent and safe to kill (one transaction per batch).
    """
    report = analyses_reanalyse(yield_to_backlog=True, budget_s=REANALYSE_BUDGET_S)
    if report.stopped == "budget":
        reanalysis_schedule()
    return report.upgraded
