"""What the ops app keeps: the heartbeats of the queue's worker processes."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per worker process of the database queue, refreshed every few seconds.

    A task stays RUNNING while the worker that claimed it (the last of the task's
    ``worker_ids``) keeps beating; once its heartbeat is older than the lease
    (``KHOSHNUD_WORKER_LEASE_SECONDS``) another worker puts the task back in the queue.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class PeriodicJob(models.Model):
    """When a periodic job (``ops.periodic``) is next due.

    Whichever worker first moves ``next_run_at`` forward (one conditional UPDATE) enqueues the
    job's task in the same transaction: each period's run is queued once, however many workers
    tick, and a worker that dies between the two leaves neither behind.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M:%S})"
