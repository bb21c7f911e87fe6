"""Writes of the ops app: worker heartbeats, putting tasks back in the database queue, and
enqueuing periodic jobs when they are due.

The queue is django-tasks-db's table (``DBTaskResult``): a worker claims a READY task by
setting it RUNNING and appending its id to ``worker_ids``. These services only move a task
between those same states, so any django-tasks-db worker still reads the queue as before.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from khoshnud.ops.models import PeriodicJob, WorkerHeartbeat
from khoshnud.ops.selectors import tasks_abandoned

logger = logging.getLogger("khoshnud.worker")

# Heartbeats of workers silent for this long are forgotten (their tasks were reclaimed long ago).
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Reclaimed:
    requeued: int
    failed: int


def worker_heartbeat(*, worker_id: str, started_at: datetime) -> None:
    """Record that this worker process is alive now (creates its row on the first beat)."""
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now):
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname()[:255],
            pid=os.getpid(),
            started_at=started_at,
            seen_at=now,
        )


def worker_forget(*, worker_id: str) -> None:
    """Remove a worker's heartbeat (it stopped cleanly, holding no task)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def tasks_reclaim(*, backend_name: str, lease: float, max_attempts: int) -> Reclaimed:
    """Put back in the queue every RUNNING task whose worker stopped beating for ``lease`` s.

    A task already claimed ``max_attempts`` times is marked FAILED instead (a task that kills
    every worker that runs it must not loop forever). Safe to run from many workers at once:
    each task is re-read under a row lock and changed only if the same claim still holds it.
    Returns how many tasks were requeued and failed.
    """
    requeued = failed = 0
    for task in tasks_abandoned(backend_name=backend_name, lease=lease):
        with exclusive_transaction(DBTaskResult.objects.db):
            row = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(id=task.id, status=TaskResultStatus.RUNNING)
                .first()
            )
            if row is None or len(row.worker_ids) != task.attempts:
                continue  # finished or claimed again since we looked
            if task.attempts >= max_attempts:
                row.status = TaskResultStatus.FAILED
                row.finished_at = timezone.now()
                row.exception_class_path = "khoshnud.ops.worker.TaskAbandoned"
                row.traceback = (
                    f"worker {task.worker_id or '?'} stopped beating while running this task; "
                    f"claimed {task.attempts} times (KHOSHNUD_TASK_MAX_ATTEMPTS={max_attempts})"
                )
                row.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                failed += 1
                logger.error("task %s abandoned %d times: marked FAILED", task.id, task.attempts)
            else:
                row.status = TaskResultStatus.READY
                row.save(update_fields=["status"])
                requeued += 1
                logger.warning(
                    "task %s: worker %s stopped beating (lease %ss); back in the queue",
                    task.id,
                    task.worker_id or "?",
                    lease,
                )
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - FORGET_AFTER).delete()
    return Reclaimed(requeued=requeued, failed=failed)


def tasks_release(*, backend_name: str, worker_id: str) -> int:
    """Put back in the queue the tasks this worker left RUNNING (after it lost the database
    while running one, it could not record the outcome). Returns how many."""
    released = 0
    with exclusive_transaction(DBTaskResult.objects.db):
        for row in DBTaskResult.objects.select_for_update().filter(
            backend_name=backend_name, status=TaskResultStatus.RUNNING
        ):
            if row.worker_ids and row.worker_ids[-1] == worker_id:
                row.status = TaskResultStatus.READY
                row.save(update_fields=["status"])
                released += 1
    if released:
        logger.warning("worker %s: %d unfinished task(s) back in the queue", worker_id, released)
    return released


def task_retry_later(*, task: DBTaskResult, delay: float) -> None:
    """A task that failed for a passing reason (database error, interrupted worker) goes back
    in the queue, to run after ``delay`` seconds; its error stays on the row for reading."""
    task.status = TaskResultStatus.READY
    task.run_after = timezone.now() + timedelta(seconds=delay)
    task.finished_at = None
    task.save(update_fields=["status", "run_after", "finished_at"])


def periodic_enqueue_due(*, now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose time has come; answers the names enqueued.

    Safe with many workers ticking at once: the conditional UPDATE that moves a job's
    ``next_run_at`` past ``now`` succeeds for one of them only, and that one enqueues the task
    in the same transaction.
    """
    from khoshnud.ops.periodic import periodic_jobs

    now = now or timezone.now()
    jobs = [job for job in periodic_jobs() if job.period > 0]
    if not jobs:
        return []
    PeriodicJob.objects.bulk_create(
        [PeriodicJob(name=job.name, next_run_at=now) for job in jobs], ignore_conflicts=True
    )
    enqueued = []
    for job in jobs:
        with transaction.atomic():
            moved = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
                next_run_at=now + timedelta(seconds=job.period), last_enqueued_at=now
            )
            if moved:
                job.task.enqueue()
                enqueued.append(job.name)
    return enqueued


def periodic_run_now(*, name: str) -> None:
    """Enqueue one periodic job at once (``khoshnud periodic --run NAME``); its schedule stays."""
    from khoshnud.ops.periodic import periodic_job

    periodic_job(name).task.enqueue()
