"""How the Django admin shows values to the viewer: dates in their calendar and digits.

``list_display = [..., viewer_datetime(Customer, "created_at")]`` shows ``۲۹ آبان ۱۴۰۵، ۰۹:۳۰``
under fa and ``2026年11月20日 09:30`` under zh, sorted by the real field. Left-to-right values in a
right-to-left admin are isolated by ``static/css/admin.css`` (a phone's ``+`` stays in front).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language

from khoshnud.calendars import format_datetime


def viewer_datetime(model: type[models.Model], field: str) -> Callable[[Any], str]:
    """A list_display column: ``field`` (an aware datetime) in the viewer's zone and calendar."""
    label = getattr(model._meta.get_field(field), "verbose_name", field)

    @admin.display(description=label, ordering=field)
    def show(obj: Any) -> str:
        value = getattr(obj, field)
        if value is None:
            return "-"
        return format_datetime(timezone.localtime(value), get_language() or "en")

    show.__name__ = f"{field}_in_viewer_calendar"
    return show
