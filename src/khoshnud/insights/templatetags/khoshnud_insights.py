"""``{% if user|can_see_insights %}``: the nav shows the dashboard to managers only."""

from __future__ import annotations

from typing import Any

from django import template

from khoshnud.accounts.access import access_allowed
from khoshnud.accounts.models import Role

register = template.Library()


@register.filter
def can_see_insights(user: Any) -> bool:
    return access_allowed(user, role=Role.MANAGER)
