"""Routing writes: give new cases to agents automatically, and check an assignment by hand.

The choice is ``cases.routing``'s; this module applies it. Callers (``cases.services``) call
these inside the transaction that opened or changed the case, so a case and the history row
saying why it went to whom commit together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from khoshnud import events
from khoshnud.accounts.models import AgentProfile, Role
from khoshnud.accounts.selectors import user_has_role
from khoshnud.accounts.services import audit_log
from khoshnud.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseKind
from khoshnud.cases.routing import (
    RoutingDecision,
    agent_loads_up_to_cap,
    agent_ratings,
    assignment_refusal,
    route_decide,
    routing_agents,
)
from khoshnud.customers.models import Customer, Locale
from khoshnud.inputs import InputError, clean_int

Actor = AbstractBaseUser | AnonymousUser | None


def cases_route(*, cases: Sequence[Case]) -> dict[int, RoutingDecision]:
    """Route each of ``cases`` (saved) that is open, unassigned and has a team using routing.

    Per team, in team-id order: the team's agent profiles are locked (``FOR UPDATE``, in user
    id order) so that two routers cannot both fill an agent's last place under their cap; the
    loads are counted once (one query, each up to the agent's cap) and raised in memory as
    this batch assigns,
    so a batch of new cases spreads as one case at a time would. Writes each assigned case's
    assignee (its status stays *new*: nobody has looked at it yet), one ``case.routed``
    history row per routed case — with the chosen agent's terms, the runners-up and who was
    skipped and why, or why no one was eligible (the case then waits in the team's queue) —
    and the chosen agents' ``last_routed_at`` (the round-robin order). Cases of a team where
    no member has a routing profile with kinds are left as they are, without a history row.

    Call inside a transaction. Returns case id → decision for the cases it routed.
    """
    todo: dict[int, list[Case]] = defaultdict(list)
    for case in cases:
        if case.team_id is not None and case.assignee_id is None and case.status in OPEN_STATUSES:
            todo[case.team_id].append(case)
    if not todo:
        return {}
    # One query says which of these teams use routing at all (a member with kinds to route).
    in_use = {
        team_id
        for team_id, kinds in AgentProfile.objects.filter(
            user__teams__id__in=list(todo)
        ).values_list("user__teams__id", "kinds")
        if kinds
    }
    todo = {team_id: found for team_id, found in todo.items() if team_id in in_use}
    if not todo:
        return {}
    languages = dict(
        Customer.objects.filter(
            pk__in={c.customer_id for cs in todo.values() for c in cs}
        ).values_list("pk", "locale")
    )
    now = timezone.now()
    tick = 0
    decisions: dict[int, RoutingDecision] = {}
    assigned: list[Case] = []
    history: list[CaseEvent] = []
    routed_at: dict[int, dt.datetime] = {}
    for team_id in sorted(todo):
        list(  # the lock; SQLite ignores it (it lets one writer in at a time anyway)
            AgentProfile.objects.select_for_update(of=("self",))
            .filter(user__teams__id=team_id)
            .order_by("user_id")
            .values_list("pk", flat=True)
        )
        agents = {a.user_id: a for a in routing_agents(team_id=team_id)}
        if not agents:
            continue
        loads = agent_loads_up_to_cap(caps={a.user_id: a.cap for a in agents.values()})
        ratings = agent_ratings(user_ids=list(agents))
        for case in sorted(todo[team_id], key=lambda c: (c.opened_at, c.pk)):
            decision = route_decide(
                kind=case.kind,
                language=languages.get(case.customer_id, ""),
                agents=agents.values(),
                loads=loads,
                ratings=ratings,
            )
            decisions[case.pk] = decision
            changes = {"routing": decision.changes()}
            best = decision.chosen
            if best is not None:
                tick += 1  # later in the batch = routed later, for the round-robin order
                when = now + dt.timedelta(microseconds=tick)
                case.assignee_id = best.user_id
                case.updated_at = now
                assigned.append(case)
                loads[best.user_id] = best.load + 1
                agents[best.user_id] = replace(agents[best.user_id], last_routed_at=when)
                routed_at[best.user_id] = when
                changes["assignee"] = {"from": None, "to": best.username}
            history.append(
                CaseEvent(
                    case=case,
                    action=events.CASE_ROUTED,
                    changes=changes,
                    reason=decision.reason(),
                )
            )
    if assigned:
        Case.objects.bulk_update(assigned, ["assignee", "updated_at"], batch_size=500)
    CaseEvent.objects.bulk_create(history, batch_size=500)
    profiles = list(AgentProfile.objects.filter(user_id__in=list(routed_at)))
    for profile in profiles:
        profile.last_routed_at = routed_at[profile.user_id]
    AgentProfile.objects.bulk_update(profiles, ["last_routed_at"])
    return decisions


def case_assignment_refusal(*, case: Case, user: User) -> str | None:
    """Why ``case`` may not be assigned to ``user`` by hand (away, or without the case's kind
    or the customer's language in their routing profile), or None. Two queries."""
    profile = AgentProfile.objects.filter(user=user).first()
    if profile is None:
        return None
    language = Customer.objects.filter(pk=case.customer_id).values_list("locale", flat=True).first()
    return assignment_refusal(
        profile=profile, username=user.get_username(), kind=case.kind, language=language or ""
    )


# --- Agents' routing profiles (stored in accounts.AgentProfile; the vocabulary is cases') -----


def _staff_member(user_id: object) -> User:
    pk = clean_int(user_id, field="user_id")
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not user_has_role(user, Role.AGENT):
        raise InputError("user_id", f"no active staff member #{pk}")
    return user


def agent_availability_set(*, user_id: object, available: object, actor: Actor) -> AgentProfile:
    """Mark an agent available or away (an away agent gets no new case, by routing or by
    hand; their open cases stay theirs). An agent sets their own; a manager anyone's
    (``PermissionDenied`` otherwise). Transactional, audited; setting what is already set
    changes nothing. Creates the profile (with no kinds: not routed) when there is none."""
    if not isinstance(available, bool):
        raise InputError("available", "must be true or false")
    if not isinstance(actor, User) or not user_has_role(actor, Role.AGENT):
        raise PermissionDenied("a signed-in staff member is needed")
    with transaction.atomic():
        user = _staff_member(user_id)
        if user.pk != actor.pk and not user_has_role(actor, Role.MANAGER):
            raise PermissionDenied("only a manager may set another agent's availability")
        profile, _created = AgentProfile.objects.select_for_update().get_or_create(user=user)
        if profile.available == available and not _created:
            return profile
        profile.available = available
        profile.availability_changed_at = timezone.now()
        profile.save(update_fields=["available", "availability_changed_at", "updated_at"])
        audit_log(
            actor=actor,
            action=events.AGENT_AVAILABILITY_CHANGED,
            object_type="user",
            object_id=user.pk,
            data={"available": available},
        )
    return profile


def agent_profile_update(
    *,
    user_id: object,
    kinds: object,
    languages: object,
    max_open_cases: object,
    actor: Actor,
    available: object = None,
) -> AgentProfile:
    """Set an agent's routing skills and cap (manager or admin; ``PermissionDenied``
    otherwise). ``kinds``: case kinds (service, support, care), empty: not routed;
    ``languages``: customer languages (fa, zh-hans, en), empty: any; ``max_open_cases``: a
    whole number from 1 to 1000, or None / "" for ``settings.KHOSHNUD_ROUTING_MAX_OPEN_CASES``;
    ``available``: True / False, or None to leave it (``agent_availability_set``). Refused whole (``InputError``, nothing changed) on any bad value. Transactional, audited."""
    if not isinstance(actor, User) or not user_has_role(actor, Role.MANAGER):
        raise PermissionDenied("only a manager may change agents' routing")
    clean_kinds = _clean_codes(kinds, field="kinds", allowed=list(CaseKind.values))
    clean_languages = _clean_codes(languages, field="languages", allowed=list(Locale.values))
    cap = (
        None
        if max_open_cases in (None, "")
        else clean_int(max_open_cases, field="max_open_cases", minimum=1, maximum=1000)
    )
    if available is not None and not isinstance(available, bool):
        raise InputError("available", "must be true or false")
    with transaction.atomic():
        user = _staff_member(user_id)
        if available is not None:
            agent_availability_set(user_id=user.pk, available=available, actor=actor)
        profile, _created = AgentProfile.objects.select_for_update().get_or_create(user=user)
        before = {"kinds": profile.kinds, "languages": profile.languages,
                  "max_open_cases": profile.max_open_cases}  # fmt: skip
        profile.kinds, profile.languages = clean_kinds, clean_languages
        profile.max_open_cases = cap
        profile.save(update_fields=["kinds", "languages", "max_open_cases", "updated_at"])
        after = {"kinds": clean_kinds, "languages": clean_languages, "max_open_cases": cap}
        if after != before:
            audit_log(
                actor=actor,
                action=events.AGENT_ROUTING_CHANGED,
                object_type="user",
                object_id=user.pk,
                data={"from": before, "to": after},
            )
    return profile


def _clean_codes(value: object, *, field: str, allowed: list[str]) -> list[str]:
    """A list of codes from ``allowed`` (a list, or text separated by commas), in the order
    of ``allowed``, without repeats."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError(field, f"must be a list of codes from {', '.join(allowed)}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise InputError(field, f"{', '.join(unknown)}: not one of {', '.join(allowed)}")
    return [a for a in allowed if a in value]
