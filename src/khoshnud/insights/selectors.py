"""Reads of the insights app: the managers' dashboard for a period, from the daily rollups.

``dashboard()`` answers the figures of a period and of the period just before it (same
number of days), the trend by day / week / month, and the breakdowns by channel, kind, team,
agent, tier and product, all summed from ``DailyFigures`` (a few small queries whatever the volume).
``dashboard_raw()`` computes the same numbers straight from the raw tables — the case figures
through ``khoshnud.cases.metrics.case_metrics``, the service team's one definition — so the
tests and the benchmark can check the two agree (``dashboard_numbers``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jdatetime
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet, Sum
from django.utils import timezone

from khoshnud.accounts.models import Team
from khoshnud.calendars import Calendar
from khoshnud.cases.metrics import case_metrics, period_bounds
from khoshnud.cases.models import CaseKind
from khoshnud.commerce.models import Product
from khoshnud.customers.models import Tier
from khoshnud.feedback.metrics import (
    ces_value,
    csat_value,
    nps_value,
    responses_in_period,
    score_counts,
)
from khoshnud.feedback.models import CaseVerdict, Recovery, Verdict
from khoshnud.feedback.recovery import recovery_rate
from khoshnud.feedback.verdicts import delight_rate
from khoshnud.inputs import InputError
from khoshnud.insights.models import DailyFigures
from khoshnud.insights.rollups import (
    ANSWER_DIMENSIONS,
    RECOVERY_DIMENSIONS,
    VERDICT_DIMENSIONS,
    business_zone,
    day_figures,
    in_segment,
    segment_values,
)
from khoshnud.interactions.models import Channel, InteractionType

COUNTERS = tuple(
    f.name for f in DailyFigures._meta.concrete_fields
    if f.name not in ("id", "day", "dimension", "value")
)  # fmt: skip
BREAKDOWNS = ("channel", "kind", "team", "agent", "tier", "product", "type")
TREND_BY = ("day", "week", "month")
PRESETS = ("7d", "30d", "90d", "month", "last_month", "quarter")
# The figures a dashboard shows, in order (each a number, or None when nothing was measured).
FEEDBACK_FIGURES = (
    "nps",
    "nps_n",
    "csat",
    "csat_n",
    "ces",
    "ces_n",
    "delight_rate",
    "recovery_rate",
)
FIGURES = (
    *FEEDBACK_FIGURES,
    "opened",
    "resolved",
    "first_response_minutes_mean",
    "resolution_minutes_mean",
    "first_response_attainment",
    "resolution_attainment",
    "interactions",
)
# Longest period the dashboard answers (a day per row in the CSV export).
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same number of days just before."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


def period_check(start: dt.date, end: dt.date) -> Period:
    if end < start:
        raise InputError("to", f"the period ends ({end}) before it starts ({start})")
    if (end - start).days + 1 > MAX_DAYS:
        raise InputError("to", f"a period is at most {MAX_DAYS} days")
    return Period(start, end)


def business_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(business_zone()).date()


def _month_start(day: dt.date, calendar: str) -> dt.date:
    if calendar == Calendar.JALALI:
        j = jdatetime.date.fromgregorian(date=day)
        return jdatetime.date(j.year, j.month, 1).togregorian()
    return day.replace(day=1)


def _quarter_start(day: dt.date, calendar: str) -> dt.date:
    if calendar == Calendar.JALALI:  # the Persian seasons: Farvardin, Tir, Mehr, Dey
        j = jdatetime.date.fromgregorian(date=day)
        return jdatetime.date(j.year, (j.month - 1) // 3 * 3 + 1, 1).togregorian()
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def period_preset(name: str, *, today: dt.date, calendar: str = Calendar.GREGORIAN) -> Period:
    """A named period ending today (months and quarters in ``calendar``: Jalali for fa)."""
    if name in ("7d", "30d", "90d"):
        return Period(today - dt.timedelta(days=int(name[:-1]) - 1), today)
    if name == "month":
        return Period(_month_start(today, calendar), today)
    if name == "last_month":
        end = _month_start(today, calendar) - dt.timedelta(days=1)
        return Period(_month_start(end, calendar), end)
    if name == "quarter":
        return Period(_quarter_start(today, calendar), today)
    raise InputError("preset", f"{name!r} is not one of {', '.join(PRESETS)}")


def bucket_of(day: dt.date, by: str, calendar: str = Calendar.GREGORIAN) -> str:
    """The trend bucket of a day: ``2026-12-05``, ISO week ``2026-W49``, month ``2026-12``
    (a Jalali month ``1405-09`` when the calendar is Jalali) — cases.metrics' names."""
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if calendar == Calendar.JALALI:
        j = jdatetime.date.fromgregorian(date=day)
        return f"{j.year:04d}-{j.month:02d}"
    return f"{day:%Y-%m}"


