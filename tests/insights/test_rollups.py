"""The rollups against the raw tables, on the weekend of tests/cases/test_metrics.py.

Period Saturday 2026-12-05 – Sunday 2026-12-06 in Tehran; the previous period is Thursday
2026-12-03 – Friday 2026-12-04. By hand (the cases are described in tests/cases/test_metrics.py):
opened A B D E = 4 (C opened Friday: previous period, 1); resolved A D = 2; first response
(30 + 1,050) / 2 = 540 min; resolution (360 + 180) / 2 = 270 min; first-response due times in
the period A (met) B C (breached) → 33.33 %; resolution due times A (met) C (breached) → 50 %.
Interactions: Saturday 23:50 and Sunday 00:10 in the period (2), Thursday's call before (1).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from khoshnud.cases.models import Case
from khoshnud.inputs import InputError
from khoshnud.insights.models import DailyFigures
from khoshnud.insights.rollups import rollups_build, rollups_rebuild, rollups_refresh
from khoshnud.insights.selectors import (
    dashboard,
    dashboard_numbers,
    dashboard_raw,
    period_preset,
)
from khoshnud.interactions.models import Interaction
from tests.cases.test_metrics import NOW, SAT, SUN
from tests.insights.conftest import TEHRAN, log

THU = dt.date(2026, 12, 3)


@pytest.fixture
def built(logged: list[Interaction]) -> None:
    rollups_build(dt.date(2026, 12, 1), dt.date(2026, 12, 9), now=NOW)


def test_totals_and_previous_period(built: None) -> None:
    board = dashboard(start=SAT, end=SUN)
    t = board["totals"]
    assert (t["opened"], t["resolved"], t["interactions"]) == (4, 2, 2)
    assert t["first_response_minutes_mean"] == 540.0
    assert t["resolution_minutes_mean"] == 270.0
    assert (t["first_response_judged"], t["first_response_attainment"]) == (3, 33.33)
    assert (t["resolution_judged"], t["resolution_attainment"]) == (2, 50.0)
    assert board["previous"] == {"from": "2026-12-03", "to": "2026-12-04"}
    before = board["previous_totals"]
    assert (before["opened"], before["resolved"], before["interactions"]) == (1, 0, 1)  # C; call
    assert board["delta"]["opened"] == 3  # 4 − 1
    assert board["delta"]["interactions"] == 1  # 2 − 1
    # Nothing answered or judged before: no delta, not a number.
    assert before["first_response_minutes_mean"] is None
    assert board["delta"]["first_response_minutes_mean"] is None


def test_a_day_ends_at_local_midnight(built: None) -> None:
    """23:50 Saturday and 00:10 Sunday are both Saturday in UTC, not in Tehran."""
    board = dashboard(start=SAT, end=SUN)
    by_day = {row["bucket"]: row for row in board["trend"]}
    assert by_day["2026-12-05"]["interactions"] == 1
    assert by_day["2026-12-06"]["interactions"] == 1
    assert (by_day["2026-12-05"]["opened"], by_day["2026-12-06"]["opened"]) == (3, 1)  # A B E; D
    channels = {row["value"]: row for row in board["breakdowns"]["channel"]}
    assert channels["email"]["interactions"] == 1
    assert channels["telegram"]["interactions"] == 1
    assert channels["email"]["opened"] == 4  # every case came by email


def test_breakdowns_by_kind_and_tier(built: None) -> None:
    board = dashboard(start=SAT, end=SUN)
    kinds = {row["value"]: row for row in board["breakdowns"]["kind"]}
    assert (kinds["support"]["opened"], kinds["support"]["first_response_attainment"]) == (1, 50.0)
    assert (kinds["service"]["opened"], kinds["service"]["first_response_attainment"]) == (2, 0.0)
    assert kinds["care"]["resolution_minutes_mean"] == 180.0
    [tier] = board["breakdowns"]["tier"]
    assert (tier["value"], tier["label"], tier["opened"]) == ("standard", "Standard", 4)


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_rollups_equal_the_raw_aggregate(built: None, by: str) -> None:
    for start, end in ((SAT, SUN), (THU, SUN), (dt.date(2026, 11, 20), dt.date(2026, 12, 9))):
        rolled = dashboard_numbers(dashboard(start=start, end=end, by=by))
        raw = dashboard_numbers(dashboard_raw(start=start, end=end, by=by, now=NOW))
        assert rolled == raw, (start, end, by)


def test_an_empty_period_has_no_figures(built: None) -> None:
    board = dashboard(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    t = board["totals"]
    assert (t["opened"], t["interactions"]) == (0, 0)
    assert t["first_response_minutes_mean"] is None
    assert t["first_response_attainment"] is None
    assert all(rows == [] for rows in board["breakdowns"].values())


def test_building_twice_gives_the_same_rows(built: None) -> None:
    rows = sorted(DailyFigures.objects.values_list("day", "dimension", "value", "opened"))
    rollups_build(dt.date(2026, 12, 1), dt.date(2026, 12, 9), now=NOW)
    assert sorted(DailyFigures.objects.values_list("day", "dimension", "value", "opened")) == rows


def test_refresh_follows_a_change_of_team(weekend: dict[str, Case], logged: Any) -> None:
    rollups_rebuild()
    board = dashboard(start=SAT, end=SUN)
    teams = {row["label"]: row["opened"] for row in board["breakdowns"]["team"]}
    assert teams == {"care": 1, "service": 2, "support": 1}
    a = weekend["A"]
    a.team = weekend["B"].team  # support → service
    a.save()
    rollups_refresh()
    board = dashboard(start=SAT, end=SUN)
    teams = {row["label"]: row["opened"] for row in board["breakdowns"]["team"]}
    assert teams == {"care": 1, "service": 3}


def test_bad_periods_are_refused() -> None:
    with pytest.raises(InputError, match="before it starts"):
        dashboard(start=SUN, end=SAT)
    with pytest.raises(InputError, match="at most"):
        dashboard(start=dt.date(2020, 1, 1), end=dt.date(2026, 1, 1))
    with pytest.raises(InputError, match="not one of"):
        dashboard(start=SAT, end=SUN, by="hour")


def test_presets_in_both_calendars() -> None:
    today = dt.date(2026, 12, 3)  # 12 Azar 1405
    assert period_preset("7d", today=today).start == dt.date(2026, 11, 27)
    assert period_preset("month", today=today).start == dt.date(2026, 12, 1)
    last = period_preset("last_month", today=today)
    assert (last.start, last.end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert period_preset("quarter", today=today).start == dt.date(2026, 10, 1)
    # Jalali: Azar 1405 began on 22 November 2026; Aban 1405 ran 23 October – 21 November;
    # the autumn season (Mehr) began on 23 September.
    jalali = period_preset("month", today=today, calendar="jalali")
    assert jalali.start == dt.date(2026, 11, 22)
    last = period_preset("last_month", today=today, calendar="jalali")
    assert (last.start, last.end) == (dt.date(2026, 10, 23), dt.date(2026, 11, 21))
    assert period_preset("quarter", today=today, calendar="jalali").start == dt.date(2026, 9, 23)


def test_the_worker_refreshes_the_rollups_every_minute() -> None:
    from khoshnud.ops.periodic import periodic_job

    job = periodic_job("insights.refresh")
    assert job.every == 60
    assert job.task.name.endswith("rollups_refresh_task")


def test_the_first_refresh_builds_everything_then_follows_new_rows(
    weekend: dict[str, Case], logged: list[Interaction]
) -> None:
    rollups_refresh()  # never refreshed: a rebuild from scratch
    assert dashboard(start=SAT, end=SUN)["totals"]["interactions"] == 2
    # A message stored later, that occurred on Saturday: its day is rebuilt on the next run.
    log(weekend["A"].customer_id, dt.datetime(2026, 12, 5, 12, 0, tzinfo=TEHRAN), uid="late")
    rollups_refresh()
    assert dashboard(start=SAT, end=SUN)["totals"]["interactions"] == 3
