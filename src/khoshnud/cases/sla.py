"""SLA clocks: the pause while a case waits on the customer, the breach scan, and telling the
team lead (inside the team's working hours).

The clock of a case runs on its catalog entry's business calendar. While the case is
``waiting`` the clock is stopped (``paused_at``); when it leaves ``waiting`` the due times still
ahead are moved by the business time that passed, so a customer who takes a day to answer does
not eat the team's time. The breach scan reads two small partial indexes (running cases not yet
found breached, by due time): one query per target however many cases are open.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from khoshnud import events
from khoshnud.accounts.models import Role
from khoshnud.cases.models import (
    PRIORITY_ORDER,
    Case,
    CaseBreach,
    CaseEvent,
    CaseStatus,
    Notification,
    Priority,
    Target,
)
from khoshnud.db import datetime_adapter, insert_rows, is_postgres, json_adapter
from khoshnud.servicelevels.business_time import (
    Schedule,
    business_add_duration,
    business_duration,
    next_working_moment,
)
from khoshnud.servicelevels.models import BusinessCalendar, ServiceLevel
from khoshnud.servicelevels.selectors import calendar_schedule


class CaseRef(Protocol):
    """What the notifier and the schedules need of a case (a ``Case`` or a scan's row)."""

    pk: int
    team_id: int | None
    service_level_id: int | None


# Running cases: their clocks tick. A waiting case is paused; a resolved or closed one is done.
RUNNING_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN)


class Schedules:
    """The business calendar of each case's catalog entry, loaded once per calendar."""

    def __init__(self) -> None:
        self._by_calendar: dict[int, Schedule] = {}
        self._calendar_of: dict[int, int] = {}

    def for_levels(self, level_ids: Iterable[int]) -> None:
        """Learn the calendars of these catalog entries in one query."""
        missing = {i for i in level_ids if i not in self._calendar_of}
        if missing:
            self._calendar_of.update(
                ServiceLevel.objects.filter(pk__in=missing).values_list("pk", "calendar_id")
            )

    def of_case(self, case: CaseRef) -> Schedule | None:
        """The schedule a case's clock runs on (None without a catalog entry)."""
        if case.service_level_id is None:
            return None
        return self.of_level(case.service_level_id)

    def of_level(self, level_id: int) -> Schedule | None:
        self.for_levels([level_id])
        calendar_id = self._calendar_of.get(level_id)
        if calendar_id is None:
            return None
        schedule = self._by_calendar.get(calendar_id)
        if schedule is None:
            calendar = BusinessCalendar.objects.get(pk=calendar_id)
            schedule = self._by_calendar[calendar_id] = calendar_schedule(calendar=calendar)
        return schedule


def sla_pause(case: Case, *, at: dt.datetime) -> list[str]:
    """Stop the case's clock at ``at`` (the case becomes ``waiting``). → fields changed."""
    if case.paused_at is not None:
        return []
    case.paused_at = at
    return ["paused_at"]


def sla_resume(
    case: Case, *, at: dt.datetime, schedules: Schedules | None = None
) -> tuple[list[str], dict[str, Any]]:
    """Start the clock again at ``at``: the due times still to be met move later by the business
    time the case waited (the first response only while none was given). → (fields changed,
    the history's ``changes``: the business minutes paused and each due time from → to)."""
    if case.paused_at is None:
        return [], {}
    since, case.paused_at = case.paused_at, None
    fields: list[str] = ["paused_at"]
    changes: dict[str, Any] = {}
    schedule = (schedules or Schedules()).of_case(case)
    if schedule is None or at <= since:
        return fields, changes
    paused = business_duration(schedule, since, at)
    changes["paused_business_minutes"] = round(paused.total_seconds() / 60, 1)
    if not paused:
        return fields, changes
    for name in ("first_response_due", "resolution_due"):
        due = getattr(case, name)
        if due is None or (name == "first_response_due" and case.first_responded_at is not None):
            continue
        moved = business_add_duration(schedule, due, paused)
        setattr(case, name, moved)
        fields.append(name)
        changes[name] = {"from": due.isoformat(), "to": moved.isoformat()}
    return fields, changes


def raised_one_step(priority: str) -> str:
    """One step up, to urgent at most (a missed promise may become urgent)."""
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


def team_leads(*, team_ids: Iterable[int]) -> dict[int, list[int]]:
    """team id → the ids of its leads: its active members with the manager (or admin) role;
    a team with none falls back to every active manager, so a breach is never told to nobody."""
    wanted = {t for t in team_ids if t is not None}
    leads: dict[int, list[int]] = {t: [] for t in wanted}
    rows = (
        User.objects.filter(
            teams__in=wanted,
            is_active=True,
            groups__name__in=[Role.MANAGER, Role.ADMIN],
        )
        .values_list("teams", "pk")
        .distinct()
        .order_by("pk")
    )
    for team_id, user_id in rows:
        if team_id in leads and user_id not in leads[team_id]:
            leads[team_id].append(user_id)
    if any(not ids for ids in leads.values()):
        managers = list(
            User.objects.filter(is_active=True, groups__name__in=[Role.MANAGER, Role.ADMIN])
            .values_list("pk", flat=True)
            .distinct()
            .order_by("pk")
        )
        for ids in leads.values():
            if not ids:
                ids.extend(managers)
    return leads