def _mean_minutes(microseconds: int, n: int) -> float | None:
    return round(microseconds / n / 60_000_000, 2) if n else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def figures_of(c: Mapping[str, int]) -> dict[str, Any]:
    """The dashboard's figures from summed counters (docs/metrics.md, docs/insights.md)."""
    return {
        "opened": c.get("opened", 0),
        "resolved": c.get("resolved", 0),
        "first_response_minutes_mean": _mean_minutes(
            c.get("first_response_us", 0), c.get("first_response_n", 0)
        ),
        "resolution_minutes_mean": _mean_minutes(
            c.get("resolution_us", 0), c.get("resolution_n", 0)
        ),
        "first_response_attainment": _percent(
            c.get("first_response_met", 0), c.get("first_response_judged", 0)
        ),
        "first_response_judged": c.get("first_response_judged", 0),
        "resolution_attainment": _percent(
            c.get("resolution_met", 0), c.get("resolution_judged", 0)
        ),
        "resolution_judged": c.get("resolution_judged", 0),
        "interactions": c.get("interactions", 0),
        **feedback_figures_of(c),
    }


def feedback_figures_of(c: Mapping[str, int]) -> dict[str, Any]:
    """NPS, CSAT, CES, delight and recovery rates by the feedback app's own functions."""
    promoters, passives = c.get("promoters", 0), c.get("passives", 0)
    detractors = c.get("detractors", 0)
    return {
        "nps": nps_value(promoters, passives, detractors),
        "nps_n": promoters + passives + detractors,
        "csat": csat_value(c.get("csat_satisfied", 0), c.get("csat_n", 0)),
        "csat_n": c.get("csat_n", 0),
        "ces": ces_value(c.get("ces_total", 0), c.get("ces_n", 0)),
        "ces_n": c.get("ces_n", 0),
        "delight_rate": delight_rate(c.get("delighted", 0), c.get("verdicts", 0)),
        "recovery_rate": recovery_rate(c.get("recoveries_won", 0), c.get("recoveries_judged", 0)),
    }


def _add(into: dict[str, int], row: Mapping[str, Any]) -> None:
    for name in COUNTERS:
        into[name] = into.get(name, 0) + (row.get(name) or 0)


