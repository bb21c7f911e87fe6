"""API for the interaction log: ingest events, read a customer's timeline."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Scope
from khoshnud.customers.selectors import customer_get
from khoshnud.inputs import Page, RowId, clean_aware_datetime, clean_date, read_json
from khoshnud.interactions import selectors
from khoshnud.interactions.models import Channel, InteractionType
from khoshnud.interactions.schemas import (
    EVENT_BATCH_SCHEMA,
    EVENT_EXAMPLE,
    EventBatchOut,
    TimelineOut,
)
from khoshnud.interactions.services import BatchError, events_ingest
from khoshnud.interactions.timeline import timeline_items

router = Router(tags=["interactions"])


@router.post(
    "/events",
    response={200: EventBatchOut},
    exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": EVENT_BATCH_SCHEMA,
                    "example": {"events": [EVENT_EXAMPLE]},
                }
            },
        }
    },
)
def post_events(request: HttpRequest) -> Status[dict]:
    """Ingest one event or a batch of up to 1,000 (body `{"events": [...]}`).

    Each result, in order: `{index, status: created|duplicate|rejected, id, customer_id}` or
    `{index, status: rejected, error}`. Valid events are stored even when others are rejected.
    A body is at most `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes (10 MiB: 1,000 events of 10 KiB);
    413 above.
    """
    require(request, scope=Scope.WRITE)
    body = read_json(request.body)
    if isinstance(body, dict) and "events" not in body and "source" in body:
        body = {"events": [body]}  # a single event may be posted bare
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise HttpError(400, 'the body must be {"events": [...]}')
    if not body["events"]:
        raise HttpError(400, "events is empty")
    try:
        results = events_ingest(events=body["events"])
    except BatchError as exc:
        raise HttpError(413, str(exc)) from None
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    for result in results:
        counts[result.status] += 1
    return Status(200, {**counts, "results": [r.as_dict() for r in results]})


def _moment(value: str | None, name: str, end: bool = False) -> dt.datetime | None:
    """A date (the whole day in the business's time zone) or a zoned ISO 8601 date-time,
    within the range the rules accept (inputs: 1900-01-01 to 2999-12-31)."""
    if not value:
        return None
    if len(value.strip()) == 10:
        day = clean_date(value, field=name) + dt.timedelta(days=1 if end else 0)
        return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
    return clean_aware_datetime(value, field=name)


def _csv(value: str | None, allowed: list[str], name: str) -> list[str]:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise HttpError(422, f"unknown {name} {unknown}; use {allowed}")
    return items


@router.get("/customers/{customer_id}/timeline", response=TimelineOut)
def get_timeline(
    request: HttpRequest,
    customer_id: RowId,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    channel: str | None = None,
    type: str | None = None,
    page: Page = 1,
    page_size: int = 50,
) -> dict:
    """A customer's interactions, newest first. `from`/`to` take a date or a zoned date-time
    (`to` as a date includes that whole day); `channel`/`type` take comma-separated lists.

    Times (`occurred_at`) are given in the customer's own time zone (its `time_zone`), as
    ISO 8601 with that offset: the same instant that was sent, readable as local time."""
    require(request, scope=Scope.READ)
    if page < 1 or not 1 <= page_size <= 200:
        raise HttpError(422, "page starts at 1; page_size is 1 to 200")
    customer = customer_get(customer_id=customer_id)
    zone = _zone(customer.time_zone)
    rows = selectors.customer_timeline_page(
        customer_id=customer.pk,
        start=_moment(from_, "from"),
        end=_moment(to, "to", end=True),
        channels=_csv(channel, Channel.values, "channel"),
        types=_csv(type, InteractionType.values, "type"),
        offset=(page - 1) * page_size,
        limit=page_size + 1,
    )
    return {
        "customer_id": customer.pk,
        "page": page,
        "page_size": page_size,
        "has_more": len(rows) > page_size,
        "items": [_in_zone(item, zone) for item in timeline_items(rows[:page_size])],
    }


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _in_zone(item: dict[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    item["occurred_at"] = item["occurred_at"].astimezone(zone)
    return item
