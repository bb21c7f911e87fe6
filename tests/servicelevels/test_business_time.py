"""Business-time arithmetic, with values computed by hand on a calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khoshnud.servicelevels.business_time import (
    HolidayRule,
    Schedule,
    ScheduleError,
    business_add,
    business_minutes_between,
    holiday_dates,
)

TEHRAN = ZoneInfo("Asia/Tehran")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
H = 60
# Saturday–Wednesday 08:00–16:00, Thursday 08:00–12:00, Friday closed (weekday(): Monday = 0).
SHOP_HOURS = {5: [(8 * H, 16 * H)], 6: [(8 * H, 16 * H)], 0: [(8 * H, 16 * H)],
              1: [(8 * H, 16 * H)], 2: [(8 * H, 16 * H)], 3: [(8 * H, 12 * H)]}  # fmt: skip
NOWRUZ = [HolidayRule(calendar="jalali", month=1, day=d) for d in (1, 2, 3, 4)]


def shop(holidays: list[HolidayRule] | None = None) -> Schedule:
    return Schedule(time_zone="Asia/Tehran", hours=SHOP_HOURS, holidays=holidays or [])


def tehran(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TEHRAN)


def test_wednesday_afternoon_plus_eight_business_hours_is_saturday_ten() -> None:
    # Wednesday 14:00–16:00 (2 h) + Thursday 08:00–12:00 (4 h) + Saturday 08:00–10:00 (2 h).
    due = business_add(shop(), tehran(2026, 12, 2, 14, 0), 480)
    assert due.isoformat() == "2026-12-05T10:00:00+03:30"
    # A target used up exactly at closing time is due at closing, not at the next opening.
    assert business_add(shop(), tehran(2026, 12, 2, 14, 0), 120) == tehran(2026, 12, 2, 16, 0)


def test_a_case_opened_on_friday_starts_counting_saturday_at_eight() -> None:
    friday = tehran(2026, 12, 4, 10, 30)
    assert business_add(shop(), friday, 1) == tehran(2026, 12, 5, 8, 1)
    assert business_add(shop(), friday, 120) == tehran(2026, 12, 5, 10, 0)
    assert business_minutes_between(shop(), friday, tehran(2026, 12, 5, 8, 0)) == 0
    # Thursday after noon is closed too.
    assert business_add(shop(), tehran(2026, 12, 3, 12, 30), 60) == tehran(2026, 12, 5, 9, 0)


def test_opened_at_15_59_with_a_two_minute_target() -> None:
    # One minute on Wednesday (15:59–16:00), one on Thursday (08:00–08:01).
    assert business_add(shop(), tehran(2026, 12, 2, 15, 59), 2) == tehran(2026, 12, 3, 8, 1)


def test_jalali_holidays_are_skipped() -> None:
    # Saturday 29 Esfand 1405 = 2027-03-20, 15:00. Nowruz 1–4 Farvardin 1406 = Sun 21 – Wed 24
    # March 2027. Saturday 1 h + Thursday 25th 4 h + Saturday 27th 3 h = 8 h → 27th 11:00.
    start = tehran(2027, 3, 20, 15, 0)
    assert business_add(shop(NOWRUZ), start, 480) == tehran(2027, 3, 27, 11, 0)
    # Without the holidays: 1 h Saturday + 7 h Sunday → Sunday 15:00.
    assert business_add(shop(), start, 480) == tehran(2027, 3, 21, 15, 0)
    assert business_minutes_between(shop(NOWRUZ), start, tehran(2027, 3, 27, 11, 0)) == 480


def test_holiday_dates_in_their_own_calendars() -> None:
    nowruz = HolidayRule(calendar="jalali", month=1, day=1)
    assert holiday_dates(nowruz, 2027) == [dt.date(2027, 3, 21)]
    assert holiday_dates(nowruz, 2026) == [dt.date(2026, 3, 21)]
    spring_festival = HolidayRule(calendar="chinese", month=1, day=1)
    assert holiday_dates(spring_festival, 2026) == [dt.date(2026, 2, 17)]
    assert holiday_dates(spring_festival, 2027) == [dt.date(2027, 2, 6)]
    once = HolidayRule(calendar="gregorian", month=12, day=31, year=2026)
    assert holiday_dates(once, 2026) == [dt.date(2026, 12, 31)]
    assert holiday_dates(once, 2027) == []
    # 30 Esfand exists only in leap years: 1403 had it (2025-03-20), 1405 does not.
    esfand_30 = HolidayRule(calendar="jalali", month=12, day=30)
    assert holiday_dates(esfand_30, 2025) == [dt.date(2025, 3, 20)]
    assert holiday_dates(esfand_30, 2027) == []


def test_split_shifts() -> None:
    schedule = Schedule(time_zone="Asia/Tehran", hours={0: [(13 * H, 17 * H), (9 * H, 12 * H)]})
    monday = tehran(2026, 11, 30, 11, 30)
    assert business_add(schedule, monday, 60) == tehran(2026, 11, 30, 13, 30)
    assert business_minutes_between(schedule, monday, tehran(2026, 11, 30, 18, 0)) == 30 + 240
    # The next Monday, when the week's 7 hours are used up.
    assert business_add(schedule, monday, 30 + 240 + 1) == tehran(2026, 12, 7, 9, 1)


def test_daylight_saving_in_london() -> None:
    week = {d: [(9 * H, 17 * H)] for d in range(5)}
    schedule = Schedule(time_zone="Europe/London", hours=week)
    # Friday 23 Oct 2026 16:00 BST (15:00 UTC); clocks go back on Sunday the 25th. One hour on
    # Friday, one on Monday from 09:00 GMT: due 10:00 GMT = 10:00 UTC (not 09:00 UTC, which a
    # fixed +01:00 offset would give).
    due = business_add(schedule, dt.datetime(2026, 10, 23, 16, 0, tzinfo=LONDON), 120)
    assert due == dt.datetime(2026, 10, 26, 10, 0, tzinfo=dt.UTC)
    assert due.isoformat() == "2026-10-26T10:00:00+00:00"
    # A whole-day shift lasts as long as the clock says: 23 h when clocks go forward
    # (Sunday 29 March 2026), 25 h when they go back (Sunday 25 October 2026).
    sundays = Schedule(time_zone="Europe/London", hours={6: [(0, 24 * H)]})
    spring = dt.datetime(2026, 3, 29, tzinfo=LONDON), dt.datetime(2026, 3, 30, tzinfo=LONDON)
    autumn = dt.datetime(2026, 10, 25, tzinfo=LONDON), dt.datetime(2026, 10, 26, tzinfo=LONDON)
    assert business_minutes_between(sundays, *spring) == 23 * 60
    assert business_minutes_between(sundays, *autumn) == 25 * 60
    assert business_add(sundays, spring[0], 23 * 60) == spring[1]


def test_daylight_saving_in_new_york_inside_working_hours() -> None:
    # A night shift 00:00–04:00 on Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT, so the
    # shift is 3 hours long and two hours after midnight is 03:00 EDT.
    nights = Schedule(time_zone="America/New_York", hours={6: [(0, 4 * H)]})
    midnight = dt.datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert (
        business_minutes_between(nights, midnight, dt.datetime(2026, 3, 9, tzinfo=NEW_YORK)) == 180
    )
    assert business_add(nights, midnight, 120).isoformat() == "2026-03-08T03:00:00-04:00"


def test_bad_schedules_and_moments_are_refused() -> None:
    with pytest.raises(ScheduleError, match="ends before it starts"):
        Schedule(time_zone="UTC", hours={0: [(16 * H, 8 * H)]})
    with pytest.raises(ScheduleError, match="overlaps"):
        Schedule(time_zone="UTC", hours={0: [(8 * H, 12 * H), (11 * H, 16 * H)]})
    with pytest.raises(ScheduleError, match="no working hours"):
        Schedule(time_zone="UTC", hours={})
    with pytest.raises(ScheduleError, match="unknown time zone"):
        Schedule(time_zone="Mars/Olympus", hours={0: [(0, 60)]})
    with pytest.raises(ScheduleError, match="aware"):
        business_add(shop(), dt.datetime(2026, 12, 2, 14, 0), 10)
    with pytest.raises(ScheduleError, match="zero or more"):
        business_add(shop(), tehran(2026, 12, 2, 14, 0), -1)
    # Every day a holiday: an error, not an endless loop.
    every_day = [HolidayRule(calendar="gregorian", month=m, day=d) for m in range(1, 13)
                 for d in range(1, 32) if (m, d) != (2, 30) and not (d == 31 and m in (2, 4, 6, 9, 11))
                 and not (m == 2 and d > 29)]  # fmt: skip
    closed = Schedule(time_zone="UTC", hours={0: [(0, 60)]}, holidays=every_day)
    with pytest.raises(ScheduleError, match="no working time"):
        business_add(closed, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1)


moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.UTC)
)


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=st.integers(min_value=0, max_value=20_000))
def test_adding_then_measuring_round_trips(start: dt.datetime, minutes: int) -> None:
    for schedule in (shop(NOWRUZ), Schedule(time_zone="Europe/London",
                     hours={d: [(9 * H, 12 * H), (13 * H, 17 * H + 30)] for d in range(5)})):  # fmt: skip
        due = business_add(schedule, start, minutes)
        assert due >= start
        assert business_minutes_between(schedule, start, due) == minutes
        # Nothing sooner would do: one minute earlier is one business minute short (or it is
        # the start itself).
        if minutes:
            assert (
                business_minutes_between(schedule, start, due - dt.timedelta(minutes=1))
                == minutes - 1
            )