def delta(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """current − previous of each figure; None when either side has nothing to show."""
    out: dict[str, Any] = {}
    for name, value in current.items():
        before = previous.get(name)
        if isinstance(value, int | float) and isinstance(before, int | float):
            out[name] = round(value - before, 2)
        else:
            out[name] = None
    return out


def labels(dimension: str, values: Iterable[str]) -> dict[str, str]:
    """What a person reads for each value of a dimension (in the active language)."""
    values = list(values)
    names: dict[str, Any]
    if dimension == "channel":
        names = dict(Channel.choices)
    elif dimension == "kind":
        names = dict(CaseKind.choices)
    elif dimension == "tier":
        names = dict(Tier.choices)
    elif dimension == "type":
        names = dict(InteractionType.choices)
    elif dimension == "team":
        ids = [int(v) for v in values if v.isdigit()]
        names = {str(k): v for k, v in Team.objects.filter(pk__in=ids).values_list("pk", "name")}
    elif dimension == "product":
        ids = [int(v) for v in values if v.isdigit()]
        names = dict(
            (str(k), v) for k, v in Product.objects.filter(pk__in=ids).values_list("pk", "name")
        )
    elif dimension == "agent":
        ids = [int(v) for v in values if v.isdigit()]
        names = {
            str(u.pk): u.get_full_name() or u.get_username()
            for u in User.objects.filter(pk__in=ids)
        }
    else:
        names = {}
    return {v: str(names.get(v, v)) for v in values}


def _without(total: Mapping[str, int], part: Mapping[str, int], metric: str) -> float | None:
    left = {k: total.get(k, 0) - part.get(k, 0) for k in COUNTERS}
    return feedback_figures_of(left)[metric]


def drivers(
    total: Mapping[str, int],
    segments: Mapping[str, Mapping[str, Mapping[str, int]]],
    *,
    limit: int = 8,
) -> dict[str, list[dict[str, Any]]]:
    """Which segments pull NPS and CSAT down most: for each dimension value with answers,
    the figure without that segment's answers; ``impact`` = figure − figure without it
    (negative: the segment drags the whole down by that many points). Most negative first;
    segments whose removal leaves no answers are left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    overall = feedback_figures_of(total)
    for metric in ("nps", "csat"):
        found = []
        for dimension in BREAKDOWNS:
            values = segments.get(dimension, {})
            names = labels(dimension, values) if values else {}
            for value, counters in values.items():
                mine = feedback_figures_of(counters)
                without = _without(total, counters, metric)
                if mine[metric] is None or without is None or overall[metric] is None:
                    continue
                impact = round(overall[metric] - without, 1)
                if impact < 0:
                    found.append({
                        "dimension": dimension, "value": value, "label": names[value],
                        "n": mine[f"{metric}_n"], "segment": mine[metric], "without": without,
                        "impact": impact,
                    })  # fmt: skip
        found.sort(key=lambda row: (row["impact"], row["dimension"], row["value"]))
        out[metric] = found[:limit]
    return out


def _trend(
    days: Mapping[dt.date, Mapping[str, int]], period: Period, by: str, calendar: str
) -> list[dict[str, Any]]:
    buckets: dict[str, dict[str, int]] = {}
    firsts: dict[str, dt.date] = {}
    for day in period.each_day():
        name = bucket_of(day, by, calendar)
        firsts.setdefault(name, day)
        _add(buckets.setdefault(name, {}), days.get(day, {}))
    return [
        {"bucket": name, "from": firsts[name].isoformat(), **figures_of(counters)}
        for name, counters in buckets.items()
    ]


def _assemble(
    period: Period,
    previous: Period,
    days: Mapping[dt.date, Mapping[str, int]],
    segments: Mapping[str, Mapping[str, Mapping[str, int]]],
    by: str,
    calendar: str,
) -> dict[str, Any]:
    current_sum: dict[str, int] = {}
    previous_sum: dict[str, int] = {}
    for day, counters in days.items():
        if period.start <= day <= period.end:
            _add(current_sum, counters)
        elif previous.start <= day <= previous.end:
            _add(previous_sum, counters)
    totals, before = figures_of(current_sum), figures_of(previous_sum)
    breakdowns: dict[str, list[dict[str, Any]]] = {}
    for dimension in BREAKDOWNS:
        values = segments.get(dimension, {})
        names = labels(dimension, values)
        breakdowns[dimension] = [
            {"value": value, "label": names[value], **figures_of(values[value])}
            for value in sorted(values, key=lambda v: (names[v].lower(), v))
        ]
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "days": period.days},
        "previous": {"from": previous.start.isoformat(), "to": previous.end.isoformat()},
        "time_zone": settings.TIME_ZONE,
        "totals": totals,
        "previous_totals": before,
        "delta": delta(totals, before),
        "trend_by": by,
        "trend": _trend(days, period, by, calendar),
        "breakdowns": breakdowns,
        "drivers": drivers(current_sum, segments),
    }  # fmt: skip


def _check(by: str) -> None:
    if by not in TREND_BY:
        raise InputError("by", f"{by!r} is not one of {', '.join(TREND_BY)}")


def dashboard(
    *, start: dt.date, end: dt.date, by: str = "day", calendar: str = Calendar.GREGORIAN
) -> dict[str, Any]:
    """The dashboard of ``start``…``end`` (local days, business zone) from the rollups."""
    _check(by)
    period = period_check(start, end)
    previous = period.previous()
    days: dict[dt.date, dict[str, int]] = {}
    for row in DailyFigures.objects.filter(
        dimension="", day__gte=previous.start, day__lte=period.end
    ).values("day", *COUNTERS):
        days[row["day"]] = row
    segments: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in (
        DailyFigures.objects.filter(day__gte=period.start, day__lte=period.end)
        .exclude(dimension="")
        .values("dimension", "value")
        .annotate(**{f"s_{name}": Sum(name) for name in COUNTERS})
        .order_by()
    ):
        sums: dict[str, Any] = dict(row)
        segments[sums["dimension"]][sums["value"]] = {n: sums[f"s_{n}"] for n in COUNTERS}
    return _assemble(period, previous, days, segments, by, calendar)


def _case_figures(m: Any | None) -> dict[str, Any]:
    """A ``case_metrics`` row as the dashboard's figures (interactions added by the caller)."""
    if m is None:
        return figures_of({})
    return {
        "opened": m.opened,
        "resolved": m.resolved,
        "first_response_minutes_mean": m.first_response_minutes_mean,
        "resolution_minutes_mean": m.resolution_minutes_mean,
        "first_response_attainment": m.first_response_attainment,
        "first_response_judged": m.first_response_judged,
        "resolution_attainment": m.resolution_attainment,
        "resolution_judged": m.resolution_judged,
        "interactions": 0,
    }


def dashboard_raw(
    *, start: dt.date, end: dt.date, by: str = "day", now: dt.datetime | None = None
) -> dict[str, Any]:
    """The same numbers as ``dashboard()`` straight from the raw tables (no rollup read):
    the case figures through ``case_metrics`` (their one definition); the interactions, the
    tiers and the products, which it does not group by, by a direct aggregate of the period."""
    _check(by)
    period = period_check(start, end)
    previous = period.previous()
    zone = business_zone().key
    now = now or timezone.now()
    logged = day_figures(previous.start, end, now=now, case_dimensions=(), answer_dimensions=())
    grouped = day_figures(
        start, end, now=now, case_dimensions=("tier", "product"), interaction_dimensions=(),
        answer_dimensions=(),
    )  # fmt: skip

    def interactions(side: Period, dimension: str = "", value: str = "") -> int:
        return sum(
            c["interactions"] for (day, d, v), c in logged.items()
            if d == dimension and (v == value or not dimension) and side.start <= day <= side.end
        )  # fmt: skip

    totals = _case_figures(case_metrics(start=start, end=end, tz=zone, now=now)[0])
    totals["interactions"] = interactions(period)
    totals.update(feedback_figures_of(_raw_feedback(period)))
    before = _case_figures(
        case_metrics(start=previous.start, end=previous.end, tz=zone, now=now)[0]
    )
    before["interactions"] = interactions(previous)
    before.update(feedback_figures_of(_raw_feedback(previous)))
    trend_rows = {m.group: m for m in case_metrics(start=start, end=end, by=by, tz=zone, now=now)}
    trend: dict[str, dict[str, Any]] = {}
    for day in period.each_day():
        bucket = bucket_of(day, by)
        if bucket not in trend:
            trend[bucket] = {"bucket": bucket, "from": day.isoformat(),
                             **_case_figures(trend_rows.get(bucket))}  # fmt: skip
        trend[bucket]["interactions"] += interactions(Period(day, day))
        trend[bucket]["last"] = day
    for row in trend.values():
        side = Period(dt.date.fromisoformat(row["from"]), row.pop("last"))
        row.update(feedback_figures_of(_raw_feedback(side)))
    breakdowns: dict[str, list[dict[str, Any]]] = {}
    for dimension in BREAKDOWNS:
        rows: dict[str, dict[str, Any]] = {}
        if dimension in ("channel", "kind", "team", "agent"):
            for m in case_metrics(start=start, end=end, by=dimension, tz=zone, now=now):
                rows[m.group] = _case_figures(m)
        if dimension in ("tier", "product"):
            sums: dict[str, dict[str, int]] = defaultdict(dict)
            for (_day, d, value), counters in grouped.items():
                if d == dimension:
                    _add(sums[value], counters)
            rows = {value: figures_of(counters) for value, counters in sums.items()}
        for _day, d, value in logged:
            if d == dimension and value not in rows:
                rows[value] = figures_of({})
        for value, row in rows.items():
            if dimension in ("channel", "type"):
                row["interactions"] = interactions(period, dimension, value)
        if dimension in ANSWER_DIMENSIONS:
            for value in _raw_feedback_values(period, dimension) | set(rows):
                counts = _raw_feedback(period, dimension, value)
                rows.setdefault(value, figures_of({})).update(feedback_figures_of(counts))
        names = labels(dimension, rows)
        breakdowns[dimension] = [
            {"value": value, "label": names[value], **rows[value]}
            for value in sorted(rows, key=lambda v: (names[v].lower(), v))
        ]
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "days": period.days},
        "previous": {"from": previous.start.isoformat(), "to": previous.end.isoformat()},
        "time_zone": settings.TIME_ZONE,
        "totals": totals,
        "previous_totals": before,
        "delta": delta(totals, before),
        "trend_by": by,
        "trend": list(trend.values()),
        "breakdowns": breakdowns,
    }  # fmt: skip


