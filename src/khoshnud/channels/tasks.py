"""Background tasks of the channels app (thin: they call a service)."""

from __future__ import annotations

from django_tasks import task

from khoshnud.channels.services import delivery_attempt


@task()
def deliver(interaction_id: int) -> str:
    """Attempt to send one outbound interaction (it re-enqueues itself after a failure)."""
    return delivery_attempt(interaction_id=int(interaction_id))
