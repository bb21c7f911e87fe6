"""Reads of the channels app."""

from __future__ import annotations

from collections.abc import Sequence

from khoshnud.channels.models import Delivery


def deliveries_of(*, interaction_ids: Sequence[int]) -> dict[int, Delivery]:
    """interaction id → its delivery (outbound interactions that were sent), one query."""
    return {
        d.interaction_id: d
        for d in Delivery.objects.filter(interaction_id__in=list(interaction_ids))
    }
