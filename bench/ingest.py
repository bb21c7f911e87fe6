"""Ingest N events through interactions.services.events_ingest, against the raw driver.

Baseline, same run, same table: the driver's executemany of the very rows the service stores
(and COPY on PostgreSQL, reported beside it). Customers exist beforehand (found by email).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from typing import Any

BATCH = 1000
PAIRS = 3  # rounds of ingestion alone, then with the case worker (the median one counts)
PAIRS_ABOVE = 100_000  # larger runs are long enough to time once
TEXTS = [
    "سلام وقت بخیر سفارشم هنوز نرسیده",
    "亲，我的订单什么时候发货？",
    "my grinder stopped working",
    "دستگاه روشن نمیشه",
    "收到的货是坏的，我要退款",
    "Thanks, Daniel was great on the phone!",
    "when do you open on saturday",
    "咖啡机一直闪红灯",
]
CHANNELS = ["email", "sms", "telegram", "instagram", "phone", "chat", "web", "wechat"]


REPLIES = [
    "سلام، پیگیری می‌کنیم و خبر می‌دهیم",
    "您好，我们马上为您处理",
    "Thanks for writing, we are on it",
]


def _events(n: int, customers: list[tuple[int, str]], seed: int, tag: str) -> list[dict[str, Any]]:
    """``n`` events shaped like a help desk's traffic: conversations of 1–6 messages (3.5 on
    average) a few minutes to hours apart, opened by the customer and then alternating with
    the business's replies, on the customer's usual channel four times out of five; six months
    of traffic arriving roughly in time order."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    step = 180 * 86400 / n
    usual: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    while len(out) < n:
        _cid, email = customers[rng.randrange(len(customers))]
        channel = usual.setdefault(email, rng.choice(CHANNELS))
        if rng.random() < 0.2:
            channel = rng.choice(CHANNELS)
        when = start + dt.timedelta(seconds=int(len(out) * step) + rng.randrange(600))
        for turn in range(min(n - len(out), rng.randint(1, 6))):
            inbound = turn % 2 == 0
            i = len(out)
            out.append(
                {
                    "source": f"bench-{tag}",
                    "external_id": f"e{i:09d}",
                    "channel": channel,
                    "direction": "inbound" if inbound else "outbound",
                    "type": "message",
                    "stage": "service",
                    "occurred_at": when.isoformat(),
                    "customer": {"email": email},
                    "text": rng.choice(TEXTS if inbound else REPLIES),
                    "metadata": {"seq": i},
                }
            )
            when += dt.timedelta(minutes=rng.randrange(3, 240))
    return out


def _customers(count: int) -> list[tuple[int, str]]:
    from khoshnud.customers.models import Customer, Identity

    made = Customer.objects.bulk_create(
        [Customer(first_name=f"Bench{i}", search_text=f"bench{i}") for i in range(count)],
        batch_size=1000,
    )
    Identity.objects.bulk_create(
        [
            Identity(customer=c, kind="email", value=f"bench{i}@example.com")
            for i, c in enumerate(made)
        ],
        batch_size=1000,
    )
    return [(c.pk, f"bench{i}@example.com") for i, c in enumerate(made)]


def _rows(events: list[dict[str, Any]], customer_of: dict[str, int]) -> list[tuple]:
    from django.db import connection
    from django.utils import timezone

    ops, now = connection.ops, timezone.now()
    return [
        (
            customer_of[e["customer"]["email"]],
            e["channel"],
            e["direction"],
            e["type"],
            e["stage"],
            ops.adapt_datetimefield_value(dt.datetime.fromisoformat(e["occurred_at"])),
            e["text"],
            json.dumps(e["metadata"], ensure_ascii=False),
            None,
            e["source"],
            e["external_id"],
            ops.adapt_datetimefield_value(now),
        )
        for e in events
    ]


def _raw_executemany(rows: list[tuple], db: str) -> float:
    from django.db import connection

    from khoshnud.db import INTERACTION_COLUMNS, INTERACTION_KEY, INTERACTION_TABLE, insert_sql

    settings = connection.settings_dict
    sql = insert_sql(INTERACTION_TABLE, INTERACTION_COLUMNS, INTERACTION_KEY)
    if db == "sqlite":
        import sqlite3

        from django.conf import settings as django_settings

        conn = sqlite3.connect(settings["NAME"])
        conn.executescript(django_settings.SQLITE_PRAGMAS)  # the same connection settings
        sql = sql.replace("%s", "?")
    else:
        import psycopg

        conn = psycopg.connect(
            dbname=settings["NAME"],
            user=settings["USER"],
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
        )  # type: ignore[assignment]
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        cur = conn.cursor()
        cur.executemany(sql, rows[i : i + BATCH])
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _raw_copy(rows: list[tuple]) -> float:
    import psycopg
    from django.db import connection

    from khoshnud.db import INTERACTION_COLUMNS

    s = connection.settings_dict
    cols = ", ".join(name for name, _type in INTERACTION_COLUMNS)
    with psycopg.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"] or 5432
    ) as conn:
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            with conn.cursor().copy(f"COPY interactions_interaction ({cols}) FROM STDIN") as copy:
                for row in rows[i : i + BATCH]:
                    copy.write_row(row)
            conn.commit()
        return time.perf_counter() - started


