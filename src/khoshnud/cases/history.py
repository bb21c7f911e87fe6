"""A desk history recorded after the fact, in bulk: the assignments, status changes and
hand-offs a team made in the past (a history brought in from another tool; the demo's months
of work).

One case at a time, ``case_assign``, ``case_status_set`` and ``case_kind_change`` take ``at=``
too, but cost a dozen queries each: 16 ms a change on SQLite, four minutes for the demo's
16,000 cases. Here the same rules run in memory over a chunk of cases and the rows are written
together (one prepared UPDATE per set of changed fields: Django's ``bulk_update`` builds a
CASE per row and per field: measured under cProfile, 52 of the 53 s this service took for
the demo's 24,000 changes on SQLite; 6 s now, 1.6 s of it the UPDATEs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from khoshnud import events
from khoshnud.accounts.models import ROLE_RANK, AgentProfile, Role, Team
from khoshnud.accounts.selectors import user_role
from khoshnud.cases.models import Case, CaseEvent, CaseKind, CaseStatus
from khoshnud.cases.routing import assignment_refusal
from khoshnud.cases.selectors import teams_by_kind
from khoshnud.cases.services import STATUS_NEXT, _entitled, _update_changed
from khoshnud.cases.sla import Schedules, sla_pause, sla_resume
from khoshnud.db import datetime_adapter, insert_rows, json_adapter
from khoshnud.inputs import InputError
from khoshnud.servicelevels.selectors import ServiceCatalog, service_catalog

_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """One change of one case at a past moment, by ``actor``: a status (``status``), a hand-off
    to another kind (``kind``), or else an assignment to ``assignee``."""

    case_id: int
    at: dt.datetime
    actor: User
    status: str | None = None
    assignee: User | None = None
    reason: str = ""
    kind: str | None = None


@dataclass
class HistoryRecorded:
    changes: int = 0
    resolved: list[int] = field(default_factory=list)  # cases with a resolution at the end
    handed_off: int = 0


class _Rules:
    """The access rule and the assignment rule, answered from memory (one query per staff
    member: their teams; one for the routing profiles)."""

    def __init__(self) -> None:
        self._teams: dict[int, set[int]] = {}
        self._profiles: dict[int, AgentProfile] | None = None
        self._languages: dict[int, str] = {}
        self._tiers: dict[int, str] = {}
        self._names: dict[int, str | None] = {}
        self._kinds: dict[str, Team] | None = None
        self._team_names: dict[int, str] | None = None
        self._members: dict[int, set[int]] = {}
        self._catalog: ServiceCatalog | None = None

    def teams(self, user: User) -> set[int]:
        if user.pk not in self._teams:
            self._teams[user.pk] = set(user.teams.values_list("pk", flat=True))  # type: ignore[attr-defined]
        return self._teams[user.pk]

    def username(self, pk: int | None) -> str | None:
        if pk is None:
            return None
        if pk not in self._names:
            self._names[pk] = User.objects.filter(pk=pk).values_list("username", flat=True).first()
        return self._names[pk]

    def may_change(self, user: User, case: Case) -> bool:
        role = user_role(user)
        if role is None:
            return False
        if ROLE_RANK[role] >= ROLE_RANK[Role.MANAGER]:
            return True
        return case.team_id is not None and case.team_id in self.teams(user)

    def refusal(self, assignee: User, case: Case) -> str | None:
        role = user_role(assignee)
        if not assignee.is_active or role is None or ROLE_RANK[role] < ROLE_RANK[Role.AGENT]:
            return f"{assignee.get_username()} is not active staff"
        if case.team_id is None or case.team_id not in self.teams(assignee):
            return f"{assignee.get_username()} is not in the case's team"
        if self._profiles is None:
            self._profiles = {p.user_id: p for p in AgentProfile.objects.all()}
        return assignment_refusal(
            profile=self._profiles.get(assignee.pk),
            username=assignee.get_username(),
            kind=case.kind,
            language=self._languages.get(case.pk, ""),
        )

    def know_customers(self, cases: Sequence[Case]) -> None:
        """The language and tier of each case's customer (one query)."""
        from khoshnud.customers.models import Customer

        known = {
            pk: (locale, tier)
            for pk, locale, tier in Customer.objects.filter(
                pk__in={c.customer_id for c in cases}
            ).values_list("pk", "locale", "tier")
        }
        for case in cases:
            locale, tier = known.get(case.customer_id, ("", "standard"))
            self._languages[case.pk], self._tiers[case.pk] = locale, tier or "standard"

    def team_for(self, kind: str) -> Team | None:
        if self._kinds is None:
            self._kinds = teams_by_kind()
        return self._kinds.get(kind)

    def team_name(self, pk: int | None) -> str | None:
        if self._team_names is None:
            self._team_names = dict(Team.objects.values_list("pk", "name"))
        return None if pk is None else self._team_names.get(pk)

    def in_team(self, team: Team, user_id: int) -> bool:
        if team.pk not in self._members:
            self._members[team.pk] = set(team.members.values_list("pk", flat=True))
        return user_id in self._members[team.pk]

    def catalog(self) -> ServiceCatalog:
        if self._catalog is None:
            self._catalog = service_catalog()
        return self._catalog

    def tier(self, case: Case) -> str:
        return self._tiers.get(case.pk, "standard")


