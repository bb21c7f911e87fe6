"""Agents' customer ratings: the CSAT answered after a case counts for the agent who resolved
it. Averages are smoothed (a Bayesian average) so that a few ratings do not outrank many:

    smoothed = (C × 3 + sum of the agent's CSAT scores) / (C + n)

where 3 is the neutral middle of the 1–5 scale (routing's neutral rating) and C is
``KHOSHNUD_RATING_PRIOR_WEIGHT`` (5): an agent starts as C imaginary neutral ratings. One 5
gives (15 + 5) / 6 = 3.33; fifty ratings averaging 4.8 give (15 + 240) / 55 = 4.64.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, Sum
from django.utils import timezone

from khoshnud.cases.metrics import period_bounds
from khoshnud.feedback.metrics import CSAT_SATISFIED_MIN
from khoshnud.feedback.models import ScoreKind, SurveyResponse

NEUTRAL = 3.0


def prior_weight() -> float:
    return float(getattr(settings, "KHOSHNUD_RATING_PRIOR_WEIGHT", 5))


def smoothed(total: int, n: int, weight: float | None = None) -> float:
    c = prior_weight() if weight is None else weight
    return (c * NEUTRAL + total) / (c + n)


@dataclass(frozen=True)
class AgentRating:
    agent_id: int
    name: str
    n: int
    total: int
    satisfied: int

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def smoothed(self) -> float:
        return smoothed(self.total, self.n)

    @property
    def csat(self) -> float:
        return round(100 * self.satisfied / self.n, 1)


def _ratings(lower: dt.datetime, upper: dt.datetime, user_ids: Collection[int] | None = None):  # type: ignore[no-untyped-def]
    rows = SurveyResponse.objects.filter(
        kind=ScoreKind.CSAT,
        agent_id__isnull=False,
        score__isnull=False,
        answered_at__gte=lower,
        answered_at__lt=upper,
    )
    if user_ids is not None:
        rows = rows.filter(agent_id__in=list(user_ids))
    return (
        rows.order_by()
        .values("agent_id")
        .annotate(
            n=Count("id"),
            total=Sum("score"),
            satisfied=Count("id", filter=Q(score__gte=CSAT_SATISFIED_MIN)),
        )
    )


def agent_csat_ratings(*, user_ids: Collection[int]) -> dict[int, float]:
    """user id → smoothed CSAT (1–5) over the last ``KHOSHNUD_RATING_WINDOW_DAYS`` (90) days,
    for ``settings.KHOSHNUD_AGENT_RATINGS`` (cases.routing); one grouped query. An agent
    without ratings is left out (routing takes them as neutral, 3)."""
    if not user_ids:
        return {}
    now = timezone.now()
    days = int(getattr(settings, "KHOSHNUD_RATING_WINDOW_DAYS", 90))
    rows = _ratings(now - dt.timedelta(days=days), now + dt.timedelta(seconds=1), user_ids)
    return {r["agent_id"]: round(smoothed(int(r["total"]), int(r["n"])), 3) for r in rows}


def leaderboard(
    *, start: dt.date, end: dt.date, tz: str | None = None, min_ratings: int = 1
) -> list[AgentRating]:
    """Agents rated in the period with at least ``min_ratings`` CSAT answers, best smoothed
    average first (then more ratings, then name)."""
    lower, upper = period_bounds(start, end, tz or settings.TIME_ZONE)
    rows = [r for r in _ratings(lower, upper) if r["n"] >= min_ratings]
    names = {
        u.pk: u.get_full_name() or u.get_username()
        for u in User.objects.filter(pk__in=[r["agent_id"] for r in rows])
    }
    board = [
        AgentRating(r["agent_id"], names.get(r["agent_id"], "?"), int(r["n"]), int(r["total"]),
                    int(r["satisfied"]))
        for r in rows
    ]  # fmt: skip
    return sorted(board, key=lambda a: (-a.smoothed, -a.n, a.name))


def recognition(
    *, year: int, month: int, tz: str | None = None, top: int = 10
) -> list[AgentRating]:
    """The month's best-rated staff with at least ``KHOSHNUD_RECOGNITION_MIN_RATINGS`` (10)
    ratings, by smoothed average."""
    start = dt.date(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    minimum = int(getattr(settings, "KHOSHNUD_RECOGNITION_MIN_RATINGS", 10))
    return leaderboard(start=start, end=end, tz=tz, min_ratings=minimum)[:top]
