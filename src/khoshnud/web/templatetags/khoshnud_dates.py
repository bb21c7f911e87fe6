"""Dates and numbers as the viewer reads them: their language's calendar, digits and time zone.

Every conversion goes through ``khoshnud.calendars``; this module only picks the language and
moves aware datetimes into the viewer's time zone first (``timezone.localtime``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from khoshnud.calendars import (
    CalendarDate,
    format_calendar_date,
    format_date,
    format_datetime,
    persian_digits,
)

register = template.Library()

# Currencies written without minor units (the rial and toman have no cents in practice).
_NO_MINOR_UNITS = {"IRR", "IRT", "JPY", "KRW"}


def _language() -> str:
    return get_language() or "en"


@register.filter
def kdatetime(value: dt.datetime | None) -> str:
    """An aware datetime in the viewer's zone and calendar: ``۲۹ آبان ۱۴۰۵، ۱۰:۰۰`` under fa."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, _language())


@register.filter
def kdate(value: dt.date | dt.datetime | None) -> str:
    """A day in the viewer's calendar; an aware datetime is first moved to the viewer's zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return format_date(value, _language())


@register.filter
def kcalendar_date(value: CalendarDate | None) -> str:
    """A personal date in its own calendar (a Jalali birthday stays Jalali), digits per viewer."""
    if value is None:
        return ""
    return format_calendar_date(value, _language())


@register.filter
def knum(value: object) -> str:
    """A number (or any text) with the viewer's digits: Persian digits under fa."""
    if value is None:
        return ""
    text = str(value)
    return persian_digits(text) if _language().startswith("fa") else text


@register.filter
def kmoney(value: Decimal | int | None, currency: str = "") -> str:
    """An amount with thousands separators and its currency code, in the viewer's digits."""
    if value is None:
        return ""
    amount = Decimal(value)
    places = 0 if currency.upper() in _NO_MINOR_UNITS else 2
    text = f"{amount:,.{places}f}"
    if _language().startswith("fa"):
        # Persian writes the thousands separator as ٬ and the decimal point as ٫.
        text = persian_digits(text.replace(",", "٬").replace(".", "٫"))
    return f"{text} {currency}".strip()
