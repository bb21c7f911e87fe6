"""Real worker processes against the test database, for the fault tests (PostgreSQL only).

The worker runs as ``khoshnud worker`` in its own process group, on the test database that
pytest-django created, with a short lease so that reclaiming takes seconds, not minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.db.models import Count
from django.test import override_settings

from khoshnud.interactions.models import Direction, Interaction
from khoshnud.interactions.services import events_ingest
from khoshnud.language.models import MessageAnalysis
from tests.conftest import event

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LEASE_SECONDS = 2

PHRASES = [
    "my espresso machine shows error E05 and won't heat",
    "what time do you open on friday",
    "the refund never arrived, this is awful",
    "هنوز سفارشم نرسیده، کی ارسال میشه؟",
    "قیمت آسیاب دستی چنده؟",
    "ممنون از برخورد عالی همکارتون",
    "应用一登录就闪退",
    "请问你们几点开门",
    "服务太差了，我要退款",
]


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def worker_env(lease: int = LEASE_SECONDS) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "khoshnud.settings",
        "DATABASE_URL": database_url(),
        "KHOSHNUD_TASK_BACKEND": "database",
        "KHOSHNUD_WORKER_LEASE_SECONDS": str(lease),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def worker_process(log: Path, *args: str, lease: int = LEASE_SECONDS) -> Iterator[subprocess.Popen]:
    """``khoshnud worker ARGS`` in its own process group; killed (the whole group) on exit."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "khoshnud.cli", "worker", *args],
            env=worker_env(lease),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        kill_group(process)


def kill_group(process: subprocess.Popen) -> None:
    """Kill the worker's whole process group, then end the database sessions it left behind.

    A killed client's PostgreSQL backend runs its statement on, holding its locks, until it
    notices: the test's teardown (a TRUNCATE of every table) then deadlocked with it now and
    then. So the other sessions of the test database are ended, and awaited, here."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    if connection.vendor != "postgresql":
        return
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(pg_terminate_backend(pid)) {others}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute(f"SELECT count(*) {others}")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)


def ingest_messages(count: int, batch: int, prefix: str = "m") -> list[int]:
    """Store ``count`` distinct inbound messages in batches (one pipeline task per batch)."""
    ids: list[int] = []
    with override_settings(TASKS=DATABASE_QUEUE):
        for start in range(0, count, batch):
            events = [
                event(
                    external_id=f"{prefix}-{i}",
                    text=f"{PHRASES[i % len(PHRASES)]} ({i})",
                    customer={"email": f"c{i % 50}@example.com"},
                )
                for i in range(start, min(count, start + batch))
            ]
            ids.extend(r.id for r in events_ingest(events=events) if r.id is not None)
    return ids


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, log: Path | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{tail}"
    )


def classification_counts(ids: list[int]) -> dict[str, int]:
    """classified / lost / duplicated over the given inbound messages."""
    expected = set(
        Interaction.objects.filter(pk__in=ids, direction=Direction.INBOUND).values_list(
            "pk", flat=True
        )
    )
    per_message = dict(
        MessageAnalysis.objects.filter(interaction_id__in=expected)
        .values_list("interaction_id")
        .annotate(n=Count("*"))
        .values_list("interaction_id", "n")
    )
    return {
        "messages": len(expected),
        "classified": sum(1 for n in per_message.values() if n >= 1),
        "lost": len(expected - set(per_message)),
        "duplicated": sum(n - 1 for n in per_message.values() if n > 1),
    }
