"""Writes of the service catalog: business calendars, their hours and holidays, catalog entries.

Every function validates all of its input before it writes anything, raises ``InputError``
naming the field, and writes its audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from khoshnud.accounts.services import audit_log
from khoshnud.calendars import Calendar, CalendarDateError, latin_digits, parse_calendar_date
from khoshnud.customers.models import Tier
from khoshnud.inputs import InputError, clean_int, clean_str
from khoshnud.interactions.models import Channel
from khoshnud.servicelevels.business_time import (
    DAY_MINUTES,
    WEEKDAYS,
    ScheduleError,
    check_intervals,
    zone_of,
)
from khoshnud.servicelevels.models import (
    BusinessCalendar,
    Holiday,
    ServiceKind,
    ServiceLevel,
    WorkingHours,
)

Actor = AbstractBaseUser | AnonymousUser | None
# A year of business minutes at 24/7: a larger target is a typing mistake.
MAX_TARGET_MINUTES = 366 * DAY_MINUTES


def parse_clock(value: object, *, field: str) -> int:
    """``"08:30"`` (any digits; ``"24:00"`` allowed as an end) → minutes after midnight."""
    text = latin_digits(clean_str(value, field=field, max_length=5))
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise InputError(field, f"{text!r} is not a time of day (HH:MM)")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > DAY_MINUTES:
        raise InputError(field, f"{text!r} is not a time of day between 00:00 and 24:00")
    return total


def clean_hours(hours: Iterable[Mapping[str, Any]]) -> dict[int, list[tuple[int, int]]]:
    """``[{"weekday": "saturday", "start": "08:00", "end": "16:00"}, …]`` → intervals per weekday.

    Weekdays are English names or 0 (Monday) … 6 (Sunday). Raises InputError on a reversed or
    overlapping interval, or a week with no working time at all.
    """
    by_day: dict[int, list[tuple[int, int]]] = {}
    for n, row in enumerate(hours):
        if not isinstance(row, Mapping):
            raise InputError(f"hours[{n}]", "must be an object with weekday, start and end")
        weekday = _weekday(row.get("weekday"), field=f"hours[{n}].weekday")
        start = parse_clock(row.get("start"), field=f"hours[{n}].start")
        end = parse_clock(row.get("end"), field=f"hours[{n}].end")
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, intervals in by_day.items():
        try:
            by_day[weekday] = check_intervals(weekday, intervals)
        except ScheduleError as exc:
            raise InputError("hours", str(exc)) from None
    if not by_day:
        raise InputError("hours", "give at least one working interval")
    return by_day


def _weekday(value: object, *, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower())
    raise InputError(field, f"{value!r} is not a weekday (monday … sunday, or 0 … 6)")


def clean_holiday(value: Mapping[str, Any], *, field: str) -> dict[str, Any]:
    """``{"name": "Nowruz", "calendar": "jalali", "date": "01-01"}`` (MM-DD every year, or
    YYYY-MM-DD once) → Holiday fields; a date that does not exist in its calendar is refused."""
    if not isinstance(value, Mapping):
        raise InputError(field, "must be an object with name, calendar and date")
    name = clean_str(value.get("name"), field=f"{field}.name", max_length=100)
    calendar = value.get("calendar", Calendar.GREGORIAN)
    if calendar not in Calendar.values:
        raise InputError(f"{field}.calendar", f"{calendar!r} is not one of {Calendar.values}")
    text = clean_str(value.get("date"), field=f"{field}.date", max_length=10)
    try:
        date = parse_calendar_date(text, calendar)
    except CalendarDateError as exc:
        raise InputError(f"{field}.date", str(exc)) from None
    return {
        "name": name,
        "date_calendar": calendar,
        "year": date.year,
        "month": date.month,
        "day": date.day,
    }


def _clean_zone(value: object) -> str:
    zone = clean_str(value, field="time_zone", max_length=64)
    try:
        zone_of(zone)
    except ScheduleError as exc:
        raise InputError("time_zone", str(exc)) from None
    return zone


@transaction.atomic
def calendar_create(
    *,
    name: object,
    time_zone: object,
    hours: Iterable[Mapping[str, Any]],
    holidays: Iterable[Mapping[str, Any]] = (),
    actor: Actor = None,
) -> BusinessCalendar:
    """Create a business calendar with its working hours and holidays (all or nothing)."""
    clean_name = clean_str(name, field="name", max_length=100)
    zone = _clean_zone(time_zone)
    by_day = clean_hours(hours)
    holiday_rows = [clean_holiday(h, field=f"holidays[{n}]") for n, h in enumerate(holidays)]
    if BusinessCalendar.objects.filter(name=clean_name).exists():
        raise InputError("name", f"a calendar named {clean_name!r} already exists")
    calendar = BusinessCalendar.objects.create(name=clean_name, time_zone=zone)
    _write_hours(calendar, by_day)
    Holiday.objects.bulk_create([Holiday(calendar=calendar, **row) for row in holiday_rows])
    audit_log(
        actor=actor,
        action="servicelevels.calendar_create",
        object_type="business_calendar",
        object_id=calendar.pk,
        data={"name": clean_name, "time_zone": zone, "holidays": len(holiday_rows)},
    )
    return calendar


def _write_hours(calendar: BusinessCalendar, by_day: dict[int, list[tuple[int, int]]]) -> None:
    WorkingHours.objects.bulk_create(
        [
            WorkingHours(calendar=calendar, weekday=day, start_minute=start, end_minute=end)
            for day, intervals in sorted(by_day.items())
            for start, end in intervals
        ]
    )


@transaction.atomic
def calendar_set_hours(
    *, calendar: BusinessCalendar, hours: Iterable[Mapping[str, Any]], actor: Actor = None
) -> BusinessCalendar:
    """Replace the calendar's working hours. Due times of open cases are not recomputed."""
    by_day = clean_hours(hours)
    WorkingHours.objects.filter(calendar=calendar).delete()
    _write_hours(calendar, by_day)
    calendar.save(update_fields=["updated_at"])
    audit_log(
        actor=actor,
        action="servicelevels.calendar_set_hours",
        object_type="business_calendar",
        object_id=calendar.pk,
        data={"intervals": sum(len(v) for v in by_day.values())},
    )
    return calendar


