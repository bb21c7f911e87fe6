"""Background tasks of the channels app (thin: they call a service)."""

from __future__ import annotations

from django_tasks import task

from khoshnud.channels.messaging_services import account_test_run
from khoshnud.channels.services import delivery_attempt


@task()
def deliver(interaction_id: int) -> str:
    """Attempt to send one outbound interaction (it re-enqueues itself after a failure)."""
    return delivery_attempt(interaction_id=int(interaction_id))


@task()
def account_test_send(account_id: int, recipient: str) -> str:
    """Send a channel account's test message (queued by its page's button)."""
    return account_test_run(account_id=int(account_id), recipient=str(recipient))