def _clear(db: str) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if db == "sqlite":
            cur.execute("DELETE FROM interactions_interaction")
        else:
            cur.execute("TRUNCATE interactions_interaction")
    if db == "sqlite":
        with connection.cursor() as cur:
            cur.execute("VACUUM")


def _case_setup(db: str) -> None:
    from django.conf import settings

    from khoshnud.accounts.models import Team
    from khoshnud.cases.models import Case
    from khoshnud.ops.demo_data import demo_service_catalog

    Case.objects.all().delete()
    _clear(db)
    demo_service_catalog()
    for name in set(settings.KHOSHNUD_CASE_TEAMS.values()):
        Team.objects.get_or_create(name=name)


def _with_case_pipeline(events: list[dict[str, Any]], db: str) -> dict[str, Any]:
    """Ingest ``events`` again into an empty log, each batch followed by the case step of the
    pipeline (what the worker runs after commit: open or join a case per inbound message), in
    the same process, one after the other; the demo catalog and teams price and place the
    cases."""
    from khoshnud.cases.models import Case
    from khoshnud.cases.services import case_open_or_attach
    from khoshnud.interactions.services import events_ingest

    _case_setup(db)
    ingest_s = cases_s = 0.0
    for i in range(0, len(events), BATCH):
        started = time.perf_counter()
        results = events_ingest(events=events[i : i + BATCH])
        ingest_s += time.perf_counter() - started
        started = time.perf_counter()
        case_open_or_attach(interaction_ids=[r.id for r in results if r.id is not None])
        cases_s += time.perf_counter() - started
    return {
        "seconds": ingest_s + cases_s,
        "ingest_s": ingest_s,
        "cases_s": cases_s,
        "opened": Case.objects.count(),
    }


def _case_worker(ids_queue: Any, done: Any) -> None:
    """The worker's side: the case step on each batch of ids as its ingestion commits."""
    from django.db import connection

    from khoshnud.cases.services import case_open_or_attach

    busy = 0.0
    while (ids := ids_queue.get()) is not None:
        started = time.perf_counter()
        case_open_or_attach(interaction_ids=ids)
        busy += time.perf_counter() - started
    connection.close()
    done.put(busy)


def _with_case_worker(events: list[dict[str, Any]], db: str) -> dict[str, Any]:
    """As the product runs it: ingestion here (what the API does), the case step in a worker
    process beside it (what ``khoshnud worker`` does after each commit), so the two overlap
    as they do in production. Timed from the first batch until the worker has placed the
    last message in a case: the rate at which events end up both stored and in cases."""
    import multiprocessing

    from django.db import connection

    from khoshnud.cases.models import Case
    from khoshnud.interactions.services import events_ingest

    _case_setup(db)
    connection.close()  # the worker opens its own connection
    context = multiprocessing.get_context("fork")
    ids_queue, done = context.Queue(), context.Queue()
    worker = context.Process(target=_case_worker, args=(ids_queue, done))
    worker.start()
    started = time.perf_counter()
    for i in range(0, len(events), BATCH):
        results = events_ingest(events=events[i : i + BATCH])
        ids_queue.put([r.id for r in results if r.id is not None])
    ingest_s = time.perf_counter() - started
    ids_queue.put(None)
    busy = done.get()
    seconds = time.perf_counter() - started
    worker.join()
    return {
        "seconds": seconds,
        "ingest_s": ingest_s,
        "cases_s": busy,
        "opened": Case.objects.count(),
    }


