"""In-app notifications of staff (a breach, an escalation): what a person sees, and marking
them read. Written by cases/sla.py and cases/rules.py; shown on ``/notifications/`` with the
unread count in the header."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils import timezone

from khoshnud.cases.models import Notification


def notifications_visible(
    *, user_id: int, now: dt.datetime | None = None
) -> QuerySet[Notification]:
    """The user's notifications that may be shown now (those held back until their team's
    calendar opens are not), newest first."""
    return Notification.objects.filter(
        user_id=user_id, visible_from__lte=now or timezone.now()
    ).order_by("-visible_from", "-id")


def notifications_unread_count(*, user_id: int, now: dt.datetime | None = None) -> int:
    """How many visible notifications the user has not read (the partial unread index)."""
    return notifications_visible(user_id=user_id, now=now).filter(read_at__isnull=True).count()


def notifications_mark_read(*, user_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the user's visible unread notifications read (only ``ids`` when given); a person
    marks only their own. Idempotent. → how many were marked."""
    now = timezone.now()
    qs = notifications_visible(user_id=user_id, now=now).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return Notification.objects.filter(pk__in=list(qs.values_list("pk", flat=True))).update(
        read_at=now
    )
