"""Calendars: Jalali and Chinese lunar dates, checked and converted by hand-computed examples."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from khoshnud.calendars import (
    CalendarDate,
    CalendarDateError,
    format_date,
    from_gregorian,
    next_occurrence,
    parse_calendar_date,
    to_gregorian,
)


def test_jalali_leap_years() -> None:
    assert parse_calendar_date("1403-12-30", "jalali") == CalendarDate("jalali", 1403, 12, 30)
    with pytest.raises(CalendarDateError, match="does not exist"):
        parse_calendar_date("1402-12-30", "jalali")
    assert parse_calendar_date("۱۴۰۳/۱۲/۳۰", "jalali").day == 30  # Persian digits and slashes
    with pytest.raises(CalendarDateError):
        parse_calendar_date("1403-13-01", "jalali")
    with pytest.raises(CalendarDateError, match="not a date"):
        parse_calendar_date("yesterday", "jalali")


def test_known_conversions() -> None:
    # Nowruz 1403 fell on 20 March 2024; 1 Farvardin 1405 is 21 March 2026.
    assert to_gregorian(CalendarDate("jalali", 1403, 1, 1)) == dt.date(2024, 3, 20)
    assert to_gregorian(CalendarDate("jalali", 1405, 1, 1)) == dt.date(2026, 3, 21)
    # Chinese New Year 2024 (lunar 2024-01-01) was 10 February 2024.
    assert to_gregorian(CalendarDate("chinese", 2024, 1, 1)) == dt.date(2024, 2, 10)
    assert from_gregorian(dt.date(2026, 11, 20), "jalali") == CalendarDate("jalali", 1405, 8, 29)


def test_next_occurrence_in_own_calendar() -> None:
    # A Jalali birthday on 29 Aban recurs on 20 Nov 2026 (1405-08-29).
    birthday = CalendarDate("jalali", 1370, 8, 29)
    assert next_occurrence(birthday, dt.date(2026, 11, 1)) == dt.date(2026, 11, 20)
    assert next_occurrence(birthday, dt.date(2026, 11, 21)) == dt.date(2027, 11, 20)
    # 30 Esfand exists in 1403 but not 1404: that year it falls on 29 Esfand, the day before
    # Nowruz 1405 (21 March 2026), i.e. 20 March 2026.
    esfand30 = CalendarDate("jalali", None, 12, 30)
    assert next_occurrence(esfand30, dt.date(2026, 1, 1)) == dt.date(2026, 3, 20)
    # A lunar birthday in the leap 10th month of 1984 recurs on the ordinary 10/1: 2026-11-09.
    lunar = CalendarDate("chinese", 1984, 10, 1, leap_month=True)
    assert to_gregorian(lunar) == dt.date(1984, 11, 23)
    assert next_occurrence(lunar, dt.date(2026, 11, 1)) == dt.date(2026, 11, 9)


def test_format_date_per_language() -> None:
    day = dt.date(2026, 11, 20)
    assert format_date(day, "fa") == "۲۹ آبان ۱۴۰۵"
    assert format_date(day, "zh-hans") == "2026年11月20日"
    assert format_date(day, "en") == "20 Nov 2026"


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_round_trip_every_calendar(day: dt.date) -> None:
    for calendar in ("gregorian", "jalali", "chinese"):
        assert to_gregorian(from_gregorian(day, calendar)) == day


def test_personal_dates_in_their_own_calendar_per_viewer() -> None:
    from khoshnud.calendars import format_calendar_date

    esfand = CalendarDate("jalali", 1403, 12, 30)
    assert format_calendar_date(esfand, "fa") == "۳۰ اسفند ۱۴۰۳"
    assert format_calendar_date(esfand, "en") == "30 Esfand 1403"
    lunar = CalendarDate("chinese", None, 10, 1, leap_month=True)
    assert format_calendar_date(lunar, "zh-hans") == "农历闰十月初一"
    assert format_calendar_date(lunar, "en") == "Lunar leap 10/1"
    assert format_calendar_date(lunar, "fa") == "۱ ماه دهم کبیسه قمری چینی"
    assert format_calendar_date(esfand, "zh-hans") == "伊朗历1403年12月30日"
    june = CalendarDate("gregorian", None, 6, 21)
    assert format_calendar_date(june, "fa") == "۲۱ ژوئن"
    assert format_calendar_date(june, "zh-hans") == "6月21日"
    assert format_calendar_date(june, "en") == "21 Jun"


def test_a_lunar_birthday_reads_naturally_in_every_language() -> None:
    """Lunar 1976-01-05 fell on 4 Feb 1976 (Chinese New Year was 31 Jan), i.e. 15 Bahman 1354."""
    from khoshnud.calendars import format_calendar_date, lunar_day_zh

    born = CalendarDate("chinese", 1976, 1, 5)
    assert to_gregorian(born) == dt.date(1976, 2, 4)
    assert format_calendar_date(born, "en") == "Lunar 1/5 (1976)"
    assert format_calendar_date(born, "zh-hans") == "农历1976年正月初五"
    assert format_calendar_date(born, "fa") == "۵ ماه اول قمری چینی (۱۵ بهمن ۱۳۵۴)"
    assert format_calendar_date(CalendarDate("chinese", None, 12, 23), "zh-hans") == "农历腊月廿三"
    assert format_calendar_date(CalendarDate("chinese", None, 11, 20), "zh-hans") == "农历冬月二十"
    assert [lunar_day_zh(d) for d in (1, 10, 11, 15, 20, 21, 29, 30)] == [
        "初一", "初十", "十一", "十五", "二十", "廿一", "廿九", "三十",
    ]  # fmt: skip


def test_date_fields_and_urls_in_the_viewers_calendar() -> None:
    from khoshnud.calendars import format_input_date, format_query_date, input_calendar

    day = dt.date(2026, 11, 20)  # 29 Aban 1405
    assert format_input_date(day, "fa") == "۱۴۰۵/۰۸/۲۹"
    assert format_input_date(day, "zh-hans") == "2026-11-20"
    assert format_input_date(day, "en") == "2026-11-20"
    assert format_query_date(day, input_calendar("fa")) == "1405-08-29"
    assert format_query_date(day, input_calendar("zh-hans")) == "2026-11-20"
