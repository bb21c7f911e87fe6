"""Outreach: the daily "whose occasion is tomorrow" scan over N customers, and sending.

1. N customers, one birthday each, spread over the Gregorian, Jalali and Chinese lunar
   calendars (a third each, every month and day), generated with SQL; the occasion index is
   built (``occasions_sync``: set-based inserts, one next occurrence per distinct date).
2. The daily scan: the index's range query for tomorrow (median of 5), and the scheduler's
   own candidate query for a birthday rule with one day's lead (three UTC days, then each
   customer's zone) — next to the naive scan in the same run: every personal date read and
   its next occurrence computed in Python.
3. Sending: M customers with an email consent get a campaign; ``khoshnud worker --batch``
   runs the scheduler pass from the database queue against a local SMTP server (aiosmtpd)
   that accepts every message. Throughput = messages / the pass's task time (from the queue's
   started/finished stamps), next to one SMTP connection per message (Django's send_mail)
   in the same run.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

SEND_COUNT = 2_000


def _series(n: int, vendor: str) -> str:
    if vendor == "postgresql":
        return f"SELECT generate_series(1, {int(n)}) AS i"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) SELECT i FROM s"


def _fill(n: int) -> None:
    from django.db import connection

    from khoshnud.customers.models import Customer, PersonalDate

    c, pd = Customer._meta.db_table, PersonalDate._meta.db_table
    now = "now()" if connection.vendor == "postgresql" else "CURRENT_TIMESTAMP"
    cal = "CASE i % 3 WHEN 0 THEN 'gregorian' WHEN 1 THEN 'jalali' ELSE 'chinese' END"
    zone = "CASE i % 3 WHEN 0 THEN 'UTC' WHEN 1 THEN 'Asia/Tehran' ELSE 'Asia/Shanghai' END"
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {c} (id, first_name, last_name, locale, calendar, time_zone, tier,
                    attributes, search_text, created_at, updated_at)
                SELECT i, 'C' || i, '', 'en', {cal}, {zone}, 'standard', '{{}}', '', {now}, {now}
                FROM ({_series(n, connection.vendor)}) s"""
        )
        # Day 1–28 of every month (1–29 for lunar months): every date of the year is used.
        cur.execute(
            f"""INSERT INTO {pd} (customer_id, kind, label, calendar, year, month, day,
                    leap_month)
                SELECT i, 'birthday', '', {cal}, NULL, 1 + (i / 3) % 12,
                       1 + (i / 36) % (CASE i % 3 WHEN 2 THEN 29 ELSE 28 END), FALSE
                FROM ({_series(n, connection.vendor)}) s"""
        )
        if connection.vendor == "postgresql":
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{c}', 'id'), {int(n)})")
            cur.execute(f"ANALYZE {c}")
            cur.execute(f"ANALYZE {pd}")


def _naive(tomorrow: dt.date) -> tuple[int, float]:
    from khoshnud.calendars import CalendarDate, next_occurrence
    from khoshnud.customers.models import PersonalDate

    started = time.perf_counter()
    found = 0
    rows = PersonalDate.objects.filter(kind="birthday").values_list(
        "customer_id", "calendar", "month", "day"
    )
    for _customer_id, calendar, month, day in rows.iterator(chunk_size=20_000):
        if next_occurrence(CalendarDate(calendar, None, month, day), tomorrow) == tomorrow:
            found += 1
    return found, time.perf_counter() - started


