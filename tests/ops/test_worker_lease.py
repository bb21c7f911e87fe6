"""The worker's lease, reclaiming and retries, in this process (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from khoshnud.ops.models import WorkerHeartbeat
from khoshnud.ops.services import Reclaimed, tasks_reclaim, tasks_release
from khoshnud.ops.worker import Backoff, LeasedWorker

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CALLS: dict[str, int] = {}


@task()
def flaky(key: str, failures: int, error: str = "database") -> str:
    """Fails ``failures`` times (a database error, or a bug), then succeeds."""
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] <= failures:
        if error == "database":
            raise OperationalError("server closed the connection unexpectedly")
        raise ValueError("a bug, not a passing fault")
    return key


@pytest.fixture(autouse=True)
def _queue() -> Any:
    CALLS.clear()
    with override_settings(TASKS=DATABASE_QUEUE):
        yield


def _claimed(key: str, *worker_ids: str, started_ago: float = 0) -> DBTaskResult:
    row = DBTaskResult.objects.get(pk=flaky.enqueue(key, 0).id)
    for worker_id in worker_ids:
        row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(seconds=started_ago)
    )
    return row


def _beat(worker_id: str, ago: float) -> None:
    seen = timezone.now() - timedelta(seconds=ago)
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="h", pid=1, started_at=seen, seen_at=seen
    )


def _status(row: DBTaskResult) -> str:
    return str(DBTaskResult.objects.get(pk=row.pk).status)


@pytest.mark.django_db
def test_only_tasks_of_silent_workers_are_reclaimed_and_a_task_that_kills_workers_fails() -> None:
    dead = _claimed("dead", "w-dead", started_ago=30)
    _beat("w-dead", ago=10)  # silent for longer than the 5 s lease
    alive = _claimed("alive", "w-alive", started_ago=30)
    _beat("w-alive", ago=1)
    just_claimed = _claimed("bare-new", "w-bare")  # no heartbeat, claimed just now
    bare_old = _claimed("bare-old", "w-bare-old", started_ago=10)  # no heartbeat, long ago
    cursed = _claimed("cursed", "w1", "w2", "w-cursed", started_ago=30)
    _beat("w-cursed", ago=10)
    _beat("w-forgotten", ago=2 * 86400)

    assert tasks_reclaim(backend_name="default", lease=5, max_attempts=3) == Reclaimed(2, 1)

    assert [_status(t) for t in (dead, alive, just_claimed, bare_old, cursed)] == [
        "READY",
        "RUNNING",
        "RUNNING",
        "READY",
        "FAILED",
    ]
    failed = DBTaskResult.objects.get(pk=cursed.pk)
    assert failed.exception_class_path == "khoshnud.ops.worker.TaskAbandoned"
    assert "claimed 3 times" in failed.traceback
    assert not WorkerHeartbeat.objects.filter(worker_id="w-forgotten").exists()
    # A reclaimed task keeps its history: the next claim appends the next worker.
    assert DBTaskResult.objects.get(pk=dead.pk).worker_ids == ["w-dead"]
    assert tasks_reclaim(backend_name="default", lease=5, max_attempts=3) == Reclaimed(0, 0)


@pytest.mark.django_db
def test_release_puts_back_only_the_tasks_this_worker_left_running() -> None:
    mine = _claimed("mine", "w-other", "w-me")
    theirs = _claimed("theirs", "w-me", "w-other")
    assert tasks_release(backend_name="default", worker_id="w-me") == 1
    assert (_status(mine), _status(theirs)) == ("READY", "RUNNING")


def _worker(max_attempts: int = 3) -> LeasedWorker:
    return LeasedWorker(
        lease=60,
        max_attempts=max_attempts,
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="w-test",
        excluded_queue_names=[],
    )


def _make_due(row: Any) -> None:
    DBTaskResult.objects.filter(pk=row.id).update(run_after=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_a_task_failed_by_the_database_is_retried_and_a_bug_is_not() -> None:
    shaky = flaky.enqueue("shaky", 1)
    buggy = flaky.enqueue("buggy", 1, "bug")
    _worker().run()

    row = DBTaskResult.objects.get(pk=shaky.id)
    assert row.status == "READY" and row.run_after > timezone.now()  # retried after a back-off
    assert row.exception_class_path == "django.db.utils.OperationalError"
    assert _status(DBTaskResult.objects.get(pk=buggy.id)) == "FAILED"

    _make_due(shaky)
    _worker().run()
    row = DBTaskResult.objects.get(pk=shaky.id)
    assert (row.status, row.return_value, row.worker_ids) == ("SUCCESSFUL", "shaky", ["w-test"] * 2)
    assert CALLS == {"shaky": 2, "buggy": 1}
    assert not WorkerHeartbeat.objects.exists()  # a worker that stops cleanly forgets its beat


@pytest.mark.django_db(transaction=True)
def test_retries_stop_at_the_maximum_number_of_attempts() -> None:
    doomed = flaky.enqueue("doomed", 99)
    for _ in range(2):
        _worker(max_attempts=2).run()
        _make_due(doomed)
    row = DBTaskResult.objects.get(pk=doomed.id)
    assert (row.status, len(row.worker_ids), CALLS["doomed"]) == ("FAILED", 2, 2)


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_calm() -> None:
    backoff = Backoff(first=1, cap=5, calm=60)
    assert [backoff.next() for _ in range(5)] == [1, 2, 4, 5, 5]
    backoff.last -= 61
    assert backoff.next() == 1


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="runs the worker on an empty embedded SQLite whatever the test database: once is enough",
)
def test_a_one_off_worker_on_a_broken_database_says_so_and_exits_non_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KHOSHNUD_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="khoshnud.settings")
    done = subprocess.run(  # an empty database: never migrated
        [sys.executable, "-m", "khoshnud.cli", "worker", "--batch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "reconnecting in 1.0s" in done.stderr and "reconnecting in 4.0s" in done.stderr
    assert done.stderr.strip().endswith(
        "CommandError: the database failed 4 times in a row: no such table: ops_workerheartbeat"
    )


@pytest.mark.parametrize("value", ["0", "abc", "nan", "inf"])
def test_a_bad_lease_is_a_configuration_error_that_names_the_variable(value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import khoshnud.settings"],
        env={**os.environ, "KHOSHNUD_WORKER_LEASE_SECONDS": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"KHOSHNUD_WORKER_LEASE_SECONDS must be a number ≥ 0.5, not '{value}'" in done.stderr
