"""Timeline latency: one customer's latest 50 interactions with N rows stored.

Measured through the selector the API uses (ORM, khoshnud.interactions.selectors), against the
same query as plain SQL on the same connection (baseline).
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
    from khoshnud.interactions.selectors import customer_timeline

    customers = max(1, scale // 100)  # ~100 interactions each, like a busy shop's regulars
    print(f"timeline: filling {scale:,} rows for {customers:,} customers ({db})")
    with transaction.atomic():
        _fill(scale, customers, db)
    stored = Interaction.objects.count()
    ids = list(Interaction.objects.order_by().values_list("customer_id", flat=True).distinct())
    rng = random.Random(5)
    picks = [ids[rng.randrange(len(ids))] for _ in range(QUERIES)]

    def measure(fn: Any) -> list[float]:
        for cid in picks[:50]:
            fn(cid)  # warm caches
        times = []
        for cid in picks:
            t0 = time.perf_counter()
            fn(cid)
            times.append((time.perf_counter() - t0) * 1000)
        return times

    orm = measure(lambda cid: list(customer_timeline(customer_id=cid)[:50]))
    table = Interaction._meta.db_table
    sql = (
        f"SELECT * FROM {table} WHERE customer_id = %s ORDER BY occurred_at DESC, id DESC LIMIT 50"
    )

    def raw(cid: int) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, [cid])
            cur.fetchall()

    base = measure(raw)
    p50, p99 = statistics.median(orm), _percentile(orm, 99)
    b50, b99 = statistics.median(base), _percentile(base, 99)
    print(f"  selector (ORM): p50 {p50:.2f} ms, p99 {p99:.2f} ms over {QUERIES} queries")
    print(f"  plain SQL:      p50 {b50:.2f} ms, p99 {b99:.2f} ms")
    return {
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "rows": stored,
        "baseline_p50_ms": round(b50, 3),
        "baseline_p99_ms": round(b99, 3),
        "ratio_p50": round(p50 / b50, 2) if b50 else None,
        "queries": QUERIES,
        "customers": customers,
    }
