"""Reads of the channels app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from khoshnud.channels.models import ChannelAccount, Delivery
from khoshnud.interactions.models import Direction, Interaction

WHATSAPP_WINDOW = dt.timedelta(hours=24)


def deliveries_of(*, interaction_ids: Sequence[int]) -> dict[int, Delivery]:
    """interaction id → its delivery (outbound interactions that were sent), one query."""
    return {
        d.interaction_id: d
        for d in Delivery.objects.filter(interaction_id__in=list(interaction_ids))
    }


def timeline_deliveries(*, interaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Timeline annotator (settings.KHOSHNUD_TIMELINE_ANNOTATORS): each sent message's
    ``delivery`` (status, attempts, last_error, sent_at), so a failed send shows on the
    customer's timeline. One query a page."""
    return {
        pk: {"delivery": {"status": s, "attempts": n, "last_error": e, "sent_at": at}}
        for pk, s, n, e, at in Delivery.objects.filter(
            interaction_id__in=list(interaction_ids)
        ).values_list("interaction_id", "status", "attempts", "last_error", "sent_at")
    }


def accounts_list() -> QuerySet[ChannelAccount]:
    """Every channel account, by provider and name (credentials stay encrypted)."""
    return ChannelAccount.objects.order_by("provider", "name", "id")


def account_by_slug(*, slug: str) -> ChannelAccount | None:
    """The active account whose webhook this is; None for an unknown or inactive one."""
    # get(), not first(): no ORDER BY to build on every webhook request (the slug is unique).
    try:
        return ChannelAccount.objects.get(slug=slug, is_active=True)
    except ChannelAccount.DoesNotExist:
        return None


def account_webhook_url(*, account: ChannelAccount, request: HttpRequest | None = None) -> str:
    """The absolute webhook URL: ``KHOSHNUD_PUBLIC_URL`` + path when set (behind a proxy),
    else the request's own scheme and host."""
    path = reverse("channels:webhook", kwargs={"slug": account.slug})
    base = str(getattr(settings, "KHOSHNUD_PUBLIC_URL", "") or "").rstrip("/")
    if base:
        return base + path
    return request.build_absolute_uri(path) if request is not None else path


def whatsapp_window_closed(*, customer_id: int, account_id: int | None = None) -> str:
    """Why a free-text WhatsApp reply cannot go now ("" when it can): the customer's last
    message to the number (``account_id``'s, or any) is more than 24 hours old."""
    rows = Interaction.objects.filter(
        customer_id=customer_id, channel="whatsapp", direction=Direction.INBOUND
    )
    if account_id is not None:
        rows = rows.filter(metadata__whatsapp__account_id=account_id)
    last = rows.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    if last is not None and timezone.now() - last <= WHATSAPP_WINDOW:
        return ""
    since = f"since {last.isoformat(timespec='minutes')}" if last else "ever"
    return (
        "WhatsApp allows a free-text reply only within 24 hours of the customer's last "
        f"message (none {since}); outside that window only an approved template may be sent"
    )


INSTAGRAM_WINDOW = dt.timedelta(hours=24)
INSTAGRAM_HUMAN_AGENT_WINDOW = dt.timedelta(days=7)


def instagram_window(*, customer_id: int, account_id: int | None = None) -> tuple[str, str]:
    """Instagram's messaging window for a reply now: ("open", "") within 24 hours of the
    customer's last message; ("human_agent", why) within 7 days (the reply goes with the
    HUMAN_AGENT tag); ("closed", why) later or when they never wrote."""
    rows = Interaction.objects.filter(
        customer_id=customer_id, channel="instagram", direction=Direction.INBOUND
    )
    if account_id is not None:
        rows = rows.filter(metadata__instagram__account_id=account_id)
    last = rows.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    age = timezone.now() - last if last is not None else None
    if age is not None and age <= INSTAGRAM_WINDOW:
        return "open", ""
    if age is not None and age <= INSTAGRAM_HUMAN_AGENT_WINDOW:
        return "human_agent", (
            "more than 24 hours since the customer's last Instagram message: the reply goes "
            "with the HUMAN_AGENT tag (allowed for 7 days)"
        )
    since = f"since {last.isoformat(timespec='minutes')}" if last else "ever"
    return "closed", (
        "Instagram allows a reply only within 7 days of the customer's last message (none "
        f"{since}); wait until they write again"
    )
