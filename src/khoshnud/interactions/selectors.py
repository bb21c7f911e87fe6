"""Reads of the interaction log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet

from khoshnud.interactions.models import Interaction


def customer_timeline(
    *,
    customer_id: int,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    channels: Iterable[str] = (),
    types: Iterable[str] = (),
) -> QuerySet[Interaction]:
    """A customer's interactions, newest first, in [start, end), optionally by channel / type.

    Served by the (customer_id, occurred_at desc, id desc) index; slice it to page.
    """
    qs = Interaction.objects.filter(customer_id=customer_id)
    if start is not None:
        qs = qs.filter(occurred_at__gte=start)
    if end is not None:
        qs = qs.filter(occurred_at__lt=end)
    channel_list = [c for c in channels if c]
    if channel_list:
        qs = qs.filter(channel__in=channel_list)
    type_list = [t for t in types if t]
    if type_list:
        qs = qs.filter(type__in=type_list)
    return qs.order_by("-occurred_at", "-id")
