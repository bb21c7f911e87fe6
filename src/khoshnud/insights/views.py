"""The managers' dashboard page, the rows behind each figure, and the CSV export (thin views
over insights.selectors and insights.drill; manager role, as for the API)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role
from khoshnud.calendars import (
    JALALI_MONTHS,
    Calendar,
    format_date,
    input_calendar,
    persian_digits,
)
from khoshnud.inputs import InputError
from khoshnud.insights.drill import DRILL_FIGURES, drill_rows
from khoshnud.insights.selectors import (
    BREAKDOWNS,
    FIGURES,
    MAX_DAYS,
    TREND_BY,
    Period,
    daily_rows,
    dashboard,
    labels,
    period_resolve,
)
from khoshnud.web.timeline_filter import parse_day

# The cards, in order: (figure, title, unit, a rise is good).
CARDS = (
    ("nps", gettext_lazy("NPS"), "", True),
    ("csat", gettext_lazy("CSAT"), "%", True),
    ("ces", gettext_lazy("CES"), "", True),
    ("first_response_minutes_mean", gettext_lazy("First response (mean)"), "min", False),
    ("resolution_minutes_mean", gettext_lazy("Resolution time (mean)"), "min", False),
    ("first_response_attainment", gettext_lazy("First-response SLA met"), "%", True),
    ("resolution_attainment", gettext_lazy("Resolution SLA met"), "%", True),
    ("delight_rate", gettext_lazy("Delight rate"), "%", True),
    ("recovery_rate", gettext_lazy("Recovery rate"), "%", True),
    ("opened", gettext_lazy("Cases opened"), "", None),
    ("resolved", gettext_lazy("Cases resolved"), "", None),
    ("interactions", gettext_lazy("Interactions"), "", None),
)
PRESET_NAMES = {
    "7d": gettext_lazy("Last 7 days"),
    "30d": gettext_lazy("Last 30 days"),
    "90d": gettext_lazy("Last 90 days"),
    "month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "quarter": gettext_lazy("This quarter"),
}
BREAKDOWN_NAMES = {
    "channel": gettext_lazy("By channel"),
    "kind": gettext_lazy("By kind"),
    "team": gettext_lazy("By team"),
    "agent": gettext_lazy("By agent"),
    "tier": gettext_lazy("By tier"),
    "product": gettext_lazy("By product"),
    "type": gettext_lazy("Interactions by type"),
}
TREND_NAMES = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"),
               "month": gettext_lazy("Month")}  # fmt: skip
FIGURE_NAMES = {key: title for key, title, _unit, _up in CARDS}
FIGURE_NAMES["answers"] = gettext_lazy("Answers")
UNITS = {key: unit for key, _title, unit, _up in CARDS}
# The number of answers behind a score: shown beside it, not as a column of its own.
COUNTS = frozenset({"nps_n", "csat_n", "ces_n"})


def _language() -> str:
    return get_language() or "en"


def _digits(text: str) -> str:
    """Persian digits and separators (٫ decimal, ٬ thousands) under fa."""
    if not _language().startswith("fa"):
        return text
    return persian_digits(text.replace(",", "٬").replace(".", "٫"))


def _number(value: Any, unit: str = "", *, signed: bool = False) -> str:
    """A figure as the viewer reads it; "—" when there is nothing to measure. Under fa a
    signed number is isolated left-to-right (U+2066…U+2069), so its sign stays before it."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    value = abs(value)
    if unit == "min":
        hours, rest = divmod(round(float(value)), 60)

        def signed_number(number: str) -> str:
            text = _digits(sign + number)
            return f"\u2066{text}\u2069" if sign and _language().startswith("fa") else text

        if hours:
            return _("%(h)s h %(m)s min") % {
                "h": signed_number(f"{hours:,}"), "m": _digits(str(rest))
            }  # fmt: skip
        return _("%(m)s min") % {"m": signed_number(str(rest))}
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")
    text = _digits(sign + text + ("%" if unit == "%" else ""))
    if sign and _language().startswith("fa"):
        return f"\u2066{text}\u2069"
    return text


def _cell(row: dict[str, Any], key: str) -> str:
    """A table cell: the figure, and for a score the number of answers behind it."""
    text = _number(row.get(key), UNITS[key])
    if f"{key}_n" not in COUNTS:
        return text
    n = row.get(f"{key}_n") or 0
    return f"{text} ({_number(n)})" if n else text


