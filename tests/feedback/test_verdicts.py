"""``verdicts_decide``: the verdicts of many resolved cases at once, hand-computed — fell short
(a breached target, a low score), met, exceeded (a top score within the targets) — and the
moment a history's verdict is dated at."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from khoshnud.accounts.services import staff_create
from khoshnud.cases.history import HistoryStep, case_history_record
from khoshnud.cases.models import Case
from khoshnud.cases.services import case_open
from khoshnud.customers.models import Customer
from khoshnud.feedback.models import CaseVerdict, SurveyResponse
from khoshnud.feedback.verdicts import verdict_metrics, verdicts_decide
from khoshnud.ops.demo_data import demo_service_catalog

pytestmark = pytest.mark.django_db
TEHRAN = ZoneInfo("Asia/Tehran")


def tehran(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TEHRAN)


@pytest.fixture
def boss(db: object) -> User:
    demo_service_catalog()
    return staff_create(username="boss", password="Verdict-desk-2026", role="manager")


def _resolved(customer: Customer, boss: User, resolved: dt.datetime) -> Case:
    """A standard service case opened Wednesday 25 November 14:00 Tehran (first response due
    Thursday 10:00, resolution due Sunday 29th 10:00: 240 / 960 business minutes), resolved
    at ``resolved``."""
    case = case_open(customer_id=customer.pk, kind="service", channel="phone", subject="Grinder",
                     opened_at=tehran(25, 14))  # fmt: skip
    case_history_record(steps=[HistoryStep(case.pk, resolved, boss, status="resolved")])
    case.refresh_from_db()
    return case


def _csat(case: Case, score: int, when: dt.datetime) -> None:
    SurveyResponse.objects.create(kind="csat", score=score, customer_id=case.customer_id,
                                  case=case, channel="email", answered_at=when, source="import")  # fmt: skip


def test_verdicts_in_bulk_from_targets_and_scores(customer: Customer, boss: User) -> None:
    late = _resolved(customer, boss, tehran(30, 9))  # after Sunday 10:00
    # Resolved Wednesday 15:00: before its first response was due (Thursday 10:00), so the
    # missing first response is not late; inside both targets.
    low, top, plain = (_resolved(customer, boss, tehran(25, 15)) for _ in range(3))
    _csat(low, 2, tehran(26, 9))
    _csat(top, 5, tehran(26, 10))
    _csat(plain, 4, tehran(26, 11))
    # Answered the first response late: resolved Friday, nobody replied by Thursday 10:00.
    silent = _resolved(customer, boss, tehran(27, 12))
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    cases = [late, low, top, plain, silent]

    assert verdicts_decide(case_ids=[c.pk for c in cases], now=now) == 5
    verdicts = {v.case_id: (v.verdict, v.reasons) for v in CaseVerdict.objects.all()}
    assert verdicts == {
        late.pk: ("fell_short", ["first_response_late", "resolution_late"]),
        low.pk: ("fell_short", ["low_score"]),
        top.pk: ("exceeded", ["top_score"]),
        plain.pk: ("met", []),
        silent.pk: ("fell_short", ["first_response_late"]),
    }
    assert set(CaseVerdict.objects.values_list("decided_at", flat=True)) == {now}
    # Five judged, one exceeded: delight rate 20 %.
    figures = verdict_metrics(start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 30),
                              tz="Asia/Tehran")  # fmt: skip
    assert figures == {"judged": 5, "fell_short": 3, "met": 1, "exceeded": 1, "value": 20.0}

    # Decided again (an answer arrives; one case reopened): updated in place, one removed.
    _csat(plain, 5, tehran(26, 12))
    case_history_record(steps=[HistoryStep(top.pk, tehran(28, 9), boss, status="open")])
    assert verdicts_decide(case_ids=[c.pk for c in cases], now=now) == 4
    assert CaseVerdict.objects.get(case=plain).verdict == "exceeded"
    assert not CaseVerdict.objects.filter(case=top).exists()


def test_a_historical_verdict_is_dated_at_the_fact_that_decided_it(
    customer: Customer, boss: User
) -> None:
    answered, quiet = (_resolved(customer, boss, tehran(25, 15)) for _ in range(2))
    _csat(answered, 5, tehran(26, 10))
    _csat(answered, 4, tehran(27, 9))  # the latest answer about it
    verdicts_decide(case_ids=[answered.pk, quiet.pk], historical=True)
    decided = dict(CaseVerdict.objects.values_list("case_id", "decided_at"))
    assert decided == {answered.pk: tehran(27, 9), quiet.pk: tehran(25, 15)}
    assert CaseVerdict.objects.get(case=answered).resolved_at == tehran(25, 15)
