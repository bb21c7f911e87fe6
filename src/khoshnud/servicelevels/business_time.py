"""Business-time arithmetic as pure functions: no database, no settings.

A ``Schedule`` is a time zone, working intervals per weekday (split shifts allowed) and holidays
kept in their own calendar (Jalali, Chinese lunar, Gregorian; recurring or one-off). Working
hours are wall-clock times in the zone, so a business day across a daylight-saving change is
as long as the clock says it is (a 00:00–24:00 day in London on the last Sunday of March lasts
23 hours): every interval is turned into two aware instants with ``zoneinfo`` and all sums are
done on those instants.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from khoshnud.calendars import Calendar, CalendarDate, CalendarDateError, to_gregorian

DAY_MINUTES = 24 * 60
# A schedule whose next working minute is further away than this is a configuration mistake
# (every day a holiday); stop instead of looping for ever.
MAX_DAYS = 3660

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ScheduleError(ValueError):
    """A schedule that cannot be used (unknown zone, bad hours, no working time at all)."""


@dataclass(frozen=True)
class HolidayRule:
    """A day off in its own calendar; ``year`` None means every year."""

    calendar: str
    month: int
    day: int
    year: int | None = None
    leap_month: bool = False


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {name!r} (use an IANA name such as Asia/Tehran)"
        ) from None


def check_intervals(weekday: int, intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted intervals in minutes of the day; raises ScheduleError on reversed or overlapping ones."""
    ordered = sorted(intervals)
    name = WEEKDAYS[weekday]
    for start, end in ordered:
        if not 0 <= start < DAY_MINUTES or not 0 < end <= DAY_MINUTES:
            raise ScheduleError(f"{name}: hours must lie within 00:00–24:00")
        if end <= start:
            raise ScheduleError(f"{name}: {_hm(start)}–{_hm(end)} ends before it starts")
    for (s1, e1), (s2, e2) in itertools.pairwise(ordered):
        if s2 < e1:
            raise ScheduleError(f"{name}: {_hm(s1)}–{_hm(e1)} overlaps {_hm(s2)}–{_hm(e2)}")
    return ordered


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def holiday_dates(rule: HolidayRule, year: int) -> list[dt.date]:
    """The Gregorian days of ``year`` on which ``rule`` falls (none when it does not occur).

    A recurring day missing in some year (30 Esfand outside leap years, a lunar 30th) is simply
    not a holiday that year. A recurring lunar date falls in the ordinary month of its number.
    """
    if rule.year is not None:
        try:
            day = to_gregorian(
                CalendarDate(rule.calendar, rule.year, rule.month, rule.day, rule.leap_month)
            )
        except (CalendarDateError, ValueError, OverflowError):
            return []
        return [day] if day.year == year else []
    candidates = {
        Calendar.GREGORIAN: (year,),
        Calendar.JALALI: (year - 622, year - 621),
        Calendar.CHINESE: (year - 1, year),
    }[Calendar(rule.calendar)]
    found = []
    for own_year in candidates:
        try:
            day = to_gregorian(CalendarDate(rule.calendar, own_year, rule.month, rule.day))
        except (CalendarDateError, ValueError, OverflowError):
            continue
        if day.year == year:
            found.append(day)
    return found


