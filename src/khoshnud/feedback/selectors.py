"""Reads of the feedback app (metrics live in feedback.metrics)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from khoshnud import events
from khoshnud.cases.models import Case, CaseEvent, CaseStatus
from khoshnud.feedback.models import SurveyResponse


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


_KIND_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


def timeline_scores(*, interaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Timeline annotator (settings.KHOSHNUD_TIMELINE_ANNOTATORS): the scores a survey answer
    carried, ``survey_scores: [{"kind": "NPS", "score": 9}]``. One query a page."""
    rows = (
        SurveyResponse.objects.filter(interaction_id__in=list(interaction_ids), score__isnull=False)
        .order_by("interaction_id", "question__position", "id")
        .values_list("interaction_id", "kind", "score")
    )
    out: dict[int, dict[str, Any]] = {}
    for interaction_id, kind, score in rows:
        if interaction_id is None:
            continue
        entry = out.setdefault(interaction_id, {"survey_scores": []})
        entry["survey_scores"].append({"kind": _KIND_LABELS.get(kind, "•"), "score": score})
    return out
