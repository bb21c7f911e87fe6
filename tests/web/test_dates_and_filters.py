"""The date filters (viewer's calendar, zone and digits) and the timeline filter parser."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import jdatetime
import pytest
from django.http import QueryDict
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from khoshnud.calendars import CalendarDate, persian_digits
from khoshnud.web.templatetags.khoshnud_dates import (
    kcalendar_date,
    kdate,
    kdatetime,
    kmoney,
    knum,
)
from khoshnud.web.templatetags.khoshnud_ui import label, language_name
from khoshnud.web.timeline_filter import parse_day, timeline_filter_parse

# 06:00 UTC is 09:30 in Tehran (UTC+03:30 all year since 2023)
MOMENT = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fa", "۲۹ آبان ۱۴۰۵، ۰۹:۳۰"),  # 2026-11-20 = 29 Aban 1405 (hand-computed)
        ("zh-hans", "2026年11月20日 09:30"),
        ("en", "20 Nov 2026 09:30"),
    ],
)
def test_kdatetime_uses_viewer_zone_and_calendar(language: str, expected: str) -> None:
    with translation.override(language), timezone.override("Asia/Tehran"):
        assert kdatetime(MOMENT) == expected


def test_kdatetime_follows_the_active_time_zone() -> None:
    with translation.override("zh-hans"), timezone.override("Asia/Shanghai"):
        assert kdatetime(MOMENT) == "2026年11月20日 14:00"


def test_kdate_moves_to_local_day_first() -> None:
    late = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)  # already the 21st in Tehran
    with translation.override("fa"), timezone.override("Asia/Tehran"):
        assert kdate(late) == "۳۰ آبان ۱۴۰۵"
        assert kdate(dt.date(2026, 3, 21)) == "۱ فروردین ۱۴۰۵"  # Nowruz 1405


def test_calendar_date_digits_and_money() -> None:
    birthday = CalendarDate("jalali", 1370, 12, 15)
    with translation.override("fa"):
        assert kcalendar_date(birthday) == "۱۵ اسفند ۱۳۷۰"
        assert knum(1234) == "۱۲۳۴"
        assert kmoney(Decimal("9000000"), "IRR") == "۹٬۰۰۰٬۰۰۰ ریال"
        assert kmoney(Decimal("12.5"), "USD") == "۱۲٫۵۰ دلار آمریکا"
        assert kmoney(Decimal("7"), "XTS") == "۷٫۰۰ XTS"  # a code without a name stays a code
    with translation.override("en"):
        assert kcalendar_date(birthday) == "15 Esfand 1370"
        assert kmoney(Decimal("1234.5"), "USD") == "1,234.50 USD"
    with translation.override("zh-hans"):
        assert kcalendar_date(CalendarDate("chinese", None, 8, 15)) == "农历八月十五"
        assert kmoney(Decimal("4005.5"), "USD") == "4,005.50 美元"
    assert kdatetime(None) == kdate(None) == kcalendar_date(None) == kmoney(None) == ""


def test_labels_are_translated() -> None:
    with translation.override("fa"):
        assert label("telegram", "channel") == "تلگرام"
        assert label("care", "need") == "مراقبت"
        assert language_name("zh") == "چینی"
    with translation.override("zh-hans"):
        assert label("wechat", "channel") == "微信"
        assert label("negative", "sentiment") == "负面"
        assert label("jalali", "calendar") == "波斯历（贾拉利历）"
    assert label("pigeon", "channel") == "pigeon"
    assert label("", "channel") == ""


days = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31))


@given(days)
def test_parse_day_reads_iso_in_any_digits(day: dt.date) -> None:
    assert parse_day(day.isoformat()) == day
    assert parse_day(persian_digits(day.isoformat())) == day
    assert parse_day(day.isoformat().replace("-", "/")) == day


@given(days)
def test_parse_day_reads_jalali(day: dt.date) -> None:
    j = jdatetime.date.fromgregorian(date=day)
    assert parse_day(persian_digits(f"{j.year}-{j.month:02d}-{j.day:02d}")) == day


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "1405-12-31", "2026-11"])
def test_parse_day_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day(text)


def test_filter_presets_and_bounds() -> None:
    today = dt.date(2026, 11, 20)
    with timezone.override("Asia/Tehran"):
        flt = timeline_filter_parse(QueryDict("period=7&from=2020-01-01"), today=today)
        assert (flt.start_day, flt.end_day) == (dt.date(2026, 11, 14), today)  # preset wins
        assert flt.start == dt.datetime(2026, 11, 14, tzinfo=timezone.get_current_timezone())
        assert flt.end == dt.datetime(2026, 11, 21, tzinfo=timezone.get_current_timezone())
        everything = timeline_filter_parse(QueryDict("period=all"), today=today)
        assert everything.start is None and everything.end is None
        both = timeline_filter_parse(
            QueryDict("channel=sms&channel=email&type=call&page=۲"), today=today
        )
        assert (both.channels, both.types, both.page) == (["sms", "email"], ["call"], 2)
        assert both.query(page=3).urlencode() == "channel=sms&channel=email&type=call&page=3"
        backwards = timeline_filter_parse(QueryDict("from=2026-11-10&to=2026-11-01"), today=today)
        assert backwards.errors
