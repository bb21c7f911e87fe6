"""The signed-in person's notifications (a case of their team missed its target, an unassigned
case was escalated): thin views over cases.notifications."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khoshnud import events
from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Scope
from khoshnud.cases.models import Notification, Priority, Target
from khoshnud.cases.notifications import notifications_mark_read, notifications_visible
from khoshnud.web.templatetags.khoshnud_dates import knum

SHOWN = 50


def notification_text(note: Notification) -> str:
    """What happened, in the reader's language (the row stores codes and values)."""
    data: dict[str, Any] = note.data or {}
    priority = data.get("priority")
    level = str(Priority(priority).label) if priority in Priority.values else "—"
    if note.action == events.CASE_BREACHED:
        targets = [str(Target(t).label) for t in data.get("targets", []) if t in Target.values]
        return _("Missed target: %(targets)s. Priority now %(priority)s.") % {
            "targets": _(", ").join(targets) or "—",
            "priority": level,
        }
    if note.action == events.CASE_ESCALATED:
        return _("Unassigned for %(minutes)s minutes: escalated. Priority now %(priority)s.") % {
            "minutes": knum(str(data.get("minutes", "—"))),
            "priority": level,
        }
    return note.action


@staff_required()
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The latest 50 notifications that may be shown now, unread ones marked."""
    now = timezone.now()
    rows = list(
        notifications_visible(user_id=int(request.user.pk or 0), now=now).select_related("case")[
            :SHOWN
        ]
    )
    items = [{"note": n, "text": notification_text(n)} for n in rows]
    return render(request, "web/notifications.html", {"items": items, "now": now})


@staff_required(scope=Scope.WRITE)
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one (``id``) or all of one's visible notifications read."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    marked = notifications_mark_read(user_id=int(request.user.pk or 0), ids=ids)
    if marked:
        messages.success(request, _("Marked as read."))
    return redirect(reverse("web:notification_list"))
