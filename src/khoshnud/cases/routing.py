"""Routing reads: which agents may get a case, their loads and ratings, and the choice itself.

The formula (docs/routing.md)::

    weight = rating / 3                      (a 1–5 customer rating; 3 is neutral → 1.0)
    score  = weight × (1 − load / cap)       (load: the agent's open cases; cap: their limit)

Among the agents of the case's team who have the kind (and the customer's language, when they
list languages), are available and are under their cap, the highest score wins; equal scores
go to the one routed longest ago (never routed first), then the lowest user id. Nothing here
writes: ``cases.assignment`` applies the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.utils.module_loading import import_string

from khoshnud.accounts.models import AgentProfile, Role
from khoshnud.cases.models import OPEN_STATUSES, Case
from khoshnud.db import rows_counted_up_to

NEUTRAL_RATING = 3.0  # the middle of the 1–5 scale customers rate agents on
FORMULA = "score = rating/3 × (1 − load/cap)"
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
_NAMES_KEPT = 10  # the history names at most this many skipped agents per reason
SKIP_REASONS = ("away", "at_cap", "kind", "language")
SKIP_WORDS = {"away": "away", "at_cap": "at their cap", "kind": "without the kind",
              "language": "without the language"}  # fmt: skip


def agent_ratings_neutral(*, user_ids: Collection[int]) -> dict[int, float]:
    """Every agent's customer rating is neutral (3 of 5): the seam customer feedback replaces
    with real averages by pointing ``settings.KHOSHNUD_AGENT_RATINGS`` at its own selector."""
    return dict.fromkeys(user_ids, NEUTRAL_RATING)


def agent_ratings(*, user_ids: Collection[int]) -> dict[int, float]:
    """user id → customer rating (1–5) from ``settings.KHOSHNUD_AGENT_RATINGS``; an agent the
    source does not rate yet, or rates outside 1–5, counts as neutral."""
    source = import_string(settings.KHOSHNUD_AGENT_RATINGS)
    found: Mapping[int, float] = source(user_ids=user_ids)
    out = {}
    for pk in user_ids:
        value = found.get(pk)
        out[pk] = (
            float(value) if value is not None and 1.0 <= float(value) <= 5.0 else NEUTRAL_RATING
        )
    return out


@dataclass(frozen=True)
class RoutingAgent:
    """An agent of a team who has a routing profile, as routing sees them."""

    user_id: int
    username: str
    kinds: tuple[str, ...]
    languages: tuple[str, ...]
    available: bool
    cap: int
    last_routed_at: dt.datetime | None


def routing_agents(*, team_id: int) -> list[RoutingAgent]:
    """The active members of the team who hold a staff role and have a routing profile with at
    least one kind, by user id (one query). Empty: routing is not in use in this team."""
    rows = (
        AgentProfile.objects.filter(user__is_active=True, user__teams__id=team_id)
        .filter(Q(user__is_superuser=True) | Q(user__groups__name__in=Role.values))
        .order_by("user_id")
        .values_list(
            "user_id",
            "user__username",
            "kinds",
            "languages",
            "available",
            "max_open_cases",
            "last_routed_at",
        )
    )
    default_cap = settings.KHOSHNUD_ROUTING_MAX_OPEN_CASES
    out: dict[int, RoutingAgent] = {}
    for pk, username, kinds, languages, available, cap, last in rows:
        if pk in out or not kinds:  # a user in several role groups comes once per group
            continue
        out[pk] = RoutingAgent(
            user_id=pk,
            username=username,
            kinds=tuple(kinds),
            languages=tuple(languages or ()),
            available=available,
            cap=default_cap if cap is None else cap,
            last_routed_at=last,
        )
    return list(out.values())


def agent_loads(*, user_ids: Collection[int]) -> dict[int, int]:
    """user id → how many open cases (new, open, waiting) are assigned to them, in any team.

    One aggregate query over the ``case_agent_load`` index (assignee, status): it counts index
    entries and never loads a case. (Routing needs less: ``agent_loads_up_to_cap``.)"""
    loads = dict.fromkeys(user_ids, 0)
    if not user_ids:
        return loads
    rows = (
        Case.objects.filter(assignee_id__in=list(user_ids), status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("*"))
        .values_list("assignee_id", "n")
    )
    loads.update(dict(rows))
    return loads


def agent_loads_up_to_cap(*, caps: Mapping[int, int]) -> dict[int, int]:
    """user id → their open cases, counted no further than their cap (user id → cap): what
    routing needs, since an agent at the cap is out whatever their exact load. One query over
    the ``case_agent_load`` index; its work is bounded by the sum of the caps, not by the
    agents' open cases (docs/routing.md, bench/case_routing.py)."""
    marks = ", ".join(["%s"] * len(OPEN_STATUSES))
    return rows_counted_up_to(
        table=Case._meta.db_table,
        key="assignee_id",
        where=f"t.status IN ({marks})",
        params=[str(s) for s in OPEN_STATUSES],
        limits=dict(caps),
    )


