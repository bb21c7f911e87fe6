"""API for the managers' dashboard: the same numbers as the page, as JSON (manager role)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.inputs import InputError
from khoshnud.insights.selectors import daily_rows, dashboard, period_resolve

router = Router(tags=["insights"])


def _day(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not a day (YYYY-MM-DD)") from None


@router.get("/insights")
def get_insights(
    request: HttpRequest,
    from_: str = Query("", alias="from", description="first local day, YYYY-MM-DD"),
    to: str = Query("", description="last local day, YYYY-MM-DD (inclusive)"),
    preset: str = Query("", description="7d, 30d, 90d, month, last_month or quarter"),
    by: str = Query("day", description="the trend's step: day, week or month"),
    calendar: str = Query("gregorian", description="months and quarters: gregorian or jalali"),
) -> dict[str, Any]:
    """The managers' dashboard of a period (default: the last 30 days) and of the period just
    before it: totals, `delta`, `trend` and `breakdowns` by channel, kind, team, agent, tier,
    product (`value` the product's id, `label` its name; `""` for cases and answers without
    one) and interaction type. Days are local to the business's time zone. A figure with nothing
    to measure is `null`. Manager role, `read` scope."""
    require(request, scope=Scope.READ, role=Role.MANAGER)
    if calendar not in ("gregorian", "jalali"):
        raise InputError("calendar", f"{calendar!r} is not one of gregorian, jalali")
    period, chosen = period_resolve(
        preset=preset, start=_day(from_, "from"), end=_day(to, "to"), calendar=calendar
    )
    board = dashboard(start=period.start, end=period.end, by=by, calendar=calendar)
    board["preset"] = chosen
    return board


@router.get("/insights/daily")
def get_insights_daily(
    request: HttpRequest,
    from_: str = Query("", alias="from", description="first local day, YYYY-MM-DD"),
    to: str = Query("", description="last local day, YYYY-MM-DD (inclusive)"),
    preset: str = Query(""),
    table: str = Query(
        "totals", description="totals, channel, kind, team, agent, tier, product, type"
    ),
) -> list[dict[str, Any]]:
    """Day by day, the figures of one table of the dashboard (what its CSV export holds)."""
    require(request, scope=Scope.READ, role=Role.MANAGER)
    period, _ = period_resolve(preset=preset, start=_day(from_, "from"), end=_day(to, "to"))
    dimension = "" if table == "totals" else table
    return daily_rows(start=period.start, end=period.end, dimension=dimension)
