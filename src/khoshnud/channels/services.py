"""Writes of the channels app: queue an outbound interaction for delivery, attempt a delivery.

A delivery is attempted only by the queued task ``channels.tasks.deliver``. A failed attempt
is retried by the queue after a back-off (``KHOSHNUD_DELIVERY_RETRY_SECONDS`` · 2^(n-1), at
most an hour) and marked failed after ``KHOSHNUD_DELIVERY_MAX_ATTEMPTS``; the interaction
itself is never touched, so nothing written is lost.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from khoshnud.channels.models import Delivery, DeliveryStatus
from khoshnud.channels.outbound import outbound_adapter
from khoshnud.interactions.models import Interaction

logger = logging.getLogger(__name__)
_MAX_DELAY = 3600.0


def delivery_retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2·base, 4·base … ≤ 1 h."""
    base = float(settings.KHOSHNUD_DELIVERY_RETRY_SECONDS)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), _MAX_DELAY))


def delivery_queue(*, interaction_id: int, channel: str, address: str) -> Delivery:
    """Record that an outbound interaction is to be sent, and enqueue its first attempt when
    the caller's transaction commits (nothing is enqueued if it rolls back)."""
    delivery = Delivery.objects.create(
        interaction_id=interaction_id, channel=channel, address=address
    )
    transaction.on_commit(lambda: _enqueue(interaction_id, None))
    return delivery


def _enqueue(interaction_id: int, run_after: dt.datetime | None) -> None:
    from khoshnud.channels.tasks import deliver

    task = deliver
    # A backend that cannot defer (the in-process one of tests and `immediate`) retries at once.
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(interaction_id)


def delivery_attempt(*, interaction_id: int) -> str:
    """Send a queued delivery once; returns its status afterwards.

    Idempotent: a delivery already sent or failed is left alone (a task run twice sends once,
    unless the worker died between the send and the commit: at-least-once). A failure counts
    an attempt, records the error and enqueues the next attempt after the back-off, or marks
    the delivery failed after the last one.
    """
    retry_at: dt.datetime | None = None
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update().filter(interaction_id=interaction_id).first()
        )
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            return delivery.status if delivery else "unknown"
        interaction = Interaction.objects.get(pk=interaction_id)
        delivery.attempts += 1
        now = timezone.now()
        try:
            if interaction.erased_at is not None:
                raise RuntimeError("the message was erased before it was sent")
            outbound_adapter(delivery.channel).send(
                interaction=interaction, address=delivery.address
            )
        except Exception as exc:  # any failure of the send is one failed attempt
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if delivery.attempts >= settings.KHOSHNUD_DELIVERY_MAX_ATTEMPTS or (
                interaction.erased_at is not None
            ):
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                logger.warning("delivery of %s failed for good: %s", interaction_id, exc)
            else:
                retry_at = now + delivery_retry_delay(delivery.attempts)
                delivery.next_attempt_at = retry_at
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
        delivery.save()
        status = delivery.status
    if retry_at is not None:
        _enqueue(interaction_id, retry_at)
    return status
