"""Reads of the service catalog: schedules of business calendars and the entry that applies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from khoshnud.servicelevels.business_time import HolidayRule, Schedule, business_add
from khoshnud.servicelevels.models import BusinessCalendar, Holiday, ServiceLevel, WorkingHours


def calendar_schedule(*, calendar: BusinessCalendar) -> Schedule:
    """The pure ``Schedule`` of a calendar (two queries)."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for row in WorkingHours.objects.filter(calendar=calendar).order_by("weekday", "start_minute"):
        hours.setdefault(row.weekday, []).append((row.start_minute, row.end_minute))
    holidays = [_rule(h) for h in Holiday.objects.filter(calendar=calendar)]
    return Schedule(time_zone=calendar.time_zone, hours=hours, holidays=holidays)


def _rule(holiday: Holiday) -> HolidayRule:
    return HolidayRule(
        calendar=holiday.date_calendar,
        month=holiday.month,
        day=holiday.day,
        year=holiday.year,
        leap_month=holiday.leap_month,
    )


@dataclass(frozen=True)
class DueTimes:
    first_response_due: dt.datetime
    resolution_due: dt.datetime
    time_zone: str
    entitled: bool = False  # the entry's entitled (tighter) targets were used


@dataclass
class ServiceCatalog:
    """The whole catalog in memory (it is small), for opening many cases in one pass."""

    entries: dict[tuple[str, str, str], ServiceLevel]
    schedules: dict[int, Schedule] = field(default_factory=dict)

    def entry_for(self, *, kind: str, tier: str, channel: str) -> ServiceLevel | None:
        """The most specific entry: (kind, tier, channel) before (kind, tier, any channel)."""
        return self.entries.get((kind, tier, channel)) or self.entries.get((kind, tier, ""))

    def due_times(
        self, *, entry: ServiceLevel, opened_at: dt.datetime, entitled: bool = False
    ) -> DueTimes:
        """First-response and resolution due times, counted in business minutes from
        ``opened_at`` on the entry's calendar, in the calendar's zone; the entry's entitled
        targets when the customer is ``entitled`` to support and the entry has them."""
        schedule = self.schedules.get(entry.calendar_id)
        if schedule is None:
            schedule = self.schedules[entry.calendar_id] = calendar_schedule(
                calendar=entry.calendar
            )
        first, resolution = entry.first_response_minutes, entry.resolution_minutes
        tighter = entitled and entry.entitled_first_response_minutes is not None
        if tighter and entry.entitled_resolution_minutes is not None:
            first = entry.entitled_first_response_minutes or first
            resolution = entry.entitled_resolution_minutes
        first_due = business_add(schedule, opened_at, first)
        # Business time adds up: the resolution target goes on from the first-response one
        # (half the walk over the calendar when, as usual, it is the longer).
        resolution_due = (
            business_add(schedule, first_due, resolution - first)
            if first and resolution > first
            else business_add(schedule, opened_at, resolution)
        )
        return DueTimes(
            first_response_due=first_due,
            resolution_due=resolution_due,
            time_zone=schedule.time_zone,
            entitled=bool(tighter),
        )


def service_catalog() -> ServiceCatalog:
    """Load every catalog entry with its calendar (one query; schedules load when first used)."""
    entries = {
        (e.kind, e.tier, e.channel): e for e in ServiceLevel.objects.select_related("calendar")
    }
    return ServiceCatalog(entries=entries)


def service_level_for(*, kind: str, tier: str, channel: str) -> ServiceLevel | None:
    """The catalog entry that applies to one case (see ``ServiceCatalog.entry_for``)."""
    rows = ServiceLevel.objects.select_related("calendar").filter(
        kind=kind, tier=tier, channel__in=[channel, ""]
    )
    by_channel = {e.channel: e for e in rows}
    return by_channel.get(channel) or by_channel.get("")


def calendar_by_name(*, name: str) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(name=name).first()


def calendars_list() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.prefetch_related("hours", "holidays").order_by("name"))


def service_levels_list() -> list[ServiceLevel]:
    return list(ServiceLevel.objects.select_related("calendar").order_by("kind", "tier", "channel"))