def case_history_record(*, steps: Sequence[HistoryStep]) -> HistoryRecorded:
    """Record past assignments, status changes and hand-offs under the rules of
    ``case_assign``, ``case_status_set`` and ``case_kind_change``: the access rule for each
    actor, the assignment rule (team, kinds, languages; a new case becomes open), the
    ``STATUS_NEXT`` moves (a closed case is final), the SLA pause and resume, the resolved
    stamp (cleared when reopened), a hand-off's new team and due times (the assignee kept only
    when in the new team), one history row per change dated at its moment. A case's steps
    must come in time order, after it opened and not in the future. Unlike
    ``case_kind_change``, a handed-off case is not routed: who took it next is the history's
    own next step.

    Transactional: a step that breaks a rule refuses the whole call (``InputError`` naming the
    case, or ``PermissionDenied``-like ``InputError`` for the actor), nothing written. Sends no
    ``case_resolved``, so nothing is queued (no verdict task, no survey, no care follow-up
    rule): the moment of a past resolution has passed; the caller decides the verdicts of the
    cases returned in ``resolved`` (``feedback.verdicts_decide(..., historical=True)``).
    """
    now = timezone.now()
    by_case: dict[int, list[HistoryStep]] = {}
    for step in steps:
        by_case.setdefault(int(step.case_id), []).append(step)
    out = HistoryRecorded()
    rules, schedules = _Rules(), Schedules()
    ids = sorted(by_case)
    with transaction.atomic():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            cases = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=chunk)}
            missing = set(chunk) - set(cases)
            if missing:
                raise InputError("case_id", f"no case {min(missing)}")
            rules.know_customers(list(cases.values()))
            schedules.for_levels({c.service_level_id for c in cases.values() if c.service_level_id})
            rows: list[tuple[int, int, str, dict[str, Any], str, dt.datetime]] = []
            touched: dict[int, set[str]] = {}
            for pk in chunk:
                case = cases[pk]
                last = case.opened_at
                for step in by_case[pk]:
                    if step.at > now or step.at < last:
                        raise InputError(
                            "at", f"case {pk}: {step.at.isoformat()} is out of order or ahead"
                        )
                    last = step.at
                    if not rules.may_change(step.actor, case):
                        raise InputError(
                            "actor", f"case {pk}: {step.actor.get_username()} may not change it"
                        )
                    if case.status == CaseStatus.CLOSED:
                        raise InputError("status", f"case {pk} is closed")
                    if step.kind is not None:
                        action, changes, fields = _handed_off(rules, case, step)
                        out.handed_off += 1
                    elif step.status is None:
                        action, changes, fields = _assigned(rules, case, step)
                    else:
                        action, changes, fields = _status(schedules, case, step)
                    if not changes:
                        continue
                    touched.setdefault(pk, set()).update(fields)
                    moved = changes.get("status") or {}
                    reopened = moved.get("from") == CaseStatus.RESOLVED and moved.get("to") == (
                        CaseStatus.OPEN
                    )
                    reason = step.reason or ("reopened" if reopened else "")
                    rows.append((pk, step.actor.pk, action, changes, reason[:200], step.at))
            # Each case still as read (it is locked): updated_at becomes now.
            _update_changed(
                [(cases[pk], names) for pk, names in touched.items()], datetime_adapter()(now)
            )
            _write_events(rows)
            out.changes += len(rows)
            out.resolved += [pk for pk, c in cases.items() if c.resolved_at is not None]
    return out


