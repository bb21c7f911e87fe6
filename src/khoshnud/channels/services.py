"""Writes of the channels app: queue an outbound interaction for delivery, attempt a delivery,
receive an inbound email.

A delivery is attempted only by the queued task ``channels.tasks.deliver``. A failed attempt
is retried by the queue after a back-off (``KHOSHNUD_DELIVERY_RETRY_SECONDS`` · 2^(n-1), at
most an hour) and marked failed after ``KHOSHNUD_DELIVERY_MAX_ATTEMPTS``; the interaction
itself is never touched, so nothing written is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from khoshnud.channels.email_inbound import email_parse
from khoshnud.channels.email_outbound import SOURCE as EMAIL_SOURCE
from khoshnud.channels.email_outbound import email_key
from khoshnud.channels.models import Delivery, DeliveryStatus
from khoshnud.channels.outbound import outbound_adapter
from khoshnud.channels.provider_http import PermanentSendError
from khoshnud.inputs import InputError, clean_aware_datetime
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from khoshnud.interactions.services.ingest import MAX_TEXT

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
            provider_id = outbound_adapter(delivery.channel).send(
                interaction=interaction, address=delivery.address
            )
        except Exception as exc:  # any failure of the send is one failed attempt
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
            # A reply sent in parts: the ids of those that went, not sent again on retry.
            parts = getattr(exc, "sent_ids", None)
            if parts:
                delivery.provider_id = ",".join(parts)[:255]
            if (
                delivery.attempts >= settings.KHOSHNUD_DELIVERY_MAX_ATTEMPTS
                or interaction.erased_at is not None
                or isinstance(exc, PermanentSendError)  # the provider refused it for good
            ):
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                logger.warning("delivery of %s failed for good: %s", interaction_id, exc)
            else:
                delay = delivery_retry_delay(delivery.attempts)
                asked = getattr(exc, "retry_after", None)  # a provider's 429 says how long
                if asked:
                    delay = max(delay, dt.timedelta(seconds=min(float(asked), _MAX_DELAY)))
                retry_at = now + delay
                delivery.next_attempt_at = retry_at
        else:
            delivery.provider_id = str(provider_id or "")[:255]
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
        delivery.save()
        status = delivery.status
    if retry_at is not None:
        _enqueue(interaction_id, retry_at)
    return status


@dataclass(frozen=True)
class EmailReceived:
    interaction_id: int
    customer_id: int
    status: str  # created | duplicate
    message_id: str
    notes: list[str]


def email_receive(*, raw: bytes) -> EmailReceived:
    """Store a raw inbound email as an inbound interaction of the sender (found or created by
    the From address), through ingestion: idempotent on the Message-ID (source "email",
    external id = the Message-ID; without one, an id made from the raw bytes' hash, so the
    same bytes posted twice are stored once). The case step of the pipeline threads it onto
    the case its In-Reply-To / References answer.

    Raises ``InputError`` (nothing stored) when the bytes are not an email or the sender's
    address is not a valid email address.
    """
    parsed = email_parse(raw)
    notes = list(parsed.notes)
    text = parsed.text
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
        notes.append(f"the text was cut to {MAX_TEXT:,} characters")
    occurred_at = parsed.occurred_at or timezone.now()
    try:
        clean_aware_datetime(occurred_at.isoformat(), field="Date")
    except InputError:
        notes.append(
            f"the Date {occurred_at.isoformat()} is out of range: the time received is used"
        )
        occurred_at = timezone.now()
    metadata: dict[str, Any] = {
        "email": {
            "message_id": parsed.message_id,
            "in_reply_to": parsed.in_reply_to,
            "references": parsed.references[-20:],
            "subject": parsed.subject,
            "from": parsed.sender,
            "to": parsed.to,
        }
    }
    if notes:
        metadata["email"]["notes"] = notes
    customer: dict[str, Any] = {"email": parsed.sender}
    if parsed.sender_name:
        customer["first_name"] = parsed.sender_name[:100]
    [result] = events_ingest(
        events=[
            {
                "source": EMAIL_SOURCE,
                "external_id": email_key(parsed.message_id),
                "channel": "email",
                "direction": "inbound",
                "type": "message",
                "occurred_at": occurred_at.isoformat(),
                "text": text,
                "metadata": metadata,
                "customer": customer,
            }
        ]
    )
    if result.status == "rejected" or result.id is None or result.customer_id is None:
        raise InputError("From", result.error or "the message could not be stored")
    return EmailReceived(
        interaction_id=result.id,
        customer_id=result.customer_id,
        status=result.status,
        message_id=parsed.message_id,
        notes=notes,
    )


def deliveries_resume(*, stale_after: dt.timedelta) -> int:
    """Enqueue again every queued delivery whose attempt is overdue by more than
    ``stale_after`` (its ``next_attempt_at``, or its creation when never tried): a task lost
    with its queue (a flushed Redis) no longer leaves a reply unsent. Returns how many.
    Safe to run at any time: an attempt on a delivery already sent or failed does nothing."""
    if stale_after < dt.timedelta(0):
        raise ValueError("stale_after must not be negative")
    cutoff = timezone.now() - stale_after
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.QUEUED)
        .filter(
            models.Q(next_attempt_at__lte=cutoff)
            | models.Q(next_attempt_at__isnull=True, created_at__lte=cutoff)
        )
        .order_by("id")
        .values_list("interaction_id", flat=True)
    )
    for interaction_id in ids:
        _enqueue(interaction_id, None)
    return len(ids)