def _feedback_scopes(
    period: Period, dimension: str = "", value: str = ""
) -> tuple[QuerySet[Any], QuerySet[Any], QuerySet[Any]]:
    """The answers, verdicts and care follow-ups of a period (in a segment), unaggregated."""
    lower, upper = period_bounds(period.start, period.end, business_zone().key)
    scopes = [
        responses_in_period(start=period.start, end=period.end, tz=business_zone().key),
        CaseVerdict.objects.filter(resolved_at__gte=lower, resolved_at__lt=upper),
        Recovery.objects.filter(opened_at__gte=lower, opened_at__lt=upper),
    ]
    if dimension:
        fields = (ANSWER_DIMENSIONS[dimension], VERDICT_DIMENSIONS[dimension],
                  RECOVERY_DIMENSIONS[dimension])  # fmt: skip
        scopes = [
            in_segment(scope, field, value) for scope, field in zip(scopes, fields, strict=True)
        ]
    return scopes[0], scopes[1], scopes[2]


def _raw_feedback(period: Period, dimension: str = "", value: str = "") -> dict[str, int]:
    """The feedback counts of a period through feedback.metrics.score_counts (its one
    definition), verdicts and follow-ups counted directly."""
    answers, verdicts, recoveries = _feedback_scopes(period, dimension, value)
    counts = score_counts(answers)
    counts["verdicts"] = verdicts.count()
    counts["delighted"] = verdicts.filter(verdict=Verdict.EXCEEDED).count()
    counts["recoveries_judged"] = recoveries.filter(won_back__isnull=False).count()
    counts["recoveries_won"] = recoveries.filter(won_back=True).count()
    return counts


