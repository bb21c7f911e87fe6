"""Routing latency: the decision for a new case with 200 agents and N open cases (100,000).

Measured through the selector routing uses (khoshnud.cases.routing.route_decision: the team's
agents, their loads counted up to each one's cap in one query over the (assignee, status)
index, their ratings, the score), beside, in the same run:

- the same decision with the plain aggregate (GROUP BY assignee over the same index, every
  open case of the agents counted: ``route_aggregate_*``), and
- the naive baseline: the same decision with every open case's row loaded and the loads
  counted in Python (``route_naive_*``);
- and the whole routing write (cases.assignment.cases_route: lock, decision, assignment,
  history row), rolled back each time (``route_write_*``).

The agents are all in the support team with support among their kinds, a third of them
restricted to one or two languages, one in ten away, caps from 10 to 40 (one in ten: the
default, 20). Half of them carry an old backlog (90 % of the open cases, about 900 each:
cases assigned by hand or before routing), the other half are under their caps; the rest of
the open cases wait unassigned in queues. The decisions are for customers in fa, en, zh-hans
in turn; every one finds an agent.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import time
from collections import Counter
from typing import Any

AGENTS = 200
DECISIONS = 1000
NAIVE_DECISIONS = 30
LANGUAGES = ["fa", "en", "zh-hans"]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _fill(scale: int, db: str) -> tuple[list[int], int]:
    """The agents, 1,000 customers and ``scale`` open support cases; → (customer ids, team)."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from khoshnud.accounts.models import AgentProfile, Role, Team
    from khoshnud.accounts.services import roles_ensure
    from khoshnud.cases.models import OPEN_STATUSES, Case
    from khoshnud.customers.models import Customer
    from khoshnud.db import datetime_adapter, insert_rows, json_adapter

    rng = random.Random(9)
    roles_ensure()
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in ("service", "support")}
    team = teams["support"]
    users = User.objects.bulk_create(
        [User(username=f"bench-agent-{i:03d}", password="!") for i in range(AGENTS)]  # noqa: S106 - "!" is unusable
    )
    agent_group = Group.objects.get(name=Role.AGENT)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=agent_group.pk) for u in users]
    )
    Team.members.through.objects.bulk_create(
        [Team.members.through(user_id=u.pk, team_id=team.pk) for u in users]
    )
    caps = [None if i % 10 == 9 else rng.randrange(10, 41) for i in range(AGENTS)]
    AgentProfile.objects.bulk_create(
        [
            AgentProfile(
                user=u,
                kinds=["support"] if i % 2 else ["service", "support"],
                languages=rng.sample(LANGUAGES, rng.choice([1, 2])) if i % 3 == 0 else [],
                available=rng.random() > 0.1,
                max_open_cases=caps[i],
            )
            for i, u in enumerate(users)
        ]
    )
    made = Customer.objects.bulk_create(
        [Customer(first_name=f"R{i}", locale=rng.choice(LANGUAGES)) for i in range(1000)]
    )
    customers = [c.pk for c in made]
    backlog = int(scale * 0.9) // (AGENTS // 2)
    assignees: list[int | None] = []
    for i, u in enumerate(users):
        cap = caps[i] or 20
        assignees += [u.pk] * (backlog if i % 2 == 0 else rng.randrange(0, cap))
    assignees = assignees[:scale]
    assignees += [None] * (scale - len(assignees))
    rng.shuffle(assignees)
    at, as_json = datetime_adapter(), json_adapter()
    now = timezone.now()
    columns = ("customer_id", "kind", "status", "priority", "channel", "subject", "team_id",
               "assignee_id", "tags", "opened_at", "last_message_at", "time_zone", "created_at",
               "updated_at")  # fmt: skip
    rows = []
    for i, assignee in enumerate(assignees):
        rows.append(
            (customers[i % len(customers)], "support", rng.choice(OPEN_STATUSES), "normal",
             "email", "bench", team.pk, assignee, as_json([]), at(now), at(now),
             "Asia/Tehran", at(now), at(now))
        )  # fmt: skip
        if len(rows) == 20_000:
            insert_rows(table=Case._meta.db_table, columns=columns, rows=rows)
            rows = []
    insert_rows(table=Case._meta.db_table, columns=columns, rows=rows)
    with connection.cursor() as cur:
        # What autovacuum does on a live database: statistics, and the visibility map that lets
        # the load count read the index alone.
        cur.execute("VACUUM ANALYZE" if db == "postgres" else "ANALYZE")
    return customers, team.pk