def _month_label(bucket: str, calendar: str) -> str:
    year, month = (int(p) for p in bucket.split("-"))
    language = _language()
    if calendar == Calendar.JALALI:
        return persian_digits(f"{JALALI_MONTHS[month - 1]} {year}")
    if language.startswith("zh"):
        return f"{year}年{month}月"
    return dt.date(year, month, 1).strftime("%b %Y")


def _bucket_label(row: dict[str, Any], by: str, calendar: str) -> str:
    if by == "month":
        return _month_label(row["bucket"], calendar)
    return format_date(dt.date.fromisoformat(row["from"]), _language())


def _period_from(request: HttpRequest, calendar: str) -> tuple[Period, str, list[str]]:
    """The period of the query string, or the last 30 days and the reasons why not."""
    errors: list[str] = []
    days: dict[str, dt.date | None] = {"from": None, "to": None}
    for name in days:
        raw = request.GET.get(name, "").strip()
        if raw:
            try:
                days[name] = parse_day(raw)
            except ValueError:
                errors.append(_("“%(value)s” is not a date.") % {"value": raw})
    preset = request.GET.get("preset", "")
    if preset and preset not in PRESET_NAMES:
        errors.append(_("Unknown period “%(value)s”.") % {"value": preset})
        preset = ""
    if errors:
        return *period_resolve(calendar=calendar), errors
    try:
        period, chosen = period_resolve(
            preset=preset, start=days["from"], end=days["to"], calendar=calendar
        )
    except InputError as exc:
        if exc.message.startswith("a period is at most"):
            errors.append(_("A period is at most %(n)s days.") % {"n": _digits(str(MAX_DAYS))})
        elif exc.field in ("from", "to") and "before it starts" in exc.message:
            errors.append(_("The start date is after the end date."))
        else:
            errors.append(_("Give both the start and the end of the period."))
        return *period_resolve(calendar=calendar), errors
    return period, chosen, errors


def _query(period: Period, **extra: str) -> str:
    return urlencode({"from": period.start.isoformat(), "to": period.end.isoformat(), **extra})


def _drillable(figure: str, dimension: str) -> bool:
    """Whether a breakdown cell links to its rows: interactions are grouped by channel and
    type only, and a type's row has nothing but interactions."""
    if figure not in DRILL_FIGURES:
        return False
    if figure == "interactions":
        return dimension in ("channel", "type")
    return dimension != "type"


