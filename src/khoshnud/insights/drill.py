"""The rows behind a dashboard figure: the cases (or interactions) it counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from khoshnud.cases.metrics import period_bounds
from khoshnud.cases.models import Case
from khoshnud.feedback.models import SurveyResponse
from khoshnud.inputs import InputError
from khoshnud.insights.rollups import (
    ANSWER_DIMENSIONS,
    CASE_DIMENSIONS,
    business_zone,
    in_segment,
)
from khoshnud.interactions.models import Interaction

# figure → (the moment it is counted on, an extra condition)
CASE_FIGURES: dict[str, tuple[str, Q]] = {
    "opened": ("opened_at", Q()),
    "first_response_minutes_mean": ("opened_at", Q(first_responded_at__isnull=False)),
    "resolved": ("resolved_at", Q()),
    "resolution_minutes_mean": ("resolved_at", Q()),
    "first_response_attainment": ("first_response_due", Q()),
    "resolution_attainment": ("resolution_due", Q()),
}
DRILL_FIGURES = (
    *CASE_FIGURES, "interactions", "answers", "nps", "csat", "ces", "delight_rate",
    "recovery_rate",
)  # fmt: skip
SCORE_KINDS = ("nps", "csat", "ces")
ID_DIMENSIONS = ("team", "agent", "product")  # their values are ids


def drill_rows(
    *,
    start: dt.date,
    end: dt.date,
    figure: str,
    dimension: str = "",
    value: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Any]:
    """The cases (for ``interactions`` the interactions, for ``answers``, ``nps``, ``csat``
    and ``ces`` the survey answers) that ``figure`` of the period counts,
    in the segment ``dimension = value`` when given (docs/metrics.md, docs/insights.md)."""
    if figure not in DRILL_FIGURES:
        raise InputError("figure", f"{figure!r} is not one of {', '.join(DRILL_FIGURES)}")
    if dimension in ID_DIMENSIONS and value and not value.isdigit():
        raise InputError("value", f"{value!r} is not an id of a {dimension}")
    lower, upper = period_bounds(start, end, business_zone().key)
    if figure in ("answers", "recovery_rate", *SCORE_KINDS):
        if dimension not in ANSWER_DIMENSIONS:
            raise InputError("dimension", f"{dimension!r} is not a dimension of answers")
        if figure == "recovery_rate":  # the unhappy answers whose follow-up opened then
            answers = SurveyResponse.objects.filter(
                recovery__opened_at__gte=lower, recovery__opened_at__lt=upper
            )
        else:
            answers = SurveyResponse.objects.filter(answered_at__gte=lower, answered_at__lt=upper)
        if figure in SCORE_KINDS:
            answers = answers.filter(kind=figure)
        answers = in_segment(answers, ANSWER_DIMENSIONS[dimension], value)
        return answers.select_related(
            "customer", "agent", "case", "product", "case__product"
        ).order_by("answered_at", "id")
    if figure == "interactions":
        if dimension not in ("", "channel", "type"):
            raise InputError("dimension", "interactions are grouped by channel or type only")
        rows = Interaction.objects.filter(occurred_at__gte=lower, occurred_at__lt=upper)
        return rows.filter(**{dimension: value}) if dimension else rows
    if dimension not in CASE_DIMENSIONS:
        raise InputError("dimension", f"{dimension!r} is not one of {', '.join(CASE_DIMENSIONS)}")
    if figure == "delight_rate":  # the cases judged, by the day they were resolved
        moment, extra = "verdict__resolved_at", Q()
    else:
        moment, extra = CASE_FIGURES[figure]
    if moment.endswith("_due"):  # judged once the due time has passed
        upper = min(upper, now or timezone.now())
    cases = Case.objects.filter(extra, **{f"{moment}__gte": lower, f"{moment}__lt": upper})
    cases = in_segment(cases, CASE_DIMENSIONS[dimension], value)
    return cases.select_related("customer", "team", "assignee", "product").order_by(moment, "id")
