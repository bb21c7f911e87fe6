"""The public survey page's rate limit: ``KHOSHNUD_SURVEY_PAGE_RATE`` requests per client
address per minute, counted in the database (every web process shares the count)."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from khoshnud.feedback.models import PageHits

WINDOW = dt.timedelta(minutes=1)


@transaction.atomic
def page_hit(*, ip: str, now: dt.datetime | None = None) -> int:
    """Count one request from ``ip``; seconds to wait when it is over the limit, else 0."""
    now = now or timezone.now()
    row, created = PageHits.objects.select_for_update().get_or_create(
        ip=ip, defaults={"count": 1, "window_started_at": now}
    )
    if created:
        return 0
    if now - row.window_started_at >= WINDOW:
        row.count, row.window_started_at = 0, now
        PageHits.objects.filter(window_started_at__lt=now - WINDOW).exclude(pk=row.pk).delete()
    row.count += 1
    row.save(update_fields=["count", "window_started_at"])
    if row.count > settings.KHOSHNUD_SURVEY_PAGE_RATE:
        return max(1, math.ceil((row.window_started_at + WINDOW - now).total_seconds()))
    return 0
