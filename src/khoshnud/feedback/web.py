"""The managers' page of agent ratings: the month's recognition list and leaderboard, months
in the viewer's calendar (Jalali in Persian). Thin over feedback.ratings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role
from khoshnud.calendars import JALALI_MONTHS, persian_digits
from khoshnud.feedback.ratings import leaderboard, month_bounds, prior_weight, recognition

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
