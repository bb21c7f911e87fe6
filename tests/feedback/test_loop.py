"""Closing the loop: surveys after resolved cases, the verdict, agent ratings, care
follow-ups of unhappy answers and the recovery rate. Values computed by hand in comments."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from khoshnud.cases.models import Case, CaseInteraction
from khoshnud.cases.routing import agent_ratings
from khoshnud.cases.services import case_open, case_status_set, case_take
from khoshnud.feedback.answers import PageAnswer, answers_record
from khoshnud.feedback.models import (
    CaseVerdict,
    Invitation,
    Recovery,
    SurveyResponse,
    Trigger,
)
from khoshnud.feedback.ratings import agent_csat_ratings, leaderboard, recognition, smoothed
from khoshnud.feedback.recovery import recovery_metrics
from khoshnud.feedback.surveys import survey_create
from khoshnud.feedback.triggers import triggers_sweep
from khoshnud.feedback.verdicts import judge, verdict_metrics
from tests.cases.conftest import Shop, shop  # noqa: F401  (the fixture)
from tests.conftest import event

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def test_judge_rule() -> None:
    due = NOW + dt.timedelta(hours=4)
    kw: dict[str, Any] = {"first_response_due": due, "first_responded_at": NOW,
                          "resolution_due": due, "resolved_at": NOW + dt.timedelta(hours=1)}  # fmt: skip
    assert judge(**kw, scores=[], delighted=False) == ("met", [])
    assert judge(**kw, scores=[("csat", 5)], delighted=False) == ("exceeded", ["top_score"])
    assert judge(**kw, scores=[("nps", 9)], delighted=False)[0] == "exceeded"
    assert judge(**kw, scores=[("csat", 4)], delighted=True) == ("exceeded", ["delight_action"])
    assert judge(**kw, scores=[("csat", 5), ("nps", 3)], delighted=True) == (
        "fell_short", ["low_score"])  # fmt: skip
    late = {**kw, "resolved_at": due + dt.timedelta(minutes=1)}
    assert judge(**late, scores=[("csat", 5)], delighted=True) == (
        "fell_short",
        ["resolution_late"],
    )
    unanswered = {**kw, "first_responded_at": None, "resolution_due": None,
                  "resolved_at": due + dt.timedelta(minutes=1)}  # fmt: skip
    assert judge(**unanswered, scores=[], delighted=False)[1] == ["first_response_late"]
    # A case without a catalog entry is judged by its feedback only.
    bare = {"first_response_due": None, "first_responded_at": None, "resolution_due": None,
            "resolved_at": NOW}  # fmt: skip
    assert judge(**bare, scores=[("ces", 7)], delighted=False)[0] == "exceeded"


def _resolved_case(shop: Shop, capture: Any, opened_at: dt.datetime | None = None) -> Case:  # noqa: F811
    agent = shop.agents["support"]
    case = case_open(
        customer_id=shop.customer.pk, kind="support", channel="email", subject="grinder",
        opened_at=opened_at, actor=shop.manager,
    )  # fmt: skip
    case_take(case_id=case.pk, actor=agent)
    with capture(execute=True):
        case_status_set(case_id=case.pk, status="resolved", actor=agent)
    case.refresh_from_db()
    return case


def test_resolved_case_gets_its_survey_and_verdict(
    shop: Shop,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    survey = survey_create(
        name="CSAT after a case", trigger=Trigger.CASE_RESOLVED, delay_hours=0,
        questions=[{"kind": "csat", "texts": {"en": "How satisfied are you?"}}],
    )  # fmt: skip
    case = _resolved_case(shop, django_capture_on_commit_callbacks)
    # Resolved inside its targets, no feedback yet: met.
    assert CaseVerdict.objects.get(case=case).verdict == "met"
    invitation = Invitation.objects.get(survey=survey, case=case)
    assert invitation.reason == "case_resolved" and invitation.channel == "email"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sara@example.com"]
    # The sweep does not invite twice.
    assert triggers_sweep().invited == 0
    # The customer gives a 5: the rating counts for the agent who resolved the case, and the
    # case exceeded expectations (inside the targets and the top score).
    [question] = list(survey.questions.all())
    with django_capture_on_commit_callbacks(execute=True):
        answers_record(
            invitation_id=invitation.pk, answers=[PageAnswer(question, score=5)], final=True
        )
    answer = SurveyResponse.objects.get()
    assert answer.agent == shop.agents["support"] and answer.case == case
    assert CaseVerdict.objects.get(case=case).verdict == "exceeded"
    today = timezone.localdate()
    assert verdict_metrics(start=today, end=today)["value"] == 100.0  # 1 exceeded / 1 judged


def test_late_case_fell_short(shop: Shop, django_capture_on_commit_callbacks: Any) -> None:  # noqa: F811
    case = _resolved_case(
        shop, django_capture_on_commit_callbacks, opened_at=timezone.now() - dt.timedelta(days=30)
    )
    verdict = CaseVerdict.objects.get(case=case)
    assert verdict.verdict == "fell_short" and "resolution_late" in verdict.reasons


def test_delight_action_by_api(shop: Shop, django_capture_on_commit_callbacks: Any) -> None:  # noqa: F811
    case = _resolved_case(shop, django_capture_on_commit_callbacks)
    client = shop.client(shop.agents["support"])
    response = client.post(
        f"/api/v1/cases/{case.pk}/delight",
        data=json.dumps({"note": "sent a bag of coffee"}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["verdict"] == "exceeded"
    other = shop.client(shop.agents["service"])  # not in the support team
    assert other.post(
        f"/api/v1/cases/{case.pk}/delight", data=json.dumps({"note": "x"}),
        content_type="application/json",
    ).status_code == 403  # fmt: skip


def _answer(client: Any, n: int, kind: str, score: int, email: str, when: dt.datetime) -> None:
    body = {
        "events": [
            event(
                source="kiosk", external_id=f"a{n}", type="survey_answer", channel="in_person",
                occurred_at=when.isoformat(), text="", customer={"email": email},
                survey={"kind": kind, "score": score, "comment": f"answer {n}"},
            )
        ]
    }  # fmt: skip
    response = client.post("/api/v1/events", data=json.dumps(body), content_type="application/json")
    assert response.json()["created"] == 1, response.json()


def test_unhappy_answers_open_care_cases_and_recovery(
    shop: Shop,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = shop.client(shop.manager)
    now = timezone.now()
    # Ali: a detractor (NPS 3), later a promoter (9) → won back.
    # Bita: CSAT 1, later CSAT 2 → not won back (still unhappy).
    # Cyrus: NPS 8 (a passive) → no follow-up.
    _answer(client, 1, "nps", 3, "ali@example.com", now - dt.timedelta(hours=5))
    _answer(client, 2, "csat", 1, "bita@example.com", now - dt.timedelta(hours=5))
    _answer(client, 3, "nps", 8, "cyrus@example.com", now - dt.timedelta(hours=5))
    recoveries = list(Recovery.objects.order_by("pk"))
    assert len(recoveries) == 2
    ali = recoveries[0]
    assert ali.case is not None and ali.case.kind == "care" and ali.case.priority == "high"
    assert ali.case.subject == "NPS 3: answer 1"
    # The care case holds the answer: its interaction is on the case's thread.
    assert CaseInteraction.objects.filter(
        case=ali.case, interaction_id=ali.response.interaction_id
    ).exists()
    # Staff record the outcome.
    response = client.post(
        f"/api/v1/recoveries/{ali.pk}/outcome",
        data=json.dumps({"outcome": "compensated", "note": "refunded the delivery fee"}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["outcome"] == "compensated"
    bad = client.post(
        f"/api/v1/recoveries/{ali.pk}/outcome", data=json.dumps({"outcome": "forgotten"}),
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 422
    _answer(client, 4, "nps", 9, "ali@example.com", now - dt.timedelta(hours=1))
    _answer(client, 5, "csat", 2, "bita@example.com", now - dt.timedelta(hours=1))
    ali.refresh_from_db()
    assert ali.won_back is True and ali.next_response is not None
    bita = Recovery.objects.get(pk=recoveries[1].pk)
    assert bita.won_back is False
    # Bita's second unhappy answer opens a new follow-up of its own.
    assert Recovery.objects.count() == 3
    today = timezone.localdate()
    got = recovery_metrics(start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1))
    # 3 opened, 2 answered again, 1 won back → 1 / 2 × 100 = 50.0.
    assert got == {"opened": 3, "answered_again": 2, "won_back": 1, "value": 50.0}
    metrics = client.get(
        f"/api/v1/metrics?from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=1)}"
    ).json()
    assert metrics["recovery_rate"]["value"] == 50.0


def test_an_imported_old_detractor_opens_nothing(shop: Shop) -> None:  # noqa: F811
    client = shop.client(shop.manager)
    _answer(client, 1, "nps", 0, "old@example.com", timezone.now() - dt.timedelta(days=200))
    assert SurveyResponse.objects.count() == 1 and Recovery.objects.count() == 0
    assert Case.objects.count() == 0


def _ratings(agent: User, scores: list[int], start: int) -> None:
    from khoshnud.customers.models import Customer

    customer = Customer.objects.create(first_name="x")
    SurveyResponse.objects.bulk_create(
        SurveyResponse(kind="csat", score=s, customer=customer, agent=agent, channel="email",
                       answered_at=timezone.now() - dt.timedelta(days=1), source="api")
        for s in scores
    )  # fmt: skip


def test_one_five_does_not_beat_fifty_four_point_eights(make_staff: Any) -> None:
    lucky, steady = make_staff("lucky"), make_staff("steady")
    _ratings(lucky, [5], 0)
    _ratings(steady, [5] * 40 + [4] * 10, 0)  # mean (200 + 40) / 50 = 4.8
    # Smoothed with 5 neutral (3) ratings: lucky (15 + 5) / 6 = 3.333…, steady
    # (15 + 240) / 55 = 4.636….
    assert smoothed(5, 1) == pytest.approx(20 / 6)
    got = agent_csat_ratings(user_ids=[lucky.pk, steady.pk])
    assert got == {lucky.pk: 3.333, steady.pk: 4.636}
    # Routing reads them through its setting.
    assert agent_ratings(user_ids=[lucky.pk, steady.pk]) == {lucky.pk: 3.333, steady.pk: 4.636}
    today = timezone.localdate()
    board = leaderboard(start=today - dt.timedelta(days=7), end=today)
    assert [a.agent_id for a in board] == [steady.pk, lucky.pk]
    assert board[0].csat == 100.0 and board[0].mean == 4.8
    # The recognition list needs 10 ratings in the month: lucky is not on it.
    when = timezone.now() - dt.timedelta(days=1)
    local = when.astimezone(timezone.get_current_timezone())
    assert [a.agent_id for a in recognition(year=local.year, month=local.month)] == [steady.pk]


def test_agent_ratings_api_is_for_managers(api_client: Any) -> None:
    assert api_client().get("/api/v1/agent-ratings").status_code == 403
    manager = api_client(role="manager")
    assert manager.get("/api/v1/agent-ratings").json()["agents"] == []
    assert manager.get("/api/v1/agent-ratings?month=2026-13").status_code == 422
    assert manager.get("/api/v1/agent-ratings?month=2026-11").json()["month"] == "2026-11"


def test_purchase_and_periodic_triggers(shop: Shop) -> None:  # noqa: F811
    from khoshnud.commerce.models import Order
    from khoshnud.customers.services import customer_create

    now = timezone.now()
    after_purchase = survey_create(
        name="After purchase", trigger=Trigger.PURCHASE, delay_days=7,
        questions=[{"kind": "csat", "texts": {"en": "Happy with your order?"}}],
    )  # fmt: skip
    Order.objects.create(customer=shop.customer, number="A-1", placed_at=now - dt.timedelta(days=8),
                         currency="IRR", total=100)  # fmt: skip
    Order.objects.create(customer=shop.customer, number="A-2", placed_at=now - dt.timedelta(days=1),
                         currency="IRR", total=100)  # not due yet  # fmt: skip
    assert triggers_sweep(now=now).invited == 1
    assert Invitation.objects.get().reason == "purchase"
    assert triggers_sweep(now=now).invited == 0  # done: not twice
    # Relationship NPS: every customer with an email address, but the fatigue rule holds
    # across surveys: Sara was just asked, Dara was not.
    survey_create(
        name="Relationship", trigger=Trigger.PERIODIC, period_days=90,
        questions=[{"kind": "nps", "texts": {"en": "Recommend us?"}}],
    )  # fmt: skip
    dara = customer_create(data={"first_name": "Dara", "identities": {"email": "dara@example.com"}})
    count = triggers_sweep(now=now)
    assert (count.invited, count.refused) == (1, 1)
    assert Invitation.objects.filter(customer=dara, reason="periodic").exists()
    assert after_purchase.invitations.count() == 1
