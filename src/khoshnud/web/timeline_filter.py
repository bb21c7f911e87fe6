"""Reading the timeline filter (period, channel, type, page) from a query string.

Dates are read in any digit system and in the forms people type: ISO ``2026-11-20`` (or with
slashes), Chinese ``2026年11月20日``, and Jalali ``۱۴۰۵/۰۸/۲۹`` — a year below 1700 is Jalali,
which is how Persian speakers write dates. They are written back (URL and field) in the viewer's
calendar: Jalali under fa. A day is a whole day in the viewer's time zone; ``to`` includes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from khoshnud.calendars import (
    Calendar,
    CalendarDate,
    CalendarDateError,
    format_query_date,
    latin_digits,
    to_gregorian,
)
from khoshnud.inputs import clean_date, clean_page
from khoshnud.interactions.models import Channel, InteractionType

PERIODS = ("7", "30", "90", "all")
PAGE_SIZE = 20
_JALALI_BEFORE = 1700  # no Gregorian year we store is this small; every Jalali year is


@dataclass
class TimelineFilter:
    start_day: dt.date | None = None
    end_day: dt.date | None = None  # inclusive
    channels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    period: str = ""
    page: int = 1
    errors: list[str] = field(default_factory=list)
    calendar: str = Calendar.GREGORIAN  # how days are written back into the URL

    @property
    def start(self) -> dt.datetime | None:
        return _midnight(self.start_day) if self.start_day else None

    @property
    def end(self) -> dt.datetime | None:
        """Exclusive end: midnight after the ``to`` day."""
        return _midnight(self.end_day + dt.timedelta(days=1)) if self.end_day else None

    def query(self, page: int | None = None) -> QueryDict:
        """The filter as a query string (for links, "load more" and the pushed URL)."""
        out = QueryDict(mutable=True)
        if self.start_day:
            out["from"] = format_query_date(self.start_day, self.calendar)
        if self.end_day:
            out["to"] = format_query_date(self.end_day, self.calendar)
        out.setlist("channel", self.channels)
        out.setlist("type", self.types)
        if page and page > 1:
            out["page"] = str(page)
        return out


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def parse_day(text: str) -> dt.date:
    """``2026-11-20``, ``۲۰۲۶/۱۱/۲۰``, ``2026年11月20日`` or Jalali ``1405-08-29`` → a day.

    Raises ValueError for anything else.
    """
    raw = latin_digits(text.strip())
    for separator in ("/", ".", "年", "月"):
        raw = raw.replace(separator, "-")
    parts = raw.removesuffix("日").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    year, month, day = (int(p) for p in parts)
    if year < _JALALI_BEFORE:
        try:
            return to_gregorian(CalendarDate(Calendar.JALALI, year, month, day))
        except CalendarDateError as exc:
            raise ValueError(text) from exc
    return dt.date(year, month, day)


def timeline_filter_parse(
    params: QueryDict, *, today: dt.date, calendar: str = Calendar.GREGORIAN
) -> TimelineFilter:
    """Parse the filter; unreadable parts are dropped and explained in ``errors``.

    ``calendar`` is the one the viewer writes dates in (``calendars.input_calendar``).
    """
    result = TimelineFilter(calendar=calendar)
    period = params.get("period", "")
    if period in PERIODS:
        result.period = period
        if period != "all":
            result.start_day = today - dt.timedelta(days=int(period) - 1)
            result.end_day = today
    else:
        for name in ("from", "to"):
            raw = params.get(name, "").strip()
            if not raw:
                continue
            try:
                # A day outside the years every zone reads back (inputs.clean_date) is no date.
                day = clean_date(parse_day(raw), field=name)
            except ValueError:
                result.errors.append(_("“%(value)s” is not a date.") % {"value": raw})
                continue
            if name == "from":
                result.start_day = day
            else:
                result.end_day = day
        if result.start_day and result.end_day and result.start_day > result.end_day:
            result.errors.append(_("The start date is after the end date."))
    for name, allowed, target in (
        ("channel", Channel.values, result.channels),
        ("type", InteractionType.values, result.types),
    ):
        for value in params.getlist(name):
            if not value:
                continue
            if value in allowed:
                target.append(value)
            else:
                result.errors.append(_("Unknown filter value “%(value)s”.") % {"value": value})
    result.page = clean_page(params.get("page"))
    return result
