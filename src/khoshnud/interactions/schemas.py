"""API shapes for the interaction log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from khoshnud.interactions.models import Channel, Direction, InteractionType, JourneyStage

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


_CUSTOMER_REF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "{id} of a known customer, or any of the identities (a new customer is created when "
        "none is known), plus first_name, last_name, locale, time_zone and attributes for a new "
        "customer."
    ),
    "properties": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        **{
            kind: {"type": "string", "maxLength": 255}
            for kind in (
                "email",
                "phone",
                "telegram",
                "instagram",
                "whatsapp",
                "wechat",
                "external",
            )
        },
        "first_name": {"type": "string", "maxLength": 100},
        "last_name": {"type": "string", "maxLength": 100},
        "locale": {"type": "string", "enum": ["en", "fa", "zh-hans"]},
        "time_zone": {"type": "string", "examples": ["Asia/Tehran"]},
        "attributes": {"type": "object"},
    },
}

# The request body of POST /events, written out by hand: the view reads the body itself so that
# one bad event is rejected with its index instead of failing the whole batch.
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "external_id", "channel", "occurred_at", "customer"],
    "properties": {
        "source": {"type": "string", "minLength": 1, "maxLength": 64},
        "external_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "description": "unique with source: a re-sent event is a no-op (status duplicate)",
        },
        "channel": {"type": "string", "enum": Channel.values},
        "direction": {"type": "string", "enum": Direction.values, "default": "inbound"},
        "type": {"type": "string", "enum": InteractionType.values, "default": "message"},
        "stage": {"type": "string", "enum": ["", *JourneyStage.values], "default": ""},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with a zone, between 1900-01-01 and 2999-12-31 (UTC)",
        },
        "customer": _CUSTOMER_REF_SCHEMA,
        "text": {"type": "string", "maxLength": 100_000},
        "metadata": {"type": "object", "description": "any JSON object, nested ≤ 32 levels"},
        "staff": {"type": "string", "description": "the username of the staff member"},
    },
}
EVENT_BATCH_SCHEMA: dict[str, Any] = {
    "title": "EventBatchIn",
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": EVENT_SCHEMA,
            "description": "1 to 1,000 events; each is stored or rejected on its own",
        }
    },
}


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


class DeliveryOut(Schema):
    status: str = Field(..., description="queued, sent or failed (after every attempt failed)")
    attempts: int
    last_error: str
    sent_at: dt.datetime | None


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
    delivery: DeliveryOut | None = Field(None, description="an outbound message's sending")


class TimelineOut(Schema):
    customer_id: int
    page: int
    page_size: int
    has_more: bool
    items: list[InteractionOut]
