"""API for the service catalog: business calendars and catalog entries (managers write)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.inputs import InputError
from khoshnud.servicelevels import selectors, services
from khoshnud.servicelevels.business_time import WEEKDAYS
from khoshnud.servicelevels.models import BusinessCalendar, ServiceLevel

router = Router(tags=["service catalog"])


class HoursIn(Schema):
    weekday: str | int = Field(..., examples=["saturday"])
    start: str = Field(..., examples=["08:00"])
    end: str = Field(..., examples=["16:00"], description="24:00 for midnight")


class HolidayIn(Schema):
    name: str = Field(..., examples=["Nowruz"])
    calendar: str = Field("gregorian", examples=["jalali"])
    date: str = Field(..., examples=["01-01"], description="MM-DD every year, or YYYY-MM-DD")


class CalendarIn(Schema):
    name: str = Field(..., examples=["Tehran shop"])
    time_zone: str = Field(..., examples=["Asia/Tehran"])
    hours: list[dict[str, Any]] = Field(
        ..., examples=[[{"weekday": "saturday", "start": "08:00", "end": "16:00"}]]
    )
    holidays: list[dict[str, Any]] = []


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    hours: list[HoursIn]
    holidays: list[HolidayIn]


class ServiceLevelIn(Schema):
    kind: str = Field(..., examples=["support"])
    tier: str = Field(..., examples=["standard"])
    channel: str = Field("", description="empty: every channel")
    calendar: str = Field(..., examples=["Tehran shop"], description="the calendar's name")
    first_response_minutes: int = Field(..., examples=[120])
    resolution_minutes: int = Field(..., examples=[480])
    entitled_first_response_minutes: int | None = Field(
        None,
        examples=[60],
        description="optional tighter target for a customer entitled to support by a purchase",
    )
    entitled_resolution_minutes: int | None = Field(None, examples=[240])


class ServiceLevelOut(ServiceLevelIn):
    id: int


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _calendar_out(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "hours": [
            {
                "weekday": WEEKDAYS[h.weekday],
                "start": _clock(h.start_minute),
                "end": _clock(h.end_minute),
            }
            for h in calendar.hours.all()
        ],
        "holidays": [
            {
                "name": h.name,
                "calendar": h.date_calendar,
                "date": str(h.as_calendar_date()).lstrip("-"),
            }
            for h in calendar.holidays.all()
        ],
    }


def _entry_out(entry: ServiceLevel) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "tier": entry.tier,
        "channel": entry.channel,
        "calendar": entry.calendar.name,
        "first_response_minutes": entry.first_response_minutes,
        "resolution_minutes": entry.resolution_minutes,
        "entitled_first_response_minutes": entry.entitled_first_response_minutes,
        "entitled_resolution_minutes": entry.entitled_resolution_minutes,
    }


@router.get("/calendars", response=list[CalendarOut])
def list_calendars(request: HttpRequest) -> list[dict[str, Any]]:
    """Business calendars with their working hours and holidays."""
    require(request, scope=Scope.READ)
    return [_calendar_out(c) for c in selectors.calendars_list()]


@router.post("/calendars", response={201: CalendarOut})
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Status[dict[str, Any]]:
    """Create a business calendar (manager). Reversed or overlapping hours, an unknown zone or a
    holiday that does not exist in its calendar → 422, nothing stored."""
    require(request, scope=Scope.WRITE, role=Role.MANAGER)
    try:
        calendar = services.calendar_create(
            name=payload.name,
            time_zone=payload.time_zone,
            hours=payload.hours,
            holidays=payload.holidays,
            actor=request.user,
        )
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, _calendar_out(calendar))


@router.get("/service-levels", response=list[ServiceLevelOut])
def list_service_levels(request: HttpRequest) -> list[dict[str, Any]]:
    """The service catalog: targets per case kind × customer tier (× channel)."""
    require(request, scope=Scope.READ)
    return [_entry_out(e) for e in selectors.service_levels_list()]


@router.put("/service-levels", response=ServiceLevelOut)
def set_service_level(request: HttpRequest, payload: ServiceLevelIn) -> dict[str, Any]:
    """Create or replace the entry for (kind, tier, channel) (manager). Targets are business
    minutes > 0; the first response must not be due after the resolution."""
    require(request, scope=Scope.WRITE, role=Role.MANAGER)
    calendar = selectors.calendar_by_name(name=payload.calendar)
    if calendar is None:
        raise HttpError(422, f"calendar: no business calendar named {payload.calendar!r}")
    try:
        entry = services.service_level_set(
            kind=payload.kind,
            tier=payload.tier,
            channel=payload.channel,
            calendar=calendar,
            first_response_minutes=payload.first_response_minutes,
            resolution_minutes=payload.resolution_minutes,
            entitled_first_response_minutes=payload.entitled_first_response_minutes,
            entitled_resolution_minutes=payload.entitled_resolution_minutes,
            actor=request.user,
        )
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    return _entry_out(entry)
