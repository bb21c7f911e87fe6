"""Labels for stored codes (channel, tier, need, ...) in the viewer's language, and small UI bits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from khoshnud.accounts.models import Role
from khoshnud.calendars import JALALI_MONTHS, Calendar, format_input_date, input_calendar
from khoshnud.cases.models import CaseKind, CaseStatus, Priority, RuleKind, Target
from khoshnud.channels.models import DeliveryStatus
from khoshnud.customers.models import ConsentChannel, DateKind, IdentityKind, Locale, Tier
from khoshnud.interactions.models import Channel, Direction, InteractionType, JourneyStage
from khoshnud.language.models import Need, Sentiment

register = template.Library()

_CHOICES: dict[str, type[models.TextChoices]] = {
    "channel": Channel,
    "direction": Direction,
    "type": InteractionType,
    "stage": JourneyStage,
    "need": Need,
    "sentiment": Sentiment,
    "tier": Tier,
    "calendar": Calendar,
    "consent_channel": ConsentChannel,
    "identity": IdentityKind,
    "date_kind": DateKind,
    "locale": Locale,
    "role": Role,
    "case_kind": CaseKind,
    "case_status": CaseStatus,
    "sla_target": Target,
    "case_rule": RuleKind,
    "priority": Priority,
    "delivery_status": DeliveryStatus,
}

# Languages the analysis pipeline detects, named in the viewer's language.
_LANGUAGE_NAMES = {
    "fa": _("Persian"),
    "en": _("English"),
    "zh": _("Chinese"),
    "zh-hans": _("Chinese"),
    "ar": _("Arabic"),
    "und": _("Unknown"),
}

# Which drawing in static/img/icons.svg stands for each channel.
_CHANNEL_ICONS = {
    "phone": "phone",
    "email": "mail",
    "sms": "sms",
    "fax": "fax",
    "telegram": "send",
    "instagram": "camera",
    "whatsapp": "chat",
    "wechat": "chat",
    "web": "globe",
    "portal": "user",
    "chat": "chat",
    "in_person": "user",
    "review": "star",
    "api": "code",
}


@register.filter
def label(value: Any, kind: str) -> str:
    """``{{ row.channel|label:"channel" }}`` → "Telegram" / "تلگرام" / "Telegram"."""
    if value in (None, ""):
        return ""
    choices = _CHOICES[kind]
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def language_name(code: str | None) -> str:
    if not code:
        return ""
    return str(_LANGUAGE_NAMES.get(code.lower(), code))


@register.filter
def channel_icon(channel: str) -> str:
    return _CHANNEL_ICONS.get(channel, "dot")


@register.simple_tag
def choices(kind: str) -> list[tuple[str, str]]:
    """``{% choices "channel" as options %}`` → [(value, translated label), ...]."""
    return [(value, str(text)) for value, text in _CHOICES[kind].choices]


# How each language's date picker looks: its calendar, digits, month and weekday names (weekdays
# listed from the first day of the week: Saturday in Iran, Monday in China).
_PICKERS: dict[str, dict[str, Any]] = {
    "fa": {
        "calendar": Calendar.JALALI,
        "digits": "fa",
        "months": list(JALALI_MONTHS),
        "weekdays": ["ش", "ی", "د", "س", "چ", "پ", "ج"],
        "first_day": 6,
        "title_format": "{month} {year}",
        "placeholder": "۱۴۰۵/۰۸/۲۹",
    },
    "zh-hans": {
        "calendar": Calendar.GREGORIAN,
        "digits": "latn",
        "months": [f"{m}月" for m in range(1, 13)],
        "weekdays": ["一", "二", "三", "四", "五", "六", "日"],
        "first_day": 1,
        "title_format": "{year}年{m}月",
        "placeholder": "2026-11-20",
    },
}


@register.inclusion_tag("web/_date_field.html")
def date_field(name: str, text: str, value: dt.date | None) -> dict[str, Any]:
    """A date field in the viewer's way of writing dates.

    fa: a text field with a Jalali picker and Persian digits (``۱۴۰۵/۰۸/۲۹``); zh: a text field
    with a picker writing ``2026-11-20``; en: the browser's own date field. The server reads all
    of them (``web.timeline_filter.parse_day``), so a date typed by hand works too.
    """
    language = get_language() or "en"
    picker = _PICKERS.get("fa" if language.startswith("fa") else language)
    context: dict[str, Any] = {
        "name": name,
        "text": text,
        "value": format_input_date(value, language) if value else "",
        "picker": picker,
    }
    if picker:
        context.update(
            calendar=input_calendar(language),
            months_json=json.dumps(picker["months"], ensure_ascii=False),
            weekdays_json=json.dumps(picker["weekdays"], ensure_ascii=False),
            label_open=gettext_now("Choose a date"),
        )
    return context
