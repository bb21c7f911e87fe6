"""Feedback figures in the rollups, on the weekend of tests/cases/test_metrics.py.

Answers (Tehran times; the period is Saturday 5 – Sunday 6 December 2026, the previous one
Thursday 3 – Friday 4):

- NPS 9 and 10 on case A (support, email) Saturday; 3 on case B (service, telegram) Saturday;
  10 on case D (care, email) at 00:10 Sunday — 20:40 UTC Saturday; 2 on case C Thursday.
  Period: promoters 3, detractors 1 of 4 → (3 − 1) / 4 × 100 = 50.0; previous: 1 detractor →
  −100.0; delta +150.0. By day: Saturday (2 − 1) / 3 = 33.3, Sunday 100.0.
- CSAT 5 on A, 2 on B → 1 of 2 satisfied = 50.0. CES 2 on A, 5 on B → 3.5.
- Verdicts: A exceeded (resolved Saturday), D met (Sunday) → delight rate 50.0.
- Care follow-ups: of B's 3, opened Saturday, won back → recovery 100.0; of C's 2, opened
  Thursday, not won back → previous 0.0.

Drivers of NPS: without the service kind (B's 3) the rest is 3 promoters of 3 = 100.0, so
service pulls NPS down by 50.0 points; the telegram channel and the service team the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from khoshnud.cases.models import Case
from khoshnud.feedback.models import CaseVerdict, Recovery, SurveyResponse
from khoshnud.insights.drill import drill_rows
from khoshnud.insights.rollups import rollups_build
from khoshnud.insights.selectors import dashboard, dashboard_numbers, dashboard_raw
from tests.cases.conftest import Shop
from tests.cases.test_metrics import NOW, SAT, SUN
from tests.insights.conftest import TEHRAN


def _answer(case: Case, kind: str, score: int, when: dt.datetime, channel: str) -> SurveyResponse:
    return SurveyResponse.objects.create(
        kind=kind, score=score, customer_id=case.customer_id, case=case,
        agent=case.team.members.first() if case.team else None, channel=channel,
        answered_at=when, source="import",
    )  # fmt: skip


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TEHRAN)


@pytest.fixture
def answered(weekend: dict[str, Case], logged: Any) -> None:
    a, b, c, d = (weekend[n] for n in "ABCD")
    _answer(a, "nps", 9, at(5, 16), "email")
    _answer(a, "nps", 10, at(5, 17), "email")
    detractor = _answer(b, "nps", 3, at(5, 18), "telegram")
    _answer(d, "nps", 10, at(6, 0, 10), "email")
    old = _answer(c, "nps", 2, at(3, 12), "email")
    _answer(a, "csat", 5, at(5, 16), "email")
    _answer(b, "csat", 2, at(5, 18), "telegram")
    _answer(a, "ces", 2, at(5, 16), "email")
    _answer(b, "ces", 5, at(5, 18), "telegram")
    for case, verdict in ((a, "exceeded"), (d, "met")):
        CaseVerdict.objects.create(case=case, verdict=verdict, resolved_at=case.resolved_at,
                                   decided_at=case.resolved_at)  # fmt: skip
    Recovery.objects.create(response=detractor, customer_id=b.customer_id, opened_at=at(5, 19),
                            won_back=True)  # fmt: skip
    Recovery.objects.create(response=old, customer_id=c.customer_id, opened_at=at(3, 13),
                            won_back=False)  # fmt: skip
    rollups_build(dt.date(2026, 12, 1), dt.date(2026, 12, 9), now=NOW)


def test_feedback_totals_and_previous_period(answered: None) -> None:
    board = dashboard(start=SAT, end=SUN)
    t, before = board["totals"], board["previous_totals"]
    assert (t["nps"], t["nps_n"]) == (50.0, 4)
    assert (t["csat"], t["csat_n"], t["ces"], t["ces_n"]) == (50.0, 2, 3.5, 2)
    assert t["delight_rate"] == 50.0
    assert t["recovery_rate"] == 100.0
    assert (before["nps"], before["recovery_rate"], before["csat"]) == (-100.0, 0.0, None)
    assert board["delta"]["nps"] == 150.0
    assert board["delta"]["csat"] is None  # no CSAT before: no change to show


def test_an_answer_after_local_midnight_counts_on_sunday(answered: None) -> None:
    by_day = {row["bucket"]: row for row in dashboard(start=SAT, end=SUN)["trend"]}
    assert (by_day["2026-12-05"]["nps"], by_day["2026-12-05"]["nps_n"]) == (33.3, 3)
    assert (by_day["2026-12-06"]["nps"], by_day["2026-12-06"]["nps_n"]) == (100.0, 1)


def test_breakdowns_and_drivers(answered: None) -> None:
    board = dashboard(start=SAT, end=SUN)
    kinds = {row["value"]: row for row in board["breakdowns"]["kind"]}
    assert (kinds["support"]["nps"], kinds["service"]["nps"], kinds["care"]["nps"]) == (
        100.0, -100.0, 100.0,
    )  # fmt: skip
    assert kinds["support"]["delight_rate"] == 100.0  # A exceeded
    assert kinds["care"]["delight_rate"] == 0.0  # D met
    worst = board["drivers"]["nps"][0]
    assert (worst["impact"], worst["without"], worst["n"]) == (-50.0, 100.0, 1)
    pulling = {(row["dimension"], row["value"]) for row in board["drivers"]["nps"]}
    assert ("kind", "service") in pulling and ("channel", "telegram") in pulling
    assert ("kind", "support") not in pulling  # without A's 9 and 10: 0.0, it lifts NPS


@pytest.mark.parametrize("by", ["day", "week"])
def test_feedback_rollups_equal_the_raw_aggregate(answered: None, by: str) -> None:
    for start, end in ((SAT, SUN), (dt.date(2026, 12, 3), SUN)):
        rolled = dashboard_numbers(dashboard(start=start, end=end, by=by))
        raw = dashboard_numbers(dashboard_raw(start=start, end=end, by=by, now=NOW))
        assert rolled == raw, (start, end, by)


def test_a_period_without_answers_has_no_scores(answered: None) -> None:
    t = dashboard(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 2))["totals"]
    assert (t["nps"], t["nps_n"], t["csat"], t["ces"]) == (None, 0, None, None)
    assert (t["delight_rate"], t["recovery_rate"]) == (None, None)


def test_the_answers_behind_a_score(answered: None, weekend: dict[str, Case]) -> None:
    rows = drill_rows(start=SAT, end=SUN, figure="nps", dimension="kind", value="service")
    assert [(r.case_id, r.score) for r in rows] == [(weekend["B"].pk, 3)]
    every = drill_rows(start=SAT, end=SUN, figure="answers")
    assert every.count() == 8  # 4 NPS, 2 CSAT, 2 CES in the period; Thursday's 2 is not


def test_the_page_names_the_drivers(answered: None, shop: Shop) -> None:
    client = Client()
    client.force_login(shop.manager)
    page = client.get("/insights/", {"from": "2026-12-05", "to": "2026-12-06"}).content.decode()
    drivers = page.split('id="drivers"')[1].split("</section>")[0]
    assert "By kind: Service" in drivers
    assert "-50" in drivers  # service pulls NPS down by 50 points
    assert "figure=nps&amp;dimension=kind&amp;value=service" in drivers
    assert "+150" in page  # the NPS delta: 50.0 − (−100.0)


def test_the_rows_behind_the_two_rates(answered: None, weekend: dict[str, Case]) -> None:
    judged = drill_rows(start=SAT, end=SUN, figure="delight_rate")
    assert [c.pk for c in judged] == [weekend["A"].pk, weekend["D"].pk]  # their verdicts
    followed = drill_rows(start=SAT, end=SUN, figure="recovery_rate")
    assert [(r.case_id, r.score) for r in followed] == [(weekend["B"].pk, 3)]


def test_the_dashboard_agrees_with_the_metrics_api(answered: None, api_client: Any) -> None:
    """GET /api/v1/metrics (the feedback app's contract) and the dashboard, same period."""
    client = api_client("manager", "read")
    metrics = client.get("/api/v1/metrics", {"from": "2026-12-05", "to": "2026-12-06"}).json()
    board = client.get("/api/v1/insights", {"from": "2026-12-05", "to": "2026-12-06"}).json()
    t = board["totals"]
    assert (metrics["nps"]["value"], metrics["nps"]["n"]) == (t["nps"], t["nps_n"]) == (50.0, 4)
    assert (metrics["csat"]["value"], metrics["ces"]["value"]) == (t["csat"], t["ces"])
    assert metrics["delight_rate"]["value"] == t["delight_rate"] == 50.0
    assert metrics["recovery_rate"]["value"] == t["recovery_rate"] == 100.0
