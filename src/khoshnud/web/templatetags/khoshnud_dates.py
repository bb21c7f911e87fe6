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
from django.utils.translation import gettext_lazy as _

from khoshnud.calendars import (
    CalendarDate,
    format_calendar_date,
    format_date,
    format_datetime,
    format_input_date,
    persian_digits,
)

register = template.Library()

# Currencies written without minor units (the rial and toman have no cents in practice).
_NO_MINOR_UNITS = {"IRR", "IRT", "JPY", "KRW"}
# What a currency is called in Persian and Chinese text (English keeps the ISO code, as
# invoices do); a code not listed here is shown as it is.
_CURRENCY_NAMES = {
    "USD": _("US dollars"),
    "EUR": _("euros"),
    "GBP": _("pounds sterling"),
    "IRR": _("rials"),
    "IRT": _("tomans"),
    "CNY": _("yuan"),
    "AED": _("dirhams"),
}


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
def kinput_date(value: dt.date | None) -> str:
    """A day as the viewer's date field shows it: ``۱۴۰۵/۰۸/۲۹`` under fa, ISO otherwise."""
    if value is None:
        return ""
    return format_input_date(value, _language())


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
    """An amount with thousands separators and its currency, as the viewer reads it.

    ``4,005.50 USD`` (en), ``۴٬۰۰۵٫۵۰ دلار آمریکا`` (fa), ``4,005.50 美元`` (zh).
    """
    if value is None:
        return ""
    amount = Decimal(value)
    code = currency.upper()
    places = 0 if code in _NO_MINOR_UNITS else 2
    text = f"{amount:,.{places}f}"
    language = _language()
    if language.startswith("fa"):
        # Persian writes the thousands separator as ٬ and the decimal point as ٫.
        text = persian_digits(text.replace(",", "٬").replace(".", "٫"))
    name = code
    if not language.startswith("en") and code in _CURRENCY_NAMES:
        name = str(_CURRENCY_NAMES[code])
    return f"{text} {name}".strip()
