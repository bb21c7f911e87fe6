"""API shapes for the interaction log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

EVENT_EXAMPLE: dict[str, Any] = {
    "source": "shop-web",
    "external_id": "m-1001",
    "channel": "email",
    "direction": "inbound",
    "type": "message",
    "stage": "service",
    "occurred_at": "2026-11-20T09:30:00+03:30",
    "customer": {"email": "sara@example.com", "first_name": "Sara", "locale": "fa"},
    "text": "سلام وقت بخیر، سفارشم هنوز نرسیده",
    "metadata": {"order": "A-1042"},
}


class EventBatchIn(Schema):
    events: list[Any] = Field(
        ...,
        description=(
            "1 to 1,000 events. Each: source, external_id (unique together: a re-sent event is a "
            "no-op), channel, direction (inbound/outbound), type, stage, occurred_at (ISO 8601 "
            "with zone), customer ({id} or any of email, phone, telegram, instagram, whatsapp, "
            "wechat, external; plus first_name, last_name, locale for a new customer), text, "
            "metadata, staff (username)."
        ),
        json_schema_extra={"example": [EVENT_EXAMPLE]},  # type: ignore[list-item]
    )


class EventResultOut(Schema):
    index: int
    status: str = Field(..., description="created | duplicate | rejected")
    id: int | None = None
    customer_id: int | None = None
    error: str | None = None


class EventBatchOut(Schema):
    created: int
    duplicate: int
    rejected: int
    results: list[EventResultOut]


class AnalysisOut(Schema):
    language: str
    need: str
    sentiment: str
    sentiment_score: float
    corrected: bool
    model_version: str


class InteractionOut(Schema):
    id: int
    customer_id: int
    channel: str
    direction: str
    type: str
    stage: str
    occurred_at: dt.datetime
    text: str
    metadata: dict[str, Any]
    staff: str | None = None
    source: str
    external_id: str
    analysis: AnalysisOut | None = None


class TimelineOut(Schema):
    customer_id: int
    page: int
    page_size: int
    has_more: bool
    items: list[InteractionOut]