def _send_bench(db: str) -> dict[str, Any]:
    from aiosmtpd.controller import Controller
    from django.core.mail import get_connection, send_mail
    from django.db import connection
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from khoshnud.customers.models import Consent, Customer, Identity
    from khoshnud.engagement.models import Send
    from khoshnud.engagement.services import rule_create

    class Accept:
        count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.count += 1
            return "250 OK"

    handler = Accept()
    with socket.socket() as probe:  # a free port for the local SMTP server
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        now = dt.datetime.now(dt.UTC)
        start = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ids = list(range(start + 1, start + SEND_COUNT + 1))
        Customer.objects.bulk_create(
            [Customer(id=i, first_name=f"S{i}", locale="fa", time_zone="UTC") for i in ids]
        )
        Identity.objects.bulk_create(
            [Identity(customer_id=i, kind="email", value=f"s{i}@example.com") for i in ids]
        )
        Consent.objects.bulk_create(
            [
                Consent(
                    customer_id=i, channel="email", granted=True, method="bench", recorded_at=now
                )
                for i in ids
            ]
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                table = Customer._meta.db_table
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ids[-1]})")
        rule_create(
            data={
                "name": "Bench campaign",
                "kind": "campaign",
                "audience": {"customer_ids": ids},
                "channels": ["email"],
                "send_window": ["00:00", "23:59"],
                "templates": {
                    "fa": {
                        "subject": "سلام {{ first_name }}",
                        "body": "سلام {{ first_name }}، پیشنهاد ویژهٔ این هفته.",
                    }
                },
            }
        )
        env = {
            **os.environ,
            "KHOSHNUD_TASK_BACKEND": "database",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
        }
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
            from khoshnud.engagement.tasks import engagement_pass

            queued = engagement_pass.enqueue()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "khoshnud.cli", "worker", "--batch"],
            env=env,
            check=True,
            capture_output=True,
        )
        worker_wall = time.perf_counter() - started
        task = DBTaskResult.objects.filter(id=queued.id).first()
        pass_s = (
            (task.finished_at - task.started_at).total_seconds()
            if task and task.finished_at and task.started_at
            else worker_wall
        )
        sent = Send.objects.filter(status="sent").count()
        # Baseline: one SMTP connection per message, as a naive sender would.
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
        ):
            naive_n = 500
            t0 = time.perf_counter()
            for i in range(naive_n):
                send_mail("سلام", "سلام", None, [f"n{i}@example.com"],
                          connection=get_connection())  # fmt: skip
            naive_s = time.perf_counter() - t0
    finally:
        controller.stop()
    return {
        "send_messages": sent,
        "send_received": handler.count - naive_n,
        "send_pass_s": round(pass_s, 2),
        "send_msgs_per_s": round(sent / pass_s, 1) if pass_s else None,
        "send_worker_wall_s": round(worker_wall, 2),
        "naive_send_msgs_per_s": round(naive_n / naive_s, 1),
    }


def run(*, scale: int, db: str) -> dict[str, Any]:
    from django.db import connection

    from khoshnud.engagement.models import Occasion, Rule
    from khoshnud.engagement.occasions import occasions_sync
    from khoshnud.engagement.scheduler import _occasion_candidates

    print(f"engagement: {scale:,} customers, birthdays over three calendars, in {db}")
    t0 = time.perf_counter()
    _fill(scale)
    fill_s = time.perf_counter() - t0
    print(f"  generated in {fill_s:.1f} s")
    t0 = time.perf_counter()
    occasions_sync()
    index_s = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        # The steady state autovacuum keeps: without it, the dead row versions of the first
        # build's UPDATE stay in the index and every range scan wades through them.
        with connection.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {Occasion._meta.db_table}")
    print(f"  occasion index built in {index_s:.1f} s ({Occasion.objects.count():,} rows)")
    t0 = time.perf_counter()
    occasions_sync(quick=True)  # what every pass does first (nothing new here)
    idle_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    occasions_sync()  # the hourly full check: missing and changed rows everywhere
    full_s = time.perf_counter() - t0
    print(f"  index refresh, nothing to do: each pass {idle_s:.3f} s, hourly full {full_s:.1f} s")
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = today + dt.timedelta(days=1)

    def scan() -> int:
        return len(
            list(
                Occasion.objects.filter(next_date=tomorrow, kind="birthday").values_list(
                    "customer_id", flat=True
                )
            )
        )

    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        found = scan()
        timings.append(time.perf_counter() - t0)
    scan_s = statistics.median(timings)
    print(f"  tomorrow's birthdays by the index: {found:,} in {scan_s * 1000:.1f} ms (median of 5)")
    rule = Rule(
        kind="occasion",
        occasion="birthday",
        lead_days=1,
        window_start=dt.time(0, 0),
        window_end=dt.time(23, 59),
    )
    moment = dt.datetime.now(dt.UTC).replace(hour=12, minute=0)
    t0 = time.perf_counter()
    candidates = sum(1 for _ in _occasion_candidates(rule, moment))
    candidates_s = time.perf_counter() - t0
    print(f"  the scheduler's candidates (zones applied): {candidates:,} in {candidates_s:.2f} s")
    naive_found, naive_s = _naive(tomorrow)
    print(f"  naive Python scan: {naive_found:,} in {naive_s:.1f} s")
    sending = _send_bench(db)
    print(
        f"  sending: {sending['send_messages']:,} emails in {sending['send_pass_s']} s "
        f"= {sending['send_msgs_per_s']} msg/s (worker, one SMTP connection per batch); "
        f"one connection per message: {sending['naive_send_msgs_per_s']} msg/s"
    )
    return {
        "customers": scale,
        "fill_s": round(fill_s, 1),
        "index_build_s": round(index_s, 1),
        "index_refresh_pass_s": round(idle_s, 3),
        "index_refresh_full_s": round(full_s, 1),
        "scan_tomorrow": found,
        "scan_s": round(scan_s, 4),
        "scheduler_candidates": candidates,
        "scheduler_candidates_s": round(candidates_s, 3),
        "naive_found": naive_found,
        "naive_scan_s": round(naive_s, 1),
        "speedup": round(naive_s / scan_s) if scan_s else None,
        **sending,
    }
