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
