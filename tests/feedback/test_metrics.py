"""NPS, CSAT and CES from the flat answers table, through POST /events and GET /metrics.

Every expected value is computed by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from khoshnud.feedback.metrics import ces_value, csat_value, feedback_metrics, nps_value
from khoshnud.feedback.models import SurveyResponse
from khoshnud.interactions.models import Interaction, InteractionType
from tests.conftest import event

pytestmark = pytest.mark.django_db


def answer(n: int, kind: str, score: Any, at: str = "2026-11-20T10:00:00+03:30", **extra: Any):  # type: ignore[no-untyped-def]
    survey: dict[str, Any] = {"kind": kind, "score": score, **extra}
    return event(
        source="old-tool",
        external_id=f"{kind}-{n}",
        type="survey_answer",
        channel="web",
        occurred_at=at,
        text="",
        customer={"email": f"c{n}@example.com"},
        survey=survey,
    )


def post(client: Client, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/events", data=json.dumps({"events": events}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def metrics(client: Client, start: str, end: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/metrics?from={start}&to={end}")
    assert response.status_code == 200, response.content
    return response.json()


def test_nps_csat_ces_by_hand(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    # NPS: 5 promoters (9, 10, 10, 9, 9), 2 passives (7, 8), 3 detractors (0, 6, 3):
    # (5 − 3) / 10 × 100 = 20.0.
    nps = [9, 10, 10, 9, 9, 7, 8, 0, 6, 3]
    # CSAT: 4, 5, 5 satisfied out of 4, 5, 5, 3, 1 → 3 / 5 × 100 = 60.0.
    csat = [4, 5, 5, 3, 1]
    # CES: (1 + 2 + 6) / 3 = 3.0.
    ces = [1, 2, 6]
    events = [answer(i, "nps", s) for i, s in enumerate(nps)]
    events += [answer(i, "csat", s) for i, s in enumerate(csat)]
    events += [answer(i, "ces", s) for i, s in enumerate(ces)]
    body = post(client, events)
    assert body["created"] == 18 and body["rejected"] == 0, [
        r for r in body["results"] if r["status"] != "created"
    ]
    got = metrics(client, "2026-11-20", "2026-11-20")
    assert got["nps"] == {"value": 20.0, "n": 10, "promoters": 5, "passives": 2, "detractors": 3}
    assert got["csat"]["value"] == 60.0 and got["csat"]["n"] == 5
    assert got["ces"] == {"value": 3.0, "n": 3}
    # Each answer is a "survey answer" interaction on the customer's timeline.
    assert Interaction.objects.filter(type=InteractionType.SURVEY_ANSWER).count() == 18
    # The same batch again is a no-op: nothing counted twice.
    again = post(client, events)
    assert again["duplicate"] == 18 and again["created"] == 0
    assert metrics(client, "2026-11-20", "2026-11-20")["nps"]["n"] == 10
    assert SurveyResponse.objects.count() == 18


def test_empty_period_is_null_not_zero(api_client) -> None:  # type: ignore[no-untyped-def]
    got = metrics(api_client(), "2026-01-01", "2026-01-31")
    assert got["nps"] == {"value": None, "n": 0, "promoters": 0, "passives": 0, "detractors": 0}
    assert got["csat"]["value"] is None and got["csat"]["n"] == 0
    assert got["ces"] == {"value": None, "n": 0}


def test_one_answer(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    post(client, [answer(1, "nps", 6), answer(1, "csat", 4), answer(1, "ces", 7)])
    got = metrics(client, "2026-11-20", "2026-11-20")
    assert got["nps"]["value"] == -100.0  # one detractor: (0 − 1) / 1 × 100
    assert got["csat"]["value"] == 100.0  # one 4: 1 / 1 × 100
    assert got["ces"]["value"] == 7.0


def test_time_zone_day_boundary(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    # 2026-11-20 20:45 UTC is 2026-11-21 00:15 in Tehran (+03:30): a day later there.
    # 2026-11-20 20:15 UTC is 2026-11-20 23:45 in Tehran.
    post(
        client,
        [
            answer(1, "nps", 10, at="2026-11-20T20:45:00+00:00"),
            answer(2, "nps", 0, at="2026-11-20T20:15:00+00:00"),
        ],
    )
    day20 = metrics(client, "2026-11-20", "2026-11-20")["nps"]
    day21 = metrics(client, "2026-11-21", "2026-11-21")["nps"]
    assert (day20["n"], day20["detractors"], day20["value"]) == (1, 1, -100.0)
    assert (day21["n"], day21["promoters"], day21["value"]) == (1, 1, 100.0)
    both = metrics(client, "2026-11-20", "2026-11-21")["nps"]
    assert (both["n"], both["value"]) == (2, 0.0)  # (1 − 1) / 2
    # In UTC both fall on the 20th.
    utc = feedback_metrics(start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 20), tz="UTC")
    assert utc["nps"]["n"] == 2


@pytest.mark.parametrize(
    ("survey", "message"),
    [
        ({"kind": "nps", "score": 11}, "11 is outside the nps scale (0 to 10)"),
        ({"kind": "csat", "score": 0}, "0 is outside the csat scale (1 to 5)"),
        ({"kind": "ces", "score": 8}, "8 is outside the ces scale (1 to 7)"),
        ({"kind": "nps", "score": 9.5}, "survey.score"),
        ({"kind": "nps", "score": True}, "survey.score: is required"),
        ({"kind": "nps"}, "survey.score: is required"),
        ({"kind": "stars", "score": 3}, "survey.kind"),
        ({"kind": "nps", "score": 9, "case_id": 999999}, "no case 999999"),
        ({"kind": "nps", "score": 9, "agent": "nobody"}, "unknown staff user 'nobody'"),
        ("nine", "survey: must be an object"),
    ],
)
def test_bad_answers_are_rejected_with_a_reason(api_client, survey, message) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    good = answer(1, "nps", 9)
    bad = {**answer(2, "nps", 0), "survey": survey}
    body = post(client, [good, bad])
    assert body["created"] == 1 and body["rejected"] == 1
    assert message in body["results"][1]["error"]
    assert SurveyResponse.objects.count() == 1  # the good one only


def test_survey_field_only_on_survey_answers(api_client) -> None:  # type: ignore[no-untyped-def]
    body = post(api_client(), [{**answer(1, "nps", 9), "type": "message"}])
    assert body["rejected"] == 1
    assert "survey_answer" in body["results"][0]["error"]
    assert SurveyResponse.objects.count() == 0


def test_comment_in_any_script_is_the_interactions_text(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    comments = ["خیلی ممنون، عالی بود", "服务很好，谢谢", "<b>great</b> & quick"]
    post(client, [answer(i, "nps", 9, comment=c) for i, c in enumerate(comments)])
    stored = dict(SurveyResponse.objects.values_list("comment", "interaction_id"))
    assert set(stored) == set(comments)
    texts = set(Interaction.objects.values_list("text", flat=True))
    assert texts == set(comments)  # stored as sent; escaped where shown


def test_pure_formulas() -> None:
    assert nps_value(5, 2, 3) == 20.0
    assert nps_value(0, 0, 0) is None
    assert csat_value(2, 3) == 66.7  # 2 / 3 × 100 = 66.666…
    assert ces_value(10, 4) == 2.5
    assert ces_value(0, 0) is None


def test_metrics_bad_dates(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    assert client.get("/api/v1/metrics?from=2026-13-01&to=2026-12-01").status_code == 422
    bad = client.get("/api/v1/metrics?from=2026-12-05&to=2026-12-01")
    assert bad.status_code == 422 and "before it starts" in bad.json()["detail"]
