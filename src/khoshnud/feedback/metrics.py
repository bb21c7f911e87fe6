"""The feedback numbers: NPS, CSAT and CES of a period, overall or by group.

Definitions (docs/metrics.md, "Feedback", says the same for readers). Every answer in the
period counts once — given on the survey page, through the API or imported — whatever the
survey; a customer who answers twice counts twice.

- **NPS** of the 0–10 answers: promoters (9–10) minus detractors (0–6), as a percentage of
  all of them (passives 7–8 count in the total only); −100 to 100, one decimal.
- **CSAT** of the 1–5 answers: the share of 4 and 5, in percent, one decimal.
- **CES** of the 1–7 answers ("it was easy": 1 very difficult … 7 very easy): the mean,
  two decimals.
- No answer in the period: ``value`` is ``None`` and ``n`` 0, never 0.

The pure functions ``nps_value``, ``csat_value`` and ``ces_value`` compute the figures from
counts, so that a rollup (sums per day) gives exactly the same numbers as the raw answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from khoshnud.cases.metrics import period_bounds
from khoshnud.feedback.models import ScoreKind, SurveyResponse

PROMOTER_MIN = 9  # 9–10
DETRACTOR_MAX = 6  # 0–6
CSAT_SATISFIED_MIN = 4  # 4–5 out of 5
# Unhappy enough for a care follow-up (docs/metrics.md, "Recovery").
CSAT_UNHAPPY_MAX = 2


def nps_value(promoters: int, passives: int, detractors: int) -> float | None:
    n = promoters + passives + detractors
    if n == 0:
        return None
    return round(100 * (promoters - detractors) / n, 1)


def csat_value(satisfied: int, n: int) -> float | None:
    return None if n == 0 else round(100 * satisfied / n, 1)


def ces_value(total: int, n: int) -> float | None:
    return None if n == 0 else round(total / n, 2)


def score_counts(responses: QuerySet[SurveyResponse]) -> dict[str, int]:
    """The counts every figure is made of, in one aggregate query over ``responses``."""
    nps, csat, ces = Q(kind=ScoreKind.NPS), Q(kind=ScoreKind.CSAT), Q(kind=ScoreKind.CES)
    counts = responses.filter(score__isnull=False).aggregate(
        promoters=Count("id", filter=nps & Q(score__gte=PROMOTER_MIN)),
        passives=Count("id", filter=nps & Q(score__gt=DETRACTOR_MAX, score__lt=PROMOTER_MIN)),
        detractors=Count("id", filter=nps & Q(score__lte=DETRACTOR_MAX)),
        csat_n=Count("id", filter=csat),
        csat_satisfied=Count("id", filter=csat & Q(score__gte=CSAT_SATISFIED_MIN)),
        ces_n=Count("id", filter=ces),
        ces_total=Sum("score", filter=ces),
    )
    return {k: int(v or 0) for k, v in counts.items()}


def figures(counts: dict[str, int]) -> dict[str, Any]:
    """Counts (``score_counts``'s keys) → the API's ``{"nps": {...}, "csat": ..., "ces": ...}``."""
    p, pa, d = counts["promoters"], counts["passives"], counts["detractors"]
    return {
        "nps": {
            "value": nps_value(p, pa, d),
            "n": p + pa + d,
            "promoters": p,
            "passives": pa,
            "detractors": d,
        },
        "csat": {
            "value": csat_value(counts["csat_satisfied"], counts["csat_n"]),
            "n": counts["csat_n"],
            "satisfied": counts["csat_satisfied"],
        },
        "ces": {
            "value": ces_value(counts["ces_total"], counts["ces_n"]),
            "n": counts["ces_n"],
        },
    }


def responses_in_period(
    *, start: dt.date, end: dt.date, tz: str | None = None
) -> QuerySet[SurveyResponse]:
    """The answers given in ``[start, end]``, whole local days in ``tz`` (the business's)."""
    lower, upper = period_bounds(start, end, tz or settings.TIME_ZONE)
    return SurveyResponse.objects.filter(answered_at__gte=lower, answered_at__lt=upper)


def feedback_metrics(
    *,
    start: dt.date,
    end: dt.date,
    tz: str | None = None,
    agent_id: int | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """NPS, CSAT and CES of the period (optionally one agent's or one channel's answers)."""
    responses = responses_in_period(start=start, end=end, tz=tz)
    if agent_id is not None:
        responses = responses.filter(agent_id=agent_id)
    if channel:
        responses = responses.filter(channel=channel)
    return figures(score_counts(responses))
