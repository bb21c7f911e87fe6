"""Labels for stored codes (channel, tier, need, ...) in the viewer's language, and small UI bits."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.accounts.models import Role
from khoshnud.calendars import Calendar
from khoshnud.cases.models import CaseKind, CaseStatus, Priority
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
    "priority": Priority,
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