def run(*, scale: int, db: str) -> dict[str, Any]:
    from django.db import connection

    from khoshnud.interactions.services import events_ingest

    customers = _customers(max(10, scale // 50))
    customer_of = {email: cid for cid, email in customers}
    events = _events(scale, customers, seed=7, tag="svc")
    rows = _rows(_events(scale, customers, seed=7, tag="raw"), customer_of)
    print(f"ingest: {scale:,} events for {len(customers):,} customers into {db}")

    raw_s = _raw_executemany(rows, db)
    raw_rate = scale / raw_s
    print(f"  raw driver executemany: {raw_rate:,.0f} rows/s ({raw_s:.1f} s)")
    extra: dict[str, Any] = {}
    _clear(db)
    if db == "postgres":
        copy_s = _raw_copy(rows)
        extra["raw_copy_rows_per_s"] = round(scale / copy_s)
        print(f"  raw driver COPY:        {scale / copy_s:,.0f} rows/s ({copy_s:.1f} s)")
        _clear(db)
    connection.close()

    started = time.perf_counter()
    created = 0
    for i in range(0, len(events), BATCH):
        results = events_ingest(events=events[i : i + BATCH])
        created += sum(r.status == "created" for r in results)
    service_s = time.perf_counter() - started
    rate = scale / service_s
    assert created == scale, f"stored {created} of {scale}"

    replay_started = time.perf_counter()
    replay = events_ingest(events=events[:BATCH])
    replay_ms = (time.perf_counter() - replay_started) * 1000
    assert all(r.status == "duplicate" for r in replay)
    print(f"  service events_ingest:  {rate:,.0f} events/s ({service_s:.1f} s)")
    print(f"  ratio service / raw executemany: {rate / raw_rate:.2f}")
    print(f"  replaying a batch of {BATCH} (all duplicates): {replay_ms:.0f} ms")

    cases = _with_case_pipeline(_events(scale, customers, seed=7, tag="cases"), db)
    sequential_rate = scale / cases["seconds"]
    print(
        f"  with the case step after each batch, one process: {sequential_rate:,.0f} events/s "
        f"({cases['seconds']:.1f} s: ingest {cases['ingest_s']:.1f} + cases "
        f"{cases['cases_s']:.1f}; {cases['opened']:,} cases opened); "
        f"ratio {sequential_rate / rate:.2f}"
    )
    extra.update(
        with_cases_sequential_events_per_s=round(sequential_rate),
        with_cases_sequential_ratio=round(sequential_rate / rate, 3),
        cases_opened=cases["opened"],
    )
    # Each round times ingestion alone and then with the case step, one right after the other,
    # into an emptied log: the ratio is the median round's (a busy machine moves both
    # together). As the product runs it on either database (``make demo`` too): the API
    # ingests, a worker process runs the case step beside it, timed until the worker has
    # placed the last message. (SQLite has one writer: the step decides outside its short write
    # transaction, so only the writes take turns with the API's.)
    ratios, rounds = [], []
    pairs = PAIRS if scale <= PAIRS_ABOVE else 1
    for k in range(pairs):
        _case_setup(db)
        connection.close()
        alone = _events(scale, customers, seed=7, tag=f"alone{k}")
        started = time.perf_counter()
        for i in range(0, len(alone), BATCH):
            events_ingest(events=alone[i : i + BATCH])
        alone_s = time.perf_counter() - started
        traffic = _events(scale, customers, seed=7, tag="cases")
        overlapped = _with_case_worker(traffic, db)
        assert overlapped["opened"] == cases["opened"], (overlapped["opened"], cases["opened"])
        ratios.append(alone_s / overlapped["seconds"])
        rounds.append((alone_s, overlapped))
        print(
            f"  round {k + 1}: ingestion alone {scale / alone_s:,.0f} events/s; with the case "
            f"pipeline (a worker beside it) {scale / overlapped['seconds']:,.0f} events/s stored and in "
            f"cases ({overlapped['seconds']:.1f} s; ingestion {overlapped['ingest_s']:.1f} s, "
            f"case step {overlapped['cases_s']:.1f} s); ratio {ratios[-1]:.2f}"
        )
    middle = sorted(range(pairs), key=lambda n: ratios[n])[pairs // 2]
    alone_s, overlapped = rounds[middle]
    with_cases_rate = scale / overlapped["seconds"]
    print(f"  ratio with cases / ingestion alone (median of {pairs} rounds): {ratios[middle]:.2f}")
    extra.update(
        with_cases_events_per_s=round(with_cases_rate),
        with_cases_alone_events_per_s=round(scale / alone_s),
        with_cases_ratio=round(ratios[middle], 3),
        with_cases_ratios=[round(r, 3) for r in ratios],
        with_cases_step_s=round(overlapped["cases_s"], 2),
    )
    return {
        "events_per_s": round(rate),
        "raw_rows_per_s": round(raw_rate),
        "ratio": round(rate / raw_rate, 3),
        "events": scale,
        "batch": BATCH,
        "replay_batch_ms": round(replay_ms, 1),
        **extra,
    }
