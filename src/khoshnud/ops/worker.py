"""The database-queue worker, made safe to kill: a heartbeat lease, reclaiming and reconnecting.

It extends django-tasks-db's ``Worker`` (same table, same claim) with three things:

- a heartbeat thread writes this process's ``WorkerHeartbeat`` every lease/4 seconds and, on
  the same tick, puts back in the queue any RUNNING task whose worker has been silent for
  longer than the lease (``KHOSHNUD_WORKER_LEASE_SECONDS``): a worker killed with ``kill -9``
  or lost with its machine no longer strands its task;
- a database error (connections terminated, server restarted, network cut) no longer ends the
  process: it logs, closes its connections, waits with exponential back-off and carries on,
  first putting back the task it could not finish;
- a task that failed for a passing reason (a database error inside the task, or the worker
  being stopped in the middle of it) is retried after a back-off instead of staying FAILED,
  up to ``KHOSHNUD_TASK_MAX_ATTEMPTS`` claims.

Tasks may therefore run more than once: every task must be idempotent (the interaction
pipeline's steps are).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from khoshnud.ops.services import (
    periodic_enqueue_due,
    task_retry_later,
    tasks_reclaim,
    tasks_release,
    worker_forget,
    worker_heartbeat,
)

logger = logging.getLogger("khoshnud.worker")

# Errors after which the database may work again: reconnect and retry, never exit.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# A task that failed with one of these is retried (the database, or the worker, failed it).
RETRYABLE = frozenset(
    {
        "django.db.utils.OperationalError",
        "django.db.utils.InterfaceError",
        "builtins.SystemExit",
        "builtins.KeyboardInterrupt",
    }
)


# Database errors in a row after which ``--batch`` gives up (the long-running worker never does).
BATCH_GIVES_UP_AFTER = 3


class DatabaseUnavailable(RuntimeError):
    """Raised by a ``--batch`` worker whose database keeps failing."""


class TaskAbandoned(Exception):
    """Recorded on a task whose workers kept dying while running it."""


class Backoff:
    """1 s, 2 s, 4 s … up to ``cap``; back to the start after ``calm`` quiet seconds."""

    def __init__(self, first: float = 1.0, cap: float = 30.0, calm: float = 60.0) -> None:
        self.first, self.cap, self.calm = first, cap, calm
        self.failures = 0
        self.last = 0.0

    def next(self) -> float:
        now = time.monotonic()
        if now - self.last > self.calm:
            self.failures = 0
        self.last = now
        delay = min(self.cap, self.first * 2**self.failures)
        self.failures += 1
        return delay


def close_connections() -> None:
    """Drop this thread's connections, whatever state they are in (the next query reconnects)."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # a dead connection may fail to close; it is gone anyway
            conn.connection = None


class Heartbeat(threading.Thread):
    """Beats for its worker and reclaims abandoned tasks, every ``lease / 4`` seconds."""

    def __init__(self, worker: LeasedWorker) -> None:
        super().__init__(name="khoshnud-heartbeat", daemon=True)
        self.worker = worker
        self.every = max(0.2, worker.lease / 4)
        self.stopped = threading.Event()

    def run(self) -> None:
        backoff = Backoff(first=self.every, cap=max(self.every, 30.0))
        try:
            while not self.stopped.is_set():
                try:
                    self.worker.beat()
                    self.worker.reclaim()
                    wait = self.every
                except TRANSIENT_ERRORS as exc:
                    wait = backoff.next()
                    logger.warning("heartbeat: database error (%s); retrying in %.1fs", exc, wait)
                    close_connections()
                except Exception:
                    # Never let the heartbeat die quietly: this worker's tasks would be
                    # reclaimed while it still runs them.
                    wait = backoff.next()
                    logger.exception("heartbeat failed; retrying in %.1fs", wait)
                    close_connections()
                self.stopped.wait(wait)
        finally:
            close_connections()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