@transaction.atomic
def holiday_add(
    *, calendar: BusinessCalendar, holiday: Mapping[str, Any], actor: Actor = None
) -> Holiday:
    """Add one holiday to the calendar (see ``clean_holiday`` for the form)."""
    row = clean_holiday(holiday, field="holiday")
    created = Holiday.objects.create(calendar=calendar, **row)
    audit_log(
        actor=actor,
        action="servicelevels.holiday_add",
        object_type="business_calendar",
        object_id=calendar.pk,
        data={"holiday": str(created)},
    )
    return created


@transaction.atomic
def service_level_set(
    *,
    kind: object,
    tier: object,
    calendar: BusinessCalendar,
    first_response_minutes: object,
    resolution_minutes: object,
    channel: object = "",
    entitled_first_response_minutes: object = None,
    entitled_resolution_minutes: object = None,
    actor: Actor = None,
) -> ServiceLevel:
    """Create or replace the catalog entry for (kind, tier, channel); channel "" = any channel.

    Targets are whole business minutes > 0, and the first response is due no later than the
    resolution. The optional entitled targets (a customer entitled to support by a purchase)
    go together, are no looser than the ordinary ones, and follow the same rules.
    """
    if kind not in ServiceKind.values:
        raise InputError("kind", f"{kind!r} is not one of {ServiceKind.values}")
    if tier not in Tier.values:
        raise InputError("tier", f"{tier!r} is not one of {Tier.values}")
    channel = channel or ""
    if channel and channel not in Channel.values:
        raise InputError("channel", f"{channel!r} is not a channel ({', '.join(Channel.values)})")
    first = clean_int(
        first_response_minutes, field="first_response_minutes", maximum=MAX_TARGET_MINUTES
    )
    resolution = clean_int(
        resolution_minutes, field="resolution_minutes", maximum=MAX_TARGET_MINUTES
    )
    if first > resolution:
        raise InputError("first_response_minutes", "must not be more than resolution_minutes")
    entitled = _entitled_targets(
        entitled_first_response_minutes, entitled_resolution_minutes, first, resolution
    )
    entry, created = ServiceLevel.objects.update_or_create(
        kind=kind,
        tier=tier,
        channel=channel,
        defaults={
            "calendar": calendar,
            "first_response_minutes": first,
            "resolution_minutes": resolution,
            "entitled_first_response_minutes": entitled[0],
            "entitled_resolution_minutes": entitled[1],
        },
    )
    audit_log(
        actor=actor,
        action="servicelevels.service_level_set",
        object_type="service_level",
        object_id=entry.pk,
        data={
            "entry": str(entry),
            "calendar": calendar.name,
            "first_response_minutes": first,
            "resolution_minutes": resolution,
            "entitled": list(entitled),
            "created": created,
        },
    )
    return entry


def _entitled_targets(
    first: object, resolution: object, ordinary_first: int, ordinary_resolution: int
) -> tuple[int | None, int | None]:
    """The entitled (first response, resolution) targets: both or neither, each > 0 and no more
    than the ordinary target, the first response no later than the resolution."""
    given = [v not in (None, "") for v in (first, resolution)]
    if not any(given):
        return None, None
    if not all(given):
        missing = "entitled_resolution_minutes" if given[0] else "entitled_first_response_minutes"
        raise InputError(missing, "give both entitled targets, or neither")
    f = clean_int(first, field="entitled_first_response_minutes", maximum=MAX_TARGET_MINUTES)
    r = clean_int(resolution, field="entitled_resolution_minutes", maximum=MAX_TARGET_MINUTES)
    if f > ordinary_first:
        raise InputError(
            "entitled_first_response_minutes",
            f"must be no more than first_response_minutes ({ordinary_first}): it is the tighter target",
        )
    if r > ordinary_resolution:
        raise InputError(
            "entitled_resolution_minutes",
            f"must be no more than resolution_minutes ({ordinary_resolution}): it is the tighter target",
        )
    if f > r:
        raise InputError(
            "entitled_first_response_minutes", "must not be more than entitled_resolution_minutes"
        )
    return f, r
