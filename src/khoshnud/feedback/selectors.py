"""Reads of the feedback app (metrics live in feedback.metrics)."""

from __future__ import annotations

from collections.abc import Iterable

from khoshnud import events
from khoshnud.cases.models import Case, CaseEvent, CaseStatus


def case_resolvers(case_ids: Iterable[int]) -> dict[int, int | None]:
    """case id → the agent who resolved it: the staff member who last set it to resolved, else
    its assignee (a case resolved by the system), else None."""
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        return {}
    out: dict[int, int | None] = dict(
        Case.objects.filter(pk__in=ids).order_by().values_list("pk", "assignee_id")
    )
    resolving = (
        CaseEvent.objects.filter(
            case_id__in=ids,
            action=events.CASE_STATUS_CHANGED,
            actor__isnull=False,
            changes__status__to=CaseStatus.RESOLVED,
        )
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "actor_id")
    )
    for case_id, actor_id in resolving:
        out[case_id] = actor_id  # the latest resolution wins
    return out