def _assigned(
    rules: _Rules, case: Case, step: HistoryStep
) -> tuple[str, dict[str, Any], list[str]]:
    assignee = step.assignee
    if assignee is not None and assignee.pk != case.assignee_id:
        refusal = rules.refusal(assignee, case)
        if refusal is not None:
            raise InputError("assignee_id", f"case {case.pk}: {refusal}")
    if case.assignee_id == (assignee.pk if assignee else None):
        return events.CASE_ASSIGNED, {}, []
    changes: dict[str, Any] = {
        "assignee": {
            "from": rules.username(case.assignee_id),
            "to": assignee.get_username() if assignee else None,
        }
    }
    case.assignee_id = assignee.pk if assignee else None
    fields = ["assignee"]
    if assignee is not None and case.status == CaseStatus.NEW:
        case.status = CaseStatus.OPEN
        changes["status"] = {"from": CaseStatus.NEW, "to": CaseStatus.OPEN}
        fields.append("status")
    return events.CASE_ASSIGNED, changes, fields


def _handed_off(
    rules: _Rules, case: Case, step: HistoryStep
) -> tuple[str, dict[str, Any], list[str]]:
    kind = step.kind
    if kind not in CaseKind.values:
        raise InputError("kind", f"{kind!r} is not one of {', '.join(CaseKind.values)}")
    if kind == case.kind:
        raise InputError("kind", f"case {case.pk} is already a {kind} case")
    team = rules.team_for(str(kind))
    changes: dict[str, Any] = {
        "kind": {"from": case.kind, "to": kind},
        "team": {"from": rules.team_name(case.team_id), "to": team.name if team else None},
    }
    case.kind, case.team_id = str(kind), team.pk if team else None
    fields = ["kind", "team"]
    if case.assignee_id is not None and (team is None or not rules.in_team(team, case.assignee_id)):
        changes["assignee"] = {"from": rules.username(case.assignee_id), "to": None}
        case.assignee_id = None
        fields.append("assignee")
    catalog = rules.catalog()
    entry = catalog.entry_for(kind=case.kind, tier=rules.tier(case), channel=case.channel)
    if entry is not None:
        entitled = _entitled(case.customer_id, case.opened_at)
        due = catalog.due_times(entry=entry, opened_at=case.opened_at, entitled=entitled)
        case.service_level_id = entry.pk
        case.first_response_due = due.first_response_due
        case.resolution_due = due.resolution_due
        case.time_zone = due.time_zone
        fields += ["service_level", "first_response_due", "resolution_due", "time_zone"]
    return events.CASE_HANDED_OFF, changes, fields


def _status(
    schedules: Schedules, case: Case, step: HistoryStep
) -> tuple[str, dict[str, Any], list[str]]:
    status = step.status
    if status not in CaseStatus.values:
        raise InputError("status", f"{status!r} is not one of {', '.join(CaseStatus.values)}")
    if status == case.status:
        return events.CASE_STATUS_CHANGED, {}, []
    if status not in STATUS_NEXT[case.status]:
        raise InputError("status", f"case {case.pk}: a {case.status} case cannot become {status}")
    before, case.status = case.status, str(status)
    fields = ["status"]
    changes: dict[str, Any] = {"status": {"from": before, "to": case.status}}
    if status == CaseStatus.WAITING:
        fields += sla_pause(case, at=step.at)
    elif before == CaseStatus.WAITING:
        moved, sla_changes = sla_resume(case, at=step.at, schedules=schedules)
        fields += moved
        changes.update(sla_changes)
    if status == CaseStatus.RESOLVED:
        case.resolved_at = step.at
        fields.append("resolved_at")
    elif before == CaseStatus.RESOLVED and status == CaseStatus.OPEN:
        case.resolved_at = None
        fields.append("resolved_at")
    return events.CASE_STATUS_CHANGED, changes, fields


def _write_events(rows: Sequence[tuple[int, int, str, dict[str, Any], str, dt.datetime]]) -> None:
    at, as_json = datetime_adapter(), json_adapter()
    insert_rows(
        table=CaseEvent._meta.db_table,
        columns=("case_id", "actor_id", "action", "changes", "reason", "created_at"),
        rows=[(c, a, action, as_json(ch), r, at(when)) for c, a, action, ch, r, when in rows],
        types=("bigint", "integer", "text", "jsonb", "text", "timestamptz"),
    )