class Schedule:
    """Working time of one business calendar. Immutable; holiday years are computed on demand."""

    def __init__(
        self,
        *,
        time_zone: str,
        hours: Mapping[int, Sequence[tuple[int, int]]],
        holidays: Sequence[HolidayRule] = (),
    ) -> None:
        self.time_zone = time_zone
        self.zone = zone_of(time_zone)
        self.hours: tuple[tuple[tuple[int, int], ...], ...] = tuple(
            tuple(check_intervals(d, hours.get(d, ()))) for d in range(7)
        )
        if not any(self.hours):
            raise ScheduleError("the calendar has no working hours on any day")
        self.holidays = tuple(holidays)
        self._holiday_years: dict[int, frozenset[dt.date]] = {}
        # Each local day's intervals, computed once: a batch of cases asks for the same days
        # again and again (zoneinfo conversions were most of the cost of opening a case).
        self._days: dict[dt.date, tuple[tuple[dt.datetime, dt.datetime], ...]] = {}

    def is_holiday(self, day: dt.date) -> bool:
        days = self._holiday_years.get(day.year)
        if days is None:
            days = frozenset(d for rule in self.holidays for d in holiday_dates(rule, day.year))
            self._holiday_years[day.year] = days
        return day in days

    def _instant(self, day: dt.date, minute: int) -> dt.datetime:
        if minute == DAY_MINUTES:
            day, minute = day + dt.timedelta(days=1), 0
        local = dt.datetime(
            day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone
        )
        return local.astimezone(dt.UTC)

    def intervals(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The working intervals of a local day as UTC instants (empty on a holiday)."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = (
                ()
                if self.is_holiday(day)
                else tuple(
                    (self._instant(day, s), self._instant(day, e))
                    for s, e in self.hours[day.weekday()]
                )
            )
        return found

    def _from(self, moment: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working intervals that end after ``moment``, in order, clipped to start at it."""
        day = moment.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for start, end in self.intervals(day):
                if end > moment:
                    yield max(start, moment), end
            day += dt.timedelta(days=1)
        raise ScheduleError(f"no working time within {MAX_DAYS} days of {moment.isoformat()}")


def _aware(moment: dt.datetime, name: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ScheduleError(f"{name} must be an aware date-time (with a time zone)")
    return moment.astimezone(dt.UTC)


def business_add(schedule: Schedule, start: dt.datetime, minutes: int) -> dt.datetime:
    """The moment ``minutes`` business minutes after ``start``, in the schedule's zone.

    Counting starts at the next working minute (a case opened on a Friday evening starts
    Saturday 08:00). A target that is used up exactly at the end of an interval is due then
    (16:00 Wednesday), not at the next opening. ``minutes`` 0 returns ``start`` itself.
    """
    if minutes < 0:
        raise ScheduleError("minutes must be zero or more")
    return business_add_duration(schedule, start, dt.timedelta(minutes=minutes))


def business_add_duration(
    schedule: Schedule, start: dt.datetime, duration: dt.timedelta
) -> dt.datetime:
    """``business_add`` for any span of business time (a pause of 37.5 minutes moves a due
    time by exactly that); a zero span returns ``start`` itself."""
    if duration < dt.timedelta(0):
        raise ScheduleError("the business time to add must be zero or more")
    moment = _aware(start, "start")
    if not duration:
        return moment.astimezone(schedule.zone)
    left = duration
    for begin, end in schedule._from(moment):
        span = end - begin
        if left <= span:
            return (begin + left).astimezone(schedule.zone)
        left -= span
    raise AssertionError("unreachable")  # pragma: no cover - _from raises first


def next_working_moment(schedule: Schedule, moment: dt.datetime) -> dt.datetime:
    """``moment`` itself inside working hours, else the next opening (in the schedule's zone).

    A moment exactly at closing time (16:00) is outside: the next opening is returned."""
    at = _aware(moment, "moment")
    for begin, end in schedule._from(at):
        if begin < end:
            return begin.astimezone(schedule.zone)
    raise AssertionError("unreachable")  # pragma: no cover - _from raises first


def working_day_close(schedule: Schedule, moment: dt.datetime, days: int) -> dt.datetime:
    """The close of the ``days``-th working day after the local day of ``moment`` ("waiting on
    the customer for 2 business days": paused on Wednesday, Thursday and Saturday are the two
    days, so Saturday 16:00 on the Tehran shop's calendar). Days off and holidays do not count.
    """
    if days < 1:
        raise ScheduleError("days must be 1 or more")
    day = _aware(moment, "moment").astimezone(schedule.zone).date()
    for _ in range(MAX_DAYS):
        day += dt.timedelta(days=1)
        intervals = schedule.intervals(day)
        if intervals:
            days -= 1
            if days == 0:
                return intervals[-1][1].astimezone(schedule.zone)
    raise ScheduleError(f"no working time within {MAX_DAYS} days of {moment.isoformat()}")


def business_duration(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time between two moments (negative when ``end`` is before ``start``)."""
    a, b = _aware(start, "start"), _aware(end, "end")
    if b < a:
        return -business_duration(schedule, b, a)
    total = dt.timedelta(0)
    day = a.astimezone(schedule.zone).date()
    last = b.astimezone(schedule.zone).date()
    while day <= last:
        for begin, finish in schedule.intervals(day):
            lo, hi = max(begin, a), min(finish, b)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total


def business_minutes_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> float:
    """Business minutes between two moments (fractional when they are not whole minutes)."""
    return business_duration(schedule, start, end).total_seconds() / 60
