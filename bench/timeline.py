"""Timeline latency: one customer's latest 50 interactions with N rows stored.

Measured through the selector the API and the web UI use
(khoshnud.interactions.selectors.customer_timeline_page), against the same query as plain SQL
on the same connection (baseline), and the QuerySet (customer_timeline, sliced) beside them.
The three are interleaved, query by query in rotating order, so that none of them profits from
pages another one just brought into the cache (measured one after the other, the second one
found the table in shared buffers that the first had to read).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
from typing import Any

QUERIES = 2000


def _fill(rows: int, customers: int, db: str) -> None:
    from django.db import connection
    from django.utils import timezone

    from khoshnud.customers.models import Customer
    from khoshnud.db import INTERACTION_COLUMNS, INTERACTION_KEY, INTERACTION_TABLE, insert_sql

    Customer.objects.bulk_create(
        [Customer(first_name=f"T{i}") for i in range(customers)], batch_size=1000
    )
    ids = list(Customer.objects.values_list("pk", flat=True))
    rng = random.Random(11)
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    ops, now = connection.ops, timezone.now()
    sql = insert_sql(INTERACTION_TABLE, INTERACTION_COLUMNS, INTERACTION_KEY)
    chunk: list[tuple] = []
    with connection.cursor() as cur:
        for i in range(rows):
            when = start + dt.timedelta(seconds=rng.randrange(180 * 86400))
            chunk.append(
                (
                    ids[rng.randrange(len(ids))],
                    "email",
                    "inbound",
                    "message",
                    "service",
                    ops.adapt_datetimefield_value(when),
                    "hello",
                    json.dumps({}),
                    None,
                    "bench",
                    f"t{i}",
                    ops.adapt_datetimefield_value(now),
                )
            )
            if len(chunk) == 10000:
                cur.executemany(sql, chunk)
                chunk = []
        if chunk:
            cur.executemany(sql, chunk)
        if db == "postgres":
            cur.execute("ANALYZE interactions_interaction")
        else:
            cur.execute("ANALYZE")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(*, scale: int, db: str) -> dict[str, Any]:
    from django.db import connection, transaction

    from khoshnud.interactions.models import Interaction
    from khoshnud.interactions.selectors import customer_timeline, customer_timeline_page

    customers = max(1, scale // 100)  # ~100 interactions each, like a busy shop's regulars
    print(f"timeline: filling {scale:,} rows for {customers:,} customers ({db})")
    with transaction.atomic():
        _fill(scale, customers, db)
    stored = Interaction.objects.count()
    ids = list(Interaction.objects.order_by().values_list("customer_id", flat=True).distinct())
    rng = random.Random(5)
    picks = [ids[rng.randrange(len(ids))] for _ in range(QUERIES)]

    table = Interaction._meta.db_table
    sql = (
        f"SELECT * FROM {table} WHERE customer_id = %s ORDER BY occurred_at DESC, id DESC LIMIT 50"
    )

    def raw(cid: int) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, [cid])
            cur.fetchall()

    ways: dict[str, Any] = {
        "selector": lambda cid: customer_timeline_page(customer_id=cid, limit=50),
        "queryset": lambda cid: list(customer_timeline(customer_id=cid)[:50]),
        "sql": raw,
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    for n, cid in enumerate(picks[:50] + picks):
        order = names[n % 3 :] + names[: n % 3]
        for name in order:
            t0 = time.perf_counter()
            ways[name](cid)
            if n >= 50:  # the first 50 warm up
                times[name].append((time.perf_counter() - t0) * 1000)
    orm, base, qs = times["selector"], times["sql"], times["queryset"]
    p50, p99 = statistics.median(orm), _percentile(orm, 99)
    b50, b99 = statistics.median(base), _percentile(base, 99)
    q50, q99 = statistics.median(qs), _percentile(qs, 99)
    print(f"  selector (page): p50 {p50:.2f} ms, p99 {p99:.2f} ms over {QUERIES} queries")
    print(f"  QuerySet:        p50 {q50:.2f} ms, p99 {q99:.2f} ms")
    print(f"  plain SQL:       p50 {b50:.2f} ms, p99 {b99:.2f} ms")
    return {
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "rows": stored,
        "baseline_p50_ms": round(b50, 3),
        "baseline_p99_ms": round(b99, 3),
        "ratio_p50": round(p50 / b50, 2) if b50 else None,
        "ratio_p99": round(p99 / b99, 2) if b99 else None,
        "queryset_p50_ms": round(q50, 3),
        "queryset_p99_ms": round(q99, 3),
        "queries": QUERIES,
        "customers": customers,
    }