class PeriodicTicker(threading.Thread):
    """Enqueues the periodic jobs that are due (``ops.periodic``), every ``every`` seconds.

    Every worker process runs one; the database decides which of them enqueues each run.
    """

    def __init__(self, every: float) -> None:
        super().__init__(name="khoshnud-periodic", daemon=True)
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        backoff = Backoff(first=self.every, cap=max(self.every, 30.0))
        try:
            while not self.stopped.is_set():
                try:
                    periodic_enqueue_due()
                    wait = self.every
                except Exception:  # a database fault included: log, wait, carry on
                    wait = backoff.next()
                    logger.exception("periodic jobs: tick failed; retrying in %.1fs", wait)
                    close_connections()
                self.stopped.wait(wait)
        finally:
            close_connections()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


class LeasedWorker(Worker):
    """django-tasks-db's worker with a heartbeat lease, reclaiming and reconnection."""

    def __init__(self, *, lease: float, max_attempts: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lease = lease
        self.max_attempts = max_attempts
        self.started_at = timezone.now()

    def beat(self) -> None:
        worker_heartbeat(worker_id=self.worker_id, started_at=self.started_at)

    def reclaim(self) -> None:
        tasks_reclaim(
            backend_name=self.backend_name, lease=self.lease, max_attempts=self.max_attempts
        )

    def run(self) -> None:
        backoff = Backoff()
        self._until_connected(self.beat, backoff)  # registered before the first claim
        heartbeat = Heartbeat(self)
        heartbeat.start()
        try:
            while True:
                try:
                    tasks_release(backend_name=self.backend_name, worker_id=self.worker_id)
                    super().run()
                    break
                except TRANSIENT_ERRORS as exc:
                    self._wait_after(exc, backoff)
                    self.startup_delay = False
        finally:
            heartbeat.stop()
            if not self.running_task:
                with contextlib.suppress(*TRANSIENT_ERRORS):  # else the lease expires by itself
                    worker_forget(worker_id=self.worker_id)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        super().run_task(db_task_result)
        if (
            db_task_result.status == TaskResultStatus.FAILED
            and db_task_result.exception_class_path in RETRYABLE
            and len(db_task_result.worker_ids) < self.max_attempts
        ):
            delay = min(60.0, 2.0 ** (len(db_task_result.worker_ids) - 1))
            logger.warning(
                "task %s failed with %s (attempt %d of %d); retrying in %.0fs",
                db_task_result.id,
                db_task_result.exception_class_path,
                len(db_task_result.worker_ids),
                self.max_attempts,
                delay,
            )
            # If the database fails right now too, wait for it: the task must not stay FAILED.
            self._until_connected(
                lambda: task_retry_later(task=db_task_result, delay=delay), Backoff()
            )

    def _until_connected(self, action: Any, backoff: Backoff) -> None:
        while True:
            try:
                action()
                return
            except TRANSIENT_ERRORS as exc:
                self._wait_after(exc, backoff)

    def _wait_after(self, exc: BaseException, backoff: Backoff) -> None:
        if self.batch and backoff.failures >= BATCH_GIVES_UP_AFTER:
            # A one-off run (--batch) reports the fault instead of waiting for ever.
            raise DatabaseUnavailable(
                f"the database failed {backoff.failures + 1} times in a row: {exc}"
            ) from exc
        delay = backoff.next()
        logger.warning(
            "worker %s: database error (%s); reconnecting in %.1fs",
            self.worker_id,
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            delay,
        )
        close_connections()
        time.sleep(delay)


def lease_seconds() -> float:
    return float(settings.KHOSHNUD_WORKER_LEASE_SECONDS)


def max_attempts() -> int:
    return int(settings.KHOSHNUD_TASK_MAX_ATTEMPTS)


def periodic_tick_seconds() -> float:
    return float(settings.KHOSHNUD_PERIODIC_TICK_SECONDS)