@staff_required(role=Role.MANAGER)
@require_GET
def insights_dashboard(request: HttpRequest) -> HttpResponse:
    """NPS, CSAT, CES, response and resolution times, SLA attainment, volumes: a period beside
    the one before it, its trend, its breakdowns; every figure links to the rows behind it."""
    calendar = input_calendar(_language())
    period, preset, errors = _period_from(request, calendar)
    by = request.GET.get("by", "day")
    if by not in TREND_BY:
        errors.append(_("Unknown period “%(value)s”.") % {"value": by})
        by = "day"
    board = dashboard(start=period.start, end=period.end, by=by, calendar=calendar)
    rows_url = reverse("insights:rows")
    totals, before, delta = board["totals"], board["previous_totals"], board["delta"]
    cards = []
    for key, title, unit, rise_good in CARDS:
        change = delta.get(key)
        tone = ""
        if change and rise_good is not None:
            tone = "good" if (change > 0) == rise_good else "bad"
        cards.append({
            "key": key, "title": title, "value": _number(totals.get(key), unit),
            "previous": _number(before.get(key), unit),
            "delta": "" if change is None else _number(change, unit, signed=True),
            "tone": tone,
            "n": _number(totals[f"{key}_n"]) if totals.get(f"{key}_n") else "",
            "url": f"{rows_url}?{_query(period, figure=key)}" if key in DRILL_FIGURES else "",
        })  # fmt: skip
    columns = [key for key in FIGURES if key not in COUNTS]
    tables = []
    for dimension in BREAKDOWNS:
        rows = []
        for row in board["breakdowns"][dimension]:
            cells = []
            for key in columns:
                unit = UNITS[key]
                link = ""
                if _drillable(key, dimension):
                    link = f"{rows_url}?" + _query(
                        period, figure=key, dimension=dimension, value=row["value"]
                    )
                cells.append({"text": _cell(row, key), "url": link})
            rows.append({"label": row["label"] or _("(none)"), "cells": cells})
        tables.append({
            "dimension": dimension, "title": BREAKDOWN_NAMES[dimension], "rows": rows,
            "csv": reverse("insights:export") + "?" + _query(period, table=dimension),
        })  # fmt: skip
    trend = board["trend"]
    labels = [_bucket_label(row, by, calendar) for row in trend]
    chart: dict[str, Any] = {
        "rtl": _language().startswith("fa"),
        "locale": {"fa": "fa-IR", "zh-hans": "zh-CN"}.get(_language(), "en-US"),
        "labels": labels,
        "series": {key: [row[key] for row in trend] for key in columns},
        "names": {key: str(FIGURE_NAMES[key]) for key in columns},
        "channels": {
            "labels": [row["label"] for row in board["breakdowns"]["channel"]],
            "opened": [row["opened"] for row in board["breakdowns"]["channel"]],
            "interactions": [row["interactions"] for row in board["breakdowns"]["channel"]],
        },
        "percent_axis": _("percent"),
    }
    context = {
        "board": board,
        "period": period,
        "previous": period.previous(),
        "preset": preset,
        "presets": list(PRESET_NAMES.items()),
        "by": by,
        "trend_steps": list(TREND_NAMES.items()),
        "cards": cards,
        "headers": [FIGURE_NAMES[key] for key in columns],
        "tables": tables,
        "trend_rows": [
            {"label": label, "cells": [_cell(row, k) for k in columns]}
            for label, row in zip(labels, trend, strict=True)
        ],
        "chart": chart,
        "errors": errors,
        "totals_csv": reverse("insights:export") + "?" + _query(period, table="totals"),
    }  # fmt: skip
    context["drivers"] = [
        {
            "metric": metric, "title": title,
            "rows": [
                {"segment": f"{BREAKDOWN_NAMES[row['dimension']]}: {row['label'] or _('(none)')}",
                 "n": _number(row["n"]), "value": _number(row["segment"], UNITS[metric]),
                 "without": _number(row["without"], UNITS[metric]),
                 "impact": _number(row["impact"], signed=True),
                 "url": f"{rows_url}?" + _query(period, figure=metric,
                                                dimension=row["dimension"], value=row["value"])}
                for row in board["drivers"][metric]
            ],
        }
        for metric, title in (("nps", _("NPS")), ("csat", _("CSAT")))
    ]  # fmt: skip
    return render(request, "insights/dashboard.html", context, status=400 if errors else 200)


@staff_required(role=Role.MANAGER)
@require_GET
def insights_rows(request: HttpRequest) -> HttpResponse:
    """The cases (or interactions) behind one figure of the dashboard, 50 a page."""
    get = request.GET
    calendar = input_calendar(_language())
    period, _preset, errors = _period_from(request, calendar)
    figure = get.get("figure", "opened")
    dimension, value = get.get("dimension", ""), get.get("value", "")
    try:
        rows = drill_rows(
            start=period.start, end=period.end, figure=figure, dimension=dimension, value=value
        )
    except InputError:
        errors.append(_("Unknown figure or segment."))
        figure, dimension, value = "opened", "", ""
        rows = drill_rows(start=period.start, end=period.end, figure=figure)
    page = Paginator(rows, 50).get_page(get.get("page"))
    context = {
        "page": page,
        "period": period,
        "figure": figure,
        "figure_name": FIGURE_NAMES.get(figure, figure),
        "dimension": dimension,
        "dimension_name": BREAKDOWN_NAMES.get(dimension, dimension),
        "value": value,
        "segment": labels(dimension, [value])[value] if dimension else "",
        "interactions": figure == "interactions",
        "answers": figure in ("answers", "nps", "csat", "ces"),
        "errors": errors,
        "back": reverse("insights:dashboard") + "?" + _query(period),
    }
    return render(request, "insights/rows.html", context, status=400 if errors else 200)


@staff_required(role=Role.MANAGER)
@require_GET
def insights_export(request: HttpRequest) -> HttpResponse:
    """One table of the dashboard, day by day, as CSV (UTF-8 with a BOM, for spreadsheets)."""
    period, _preset, errors = _period_from(request, Calendar.GREGORIAN)
    table = request.GET.get("table", "totals")
    if errors or (table != "totals" and table not in BREAKDOWNS):
        message = errors[0] if errors else _("Unknown table “%(value)s”.") % {"value": table}
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    rows = daily_rows(
        start=period.start, end=period.end, dimension="" if table == "totals" else table
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"insights-{table}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    header = ["day", "value", "label", *FIGURES]
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row[k] is None else row[k] for k in header])
    return response
