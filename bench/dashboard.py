"""The managers' dashboard for a 90-day period, from the daily rollups, beside the same numbers
computed straight from the raw tables, in the same run (both timed, the two answers compared).

``--scale N`` is the number of survey answers; the interaction log gets 10 N rows and there
are N cases (full size: 1,000,000 answers, 10,000,000 interactions, 1,000,000 cases), spread
over the 365 days before today, 2,000 customers in three tiers (two orders each), 3 teams,
60 agents, 20 products (7 cases in 10 name theirs, the rest are inferred from the orders by
the rebuild; 1 answer in 4 names its own). On
PostgreSQL the rows are made by ``generate_series`` in the database (minutes, not hours); on
SQLite by Python.

- ``p50_ms``: the dashboard page (``GET /insights/?from&to``: totals, previous period and
  delta, the daily trend, the breakdowns by channel, kind, team, agent, tier, product and type,
  drawn
  into HTML), 90-day periods ending on different days, signed in as a manager.
- ``api_p50_ms``: the same through ``GET /api/v1/insights`` (JSON).
- ``raw_p50_ms``: the same numbers by ``insights.selectors.dashboard_raw``: the case figures
  through ``cases.metrics.case_metrics`` (every case of the period read), the interactions,
  tiers and products by a direct aggregate of the raw tables.
- ``sql_aggregate_p50_ms``: a second baseline, the rollups' counters of the period and the
  previous one computed by plain SQL ``GROUP BY`` (day × dimension) over the raw tables
  (``insights.rollups.day_figures``), without assembling them.
- ``equal``: the two answers' numbers equal, for every period timed on both sides.
- ``infer_s``: the products of the cases that name none (3 in 10), inferred from the orders by
  ``cases.products.cases_products_infer`` (set-based UPDATEs of 5,000 cases).
- ``rebuild_s``: ``khoshnud insights rebuild`` from scratch.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

CUSTOMERS = 2_000
AGENTS = 60
KINDS = ("service", "support", "care")
CHANNELS = ("email", "phone", "telegram", "whatsapp", "web", "in_person")
TYPES = ("message", "call", "purchase", "visit", "notification")
TIERS = ("standard", "standard", "standard", "loyal", "key")
PRODUCTS = 20
PERIODS = 15
RAW_PERIODS = 3


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _people() -> tuple[list[int], list[int]]:
    """Teams (one per kind) with 20 agents each, a manager; → (team ids, agent ids)."""
    from django.contrib.auth.models import User

    from khoshnud.accounts.models import Team
    from khoshnud.accounts.services import roles_ensure, staff_create

    roles_ensure()
    teams = [Team.objects.get_or_create(name=kind)[0].pk for kind in KINDS]
    users = User.objects.bulk_create(
        [User(username=f"bench-agent-{i:02d}", password="!") for i in range(AGENTS)]  # noqa: S106 - "!" is unusable
    )
    staff_create(username="bench-manager", password="Quarterly-review-2026", role="manager")  # noqa: S106 - a throwaway benchmark database
    return teams, [u.pk for u in users]


def _products() -> list[int]:
    from decimal import Decimal

    from khoshnud.commerce.models import Product

    made = Product.objects.bulk_create(
        [Product(sku=f"BENCH-{i:02d}", name=f"Product {i:02d}", category="bench",
                 price=Decimal("10.00"), currency="USD") for i in range(PRODUCTS)]
    )  # fmt: skip
    return [p.pk for p in made]


def _orders(cur: Any, db: str, products: list[int], start: dt.datetime) -> None:
    """Two orders per customer at random moments of the year, one line each."""
    if db != "postgres":
        from decimal import Decimal

        from khoshnud.commerce.models import Order, OrderLine
        from khoshnud.customers.models import Customer

        rng = random.Random(7)
        orders = Order.objects.bulk_create(
            [Order(customer_id=c, number=f"B{c}-{k}", currency="USD", total=Decimal(10),
                   placed_at=start + dt.timedelta(days=365) * rng.random())
             for c in Customer.objects.values_list("pk", flat=True) for k in (1, 2)]
        )  # fmt: skip
        OrderLine.objects.bulk_create(
            [OrderLine(order=o, product_id=products[o.pk % len(products)], quantity=1,
                       unit_price=Decimal(10)) for o in orders]
        )  # fmt: skip
        return
    later = "%s + random() * interval '365 days'"
    cur.execute(
        "INSERT INTO commerce_order (customer_id, number, placed_at, currency, total, channel)"
        f" SELECT c.id, 'B' || c.id || '-' || k, {later}, 'USD', 10, 'web'"
        " FROM customers_customer c, generate_series(1, 2) k",
        [start],
    )
    cur.execute(
        "INSERT INTO commerce_orderline (order_id, product_id, quantity, unit_price)"
        " SELECT id, (%s::bigint[])[1 + id %% %s], 1, 10 FROM commerce_order",
        [products, len(products)],
    )


def _verdicts_and_recoveries(cur: Any, db: str) -> None:
    """A verdict per resolved case (15 % exceeded, 65 % met, the rest fell short); a care
    follow-up per detractor, a third of them won back, a third not, a third not answered."""
    cur.execute(
        "INSERT INTO feedback_caseverdict (case_id, verdict, reasons, resolved_at, decided_at)"
        " SELECT id, CASE WHEN id % 20 < 3 THEN 'exceeded' WHEN id % 20 < 16 THEN 'met'"
        " ELSE 'fell_short' END, '[]', resolved_at, resolved_at"
        " FROM cases_case WHERE resolved_at IS NOT NULL"
    )
    later = (
        "answered_at + interval '1 hour'"
        if db == "postgres"
        else "datetime(answered_at, '+1 hour')"
    )
    cur.execute(
        "INSERT INTO feedback_recovery (response_id, customer_id, opened_at, outcome,"
        f" outcome_note, won_back) SELECT id, customer_id, {later}, 'resolved', '',"
        " CASE id % 3 WHEN 0 THEN TRUE WHEN 1 THEN FALSE END"
        " FROM feedback_surveyresponse WHERE kind = 'nps' AND score <= 6"
    )


def _fill_postgres(
    scale: int, start: dt.datetime, teams: list[int], agents: list[int], products: list[int]
) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            "INSERT INTO customers_customer (first_name, last_name, locale, calendar, time_zone,"
            " tier, attributes, search_text, created_at, updated_at)"
            " SELECT 'C' || i, '', 'fa', 'jalali', 'Asia/Tehran', (%s::text[])[1 + i %% 5],"
            " '{}'::jsonb, '', now(), now() FROM generate_series(1, %s) i",
            [list(TIERS), CUSTOMERS],
        )
        cur.execute("SELECT min(id) FROM customers_customer")
        first_customer = cur.fetchone()[0]
        # A case: opened at a random moment of the year; 90 % answered within 0–3 hours
        # (due in 1 hour), 98 % resolved within 0–48 hours (due in 24 hours); 1 in 10 with
        # no assignee.
        cur.execute(
            "INSERT INTO cases_case (customer_id, kind, status, priority, channel, subject,"
            " team_id, assignee_id, tags, opened_at, last_message_at, time_zone,"
            " first_response_due, resolution_due, first_responded_at, resolved_at,"
            " product_id, product_source, created_at, updated_at)"
            " SELECT customer, (%(kinds)s::text[])[1 + k], CASE WHEN resolved IS NULL THEN 'open'"
            " ELSE 'resolved' END, 'normal', (%(channels)s::text[])[1 + i %% 6], '',"
            " (%(teams)s::int[])[1 + k], CASE WHEN i %% 10 = 0 THEN NULL ELSE"
            " (%(agents)s::int[])[1 + k * 20 + (i / 3) %% 20] END, '[]'::jsonb, opened, opened,"
            " 'Asia/Tehran', opened + interval '1 hour', opened + interval '24 hours',"
            " responded, resolved, CASE WHEN i %% 10 < 7 THEN"
            " (%(products)s::bigint[])[1 + i %% %(n_products)s] END,"
            " CASE WHEN i %% 10 < 7 THEN 'set' END, now(), now()"
            " FROM (SELECT i, i %% 3 AS k, %(first)s + i %% %(customers)s AS customer, opened,"
            "  CASE WHEN random() < 0.9 THEN opened + random() * interval '3 hours' END"
            "   AS responded,"
            "  CASE WHEN random() < 0.98 THEN opened + random() * interval '48 hours' END"
            "   AS resolved"
            "  FROM (SELECT i, %(start)s + random() * interval '365 days' AS opened"
            "   FROM generate_series(1, %(n)s) i) g) s",
            {"kinds": list(KINDS), "channels": list(CHANNELS), "teams": teams,
             "agents": agents, "first": first_customer, "customers": CUSTOMERS,
             "start": start, "n": scale, "products": products, "n_products": len(products)},
        )  # fmt: skip
        cur.execute(
            "INSERT INTO interactions_interaction (customer_id, channel, direction, type, stage,"
            " occurred_at, text, metadata, source, external_id, created_at)"
            " SELECT %(first)s + i %% %(customers)s, (%(channels)s::text[])[1 + (i / 7) %% 6],"
            " CASE WHEN i %% 3 = 0 THEN 'outbound' ELSE 'inbound' END,"
            " (%(types)s::text[])[1 + i %% 5], '', %(start)s + random() * interval '365 days',"
            " '', '{}'::jsonb, 'bench', i::text, now()"
            " FROM generate_series(1, %(n)s) i",
            {"first": first_customer, "customers": CUSTOMERS, "channels": list(CHANNELS),
             "types": list(TYPES), "start": start, "n": 10 * scale},
        )  # fmt: skip
        cur.execute("SELECT min(id), count(*) FROM cases_case")
        first_case, cases = cur.fetchone()
        # An answer per case, one to three days after it opened, by its channel, rating its
        # agent: NPS 2 in 5 (0–10), CSAT 2 in 5 (1–5), CES 1 in 5 (1–7).
        cur.execute(
            "INSERT INTO feedback_surveyresponse (kind, score, choice, comment, customer_id,"
            " case_id, agent_id, channel, answered_at, source, product_id, created_at)"
            " SELECT g.kind, CASE g.kind WHEN 'nps' THEN floor(random() * 11)"
            "  WHEN 'csat' THEN 1 + floor(random() * 5) ELSE 1 + floor(random() * 7) END,"
            " '', '', c.customer_id, c.id, c.assignee_id, c.channel,"
            " c.opened_at + interval '1 day' + random() * interval '2 days', 'import',"
            " CASE WHEN g.i %% 4 = 0 THEN (%(products)s::bigint[])[1 + (g.i / 4) %% %(np)s] END,"
            " now()"
            " FROM (SELECT i, (ARRAY['nps', 'csat', 'nps', 'csat', 'ces'])[1 + i %% 5] AS kind"
            "  FROM generate_series(1, %(n)s) i) g"
            " JOIN cases_case c ON c.id = %(first)s + (g.i %% %(cases)s)",
            {"n": scale, "first": first_case, "cases": cases, "products": products,
             "np": len(products)},
        )  # fmt: skip
        _orders(cur, "postgres", products, start)
        _verdicts_and_recoveries(cur, "postgres")
        cur.execute("VACUUM ANALYZE")


def _fill_python(
    scale: int, start: dt.datetime, teams: list[int], agents: list[int], products: list[int]
) -> None:
    """The same distributions, made in Python (SQLite)."""
    from django.db import connection

    from khoshnud.cases.models import Case
    from khoshnud.customers.models import Customer
    from khoshnud.db import datetime_adapter, insert_rows, json_adapter
    from khoshnud.interactions.models import Interaction

    rng = random.Random(42)
    at, as_json = datetime_adapter(), json_adapter()
    made = Customer.objects.bulk_create(
        [Customer(first_name=f"C{i}", tier=TIERS[i % 5]) for i in range(CUSTOMERS)]
    )
    customers = [c.pk for c in made]
    year = dt.timedelta(days=365)
    now = at(start + year)
    columns = ("customer_id", "kind", "status", "priority", "channel", "subject", "team_id",
               "assignee_id", "tags", "opened_at", "last_message_at", "time_zone",
               "first_response_due", "resolution_due", "first_responded_at", "resolved_at",
               "product_id", "product_source", "created_at", "updated_at")  # fmt: skip
    rows: list[tuple[Any, ...]] = []
    for i in range(1, scale + 1):
        k = i % 3
        opened = start + year * rng.random()
        responded = opened + dt.timedelta(hours=3) * rng.random() if rng.random() < 0.9 else None
        resolved = opened + dt.timedelta(hours=48) * rng.random() if rng.random() < 0.98 else None
        rows.append(
            (customers[i % CUSTOMERS], KINDS[k], "open" if resolved is None else "resolved",
             "normal", CHANNELS[i % 6], "", teams[k],
             None if i % 10 == 0 else agents[k * 20 + (i // 3) % 20], as_json([]), at(opened),
             at(opened), "Asia/Tehran", at(opened + dt.timedelta(hours=1)),
             at(opened + dt.timedelta(hours=24)), at(responded), at(resolved),
             products[i % PRODUCTS] if i % 10 < 7 else None, "set" if i % 10 < 7 else None,
             now, now)
        )  # fmt: skip
    for chunk in range(0, len(rows), 5000):
        insert_rows(table=Case._meta.db_table, columns=columns, rows=rows[chunk : chunk + 5000])
    columns = ("customer_id", "channel", "direction", "type", "stage", "occurred_at", "text",
               "metadata", "source", "external_id", "created_at")  # fmt: skip
    rows = []
    for i in range(1, 10 * scale + 1):
        rows.append(
            (customers[i % CUSTOMERS], CHANNELS[(i // 7) % 6],
             "outbound" if i % 3 == 0 else "inbound", TYPES[i % 5], "",
             at(start + year * rng.random()), "", as_json({}), "bench", str(i), now)
        )  # fmt: skip
        if len(rows) == 10_000:
            insert_rows(table=Interaction._meta.db_table, columns=columns, rows=rows)
            rows = []
    insert_rows(table=Interaction._meta.db_table, columns=columns, rows=rows)
    cases = list(
        Case.objects.order_by("id").values_list("id", "customer_id", "assignee_id", "channel",
                                                "opened_at")
    )  # fmt: skip
    columns = ("kind", "score", "choice", "comment", "customer_id", "case_id", "agent_id",
               "channel", "answered_at", "source", "product_id", "created_at")  # fmt: skip
    rows = []
    scales = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    for i in range(1, scale + 1):
        kind = ("nps", "csat", "nps", "csat", "ces")[i % 5]
        pk, customer, agent, channel, opened = cases[i % len(cases)]
        answered = opened + dt.timedelta(days=1) + dt.timedelta(days=2) * rng.random()
        rows.append(
            (kind, rng.randint(*scales[kind]), "", "", customer, pk, agent, channel,
             at(answered), "import", products[(i // 4) % PRODUCTS] if i % 4 == 0 else None, now)
        )  # fmt: skip
    for chunk in range(0, len(rows), 5000):
        insert_rows(table="feedback_surveyresponse", columns=columns,
                    rows=rows[chunk : chunk + 5000])  # fmt: skip
    with connection.cursor() as cur:
        _orders(cur, "sqlite", products, start)
        _verdicts_and_recoveries(cur, "sqlite")
        cur.execute("ANALYZE")


def run(*, scale: int, db: str) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from khoshnud.accounts.services import token_create
    from khoshnud.cases.products import cases_products_infer
    from khoshnud.insights.rollups import business_zone, day_figures, rollups_rebuild
    from khoshnud.insights.selectors import dashboard, dashboard_numbers, dashboard_raw

    now = timezone.now()
    today = now.astimezone(business_zone()).date()
    start = now - dt.timedelta(days=365)
    teams, agents = _people()
    started = time.perf_counter()
    products = _products()
    (_fill_postgres if db == "postgres" else _fill_python)(scale, start, teams, agents, products)
    fill_s = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM interactions_interaction")
        interactions = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_case")
        cases = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM feedback_surveyresponse")
        responses = cur.fetchone()[0]
    print(f"filled {cases:,} cases, {interactions:,} interactions and {responses:,} answers "
          f"in {fill_s:.1f} s")  # fmt: skip
    # The products of the 3 cases in 10 that name none, from the orders (set-based UPDATEs).
    started = time.perf_counter()
    inferred = cases_products_infer()
    infer_s = time.perf_counter() - started
    print(f"products of {inferred.looked:,} cases inferred in {infer_s:.1f} s "
          f"({len(inferred.found):,} found one)")  # fmt: skip
    started = time.perf_counter()
    rebuilt = rollups_rebuild()
    rebuild_s = time.perf_counter() - started
    print(f"rollups rebuilt from scratch in {rebuild_s:.1f} s ({rebuilt['rows']:,} rows)")

    from django.contrib.auth.models import User

    manager = User.objects.get(username="bench-manager")
    page = Client(SERVER_NAME="localhost")
    page.force_login(manager)
    _token, secret = token_create(user=manager, scopes=["read"])
    api = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {secret}")
    # 90-day periods ending on different days of the last nine months (the first one a
    # warm-up, outside the figures).
    ends = [today - dt.timedelta(days=1 + 17 * i) for i in range(PERIODS + 1)]
    periods = [(end - dt.timedelta(days=89), end) for end in ends]
    page_ms: list[float] = []
    api_ms: list[float] = []
    selector_ms: list[float] = []
    for i, (first, last) in enumerate(periods):
        params = {"from": first.isoformat(), "to": last.isoformat()}
        t0 = time.perf_counter()
        response = page.get("/insights/", params)
        t1 = time.perf_counter()
        answer = api.get("/api/v1/insights", params)
        t2 = time.perf_counter()
        dashboard(start=first, end=last)
        t3 = time.perf_counter()
        if response.status_code != 200 or answer.status_code != 200:
            raise RuntimeError(f"dashboard answered {response.status_code}/{answer.status_code}")
        if i:
            page_ms.append((t1 - t0) * 1000)
            api_ms.append((t2 - t1) * 1000)
            selector_ms.append((t3 - t2) * 1000)
    raw_ms: list[float] = []
    sql_ms: list[float] = []
    equal = True
    for first, last in periods[1 : RAW_PERIODS + 1]:
        t0 = time.perf_counter()
        raw = dashboard_raw(start=first, end=last, now=now)
        raw_ms.append((time.perf_counter() - t0) * 1000)
        # The plain SQL aggregate: every counter of the period and the one before, grouped by
        # day and dimension straight from the raw tables (what the rollups store), summed.
        t0 = time.perf_counter()
        day_figures(first - dt.timedelta(days=90), last, now=now)
        sql_ms.append((time.perf_counter() - t0) * 1000)
        rolled = dashboard(start=first, end=last)
        if dashboard_numbers(raw) != dashboard_numbers(rolled):
            equal = False
            print(f"DIFFERENT for {first}…{last}")
    result = {
        "p50_ms": round(statistics.median(page_ms), 1),
        "p95_ms": round(_percentile(page_ms, 95), 1),
        "api_p50_ms": round(statistics.median(api_ms), 1),
        "selector_p50_ms": round(statistics.median(selector_ms), 1),
        "raw_p50_ms": round(statistics.median(raw_ms), 1),
        "sql_aggregate_p50_ms": round(statistics.median(sql_ms), 1),
        "equal": equal,
        "responses": responses,
        "interactions": interactions,
        "cases": cases,
        "periods": len(page_ms),
        "raw_periods": len(raw_ms),
        "rollup_rows": rebuilt["rows"],
        "fill_s": round(fill_s, 1),
        "rebuild_s": round(rebuild_s, 1),
        "infer_s": round(infer_s, 2),
        "products_inferred": inferred.looked,
    }
    print(
        f"dashboard page p50 {result['p50_ms']} ms (p95 {result['p95_ms']}), API p50 "
        f"{result['api_p50_ms']} ms, selector p50 {result['selector_p50_ms']} ms; raw aggregate "
        f"p50 {result['raw_p50_ms']} ms (plain SQL GROUP BY of the counters: "
        f"{result['sql_aggregate_p50_ms']} ms); equal: {equal}"
    )
    return result