@dataclass(frozen=True)
class NoteRow:
    user_id: int
    case_id: int
    action: str
    data: dict[str, Any]
    visible_from: dt.datetime


def notifications_for_leads(
    *,
    cases: Sequence[CaseRef],
    action: str,
    data: dict[int, dict[str, Any]],
    now: dt.datetime,
    schedules: Schedules,
) -> list[NoteRow]:
    """Notifications of ``action`` about each case to its team's leads, each visible from the
    next working moment of the case's calendar (now, inside working hours); write them with
    ``notifications_write``."""
    leads = team_leads(team_ids={c.team_id for c in cases if c.team_id is not None})
    out = []
    for case in cases:
        if case.team_id is None:
            continue
        schedule = schedules.of_case(case)
        visible = next_working_moment(schedule, now) if schedule is not None else now
        for user_id in leads.get(case.team_id, []):
            out.append(NoteRow(user_id, case.pk, action, data.get(case.pk, {}), visible))
    return out


def notifications_write(rows: Sequence[NoteRow], *, now: dt.datetime) -> int:
    """Insert the notifications in one statement; → how many."""
    at, as_json = datetime_adapter(), json_adapter()
    insert_rows(
        table=Notification._meta.db_table,
        columns=("user_id", "case_id", "action", "data", "created_at", "visible_from"),
        rows=[(n.user_id, n.case_id, n.action, as_json(n.data), at(now), at(n.visible_from))
              for n in rows],
        types=("integer", "bigint", "text", "jsonb", "timestamptz", "timestamptz"),
    )  # fmt: skip
    return len(rows)


@dataclass
class _Watched:
    """A case the scan found, as plain values (a model instance each costs more than the rest
    of the scan's Python: measured on 2,000 breaches)."""

    pk: int
    priority: str
    team_id: int | None
    service_level_id: int | None
    first_response_due: dt.datetime | None
    resolution_due: dt.datetime | None
    first_response_breached_at: dt.datetime | None
    resolution_breached_at: dt.datetime | None
    first_responded_at: dt.datetime | None


@dataclass
class BreachScan:
    """What one scan found: case ids per target (newly breached), notifications written."""

    first_response: list[int] = field(default_factory=list)
    resolution: list[int] = field(default_factory=list)
    notifications: int = 0

    @property
    def breaches(self) -> int:
        return len(self.first_response) + len(self.resolution)


def _late_first_response(now: dt.datetime) -> Q:
    # The predicate of the partial index case_first_response_watch, and due < now.
    return Q(
        status__in=RUNNING_STATUSES,
        first_responded_at__isnull=True,
        first_response_breached_at__isnull=True,
        first_response_due__isnull=False,
        first_response_due__lt=now,
    )


def _late_resolution(now: dt.datetime) -> Q:
    # The predicate of the partial index case_resolution_watch, and due < now.
    return Q(
        status__in=RUNNING_STATUSES,
        resolution_breached_at__isnull=True,
        resolution_due__isnull=False,
        resolution_due__lt=now,
    )


def breaching_now(*, now: dt.datetime) -> tuple[list[int], list[int]]:
    """The ids of running cases whose first-response / resolution due time has passed and that
    are not yet recorded as breached. A case due exactly ``now`` is not late yet (due < now).
    Two index range scans (``case_first_response_watch``, ``case_resolution_watch``)."""
    return (
        list(
            Case.objects.filter(_late_first_response(now)).order_by().values_list("pk", flat=True)
        ),
        list(Case.objects.filter(_late_resolution(now)).order_by().values_list("pk", flat=True)),
    )


