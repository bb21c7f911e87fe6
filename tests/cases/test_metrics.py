"""The service team's numbers, computed by hand on five cases over a weekend in Tehran.

The demo calendar "Tehran shop" works Saturday–Wednesday 08:00–16:00 (Asia/Tehran, +03:30).
Period: Saturday 2026-12-05 and Sunday 2026-12-06.

- A support, opened Sat 09:00, answered 09:30 (due 11:00: met), resolved Sat 15:00 (due Sun
  09:00: met). First response 30 min (30 business), resolution 360 min (360 business).
- B service, opened Sat 15:00, answered Sun 08:30 (due Sat 15:30: breached), still open (due
  Mon: not judged yet in this period). First response 1,050 min wall-clock, 90 business
  (Sat 15:00–16:00 and Sun 08:00–08:30).
- C support, opened Fri 10:00 (before the period), never answered: its first-response due
  (Sat 10:00) and resolution due (Sun 12:00) fall in the period — two breaches; in the backlog.
- D care, opened Sun 10:00, resolved 11:00, reopened 12:00, resolved 13:00; handed off once.
  Resolution 180 min (180 business).
- E service, opened Sat 09:00, closed without resolving: opened, but in no backlog.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from khoshnud import events
from khoshnud.cases.metrics import case_metrics
from khoshnud.cases.models import Case, CaseEvent
from khoshnud.inputs import InputError
from khoshnud.servicelevels.models import ServiceLevel
from tests.cases.conftest import Shop

TEHRAN = ZoneInfo("Asia/Tehran")
SAT, SUN = dt.date(2026, 12, 5), dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TEHRAN)


def _case(shop: Shop, kind: str, status: str, **times: Any) -> Case:
    level = ServiceLevel.objects.get(kind=kind, tier="standard", channel="")
    team = shop.agents[kind].teams.get()
    return Case.objects.create(
        customer=shop.customer,
        kind=kind,
        status=status,
        channel="email",
        team=team,
        service_level=level,
        time_zone="Asia/Tehran",
        last_message_at=times["opened_at"],
        **times,
    )


@pytest.fixture
def weekend(shop: Shop) -> dict[str, Case]:
    cases = {
        "A": _case(shop, "support", "resolved", opened_at=at(5, 9), first_responded_at=at(5, 9, 30),
                   first_response_due=at(5, 11), resolved_at=at(5, 15),
                   resolution_due=at(6, 9)),
        "B": _case(shop, "service", "open", opened_at=at(5, 15), first_responded_at=at(6, 8, 30),
                   first_response_due=at(5, 15, 30), resolution_due=at(7, 10)),
        "C": _case(shop, "support", "open", opened_at=at(4, 10), first_response_due=at(5, 10),
                   resolution_due=at(6, 12)),
        "D": _case(shop, "care", "resolved", opened_at=at(6, 10), resolved_at=at(6, 13)),
        "E": _case(shop, "service", "closed", opened_at=at(5, 9)),
    }  # fmt: skip
    d = cases["D"]
    CaseEvent.objects.create(
        case=d, action=events.CASE_STATUS_CHANGED, changes={"status": {"from": "open", "to": "resolved"}}
    )  # fmt: skip
    CaseEvent.objects.create(
        case=d, action=events.CASE_STATUS_CHANGED,
        changes={"status": {"from": "resolved", "to": "open"}}, reason="reopened",
    )  # fmt: skip
    CaseEvent.objects.create(
        case=d, action=events.CASE_HANDED_OFF, changes={"kind": {"from": "service", "to": "care"}}
    )
    return cases


def test_the_weekend_overall(weekend: dict[str, Case]) -> None:
    [row] = case_metrics(start=SAT, end=SUN, tz="Asia/Tehran", now=NOW)
    assert row.group == ""
    assert (row.opened, row.resolved) == (4, 2)  # A B D E; A D
    assert row.first_response_minutes_mean == 540.0  # (30 + 1050) / 2
    assert row.first_response_minutes_median == 540.0
    assert row.first_response_business_minutes_median == 60.0  # (30 + 90) / 2
    assert row.resolution_minutes_mean == 270.0  # (360 + 180) / 2
    assert row.resolution_business_minutes_median == 270.0
    assert (row.first_response_judged, row.first_response_attainment) == (3, 33.33)  # A of A B C
    assert (row.resolution_judged, row.resolution_attainment) == (2, 50.0)  # A of A C
    assert row.backlog == 2  # B and C at Monday 00:00
    assert row.reopen_rate == 50.0  # D of A D
    assert (row.handoffs, row.handoffs_per_case) == (1, 0.25)


def test_by_kind(weekend: dict[str, Case]) -> None:
    rows = {r.group: r for r in case_metrics(start=SAT, end=SUN, by="kind", now=NOW)}
    assert set(rows) == {"care", "service", "support"}
    support, service, care = rows["support"], rows["service"], rows["care"]
    assert (support.opened, support.resolved, support.backlog) == (1, 1, 1)
    assert support.first_response_attainment == 50.0  # A met, C breached
    assert support.resolution_attainment == 50.0
    assert (service.opened, service.resolved, service.backlog) == (2, 0, 1)  # B E; B
    assert service.first_response_attainment == 0.0
    assert service.reopen_rate is None  # nothing resolved: no rate, not 0
    assert (care.opened, care.resolved, care.reopen_rate, care.handoffs_per_case) == (
        1, 1, 100.0, 1.0,
    )  # fmt: skip


def test_by_day_counts_the_backlog_at_the_end_of_each_day(weekend: dict[str, Case]) -> None:
    rows = {r.group: r for r in case_metrics(start=SAT, end=SUN, by="day", now=NOW)}
    sat, sun = rows["2026-12-05"], rows["2026-12-06"]
    assert (sat.opened, sat.resolved, sat.backlog) == (3, 1, 2)  # A B E; A; B C at Sun 00:00
    assert (sat.first_response_judged, sat.first_response_attainment) == (3, 33.33)
    assert (sun.opened, sun.resolved, sun.backlog) == (1, 1, 2)  # D; D; B C at Mon 00:00
    assert (sun.resolution_judged, sun.resolution_attainment) == (2, 50.0)


def test_due_times_still_ahead_are_not_judged(weekend: dict[str, Case]) -> None:
    # On Saturday at noon, A's first response (due 11:00, met) and C's (due 10:00, missed) are
    # judged; B's (15:30) is still ahead.
    [row] = case_metrics(start=SAT, end=SUN, now=at(5, 12))
    assert (row.first_response_judged, row.first_response_attainment) == (2, 50.0)
    assert row.resolution_judged == 0 and row.resolution_attainment is None


def test_team_scope_and_an_empty_period(shop: Shop, weekend: dict[str, Case]) -> None:
    care_team = shop.agents["care"].teams.get()
    [row] = case_metrics(start=SAT, end=SUN, team_ids=[care_team.pk], now=NOW)
    assert (row.opened, row.resolved, row.backlog) == (1, 1, 0)
    [empty] = case_metrics(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), now=NOW)
    assert (empty.opened, empty.resolved, empty.backlog) == (0, 0, 0)
    assert empty.first_response_minutes_median is None and empty.handoffs_per_case is None


def test_bad_groupings_and_periods_are_refused(weekend: dict[str, Case]) -> None:
    with pytest.raises(InputError, match="'tier' is not one of kind, team, agent"):
        case_metrics(start=SAT, end=SUN, by="tier")
    with pytest.raises(InputError, match=r"ends \(2026-12-05\) before it starts \(2026-12-06\)"):
        case_metrics(start=SUN, end=SAT)
