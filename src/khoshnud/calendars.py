"""Every calendar conversion goes through this module: Gregorian, Jalali (Solar Hijri), Chinese lunar.

A personal date is kept as the person gave it (calendar, year?, month, day) and converted here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jdatetime
from django.db import models
from django.utils.translation import gettext_lazy as _
from lunardate import LunarDate


class Calendar(models.TextChoices):
    GREGORIAN = "gregorian", _("Gregorian")
    JALALI = "jalali", _("Jalali (Persian)")
    CHINESE = "chinese", _("Chinese lunar")


class CalendarDateError(ValueError):
    """A date that does not exist in its calendar (e.g. Jalali 1402-12-30)."""


PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_LATIN = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)

JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)


JALALI_MONTHS_LATIN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip
GREGORIAN_MONTHS_FA = (
    "ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن",
    "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر",
)  # fmt: skip


def latin_digits(text: str) -> str:
    """Persian (۰-۹) and Arabic-Indic (٠-٩) digits → ASCII digits."""
    return text.translate(_TO_LATIN)


def persian_digits(text: str) -> str:
    return text.translate(_TO_PERSIAN)


@dataclass(frozen=True)
class CalendarDate:
    calendar: str
    year: int | None
    month: int
    day: int
    leap_month: bool = False  # Chinese lunar only: the intercalary copy of ``month``

    def __str__(self) -> str:
        y = f"{self.year:04d}" if self.year is not None else "----"
        return f"{y}-{self.month:02d}-{self.day:02d}"


def parse_calendar_date(text: str, calendar: str) -> CalendarDate:
    """Parse ``YYYY-MM-DD`` or ``MM-DD`` (any digit system) and check it exists in ``calendar``.

    Raises CalendarDateError with a readable reason.
    """
    if calendar not in Calendar.values:
        raise CalendarDateError(f"unknown calendar {calendar!r}; use one of {Calendar.values}")
    raw = latin_digits(str(text).strip()).replace("/", "-")
    parts = raw.split("-")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise CalendarDateError(f"{text!r} is not a date (expected YYYY-MM-DD or MM-DD)") from None
    if len(numbers) == 3:
        year: int | None = numbers[0]
        month, day = numbers[1], numbers[2]
    elif len(numbers) == 2:
        year, (month, day) = None, numbers
    else:
        raise CalendarDateError(f"{text!r} is not a date (expected YYYY-MM-DD or MM-DD)")
    value = CalendarDate(calendar, year, month, day)
    validate_calendar_date(value)
    return value


def validate_calendar_date(value: CalendarDate) -> None:
    check_year = value.year
    if check_year is None:
        # Without a year, accept a day that exists in at least one year (29 Feb, 30 Esfand, 30th lunar).
        check_year = {Calendar.GREGORIAN: 2024, Calendar.JALALI: 1403, Calendar.CHINESE: 2023}[
            Calendar(value.calendar)
        ]
    try:
        to_gregorian(
            CalendarDate(value.calendar, check_year, value.month, value.day, value.leap_month)
        )
    except (ValueError, OverflowError) as exc:
        raise CalendarDateError(
            f"{value} does not exist in the {Calendar(value.calendar).label} calendar"
        ) from exc


def to_gregorian(value: CalendarDate) -> dt.date:
    if value.year is None:
        raise CalendarDateError("a date without a year has no single Gregorian day")
    if value.calendar == Calendar.GREGORIAN:
        try:
            return dt.date(value.year, value.month, value.day)
        except ValueError as exc:  # 29 February of a common year: next_occurrence steps back
            raise CalendarDateError(str(exc)) from exc
    if value.calendar == Calendar.JALALI:
        try:
            return jdatetime.date(value.year, value.month, value.day).togregorian()
        except ValueError as exc:
            raise CalendarDateError(str(exc)) from exc
    if value.calendar == Calendar.CHINESE:
        try:
            return LunarDate(value.year, value.month, value.day, value.leap_month).to_solar_date()
        except (ValueError, IndexError) as exc:
            raise CalendarDateError(str(exc)) from exc
    raise CalendarDateError(f"unknown calendar {value.calendar!r}")


def from_gregorian(day: dt.date, calendar: str) -> CalendarDate:
    if calendar == Calendar.JALALI:
        j = jdatetime.date.fromgregorian(date=day)
        return CalendarDate(calendar, j.year, j.month, j.day)
    if calendar == Calendar.CHINESE:
        lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
        return CalendarDate(calendar, lunar.year, lunar.month, lunar.day, bool(lunar.is_leap_month))
    return CalendarDate(Calendar.GREGORIAN, day.year, day.month, day.day)


def next_occurrence(value: CalendarDate, after: dt.date) -> dt.date:
    """The first Gregorian day on or after ``after`` when the (month, day) recurs in its calendar.

    A day missing in a given year (Feb 29, Esfand 30, lunar 30th) falls on the day before;
    a date in a lunar leap month recurs in the ordinary month of that number, as people keep it.
    """
    start = from_gregorian(after, value.calendar).year or after.year
    for year in (start - 1, start, start + 1, start + 2):
        day = value.day
        while day > 0:
            try:
                greg = to_gregorian(CalendarDate(value.calendar, year, value.month, day))
                break
            except CalendarDateError:
                day -= 1
        else:  # pragma: no cover - every month has a 1st
            continue
        if greg >= after:
            return greg
    raise CalendarDateError(f"no occurrence of {value} found")  # pragma: no cover


def format_date(day: dt.date, language: str) -> str:
    """A day as people of ``language`` read it: Jalali with Persian digits for fa."""
    if language.startswith("fa"):
        j = jdatetime.date.fromgregorian(date=day)
        return persian_digits(f"{j.day} {JALALI_MONTHS[j.month - 1]} {j.year}")
    if language.startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%d %b %Y").lstrip("0")


def format_datetime(moment: dt.datetime, language: str) -> str:
    date_part = format_date(moment.date(), language)
    time_part = moment.strftime("%H:%M")
    if language.startswith("fa"):
        return f"{date_part}، {persian_digits(time_part)}"
    return f"{date_part} {time_part}"


# Chinese lunar months and days as they are written: 正月, 冬月, 腊月; 初五, 廿三, 三十.
LUNAR_MONTHS_ZH = ("正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊")
_LUNAR_DAY_TENS = ("初", "十", "廿", "三")
_CHINESE_NUMERALS = ("十", "一", "二", "三", "四", "五", "六", "七", "八", "九")
PERSIAN_ORDINALS = (
    "اول", "دوم", "سوم", "چهارم", "پنجم", "ششم",
    "هفتم", "هشتم", "نهم", "دهم", "یازدهم", "دوازدهم",
)  # fmt: skip


def lunar_day_zh(day: int) -> str:
    """1 → 初一, 10 → 初十, 15 → 十五, 20 → 二十, 23 → 廿三, 30 → 三十."""
    if day == 20:
        return "二十"
    if day == 30:
        return "三十"
    tens, units = divmod(day, 10)
    if units == 0:  # 10
        return "初十"
    return _LUNAR_DAY_TENS[tens] + _CHINESE_NUMERALS[units]


def _format_lunar(value: CalendarDate, language: str) -> str:
    if language.startswith("zh"):
        year = f"{value.year}年" if value.year else ""
        leap = "闰" if value.leap_month else ""
        return f"农历{year}{leap}{LUNAR_MONTHS_ZH[value.month - 1]}月{lunar_day_zh(value.day)}"
    if language.startswith("fa"):
        leap = " کبیسه" if value.leap_month else ""
        text = f"{value.day} ماه {PERSIAN_ORDINALS[value.month - 1]}{leap} قمری چینی"
        if value.year:
            # A Persian reader places the year by the Jalali day it fell on.
            text += f" ({format_date(to_gregorian(value), language)})"
        return persian_digits(text)
    leap = "leap " if value.leap_month else ""
    year = f" ({value.year})" if value.year else ""
    return f"Lunar {leap}{value.month}/{value.day}{year}"


def format_calendar_date(value: CalendarDate, language: str) -> str:
    """A personal date in its own calendar, worded for the viewer's language.

    A Jalali birthday stays ``۱۵ اسفند ۱۳۷۰`` (fa), ``15 Esfand 1370`` (en), ``伊朗历1370年12月15日``
    (zh); a lunar one reads ``农历1976年正月初五`` (zh), ``Lunar 1/5 (1976)`` (en) and
    ``۵ ماه اول قمری چینی (۱۵ بهمن ۱۳۵۴)`` (fa).
    """
    fa, zh = language.startswith("fa"), language.startswith("zh")
    if value.calendar == Calendar.JALALI:
        if zh:
            year = f"{value.year}年" if value.year else ""
            return f"伊朗历{year}{value.month}月{value.day}日"
        months = JALALI_MONTHS if fa else JALALI_MONTHS_LATIN
        text = f"{value.day} {months[value.month - 1]}" + (f" {value.year}" if value.year else "")
        return persian_digits(text) if fa else text
    if value.calendar == Calendar.CHINESE:
        return _format_lunar(value, language)
    if value.year:
        return format_date(dt.date(value.year, value.month, value.day), language)
    if zh:
        return f"{value.month}月{value.day}日"
    if fa:
        return persian_digits(f"{value.day} {GREGORIAN_MONTHS_FA[value.month - 1]}")
    return dt.date(2000, value.month, value.day).strftime("%d %b").lstrip("0")


def input_calendar(language: str) -> str:
    """The calendar people of ``language`` type dates in: Jalali for fa, else Gregorian."""
    return Calendar.JALALI if language.startswith("fa") else Calendar.GREGORIAN


def format_input_date(day: dt.date, language: str) -> str:
    """A day as a date field shows it: ``۱۴۰۵/۰۸/۲۹`` (fa), ``2026-11-20`` (zh and en)."""
    if language.startswith("fa"):
        j = jdatetime.date.fromgregorian(date=day)
        return persian_digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
    return day.isoformat()


def format_query_date(day: dt.date, calendar: str) -> str:
    """A day in a URL, Latin digits: ``1405-08-29`` for Jalali, else ISO ``2026-11-20``."""
    if calendar == Calendar.JALALI:
        j = jdatetime.date.fromgregorian(date=day)
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    return day.isoformat()
