"""The service team's numbers: response and resolution times, SLA attainment, backlog, reopen
rate and hand-offs, for a period, overall or by kind, team, agent, channel, day, week or month.

Definitions (docs/metrics.md says the same for readers):

- A period is ``[start, end]``, whole local days in ``tz`` (the business's zone by default).
- **opened**: cases whose ``opened_at`` falls in the period; they are the cohort of the
  first-response time and of hand-offs.
- **first-response time**: ``first_responded_at − opened_at`` of the opened cases that have a
  first response, wall-clock and in business minutes on their catalog entry's calendar (cases
  without an entry count in wall-clock figures only); mean and median.
- **resolved**: cases whose ``resolved_at`` falls in the period; resolution time is
  ``resolved_at − opened_at`` of those, wall-clock and business; mean and median.
- **SLA attainment** of a target (first response, resolution): among the cases whose due time
  for that target falls in the period and is already past, the share met — answered
  (resolved) at or before the due time. A case never answered is a breach. ``None`` when no due
  time fell in the period.
- **backlog**: cases opened by the end of the period and not resolved by then (still open, or
  resolved after the end), closed ones excluded when they were closed without resolving.
- **reopen rate**: among the resolved cases, the share that were reopened after a resolution
  (at any time, as their history says).
- **hand-offs per case**: hand-off events (kind changes) of the opened cases divided by the
  opened cases.

A group is the case's *current* kind, team, assignee and channel; a day / week (starting on
the locale's first weekday is the UI's business; here ISO weeks, Monday) / month group is the
local date the case opened (for resolved figures: the date it was resolved).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from khoshnud import events
from khoshnud.cases.models import Case, CaseEvent, CaseStatus
from khoshnud.inputs import InputError
from khoshnud.servicelevels.business_time import Schedule, business_minutes_between
from khoshnud.servicelevels.models import BusinessCalendar
from khoshnud.servicelevels.selectors import calendar_schedule

TIME_GROUPS = ("day", "week", "month")
GROUPS = ("kind", "team", "agent", "channel", *TIME_GROUPS)
_FIELDS = (
    "id", "kind", "team_id", "assignee_id", "channel", "status", "opened_at",
    "first_responded_at", "resolved_at", "first_response_due", "resolution_due",
    "service_level__calendar_id",
)  # fmt: skip


@dataclass
class CaseMetrics:
    group: str  # "" for the whole period
    opened: int = 0
    resolved: int = 0
    first_response_minutes_mean: float | None = None
    first_response_minutes_median: float | None = None
    first_response_business_minutes_median: float | None = None
    resolution_minutes_mean: float | None = None
    resolution_minutes_median: float | None = None
    resolution_business_minutes_median: float | None = None
    first_response_attainment: float | None = None  # percent
    first_response_judged: int = 0
    resolution_attainment: float | None = None  # percent
    resolution_judged: int = 0
    backlog: int = 0
    reopen_rate: float | None = None  # percent
    handoffs: int = 0
    handoffs_per_case: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Acc:
    opened: int = 0
    resolved: int = 0
    frt: list[float] = field(default_factory=list)
    frt_business: list[float] = field(default_factory=list)
    res: list[float] = field(default_factory=list)
    res_business: list[float] = field(default_factory=list)
    fr_met: int = 0
    fr_judged: int = 0
    res_met: int = 0
    res_judged: int = 0
    backlog: int = 0
    reopened: int = 0
    handoffs: int = 0


def period_bounds(start: dt.date, end: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """``[start 00:00, the day after end 00:00)`` in ``tz`` as aware datetimes."""
    if end < start:
        raise InputError("to", f"the period ends ({end}) before it starts ({start})")
    zone = ZoneInfo(tz)
    lower = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return lower, upper


def case_metrics(
    *,
    start: dt.date,
    end: dt.date,
    by: str = "",
    tz: str | None = None,
    now: dt.datetime | None = None,
    team_ids: Iterable[int] | None = None,
) -> list[CaseMetrics]:
    """The numbers of the period, one row per group (one row, group "", without ``by``).

    ``team_ids`` restricts to those teams' cases (an agent's view); None means all cases.
    """
    if by and by not in GROUPS:
        raise InputError("by", f"{by!r} is not one of {', '.join(GROUPS)}")
    zone_name = tz or settings.TIME_ZONE
    zone = ZoneInfo(zone_name)
    lower, upper = period_bounds(start, end, zone_name)
    now = now or timezone.now()
    judged_until = min(upper, now)
    scope = Case.objects.all()
    if team_ids is not None:
        scope = scope.filter(team_id__in=list(team_ids))
    touching = (
        Q(opened_at__gte=lower, opened_at__lt=upper)
        | Q(resolved_at__gte=lower, resolved_at__lt=upper)
        | Q(first_response_due__gte=lower, first_response_due__lt=judged_until)
        | Q(resolution_due__gte=lower, resolution_due__lt=judged_until)
        | (Q(opened_at__lt=upper) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=upper)))
    )
    rows = list(scope.filter(touching).values(*_FIELDS))
    ids = [r["id"] for r in rows]
    handoffs, reopened = _history_counts(ids)
    schedules = _Schedules()
    groups: dict[str, _Acc] = defaultdict(_Acc)
    # The backlog is counted at the end of the period, or of each day / week / month.
    buckets = _time_buckets(start, end, by, zone) if by in TIME_GROUPS else [("", upper)]

    def key(row: dict[str, Any], moment: dt.datetime | None) -> str:
        if not by:
            return ""
        if by in TIME_GROUPS:
            return _bucket((moment or row["opened_at"]).astimezone(zone).date(), by)
        value = {"kind": row["kind"], "team": row["team_id"], "agent": row["assignee_id"],
                 "channel": row["channel"]}[by]  # fmt: skip
        return "" if value is None else str(value)

    for row in rows:
        opened_at: dt.datetime = row["opened_at"]
        responded, resolved = row["first_responded_at"], row["resolved_at"]
        schedule = schedules.get(row["service_level__calendar_id"])
        if lower <= opened_at < upper:
            acc = groups[key(row, opened_at)]
            acc.opened += 1
            acc.handoffs += handoffs.get(row["id"], 0)
            if responded is not None:
                acc.frt.append((responded - opened_at).total_seconds() / 60)
                if schedule is not None:
                    acc.frt_business.append(
                        business_minutes_between(schedule, opened_at, responded)
                    )
        if resolved is not None and lower <= resolved < upper:
            acc = groups[key(row, resolved)]
            acc.resolved += 1
            acc.reopened += row["id"] in reopened
            acc.res.append((resolved - opened_at).total_seconds() / 60)
            if schedule is not None:
                acc.res_business.append(business_minutes_between(schedule, opened_at, resolved))
        due = row["first_response_due"]
        if due is not None and lower <= due < judged_until:
            acc = groups[key(row, due)]
            acc.fr_judged += 1
            acc.fr_met += responded is not None and responded <= due
        due = row["resolution_due"]
        if due is not None and lower <= due < judged_until:
            acc = groups[key(row, due)]
            acc.res_judged += 1
            acc.res_met += resolved is not None and resolved <= due
        if row["status"] == CaseStatus.CLOSED and resolved is None:
            continue  # closed without resolving: when is not kept, so it is in no backlog
        for name, ends in buckets:
            if opened_at < ends and (resolved is None or resolved >= ends):
                groups[name if by in TIME_GROUPS else key(row, None)].backlog += 1
    if not by:
        groups.setdefault("", _Acc())
    return [_finish(name, acc) for name, acc in sorted(groups.items())]


def _bucket(day: dt.date, by: str) -> str:
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def _time_buckets(
    start: dt.date, end: dt.date, by: str, zone: ZoneInfo
) -> list[tuple[str, dt.datetime]]:
    """Each day / week / month of the period with the moment it ends (the period's end at
    most: a month cut by the period ends with it)."""
    ends: dict[str, dt.date] = {}
    day = start
    while day <= end:
        ends[_bucket(day, by)] = day  # the last day of the bucket inside the period
        day += dt.timedelta(days=1)
    return [
        (name, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone))
        for name, last in ends.items()
    ]


def _finish(name: str, acc: _Acc) -> CaseMetrics:
    return CaseMetrics(
        group=name,
        opened=acc.opened,
        resolved=acc.resolved,
        first_response_minutes_mean=_mean(acc.frt),
        first_response_minutes_median=_median(acc.frt),
        first_response_business_minutes_median=_median(acc.frt_business),
        resolution_minutes_mean=_mean(acc.res),
        resolution_minutes_median=_median(acc.res),
        resolution_business_minutes_median=_median(acc.res_business),
        first_response_attainment=_percent(acc.fr_met, acc.fr_judged),
        first_response_judged=acc.fr_judged,
        resolution_attainment=_percent(acc.res_met, acc.res_judged),
        resolution_judged=acc.res_judged,
        backlog=acc.backlog,
        reopen_rate=_percent(acc.reopened, acc.resolved),
        handoffs=acc.handoffs,
        handoffs_per_case=round(acc.handoffs / acc.opened, 3) if acc.opened else None,
    )


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _history_counts(case_ids: list[int]) -> tuple[dict[int, int], set[int]]:
    """Hand-offs per case, and the cases reopened after a resolution (two queries per 10,000)."""
    handoffs: dict[int, int] = {}
    reopened: set[int] = set()
    for start in range(0, len(case_ids), 10_000):
        chunk = case_ids[start : start + 10_000]
        handoffs.update(
            CaseEvent.objects.filter(case_id__in=chunk, action__in=events.HANDOFF_ACTIONS)
            .values("case_id")
            .annotate(n=Count("id"))
            .values_list("case_id", "n")
        )
        reopened.update(
            CaseEvent.objects.filter(
                case_id__in=chunk,
                action=events.CASE_STATUS_CHANGED,
                changes__status__from=CaseStatus.RESOLVED,
                changes__status__to=CaseStatus.OPEN,
            ).values_list("case_id", flat=True)
        )
    return handoffs, reopened


class _Schedules:
    def __init__(self) -> None:
        self._by_calendar: dict[int, Schedule] = {}

    def get(self, calendar_id: int | None) -> Schedule | None:
        if calendar_id is None:
            return None
        if calendar_id not in self._by_calendar:
            calendar = BusinessCalendar.objects.get(pk=calendar_id)
            self._by_calendar[calendar_id] = calendar_schedule(calendar=calendar)
        return self._by_calendar[calendar_id]
