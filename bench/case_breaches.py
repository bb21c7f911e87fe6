"""The SLA breach scan over 1,000,000 open cases (``khoshnud bench cases`` merges it in).

The data is made in the database itself (``generate_series`` on PostgreSQL, a recursive CTE
on SQLite), so setting up a million cases takes seconds: support cases of the demo catalog's
support / standard entry, 45 % new, 45 % open, 10 % waiting on the customer (paused), a
quarter answered. In the steady state the scan runs every minute and most overdue cases were
found by earlier runs: one case in ten is long past its resolution target and already recorded
as breached, one in ten past its first-response target and recorded; one in a thousand has just
passed its resolution target and one in a thousand its first-response target (2,000 new
breaches per run); every other due time is ahead.

Measured in the same run:

- ``breach_scan_s``: ``cases.sla.breach_scan`` — one query over the two partial indexes that
  locks the cases it finds, then recording the breaches, raising the priorities (one row
  update per case), the history rows and the team lead's notifications — in a transaction
  rolled back after each of three runs; the median.
- ``breach_find_s``: the two indexed queries alone (the decision).
- ``breach_scan_naive_s``: the same decision in Python over every open case's row.
The three decide the same cases (checked).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

OPEN_CASES = 1_000_000
RUNS = 3


def _fill(scale: int, db: str) -> dict[str, Any]:
    """``scale`` open support cases made by one INSERT … SELECT; → what the scan should find."""
    from django.db import connection
    from django.utils import timezone

    from khoshnud.accounts.models import Team
    from khoshnud.accounts.services import staff_create
    from khoshnud.cases.models import Case
    from khoshnud.customers.models import Customer
    from khoshnud.ops.demo_data import demo_service_catalog
    from khoshnud.servicelevels.models import ServiceLevel

    if not ServiceLevel.objects.exists():
        demo_service_catalog()
    level = ServiceLevel.objects.get(kind="support", tier="standard", channel="")
    team, _ = Team.objects.get_or_create(name="support")
    staff_create(
        username="bench-support-lead",
        password="Bench-lead-2026-x",  # noqa: S106 - a throw-away benchmark database
        role="manager",
        teams=["support"],
    )
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:1000])
    if len(customers) < 1000:
        made = Customer.objects.bulk_create(
            [Customer(first_name=f"B{i}", locale="fa") for i in range(1000)]
        )
        customers = [c.pk for c in made]
    now = timezone.now().replace(microsecond=0)
    first_customer, count = min(customers), len(customers)
    if db == "postgres":
        series = "generate_series(1, %(n)s) AS s(i)"
        prefix = ""

        def at(seconds: str) -> str:
            return f"(%(now)s::timestamptz + ({seconds}) * interval '1 second')"

        stamp: Any = now
        jsonb = "'[]'::jsonb"
    else:
        prefix = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %(n)s) "
        series = "s"

        def at(seconds: str) -> str:
            return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %(now)s, ({seconds}) || ' seconds')"

        stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        jsonb = "'[]'"
    table = Case._meta.db_table
    customer_ids = (
        "(%(c0)s + (i %% %(nc)s))"
        if customers == list(range(first_customer, first_customer + count))
        else "%(c0)s"
    )
    sql = f"""{prefix}INSERT INTO {table} (customer_id, kind, status, priority, channel, subject,
        team_id, assignee_id, tags, opened_at, last_message_at, service_level_id, time_zone,
        first_response_due, resolution_due, first_responded_at, resolved_at, paused_at,
        first_response_breached_at, resolution_breached_at, follow_up_of_id, created_at,
        updated_at)
      SELECT {customer_ids}, 'support',
        CASE WHEN i %% 10 = 9 THEN 'waiting' WHEN i %% 2 = 0 THEN 'new' ELSE 'open' END,
        'normal', 'email', 'bench', %(team)s, NULL, {jsonb}, {at("-5 * 86400")},
        {at("-5 * 86400")}, %(level)s, 'Asia/Tehran',
        CASE WHEN i %% 1000 = 500 THEN {at("-3600")} WHEN i %% 10 = 3 THEN {at("-2 * 86400")}
             ELSE {at("600 + i %% 2000000")} END,
        CASE WHEN i %% 1000 = 0 THEN {at("-1800")} WHEN i %% 10 = 1 THEN {at("-3 * 86400")}
             ELSE {at("86400 + i %% 2000000")} END,
        CASE WHEN i %% 4 = 1 THEN {at("-86400")} END, NULL,
        CASE WHEN i %% 10 = 9 THEN {at("-86400")} END,
        CASE WHEN i %% 10 = 3 THEN {at("-2 * 86400")} END,
        CASE WHEN i %% 10 = 1 THEN {at("-3 * 86400")} END,
        NULL, %(now)s, %(now)s
      FROM {series}"""
    params = {"n": scale, "now": stamp, "c0": first_customer, "nc": count, "team": team.pk,
              "level": level.pk}  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(sql, params)
        cur.execute("VACUUM ANALYZE" if db == "postgres" else "ANALYZE")
    # What the scan must find: i % 1000 == 500 (first response), i % 1000 == 0 (resolution);
    # none of them waiting (i % 10 == 0) or answered (i % 4 == 0).
    return {"now": now, "first": scale // 1000 + (1 if scale % 1000 >= 500 else 0),
            "resolution": scale // 1000}  # fmt: skip


def measure(*, db: str = "sqlite", scale: int = OPEN_CASES) -> dict[str, Any]:
    """Build ``scale`` open cases, time the breach scan (with its writes, rolled back), the
    indexed decision alone and the naive baseline, in the same run."""
    from django.db import transaction

    from khoshnud.cases.models import Case
    from khoshnud.cases.sla import breach_scan, breaching_naive, breaching_now

    started = time.perf_counter()
    expected = _fill(scale, db)
    now = expected["now"]
    print(f"  filled {scale:,} open cases in {time.perf_counter() - started:.1f} s")
    scans, finds = [], []
    found: Any = None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        with transaction.atomic():
            found = breach_scan(now=now)
            transaction.set_rollback(True)
        scans.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        decided = breaching_now(now=now)
        finds.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    naive = breaching_naive(now=now)
    naive_s = time.perf_counter() - t0
    assert sorted(found.first_response) == sorted(decided[0]) == sorted(naive[0])
    assert sorted(found.resolution) == sorted(decided[1]) == sorted(naive[1])
    assert (len(decided[0]), len(decided[1])) == (expected["first"], expected["resolution"])
    scan_s, find_s = statistics.median(scans), statistics.median(finds)
    open_cases = Case.objects.filter(status__in=["new", "open", "waiting"]).count()
    print(
        f"  breach scan: {scan_s:.3f} s (median of {RUNS}; {found.breaches:,} new breaches, "
        f"{found.notifications:,} notifications, rolled back) over {open_cases:,} open cases"
    )
    print(f"  decision alone (two index range scans): {find_s * 1000:.1f} ms")
    print(f"  naive (every open row into Python): {naive_s:.3f} s")
    return {
        "breach_scan_s": round(scan_s, 4),
        "breach_find_s": round(find_s, 4),
        "breach_scan_naive_s": round(naive_s, 4),
        "breaches_found": found.breaches,
        "open_cases": open_cases,
    }


def run(*, scale: int, db: str) -> dict[str, Any]:
    """Standalone: ``python -m bench.case_breaches`` is not a runner entry; ``khoshnud bench
    cases`` calls ``measure``."""
    return measure(db=db, scale=scale)
