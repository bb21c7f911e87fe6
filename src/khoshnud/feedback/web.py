"""Staff pages of feedback: the managers' agent ratings (the month's recognition list and
leaderboard, months in the viewer's calendar, Jalali in Persian), and the case page's
feedback panel's forms (a delight action, a care follow-up's outcome). Thin views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role, Scope
from khoshnud.calendars import JALALI_MONTHS, persian_digits
from khoshnud.cases.access import access_case
from khoshnud.cases.models import Case
from khoshnud.feedback.models import Recovery
from khoshnud.feedback.ratings import leaderboard, month_bounds, prior_weight, recognition
from khoshnud.feedback.recovery import recovery_outcome_record
from khoshnud.feedback.verdicts import delight_action_record
from khoshnud.inputs import InputError

MONTHS_BACK = 12


def _months(today: dt.date, language: str) -> list[dict[str, Any]]:
    """The last twelve months of the viewer's calendar, newest first: label and bounds."""
    out = []
    if language.startswith("fa"):
        import jdatetime

        j = jdatetime.date.fromgregorian(date=today)
        year, month = j.year, j.month
        for _ in range(MONTHS_BACK):
            start, end = month_bounds(year, month, "jalali")
            label = f"{JALALI_MONTHS[month - 1]} {persian_digits(str(year))}"
            out.append({"start": start, "end": end, "label": label})
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return out
    year, month = today.year, today.month
    for _ in range(MONTHS_BACK):
        start, end = month_bounds(year, month)
        label = f"{year}年{month}月" if language.startswith("zh") else start.strftime("%B %Y")
        out.append({"start": start, "end": end, "label": label})
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


@staff_required(role=Role.MANAGER)
@require_GET
def agent_ratings(request: HttpRequest) -> HttpResponse:
    language = get_language() or "en"
    months = _months(timezone.localdate(), language)
    try:
        index = min(max(int(request.GET.get("month", "0")), 0), MONTHS_BACK - 1)
    except ValueError:
        index = 0
    chosen = months[index]
    for n, m in enumerate(months):
        m["index"], m["current"] = n, n == index
    context = {
        "months": months,
        "month": chosen,
        "recognised": recognition(start=chosen["start"], end=chosen["end"]),
        "board": leaderboard(start=chosen["start"], end=chosen["end"]),
        "prior": f"{prior_weight():g}",
    }
    return render(request, "feedback/agent_ratings.html", context)


def _back(case_id: int) -> HttpResponse:
    return redirect(reverse("web:case_detail", args=[case_id]) + "#feedback-h")


@staff_required(scope=Scope.WRITE)
@require_POST
def case_delight(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record a delight action on a case (the case page's feedback panel)."""
    case = _case_or_404(request, case_id)
    try:
        delight_action_record(
            case_id=case.pk, note=request.POST.get("note", ""), actor=request.user
        )
    except InputError as exc:
        messages.error(request, _("Not recorded: %(reason)s") % {"reason": exc.message})
        return _back(case.pk)
    messages.success(request, _("Delight action recorded."))
    return _back(case.pk)


@staff_required(scope=Scope.WRITE)
@require_POST
def recovery_outcome(request: HttpRequest, recovery_id: int) -> HttpResponse:
    """Record the outcome of a care follow-up (on its care case's page)."""
    recovery = Recovery.objects.filter(pk=recovery_id).first()
    if recovery is None or recovery.case_id is None:
        raise Http404(f"no care follow-up {recovery_id}")
    case = _case_or_404(request, recovery.case_id)
    try:
        recovery_outcome_record(
            recovery_id=recovery.pk,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        )
    except InputError as exc:
        messages.error(request, _("Not saved: %(reason)s") % {"reason": exc.message})
        return _back(case.pk)
    messages.success(request, _("Outcome saved."))
    return _back(case.pk)


def _case_or_404(request: HttpRequest, case_id: int) -> Case:
    try:
        return access_case(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    except Case.DoesNotExist:
        raise Http404(f"no case #{case_id}") from None
