"""Reads of the ops app: which workers are alive, which running tasks lost their worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from khoshnud.ops.models import PeriodicJob, WorkerHeartbeat


@dataclass(frozen=True, slots=True)
class AbandonedTask:
    id: str
    worker_id: str
    attempts: int


def workers_alive(*, lease: float, now: datetime | None = None) -> list[WorkerHeartbeat]:
    """Workers whose last heartbeat is younger than the lease, oldest first."""
    cutoff = (now or timezone.now()) - timedelta(seconds=lease)
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).order_by("started_at"))


def tasks_abandoned(
    *, backend_name: str, lease: float, now: datetime | None = None
) -> list[AbandonedTask]:
    """RUNNING tasks whose worker has not beaten for longer than the lease.

    A task whose worker never registered a heartbeat (claimed by a bare ``db_worker``) counts
    as abandoned once it has been running for longer than the lease.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=lease)
    running = list(
        DBTaskResult.objects.running()
        .filter(backend_name=backend_name)
        .values_list("id", "worker_ids", "started_at")
    )
    if not running:
        return []
    claimants = {ids[-1] for _, ids, _ in running if ids}
    seen = dict(
        WorkerHeartbeat.objects.filter(worker_id__in=claimants).values_list("worker_id", "seen_at")
    )
    abandoned = []
    for task_id, worker_ids, started_at in running:
        worker_id = worker_ids[-1] if worker_ids else ""
        last_sign = seen.get(worker_id, started_at)
        if last_sign is None or last_sign < cutoff:
            abandoned.append(AbandonedTask(str(task_id), worker_id, len(worker_ids)))
    return abandoned


def periodic_schedule() -> dict[str, PeriodicJob]:
    """The stored schedule of the periodic jobs, by name (a job not yet ticked has none)."""
    return {job.name: job for job in PeriodicJob.objects.all()}
