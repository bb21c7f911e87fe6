"""API of customer feedback: the metrics of a period; survey invitations."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Scope
from khoshnud.feedback.metrics import feedback_metrics
from khoshnud.inputs import clean_date

router = Router(tags=["feedback"])

_METRICS_EXAMPLE = {
    "from": "2026-11-01",
    "to": "2026-11-30",
    "time_zone": "Asia/Tehran",
    "nps": {"value": 20.0, "n": 10, "promoters": 5, "passives": 2, "detractors": 3},
    "csat": {"value": 75.0, "n": 4, "satisfied": 3},
    "ces": {"value": None, "n": 0},
}


@router.get("/metrics", openapi_extra={"responses": {200: {"content": {
    "application/json": {"example": _METRICS_EXAMPLE}}}}})  # fmt: skip
def get_metrics(
    request: HttpRequest,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
) -> dict[str, Any]:
    """NPS, CSAT and CES of the answers given from `from` to `to` (YYYY-MM-DD, both days
    included, in the business's time zone; default: the last 30 days up to today). A figure
    without answers is `{"value": null, "n": 0}`. Definitions: docs/metrics.md."""
    require(request, scope=Scope.READ)
    zone = settings.TIME_ZONE
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    end = clean_date(to, field="to") if to else today
    start = clean_date(from_, field="from") if from_ else end - dt.timedelta(days=29)
    body = feedback_metrics(start=start, end=end, tz=zone)
    return {"from": start.isoformat(), "to": end.isoformat(), "time_zone": zone, **body}
