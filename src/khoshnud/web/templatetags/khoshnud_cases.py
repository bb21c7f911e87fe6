"""Small pieces of the agents' inbox: the time left to a due time, in the viewer's language."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from khoshnud.web.templatetags.khoshnud_dates import knum

register = template.Library()


def duration_words(seconds: float) -> str:
    """``2 d 3 h`` / ``3 h 20 min`` / ``45 min`` (at least 1 min), worded and with the viewer's
    digits: ``۳ ساعت ۲۰ دقیقه``, ``3小时20分钟``. Two units at most: enough to triage."""
    minutes = max(1, int(abs(seconds) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)s h %(m)s min") % {"h": hours, "m": mins}
    else:
        text = _("%(m)s min") % {"m": mins}
    return knum(text)


@register.filter
def time_left(due: dt.datetime | None, now: dt.datetime) -> str:
    """``{{ case.resolution_due|time_left:now }}`` → "3 h 20 min left" or "2 h 5 min late"."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return _("%(span)s left") % {"span": duration_words(seconds)}
    return _("%(span)s late") % {"span": duration_words(seconds)}


@register.filter
def is_late(due: dt.datetime | None, now: dt.datetime) -> bool:
    return due is not None and due < now


@register.simple_tag
def unread_notifications(user: object) -> int:
    """``{% unread_notifications user as unread %}``: the header's unread count (one query)."""
    from khoshnud.cases.notifications import notifications_unread_count

    pk = getattr(user, "pk", None)
    if not getattr(user, "is_authenticated", False) or pk is None:
        return 0
    return notifications_unread_count(user_id=int(pk))


@register.filter
def sla_paused(case: object) -> bool:
    """True while the case's SLA clock is stopped (it waits on the customer)."""
    return getattr(case, "paused_at", None) is not None