def _naive_decision(case: Any, language: str) -> Any:
    """The same decision, with every open case's assignee loaded and counted in Python."""
    from khoshnud.cases.models import OPEN_STATUSES, Case
    from khoshnud.cases.routing import agent_ratings, route_decide, routing_agents

    agents = routing_agents(team_id=case.team_id)
    ids = {a.user_id for a in agents}
    counted = Counter(
        pk
        for pk in Case.objects.filter(status__in=OPEN_STATUSES).values_list(
            "assignee_id", flat=True
        )
        if pk in ids
    )
    loads = {pk: counted.get(pk, 0) for pk in ids}
    return route_decide(
        kind=case.kind,
        language=language,
        agents=agents,
        loads=loads,
        ratings=agent_ratings(user_ids=list(ids)),
    )


def _aggregate_decision(case: Any, language: str) -> Any:
    """The same decision with the plain aggregate: every open case of the agents counted."""
    from khoshnud.cases.routing import agent_loads, agent_ratings, route_decide, routing_agents

    agents = routing_agents(team_id=case.team_id)
    ids = [a.user_id for a in agents]
    return route_decide(
        kind=case.kind,
        language=language,
        agents=agents,
        loads=agent_loads(user_ids=ids),
        ratings=agent_ratings(user_ids=ids),
    )


def measure(*, scale: int = 100_000, db: str = "sqlite") -> dict[str, Any]:
    """Build 200 agents and ``scale`` open cases, time routing decisions (p50 / p99, ms)
    through the selector and the naive baseline, and the full routing write."""
    from django.db import transaction

    from khoshnud.cases.assignment import cases_route
    from khoshnud.cases.models import Case, CaseStatus
    from khoshnud.cases.routing import route_decision

    started = time.perf_counter()
    customers, team_id = _fill(scale, db)
    print(
        f"  filled {AGENTS} agents, {scale:,} open cases in {time.perf_counter() - started:.1f} s"
    )
    case = Case(customer_id=customers[0], kind="support", status=CaseStatus.NEW, team_id=team_id)

    def timed(n: int, work: Any) -> list[float]:
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            work(LANGUAGES[i % len(LANGUAGES)])
            out.append((time.perf_counter() - t0) * 1000)
        return out

    decisions = timed(DECISIONS, lambda lang: route_decision(case=case, language=lang))
    aggregate = timed(DECISIONS // 2, lambda lang: _aggregate_decision(case, lang))
    naive = timed(NAIVE_DECISIONS, lambda lang: _naive_decision(case, lang))
    for lang in LANGUAGES:  # the three decide the same, and someone is chosen
        chosen = route_decision(case=case, language=lang).chosen  # type: ignore[union-attr]
        assert chosen is not None
        assert (
            chosen == _aggregate_decision(case, lang).chosen == _naive_decision(case, lang).chosen
        )

    stored = Case.objects.filter(team_id=team_id).order_by("id").first()
    assert stored is not None

    def route_and_roll_back(_lang: str) -> None:
        with transaction.atomic():
            stored.assignee_id = None
            stored.status = CaseStatus.NEW
            cases_route(cases=[stored])
            transaction.set_rollback(True)

    writes = timed(200, route_and_roll_back)
    p50, p99 = statistics.median(decisions), _percentile(decisions, 99)
    a50, a99 = statistics.median(aggregate), _percentile(aggregate, 99)
    n50, n99 = statistics.median(naive), _percentile(naive, 99)
    w50, w99 = statistics.median(writes), _percentile(writes, 99)
    print(f"  decision (selector): p50 {p50:.2f} ms, p99 {p99:.2f} ms over {DECISIONS}")
    print(f"  plain aggregate:     p50 {a50:.2f} ms, p99 {a99:.2f} ms over {DECISIONS // 2}")
    print(f"  naive (rows loaded): p50 {n50:.2f} ms, p99 {n99:.2f} ms over {NAIVE_DECISIONS}")
    print(f"  routing with writes: p50 {w50:.2f} ms, p99 {w99:.2f} ms (rolled back)")
    return {
        "route_p50_ms": round(p50, 3),
        "route_p99_ms": round(p99, 3),
        "route_aggregate_p50_ms": round(a50, 3),
        "route_aggregate_p99_ms": round(a99, 3),
        "route_naive_p50_ms": round(n50, 3),
        "route_naive_p99_ms": round(n99, 3),
        "route_write_p99_ms": round(w99, 3),
        "open_cases": Case.objects.filter(status__in=["new", "open", "waiting"]).count(),
        "agents": AGENTS,
    }


def run(*, scale: int, db: str) -> dict[str, Any]:
    """``khoshnud bench cases``: routing, then the breach scan when bench/case_breaches.py
    exists (its own keys merged in)."""
    result = measure(scale=scale, db=db)
    if importlib.util.find_spec("bench.case_breaches") is not None:
        from bench import case_breaches  # type: ignore[attr-defined]

        result.update(case_breaches.measure(db=db))  # its own default size
    return result