@dataclass(frozen=True)
class Scored:
    """One eligible agent's terms in the formula."""

    user_id: int
    username: str
    rating: float
    load: int
    cap: int
    last_routed_at: dt.datetime | None

    @property
    def weight(self) -> float:
        return self.rating / NEUTRAL_RATING

    @property
    def score(self) -> float:
        # Rounded so that equal terms compare equal whatever order the floats were formed in.
        return round(self.weight * (1 - self.load / self.cap), 9)

    def terms(self) -> dict[str, Any]:
        return {
            "agent": self.username,
            "rating": round(self.rating, 3),
            "weight": round(self.weight, 4),
            "load": self.load,
            "cap": self.cap,
            "score": round(self.score, 4),
            "last_routed_at": self.last_routed_at.isoformat() if self.last_routed_at else None,
        }


@dataclass
class RoutingDecision:
    """What routing chose for one case, and why (the history row is made from it)."""

    kind: str
    language: str
    ranked: list[Scored]  # the eligible agents, best first
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason → usernames

    @property
    def chosen(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None

    @property
    def tie(self) -> bool:
        """The winner's score equals the runner-up's: round-robin decided."""
        return len(self.ranked) > 1 and self.ranked[0].score == self.ranked[1].score

    def changes(self) -> dict[str, Any]:
        """The ``routing`` entry of the case's history row."""
        return {
            "formula": FORMULA,
            "kind": self.kind,
            "language": self.language,
            "chosen": self.chosen.terms() if self.chosen else None,
            "runners_up": [s.terms() for s in self.ranked[1:4]],
            "eligible": len(self.ranked),
            "tie": self.tie,
            "skipped": {
                reason: {"count": len(names), "agents": names[:_NAMES_KEPT]}
                for reason, names in self.skipped.items()
                if names
            },
        }

    def reason(self) -> str:
        """One line for the history (≤ 200 characters), in the stored language (English)."""
        best = self.chosen
        if best is None:
            counts = ", ".join(
                f"{len(self.skipped[r])} {SKIP_WORDS[r]}"
                for r in SKIP_REASONS
                if self.skipped.get(r)
            )
            return f"no eligible agent for {self.kind}/{self.language}: {counts or 'none'}"[:200]
        text = (
            f"score {best.score:.3f} = {best.rating:g}/3 × (1 − {best.load}/{best.cap})"
            f" (best of {len(self.ranked)})"
        )
        if self.tie:
            text += "; tie: routed longest ago"
        return text[:200]


def route_decide(
    *,
    kind: str,
    language: str,
    agents: Iterable[RoutingAgent],
    loads: Mapping[int, int],
    ratings: Mapping[int, float],
) -> RoutingDecision:
    """The choice for one case of ``kind`` from a customer speaking ``language`` among
    ``agents`` (the team's, from ``routing_agents``), given their ``loads`` and ``ratings``.
    Pure: no query."""
    skipped: dict[str, list[str]] = {r: [] for r in SKIP_REASONS}
    eligible: list[Scored] = []
    for agent in agents:
        load = loads.get(agent.user_id, 0)
        if kind not in agent.kinds:
            skipped["kind"].append(agent.username)
        elif agent.languages and language not in agent.languages:
            skipped["language"].append(agent.username)
        elif not agent.available:
            skipped["away"].append(agent.username)
        elif load >= agent.cap:
            skipped["at_cap"].append(agent.username)
        else:
            eligible.append(
                Scored(
                    user_id=agent.user_id,
                    username=agent.username,
                    rating=ratings.get(agent.user_id, NEUTRAL_RATING),
                    load=load,
                    cap=agent.cap,
                    last_routed_at=agent.last_routed_at,
                )
            )
    eligible.sort(key=lambda s: (-s.score, s.last_routed_at or _NEVER, s.user_id))
    return RoutingDecision(kind=kind, language=language, ranked=eligible, skipped=skipped)


def route_decision(*, case: Case, language: str) -> RoutingDecision | None:
    """The routing decision for ``case`` now (three queries: agents, loads, ratings' source),
    or None when the case has no team or its team does not use routing."""
    if case.team_id is None:
        return None
    agents = routing_agents(team_id=case.team_id)
    if not agents:
        return None
    return route_decide(
        kind=case.kind,
        language=language,
        agents=agents,
        loads=agent_loads_up_to_cap(caps={a.user_id: a.cap for a in agents}),
        ratings=agent_ratings(user_ids=[a.user_id for a in agents]),
    )


def assignment_refusal(
    *, profile: AgentProfile | None, username: str, kind: str, language: str
) -> str | None:
    """Why a case of ``kind`` from a ``language`` customer may not be given to this agent by
    hand, or None. Away, or a kind / language the agent's profile does not list; no profile
    (routing not set up for them) and empty lists restrict nothing. The cap does not apply to
    a hand assignment: a person may decide to give more."""
    if profile is None:
        return None
    if not profile.available:
        return f"{username} is away; they get no new cases until they are back"
    if profile.kinds and kind not in profile.kinds:
        return f"{username} does not handle {kind} cases (skills: {', '.join(profile.kinds)})"
    if profile.languages and language not in profile.languages:
        return (
            f"{username} does not handle customers in {language} "
            f"(languages: {', '.join(profile.languages)})"
        )
    return None


@dataclass(frozen=True)
class AgentRouting:
    """One staff member's routing as the agents page shows it."""

    user_id: int
    username: str
    teams: list[str]
    kinds: list[str]
    languages: list[str]
    available: bool
    cap: int
    cap_is_default: bool
    load: int
    last_routed_at: dt.datetime | None


def agents_routing() -> list[AgentRouting]:
    """Every active staff member who is in a team, with their routing profile (defaults when
    they have none) and their current load, by username. Three queries."""
    users = list(
        User.objects.filter(is_active=True, teams__isnull=False)
        .filter(Q(is_superuser=True) | Q(groups__name__in=Role.values))
        .select_related("agent_profile")
        .order_by("username")
        .distinct()
    )
    teams: dict[int, list[str]] = {}
    for pk, name in User.teams.through.objects.filter(user__in=users).values_list(
        "user_id", "team__name"
    ):
        teams.setdefault(pk, []).append(name)
    loads = agent_loads(user_ids=[u.pk for u in users])
    default_cap = settings.KHOSHNUD_ROUTING_MAX_OPEN_CASES
    out = []
    for user in users:
        profile = getattr(user, "agent_profile", None)
        cap = profile.max_open_cases if profile else None
        out.append(
            AgentRouting(
                user_id=user.pk,
                username=user.get_username(),
                teams=sorted(teams.get(user.pk, [])),
                kinds=list(profile.kinds) if profile else [],
                languages=list(profile.languages) if profile else [],
                available=profile.available if profile else True,
                cap=default_cap if cap is None else cap,
                cap_is_default=cap is None,
                load=loads[user.pk],
                last_routed_at=profile.last_routed_at if profile else None,
            )
        )
    return out


def agent_available(*, user_id: int) -> bool:
    """Whether the staff member is available (no profile: available)."""
    found = AgentProfile.objects.filter(user_id=user_id).values_list("available", flat=True)
    return next(iter(found), True)