def _raw_feedback_values(period: Period, dimension: str) -> set[str]:
    answers, verdicts, recoveries = _feedback_scopes(period)
    fields = (ANSWER_DIMENSIONS[dimension], VERDICT_DIMENSIONS[dimension],
              RECOVERY_DIMENSIONS[dimension])  # fmt: skip
    values: set[str] = set()
    for scope, field in zip((answers, verdicts, recoveries), fields, strict=True):
        values |= segment_values(scope, field)
    return values


def dashboard_numbers(board: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of a dashboard answer, keyed, to compare two answers (labels left out)."""
    out: dict[str, Any] = {
        "totals": dict(board["totals"]),
        "previous_totals": dict(board["previous_totals"]),
        "trend": {row["bucket"]: {k: row[k] for k in FIGURES} for row in board["trend"]},
    }
    for dimension, rows in board["breakdowns"].items():
        out[dimension] = {
            row["value"]: {k: row[k] for k in FIGURES}
            for row in rows
            if any(row[k] for k in FIGURES)  # a value with nothing in the period is no row
        }
    return out


def period_resolve(
    *,
    preset: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
    calendar: str = Calendar.GREGORIAN,
) -> tuple[Period, str]:
    """The period asked for: a preset (first), or ``start``…``end``; neither → the last 30 days.
    → (period, the preset's name or "" for a custom range)."""
    today = today or business_today()
    if not preset and (start is not None or end is not None):
        if start is None or end is None:
            raise InputError("from" if start is None else "to", "give both from and to")
        return period_check(start, end), ""
    preset = preset or "30d"
    return period_preset(preset, today=today, calendar=calendar), preset


def daily_rows(*, start: dt.date, end: dt.date, dimension: str = "") -> list[dict[str, Any]]:
    """Day by day, the figures of every value of ``dimension`` ("" the whole business): the
    rows of the CSV export. Each day of the period is there, with zeros when nothing happened
    (for the whole business; a segment only on its days)."""
    if dimension and dimension not in BREAKDOWNS:
        raise InputError("table", f"{dimension!r} is not one of totals, {', '.join(BREAKDOWNS)}")
    period = period_check(start, end)
    found = {
        (row["day"], row["value"]): row
        for row in DailyFigures.objects.filter(
            dimension=dimension, day__gte=start, day__lte=end
        ).values("day", "value", *COUNTERS)
    }
    keys = sorted(found) if dimension else [(day, "") for day in period.each_day()]
    names = labels(dimension, {value for _day, value in keys}) if dimension else {"": ""}
    return [
        {"day": day.isoformat(), "value": value, "label": names[value],
         **figures_of(found.get((day, value), {}))}
        for day, value in keys
    ]  # fmt: skip