def breach_scan(*, now: dt.datetime | None = None) -> BreachScan:
    """Find the running cases that have missed a target, and for each new breach: record it
    (``CaseBreach``, once per case and target), raise the case's priority one step (once per
    scan, to urgent at most), write ``case.breached`` to its history, and notify its team's
    leads — visible from the next working moment of the case's calendar.

    One transaction; the cases found are locked (skipping rows another scan holds) and marked
    breached, so a retried or concurrent scan never records, raises or notifies twice. The
    decision is ``breaching_now``'s (the same conditions), made while locking.
    """
    now = now or timezone.now()
    result = BreachScan()
    with transaction.atomic():
        # One query over the two partial indexes (a BitmapOr on PostgreSQL) that also locks
        # what it finds, skipping rows a concurrent scan holds.
        cases = [
            _Watched(*row)
            for row in Case.objects.select_for_update(skip_locked=True)
            .filter(_late_first_response(now) | _late_resolution(now))
            .order_by("pk")
            .values_list(
                "pk", "priority", "team_id", "service_level_id", "first_response_due",
                "resolution_due", "first_response_breached_at", "resolution_breached_at",
                "first_responded_at",
            )
        ]  # fmt: skip
        at, as_json = datetime_adapter(), json_adapter()
        stamp = at(now)
        breaches: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        data: dict[int, dict[str, Any]] = {}
        touched: list[_Watched] = []
        for case in cases:
            missed = []
            due = case.first_response_due
            if (
                case.first_responded_at is None
                and case.first_response_breached_at is None
                and due is not None
                and due < now
            ):
                missed.append((Target.FIRST_RESPONSE.value, case.first_response_due))
                case.first_response_breached_at = now
                result.first_response.append(case.pk)
            due = case.resolution_due
            if case.resolution_breached_at is None and due is not None and due < now:
                missed.append((Target.RESOLUTION.value, case.resolution_due))
                case.resolution_breached_at = now
                result.resolution.append(case.pk)
            if not missed:
                continue
            before, case.priority = case.priority, raised_one_step(case.priority)
            touched.append(case)
            breaches += [(case.pk, target, at(due), stamp) for target, due in missed]
            changes: dict[str, Any] = {
                "targets": [t for t, _ in missed],
                "due": {t: d.isoformat() for t, d in missed if d is not None},
            }
            if before != case.priority:
                changes["priority"] = {"from": before, "to": case.priority}
            history.append((case.pk, None, events.CASE_BREACHED, as_json(changes), "", stamp))
            data[case.pk] = {"targets": changes["targets"], "priority": case.priority}
        if not touched:
            return result
        _mark_breached(touched, now)
        insert_rows(  # the unique (case, target) key refuses a second record
            table=CaseBreach._meta.db_table,
            columns=("case_id", "target", "due", "detected_at"),
            rows=breaches,
            types=("bigint", "text", "timestamptz", "timestamptz"),
        )
        insert_rows(
            table=CaseEvent._meta.db_table,
            columns=("case_id", "actor_id", "action", "changes", "reason", "created_at"),
            rows=history,
            types=("bigint", "integer", "text", "jsonb", "text", "timestamptz"),
        )
        schedules = Schedules()
        schedules.for_levels({c.service_level_id for c in touched if c.service_level_id})
        notes = notifications_for_leads(
            cases=touched, action=events.CASE_BREACHED, data=data, now=now, schedules=schedules
        )
        result.notifications = notifications_write(notes, now=now)
    return result


def _mark_breached(cases: Sequence[_Watched], now: dt.datetime) -> None:
    """Write each case's breach stamps and raised priority in one row update per case (on
    PostgreSQL one ``UPDATE … FROM unnest(…)``: a row rewritten once, not once per column
    group — each rewrite touches every index of the table)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {Case._meta.db_table} AS c SET priority = v.priority,
                      first_response_breached_at = v.first_breached,
                      resolution_breached_at = v.resolution_breached, updated_at = %s
                    FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[])
                      AS v(id, priority, first_breached, resolution_breached)
                    WHERE c.id = v.id""",  # noqa: S608 - table name from code
                [now, [c.pk for c in cases], [c.priority for c in cases],
                 [c.first_response_breached_at for c in cases],
                 [c.resolution_breached_at for c in cases]],
            )  # fmt: skip
        return
    groups: dict[tuple[str, Any, Any], list[int]] = defaultdict(list)
    for c in cases:
        groups[(c.priority, c.first_response_breached_at, c.resolution_breached_at)].append(c.pk)
    for (priority, first, resolution), ids in groups.items():
        Case.objects.filter(pk__in=ids).update(
            priority=priority,
            first_response_breached_at=first,
            resolution_breached_at=resolution,
            updated_at=now,
        )


def breaching_naive(*, now: dt.datetime) -> tuple[list[int], list[int]]:
    """The same decision as ``breaching_now`` made in Python over every open case's row: the
    baseline the benchmark compares the indexed query with."""
    first, resolution = [], []
    rows = Case.objects.filter(status__in=[*RUNNING_STATUSES, CaseStatus.WAITING]).values_list(
        "pk", "status", "first_responded_at", "first_response_due",
        "first_response_breached_at", "resolution_due", "resolution_breached_at",
    )  # fmt: skip
    for pk, status, responded, fr_due, fr_breached, res_due, res_breached in rows.iterator(
        chunk_size=10_000
    ):
        if status not in RUNNING_STATUSES:
            continue
        if responded is None and fr_breached is None and fr_due is not None and fr_due < now:
            first.append(pk)
        if res_breached is None and res_due is not None and res_due < now:
            resolution.append(pk)
    return first, resolution
