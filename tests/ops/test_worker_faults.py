"""A real ``khoshnud worker`` killed mid-task and cut off from its database, on PostgreSQL.

Every message must end up classified exactly once: none lost, none analysed twice.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from khoshnud.ops.models import WorkerHeartbeat
from tests.ops.worker_harness import (
    classification_counts,
    ingest_messages,
    kill_group,
    wait_for,
    worker_process,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="a worker process needs a database it shares with the test; SQLite's test "
        "database lives in the test's memory (and pg_terminate_backend is PostgreSQL's)",
    ),
]


def _all_done() -> bool:
    return not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def _running_task() -> DBTaskResult | None:
    return DBTaskResult.objects.running().first()


def _running_task_of(worker_ids: set[str]) -> DBTaskResult | None:
    return next(
        (t for t in DBTaskResult.objects.running() if t.worker_ids[-1] not in worker_ids), None
    )


def _kill_mid_task(spare: set[str], log: Path) -> tuple[DBTaskResult, int]:
    """SIGKILL the worker process running a task (of a worker not in ``spare``), certain
    that it is mid-task: it is frozen (SIGSTOP) first and the task checked still RUNNING."""
    while True:
        task = wait_for(lambda: _running_task_of(spare), 90, "a worker to run a task", log)
        pid = WorkerHeartbeat.objects.get(worker_id=task.worker_ids[-1]).pid
        os.kill(pid, signal.SIGSTOP)
        now = DBTaskResult.objects.get(pk=task.pk)
        if now.status == "RUNNING" and now.worker_ids == task.worker_ids:
            os.kill(pid, signal.SIGKILL)
            return now, pid
        os.kill(pid, signal.SIGCONT)  # it finished the task in between: try the next one


def test_a_task_whose_worker_was_killed_is_reclaimed_and_every_message_classified_once(
    tmp_path: Path,
) -> None:
    ids = ingest_messages(1200, batch=200)  # six pipeline tasks
    assert DBTaskResult.objects.count() == 6
    log = tmp_path / "worker.log"

    with worker_process(log) as first:
        # 1. kill -9 the worker process in the middle of a task: its supervisor starts a new
        #    one, which takes the task back once the lease has run out.
        one, victim = _kill_mid_task(set(), log)
        assert DBTaskResult.objects.get(pk=one.pk).status == "RUNNING"  # stranded, for now

        # 2. kill -9 the whole worker (the restarted process and its supervisor) mid-task.
        two, survivor = _kill_mid_task({one.worker_ids[-1]}, log)
        assert survivor != victim
        kill_group(first)
    assert DBTaskResult.objects.get(pk=two.pk).status == "RUNNING"  # nobody left to finish it

    # 3. another worker, started by hand, finishes everything.
    with worker_process(log) as second:
        wait_for(_all_done, 90, "every task to succeed", log)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0  # and it stops cleanly

    for stranded in (one, two):
        reclaimed = DBTaskResult.objects.get(pk=stranded.pk)
        assert reclaimed.worker_ids[0] == stranded.worker_ids[0]
        assert len(reclaimed.worker_ids) >= 2  # claimed by a killed worker, then by another
    log_text = log.read_text()
    assert f"worker-1 (pid {victim}) exited with signal SIGKILL" in log_text  # and restarted
    assert "back in the queue" in log_text
    assert not WorkerHeartbeat.objects.filter(pid__in=_children_alive()).exists()
    counts = classification_counts(ids)
    print(f"\nkill -9 mid-task, twice: {counts}")
    assert counts == {"messages": 1200, "classified": 1200, "lost": 0, "duplicated": 0}


def _terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_the_worker_survives_terminated_connections_and_finishes_exactly_once(
    tmp_path: Path,
) -> None:
    ids = ingest_messages(1000, batch=250)  # four tasks
    log = tmp_path / "worker.log"
    with worker_process(log) as worker:
        first = wait_for(_running_task, 90, "the worker to start a task", log)
        terminated = _terminate_other_connections()
        assert terminated >= 1
        # Again while it recovers or runs the next task, then once more while idle-waiting.
        time.sleep(1.5)
        terminated += _terminate_other_connections()
        wait_for(_all_done, 90, "every task to succeed after the connections were cut", log)
        terminated += _terminate_other_connections()
        wait_for(lambda: "reconnecting" in log.read_text(), 30, "the idle worker to reconnect")
        time.sleep(1)
        assert worker.poll() is None  # the supervisor is still there…
        alive = WorkerHeartbeat.objects.filter(worker_id=first.worker_ids[-1]).get()
        os.kill(alive.pid, 0)  # …and so is the very worker process that lost its connections

    log_text = log.read_text()
    assert "database error" in log_text and "reconnecting" in log_text
    assert "restarting" not in log_text  # it recovered by itself; nobody restarted it
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    workers = {
        w for ids_ in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids_
    }
    assert workers == {first.worker_ids[-1]}
    counts = classification_counts(ids)
    print(f"\n{terminated} connections terminated: {counts}")
    assert counts == {"messages": 1000, "classified": 1000, "lost": 0, "duplicated": 0}


def _children_alive() -> list[int]:
    return [pid for pid in WorkerHeartbeat.objects.values_list("pid", flat=True) if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by a parent that is gone) counts as stopped.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))
