"""Reads of the channels app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from khoshnud.channels.models import Delivery


def deliveries_of(*, interaction_ids: Sequence[int]) -> dict[int, Delivery]:
    """interaction id → its delivery (outbound interactions that were sent), one query."""
    return {
        d.interaction_id: d
        for d in Delivery.objects.filter(interaction_id__in=list(interaction_ids))
    }


def timeline_deliveries(*, interaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Timeline annotator (settings.KHOSHNUD_TIMELINE_ANNOTATORS): each sent message's
    ``delivery`` (status, attempts, last_error, sent_at), so a failed send shows on the
    customer's timeline. One query a page."""
    return {
        pk: {"delivery": {"status": s, "attempts": n, "last_error": e, "sent_at": at}}
        for pk, s, n, e, at in Delivery.objects.filter(
            interaction_id__in=list(interaction_ids)
        ).values_list("interaction_id", "status", "attempts", "last_error", "sent_at")
    }
