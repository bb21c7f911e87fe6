"""Background tasks of the engagement app (thin: they call a service)."""

from __future__ import annotations

from django_tasks import task

from khoshnud.engagement.occasions import occasions_sync
from khoshnud.engagement.scheduler import engagement_run


@task()
def engagement_pass() -> dict[str, int]:
    """One scheduler pass (periodic): due messages claimed, then sent."""
    return engagement_run().as_dict()


@task()
def occasions_refresh() -> int:
    """Bring the occasion index up to date (periodic; also done by every pass)."""
    return occasions_sync()
