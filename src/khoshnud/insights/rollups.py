"""Writes of the insights app: the daily rollups, rebuilt day by day from the raw tables.

``rollups_build(start, end)`` recomputes whole local days (every dimension of them) in one
transaction: the rows of those days are deleted and written again, so running it twice gives
the same rows. ``rollups_refresh()`` finds the days touched since the last run (cases changed,
interactions stored, due times passed) and rebuilds those and today; the periodic job
``insights.refresh`` calls it every minute. ``rollups_rebuild()`` starts from scratch.

The figures are the definitions of docs/metrics.md (khoshnud.cases.metrics computes the same
ones case by case, khoshnud.feedback.metrics the answers' ones; the tests and ``khoshnud bench
dashboard`` check that the rollups agree with them).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from khoshnud.cases.metrics import period_bounds
from khoshnud.cases.models import Case
from khoshnud.cases.products import cases_products_infer
from khoshnud.customers.models import Customer
from khoshnud.feedback.metrics import CSAT_SATISFIED_MIN, DETRACTOR_MAX, PROMOTER_MIN
from khoshnud.feedback.models import (
    CaseVerdict,
    Recovery,
    ScoreKind,
    SurveyResponse,
    Verdict,
)
from khoshnud.insights.models import DailyFigures, RollupState
from khoshnud.interactions.models import Interaction

# What a dimension groups by: a field, an expression (Coalesce), or None (the whole business).
Dimension = str | Combinable | None
# dimension → the case field it groups by ("" is the whole business).
CASE_DIMENSIONS: dict[str, Dimension] = {
    "": None,
    "channel": "channel",
    "kind": "kind",
    "team": "team_id",
    "agent": "assignee_id",
    "tier": "customer__tier",
    "product": "product_id",
}
INTERACTION_DIMENSIONS: dict[str, str | None] = {"": None, "channel": "channel", "type": "type"}
# A survey answer belongs to the channel it came by, to its case's kind and team, to the agent
# it rates, to its customer's tier, and to the product it names itself, else its case's.
ANSWER_DIMENSIONS: dict[str, Dimension] = {
    "": None,
    "channel": "channel",
    "kind": "case__kind",
    "team": "case__team_id",
    "agent": "agent_id",
    "tier": "customer__tier",
    "product": Coalesce("product_id", "case__product_id", output_field=BigIntegerField()),
}
# A verdict is its case's; a care follow-up belongs where the unhappy answer did.
VERDICT_DIMENSIONS: dict[str, Dimension] = {
    name: None if f is None else f"case__{f}"
    for name, f in CASE_DIMENSIONS.items()
    if f is None or isinstance(f, str)
}
RECOVERY_DIMENSIONS: dict[str, Dimension] = {
    "": None,
    "channel": "response__channel",
    "kind": "response__case__kind",
    "team": "response__case__team_id",
    "agent": "response__agent_id",
    "tier": "customer__tier",
    "product": Coalesce(
        "response__product_id", "response__case__product_id", output_field=BigIntegerField()
    ),
}
# Cases whose product is inferred per refresh at most (the first refresh after an upgrade
# catches up over several runs; ``khoshnud insights rebuild`` does them all).
INFER_PER_REFRESH = 100_000
# A transaction may commit a while after the row's updated_at: look back this much further.
REFRESH_OVERLAP = dt.timedelta(minutes=10)
# Ids are handed out before commit: a row with a lower id can commit after a higher one was
# seen. Look back this many ids further (an index range scan).
REFRESH_ID_OVERLAP = 20_000
_MICROSECOND = dt.timedelta(microseconds=1)

Key = tuple[dt.date, str, str]


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def in_segment(queryset: QuerySet[Any], field: Dimension, value: str) -> QuerySet[Any]:
    """The rows of ``queryset`` whose dimension ``field`` is ``value`` ("": none)."""
    if field is None:
        return queryset
    if not isinstance(field, str):
        queryset, field = queryset.alias(segment_value=field), "segment_value"
    return queryset.filter(**({f"{field}__isnull": True} if value == "" else {field: value}))


def segment_values(queryset: QuerySet[Any], field: Dimension) -> set[str]:
    """The values of dimension ``field`` among the rows of ``queryset`` ("" for none)."""
    assert field is not None
    if not isinstance(field, str):
        queryset, field = queryset.annotate(segment_value=field), "segment_value"
    found = queryset.values_list(field, flat=True).distinct().order_by()
    return {"" if v is None else str(v) for v in found}


def _grouped(
    queryset: Any, moment: str, field: Dimension, zone: ZoneInfo, **aggregates: Any
) -> Iterable[tuple[dt.date, str, dict[str, Any]]]:
    """Rows of ``queryset`` grouped by the local day of ``moment`` and by ``field``."""
    names: dict[str, Any] = {"rollup_day": TruncDate(moment, tzinfo=zone)}
    if field is not None:
        names["rollup_value"] = F(field) if isinstance(field, str) else field
    rows = queryset.annotate(**names).values(*names).annotate(**aggregates).order_by()
    for row in rows:
        value = row.get("rollup_value")
        yield row["rollup_day"], "" if value is None else str(value), row


def _us(value: dt.timedelta | None) -> int:
    return 0 if value is None else value // _MICROSECOND


def day_figures(
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime | None = None,
    case_dimensions: Iterable[str] = tuple(CASE_DIMENSIONS),
    interaction_dimensions: Iterable[str] = tuple(INTERACTION_DIMENSIONS),
    answer_dimensions: Iterable[str] = tuple(ANSWER_DIMENSIONS),
) -> dict[Key, dict[str, int]]:
    """Every rollup counter of the local days ``start``…``end``, straight from the raw tables
    (only the dimensions named)."""
    zone = business_zone()
    lower, upper = period_bounds(start, end, zone.key)
    judged_until = min(upper, now or timezone.now())
    out: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cases = Case.objects.all()
    for dimension in case_dimensions:
        field = CASE_DIMENSIONS[dimension]
        opened = cases.filter(opened_at__gte=lower, opened_at__lt=upper)
        for day, value, row in _grouped(
            opened, "opened_at", field, zone,
            n=Count("id"), fr_n=Count("first_responded_at"),
            fr_sum=Sum(_duration("first_responded_at", "opened_at")),
        ):  # fmt: skip
            figures = out[day, dimension, value]
            figures["opened"] += row["n"]
            figures["first_response_n"] += row["fr_n"]
            figures["first_response_us"] += _us(row["fr_sum"])
        resolved = cases.filter(resolved_at__gte=lower, resolved_at__lt=upper)
        for day, value, row in _grouped(
            resolved, "resolved_at", field, zone,
            n=Count("id"), res_sum=Sum(_duration("resolved_at", "opened_at")),
        ):  # fmt: skip
            figures = out[day, dimension, value]
            figures["resolved"] += row["n"]
            figures["resolution_n"] += row["n"]
            figures["resolution_us"] += _us(row["res_sum"])
        for target, answered in (
            ("first_response", "first_responded_at"),
            ("resolution", "resolved_at"),
        ):
            due = f"{target}_due"
            judged = cases.filter(**{f"{due}__gte": lower, f"{due}__lt": judged_until})
            met = Q(**{f"{answered}__isnull": False}) & Q(**{f"{answered}__lte": F(due)})
            for day, value, row in _grouped(
                judged, due, field, zone, n=Count("id"), met=Count("id", filter=met)
            ):
                figures = out[day, dimension, value]
                figures[f"{target}_judged"] += row["n"]
                figures[f"{target}_met"] += row["met"]
    logged = Interaction.objects.filter(occurred_at__gte=lower, occurred_at__lt=upper)
    for dimension in interaction_dimensions:
        field = INTERACTION_DIMENSIONS[dimension]
        for day, value, row in _grouped(logged, "occurred_at", field, zone, n=Count("id")):
            out[day, dimension, value]["interactions"] += row["n"]
    _feedback_figures(out, lower, upper, zone, tuple(answer_dimensions))
    return out


def _feedback_figures(
    out: dict[Key, dict[str, int]],
    lower: dt.datetime,
    upper: dt.datetime,
    zone: ZoneInfo,
    dimensions: tuple[str, ...],
) -> None:
    """Answers by the day they were given, verdicts by the day their case was resolved, care
    follow-ups by the day they opened (the counts of feedback.metrics)."""
    nps, csat, ces = Q(kind=ScoreKind.NPS), Q(kind=ScoreKind.CSAT), Q(kind=ScoreKind.CES)
    answers = SurveyResponse.objects.filter(
        answered_at__gte=lower, answered_at__lt=upper, score__isnull=False,
        kind__in=[ScoreKind.NPS, ScoreKind.CSAT, ScoreKind.CES],
    )  # fmt: skip
    verdicts = CaseVerdict.objects.filter(resolved_at__gte=lower, resolved_at__lt=upper)
    recoveries = Recovery.objects.filter(opened_at__gte=lower, opened_at__lt=upper)
    for dimension in dimensions:
        for day, value, row in _grouped(
            answers, "answered_at", ANSWER_DIMENSIONS[dimension], zone,
            promoters=Count("id", filter=nps & Q(score__gte=PROMOTER_MIN)),
            passives=Count("id", filter=nps & Q(score__gt=DETRACTOR_MAX, score__lt=PROMOTER_MIN)),
            detractors=Count("id", filter=nps & Q(score__lte=DETRACTOR_MAX)),
            csat_n=Count("id", filter=csat),
            csat_satisfied=Count("id", filter=csat & Q(score__gte=CSAT_SATISFIED_MIN)),
            ces_n=Count("id", filter=ces),
            ces_total=Sum("score", filter=ces),
        ):  # fmt: skip
            figures = out[day, dimension, value]
            for name in ("promoters", "passives", "detractors", "csat_n", "csat_satisfied",
                         "ces_n", "ces_total"):  # fmt: skip
                figures[name] += row[name] or 0
        for day, value, row in _grouped(
            verdicts, "resolved_at", VERDICT_DIMENSIONS[dimension], zone,
            n=Count("id"), delighted=Count("id", filter=Q(verdict=Verdict.EXCEEDED)),
        ):  # fmt: skip
            figures = out[day, dimension, value]
            figures["verdicts"] += row["n"]
            figures["delighted"] += row["delighted"]
        for day, value, row in _grouped(
            recoveries, "opened_at", RECOVERY_DIMENSIONS[dimension], zone,
            judged=Count("id", filter=Q(won_back__isnull=False)),
            won=Count("id", filter=Q(won_back=True)),
        ):  # fmt: skip
            figures = out[day, dimension, value]
            figures["recoveries_judged"] += row["judged"]
            figures["recoveries_won"] += row["won"]


@transaction.atomic
def rollups_build(start: dt.date, end: dt.date, *, now: dt.datetime | None = None) -> int:
    """Recompute the rollup rows of the local days ``start``…``end``; → rows written."""
    figures = day_figures(start, end, now=now)
    DailyFigures.objects.filter(day__gte=start, day__lte=end).delete()
    rows = [
        DailyFigures(day=day, dimension=dimension, value=value[:64], **counters)
        for (day, dimension, value), counters in sorted(figures.items())
        if start <= day <= end
    ]
    DailyFigures.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _state() -> RollupState:
    state = RollupState.objects.select_for_update().order_by("pk").first()
    return state or RollupState.objects.create()


def rollups_rebuild(*, chunk_days: int = 31) -> dict[str, Any]:
    """Every rollup row again from the raw tables, a month of days per transaction (the
    products of the cases not looked at yet inferred first, all of them)."""
    inferred = cases_products_infer()
    now = timezone.now()
    watermarks = _watermarks()
    zone = business_zone()
    first = [
        Case.objects.aggregate(m=Min("opened_at"))["m"],
        Interaction.objects.aggregate(m=Min("occurred_at"))["m"],
        SurveyResponse.objects.aggregate(m=Min("answered_at"))["m"],
        Recovery.objects.aggregate(m=Min("opened_at"))["m"],
    ]
    last = [
        Case.objects.aggregate(m=Max("opened_at"))["m"],
        Case.objects.aggregate(m=Max("resolved_at"))["m"],
        Interaction.objects.aggregate(m=Max("occurred_at"))["m"],
        SurveyResponse.objects.aggregate(m=Max("answered_at"))["m"],
        now,
    ]
    moments = [m for m in first if m is not None]
    start = min(moments).astimezone(zone).date() if moments else now.astimezone(zone).date()
    end = max(m for m in last if m is not None).astimezone(zone).date()
    with transaction.atomic():
        DailyFigures.objects.filter(Q(day__lt=start) | Q(day__gt=end)).delete()
    rows, day = 0, start
    while day <= end:
        until = min(end, day + dt.timedelta(days=chunk_days - 1))
        rows += rollups_build(day, until, now=now)
        day = until + dt.timedelta(days=1)
    with transaction.atomic():
        state = _state()
        state.refreshed_at = state.rebuilt_at = now
        state.interaction_id, state.response_id = watermarks
        state.case_id = max(state.case_id, inferred.last_id)
        state.save()
    return {"from": start.isoformat(), "to": end.isoformat(), "rows": rows}


def _watermarks() -> tuple[int, int]:
    return (
        Interaction.objects.aggregate(m=Max("id"))["m"] or 0,
        SurveyResponse.objects.aggregate(m=Max("id"))["m"] or 0,
    )


def _days_of(moments: Iterable[dt.datetime | None], zone: ZoneInfo) -> set[dt.date]:
    return {m.astimezone(zone).date() for m in moments if m is not None}


def rollups_refresh(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Rebuild the days touched since the last refresh, and today (idempotent)."""
    now = now or timezone.now()
    zone = business_zone()
    with transaction.atomic():
        state = _state()
        since = state.refreshed_at
        seen_interaction, seen_response = state.interaction_id, state.response_id
        seen_case = state.case_id
    if since is None:
        return rollups_rebuild()
    # The products of the cases opened since (docs/metrics.md): set-based, before counting.
    inferred = cases_products_infer(
        after_id=max(0, seen_case - REFRESH_ID_OVERLAP), max_cases=INFER_PER_REFRESH
    )
    watermarks = _watermarks()
    days = {now.astimezone(zone).date()}
    since -= REFRESH_OVERLAP
    days |= _days_of_cases(inferred.found, zone)
    changed = Case.objects.filter(
        Q(updated_at__gte=since)
        | Q(customer__in=Customer.objects.filter(updated_at__gte=since))
        | Q(first_response_due__gte=since, first_response_due__lt=now)
        | Q(resolution_due__gte=since, resolution_due__lt=now)
    )
    touched: list[int] = []
    for pk, updated_at, *row in changed.values_list(
        "pk", "updated_at", "opened_at", "resolved_at", "first_response_due", "resolution_due"
    ).iterator():
        days |= _days_of(row, zone)
        if updated_at >= since:
            touched.append(pk)
    # A case changed by hand (its product, kind or team): its answers move with it.
    days |= _days_of_answers(touched, zone)
    days |= _days_of(
        Interaction.objects.filter(id__gt=seen_interaction - REFRESH_ID_OVERLAP)
        .values_list("occurred_at", flat=True)
        .iterator(),
        zone,
    )
    days |= _days_of(
        SurveyResponse.objects.filter(id__gt=seen_response - REFRESH_ID_OVERLAP)
        .values_list("answered_at", flat=True)
        .iterator(),
        zone,
    )
    days |= _days_of(
        CaseVerdict.objects.filter(decided_at__gte=since)
        .values_list("resolved_at", flat=True)
        .iterator(),
        zone,
    )
    days |= _days_of(
        Recovery.objects.filter(
            Q(opened_at__gte=since) | Q(outcome_at__gte=since)
            | Q(next_response_id__gt=seen_response - REFRESH_ID_OVERLAP)
        )
        .values_list("opened_at", flat=True)
        .iterator(),
        zone,
    )  # fmt: skip
    for day in sorted(days):
        rollups_build(day, day, now=now)
    with transaction.atomic():
        state = _state()
        state.refreshed_at = now
        state.interaction_id, state.response_id = watermarks
        state.case_id = max(state.case_id, inferred.last_id)
        state.save()
    return {"days": len(days), "products_inferred": len(inferred.found)}


def _days_of_cases(case_ids: list[int], zone: ZoneInfo) -> set[dt.date]:
    """The days whose rollups count these cases, their answers, verdicts and follow-ups."""
    days: set[dt.date] = set()
    for i in range(0, len(case_ids), 1000):
        chunk = case_ids[i : i + 1000]
        for row in Case.objects.filter(pk__in=chunk).values_list(
            "opened_at", "resolved_at", "first_response_due", "resolution_due"
        ):
            days |= _days_of(row, zone)
    return days | _days_of_answers(case_ids, zone)


def _days_of_answers(case_ids: list[int], zone: ZoneInfo) -> set[dt.date]:
    """The days of these cases' answers and of their care follow-ups (by the case index)."""
    days: set[dt.date] = set()
    for i in range(0, len(case_ids), 1000):
        chunk = case_ids[i : i + 1000]
        days |= _days_of(
            SurveyResponse.objects.filter(case_id__in=chunk).values_list("answered_at", flat=True),
            zone,
        )
        days |= _days_of(
            Recovery.objects.filter(response__case_id__in=chunk).values_list(
                "opened_at", flat=True
            ),
            zone,
        )
    return days
