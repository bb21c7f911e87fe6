"""Routing: who gets a new case, computed by hand from the formula in docs/routing.md:

score = rating/3 × (1 − load/cap); highest wins; equal scores → routed longest ago first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client

from khoshnud.accounts.models import AgentProfile, AuditLog
from khoshnud.accounts.services import staff_create, token_create
from khoshnud.cases.assignment import agent_availability_set, agent_profile_update
from khoshnud.cases.models import Case, CaseEvent
from khoshnud.cases.routing import (
    NEUTRAL_RATING,
    agent_loads,
    agent_loads_up_to_cap,
    agent_ratings,
    route_decision,
    routing_agents,
)
from khoshnud.cases.services import (
    case_assign,
    case_kind_change,
    case_open,
    case_open_or_attach,
    case_status_set,
)
from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from khoshnud.inputs import InputError
from tests.cases.conftest import Shop, analysed

pytestmark = pytest.mark.django_db

PASSWORD = "Tulip-garden-77"
RATINGS: dict[int, float] = {}  # what the test rating source answers


def ratings_for_tests(*, user_ids: Collection[int]) -> dict[int, float]:
    return {pk: RATINGS[pk] for pk in user_ids if pk in RATINGS}


def _agent(name: str, team: str = "support") -> User:
    return staff_create(username=name, password=PASSWORD, role="agent", teams=[team])


def _route(shop: Shop, user: User, *, kinds: list[str], languages: list[str] | None = None,
           cap: int | None = None) -> None:  # fmt: skip
    agent_profile_update(
        user_id=user.pk, kinds=kinds, languages=languages or [], max_open_cases=cap,
        actor=shop.manager,
    )  # fmt: skip


def _open(shop: Shop, kind: str = "support", customer: Customer | None = None) -> Case:
    case = case_open(
        customer_id=(customer or shop.customer).pk, kind=kind, channel="phone", subject="call"
    )
    return Case.objects.select_related("assignee").get(pk=case.pk)


def _give(shop: Shop, user: User, n: int) -> None:
    """``n`` open cases assigned to ``user`` by hand (made before anyone has a profile)."""
    for _ in range(n):
        case_assign(case_id=_open(shop).pk, assignee_id=user.pk, actor=shop.manager)


def _who(case: Case) -> str | None:
    case.refresh_from_db()
    return case.assignee.username if case.assignee else None


def _routing(case: Case) -> dict[str, Any]:
    event = CaseEvent.objects.get(case=case, action="case.routed")
    return dict(
        event.changes["routing"], reason=event.reason, assignee=event.changes.get("assignee")
    )


def _state(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (case.assignee_id, case.status, case.team_id, case.kind, case.events.count())


def test_the_load_cap_sends_the_case_to_the_next_agent(shop: Shop) -> None:
    a, b = _agent("ra"), _agent("rb")
    _give(shop, a, 1)
    _give(shop, b, 6)
    _route(shop, a, kinds=["support"], cap=2)
    _route(shop, b, kinds=["support"], cap=10)
    first = _open(shop)  # a: 1 × (1 − 1/2) = 0.5 beats b: 1 × (1 − 6/10) = 0.4
    assert _who(first) == "ra"
    assert _routing(first)["chosen"] == {
        "agent": "ra", "rating": 3.0, "weight": 1.0, "load": 1, "cap": 2, "score": 0.5,
        "last_routed_at": None,
    }  # fmt: skip
    assert _routing(first)["runners_up"][0]["score"] == 0.4
    assert _routing(first)["reason"] == "score 0.500 = 3/3 × (1 − 1/2) (best of 2)"
    second = _open(shop)  # a has 2 of 2: at the cap; b: 1 × (1 − 6/10) = 0.4
    assert _who(second) == "rb"
    routing = _routing(second)
    assert (routing["chosen"]["score"], routing["skipped"]) == (
        0.4,
        {"at_cap": {"count": 1, "agents": ["ra"]}},
    )
    third = _open(shop)  # b: 1 × (1 − 7/10) = 0.3
    assert (_who(third), _routing(third)["chosen"]["score"]) == ("rb", 0.3)
    assert case_status_set(case_id=first.pk, status="resolved", actor=a)
    assert _who(_open(shop)) == "ra"  # a back under the cap: 1 × (1 − 1/2) = 0.5 > 0.2


def test_an_away_agent_is_skipped_and_gets_cases_again_when_back(shop: Shop) -> None:
    a, b = _agent("ra"), _agent("rb")
    _route(shop, a, kinds=["support"])
    _route(shop, b, kinds=["support"])
    agent_availability_set(user_id=a.pk, available=False, actor=a)
    case = _open(shop)
    assert _who(case) == "rb"
    assert _routing(case)["skipped"] == {"away": {"count": 1, "agents": ["ra"]}}
    agent_availability_set(user_id=a.pk, available=True, actor=a)
    assert _who(_open(shop)) == "ra"  # a: 1 × (1 − 0/20) = 1.0 > b: 1 × (1 − 1/20) = 0.95
    assert AuditLog.objects.filter(action="agent.availability_changed").count() == 2


def test_skills_by_kind_and_by_language(shop: Shop) -> None:
    a, b, c = _agent("ra"), _agent("rb"), _agent("rc")
    _route(shop, a, kinds=["service"])  # in the support team, but routed service cases only
    _route(shop, b, kinds=["support"], languages=["fa"])
    _route(shop, c, kinds=["support", "care"])  # any language
    english = _open(shop)  # Sara's language is English (the default)
    assert _who(english) == "rc"
    assert _routing(english)["skipped"] == {
        "kind": {"count": 1, "agents": ["ra"]},
        "language": {"count": 1, "agents": ["rb"]},
    }
    persian = customer_create(data={"first_name": "Mina", "locale": "fa"})
    # b: 1 × (1 − 0/20) = 1.0 beats c: 1 × (1 − 1/20) = 0.95
    case = _open(shop, customer=persian)
    assert (_who(case), _routing(case)["language"]) == ("rb", "fa")


def test_the_rating_weight_changes_the_pick(shop: Shop, settings: Any) -> None:
    a, b = _agent("ra"), _agent("rb")
    _give(shop, a, 8)
    _give(shop, b, 7)
    _route(shop, a, kinds=["support"])
    _route(shop, b, kinds=["support"])
    # Neutral ratings: a 1 × (1 − 8/20) = 0.6 < b 1 × (1 − 7/20) = 0.65.
    assert _who(_open(shop)) == "rb"
    # a rated 5: 5/3 × (1 − 8/20) = 1.0 beats b (now 8 cases): 1 × (1 − 8/20) = 0.6.
    settings.KHOSHNUD_AGENT_RATINGS = "tests.cases.test_routing.ratings_for_tests"
    RATINGS.clear()
    RATINGS[a.pk] = 5.0
    try:
        case = _open(shop)
        assert _who(case) == "ra"
        assert _routing(case)["chosen"] == {
            "agent": "ra", "rating": 5.0, "weight": 1.6667, "load": 8, "cap": 20, "score": 1.0,
            "last_routed_at": None,
        }  # fmt: skip
        # A rating outside 1–5 or missing counts as neutral.
        RATINGS[b.pk] = 9.0
        assert agent_ratings(user_ids=[a.pk, b.pk]) == {a.pk: 5.0, b.pk: NEUTRAL_RATING}
    finally:
        RATINGS.clear()


def test_equal_scores_go_round_robin(shop: Shop) -> None:
    agents = [_agent(name) for name in ("ra", "rb", "rc")]
    for user in agents:
        _route(shop, user, kinds=["support"])
    picks = []
    for _ in range(4):  # each case is resolved at once: every score stays 1.0, a tie each time
        case = _open(shop)
        picks.append(_who(case))
        case_status_set(case_id=case.pk, status="resolved", actor=shop.manager)
    assert picks == ["ra", "rb", "rc", "ra"]
    last = Case.objects.order_by("-id").first()
    assert last is not None and _routing(last)["tie"] is True
    assert _routing(last)["reason"].endswith("; tie: routed longest ago")


def test_without_resolving_three_equal_agents_take_turns(shop: Shop) -> None:
    for name in ("ra", "rb", "rc"):
        _route(shop, _agent(name), kinds=["support"])
    assert [_who(_open(shop)) for _ in range(6)] == ["ra", "rb", "rc", "ra", "rb", "rc"]


def test_no_eligible_agent_leaves_the_case_in_the_team_queue_and_says_why(shop: Shop) -> None:
    a, b, c, d = _agent("ra"), _agent("rb"), _agent("rc"), _agent("rd")
    _give(shop, b, 1)
    _route(shop, a, kinds=["support"])
    _route(shop, b, kinds=["support"], cap=1)
    _route(shop, c, kinds=["support"], languages=["zh-hans"])
    _route(shop, d, kinds=["care"])
    agent_availability_set(user_id=a.pk, available=False, actor=shop.manager)
    case = _open(shop)
    assert (_who(case), case.status, case.team.name if case.team else None) == (
        None, "new", "support"
    )  # fmt: skip
    routing = _routing(case)
    assert routing["chosen"] is None and routing["assignee"] is None
    assert {k: v["count"] for k, v in routing["skipped"].items()} == {
        "away": 1, "at_cap": 1, "kind": 1, "language": 1
    }  # fmt: skip
    assert routing["reason"] == (
        "no eligible agent for support/en: 1 away, 1 at their cap, 1 without the kind, "
        "1 without the language"
    )
    client = Client()
    client.force_login(shop.manager)
    page = client.get("/cases/?tab=unassigned").content.decode()
    assert f"/cases/{case.pk}/" in page
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert "no eligible agent: 1 away, 1 at their cap, 1 without the kind" in detail


def test_a_team_without_routing_profiles_keeps_its_shared_queue(shop: Shop) -> None:
    case = _open(shop)  # the shop's support agent has no profile: nobody is routed
    assert _who(case) is None
    assert not CaseEvent.objects.filter(case=case, action="case.routed").exists()
    assert route_decision(case=case, language="en") is None


def test_a_manager_may_assign_by_hand_over_routing_and_over_the_cap(shop: Shop) -> None:
    a, b = _agent("ra"), _agent("rb")
    _give(shop, b, 1)
    _route(shop, a, kinds=["support"])
    _route(shop, b, kinds=["support"], cap=1)
    case = _open(shop)
    assert _who(case) == "ra"
    case_assign(case_id=case.pk, assignee_id=b.pk, actor=shop.manager)  # b is at the cap
    assert _who(case) == "rb"
    assert agent_loads(user_ids=[a.pk, b.pk]) == {a.pk: 0, b.pk: 2}
    event = case.events.get(action="case.assigned")
    assert event.changes["assignee"] == {"from": "ra", "to": "rb"}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("away", "rb is away; they get no new cases until they are back"),
        ("kind", "rb does not handle support cases (skills: service)"),
        ("language", "rb does not handle customers in en (languages: fa)"),
    ],
)
def test_assigning_to_an_away_or_unskilled_agent_is_refused(
    shop: Shop, setup: str, message: str
) -> None:
    a, b = _agent("ra"), _agent("rb")
    _route(shop, a, kinds=["support"])
    _route(shop, b, kinds=["service"] if setup == "kind" else ["support"],
           languages=["fa"] if setup == "language" else [])  # fmt: skip
    if setup == "away":
        agent_availability_set(user_id=b.pk, available=False, actor=b)
    case = _open(shop)
    before = _state(case)
    with pytest.raises(InputError) as err:
        case_assign(case_id=case.pk, assignee_id=b.pk, actor=shop.manager)
    assert err.value.field == "assignee_id" and err.value.message == message
    assert _state(case) == before
    # The same through the case page: 400 with the reason, nothing changed.
    client = Client()
    client.force_login(shop.manager)
    options = client.get(f"/cases/{case.pk}/").content.decode()
    assert (f'value="{b.pk}">rb (away)</option>' in options) is (setup == "away")
    response = client.post(f"/cases/{case.pk}/assign/", {"assignee": b.pk})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _state(case) == before


def test_the_pipeline_routes_a_batch_of_new_cases(shop: Shop, ingest: Any) -> None:
    a, b = _agent("ra"), _agent("rb")
    _route(shop, a, kinds=["support"])
    _route(shop, b, kinds=["support"])
    mina = customer_create(data={"first_name": "Mina", "identities": {"email": "m@example.com"}})
    [first] = ingest(shop.customer, [("p1", "email", "inbound", "2026-12-01T10:00:00+03:30",
                                      "My grinder is loud")])  # fmt: skip
    [second] = ingest(mina, [("p2", "email", "inbound", "2026-12-01T10:05:00+03:30",
                              "The machine leaks")])  # fmt: skip
    analysed(first, shop.customer.pk, "support")
    analysed(second, mina.pk, "support")
    assert case_open_or_attach(interaction_ids=[first, second]) == 2
    # The first (earlier) case: a and b tie at 1.0, a by id; then b 1.0 > a 0.95.
    cases = Case.objects.order_by("opened_at").select_related("assignee")
    assert [c.assignee.username if c.assignee else None for c in cases] == ["ra", "rb"]
    assert CaseEvent.objects.filter(action="case.routed").count() == 2
    assert AgentProfile.objects.get(user=a).last_routed_at is not None


def test_a_hand_off_routes_within_the_new_team(shop: Shop) -> None:
    s1 = _agent("s1", team="service")
    r1 = _agent("r1", team="support")
    _route(shop, s1, kinds=["service"])
    _route(shop, r1, kinds=["support"])
    case = _open(shop, kind="service")
    assert _who(case) == "s1"
    case_kind_change(case_id=case.pk, kind="support", actor=s1, reason="technical")
    case.refresh_from_db()
    assert (case.kind, case.team.name if case.team else None, _who(case)) == (
        "support", "support", "r1"
    )  # fmt: skip
    actions = list(case.events.order_by("id").values_list("action", flat=True))
    assert actions == ["case.opened", "case.routed", "case.handed_off", "case.routed"]


def test_routing_reads_a_fixed_number_of_queries(
    shop: Shop, django_assert_num_queries: Callable[..., Any]
) -> None:
    for n in range(12):
        _route(shop, _agent(f"r{n:02d}"), kinds=["support"])
    case = _open(shop)
    case.assignee = None
    # Agents; capped loads; their CSAT ratings (feedback.ratings: one grouped query).
    with django_assert_num_queries(3):
        decision = route_decision(case=case, language="en")
    assert decision is not None and len(decision.ranked) == 12
    assert len(routing_agents(team_id=case.team_id or 0)) == 12


# --- Profiles and availability: who may change them, and bad input ------------------------


def test_profile_changes_are_checked_and_refused_whole(shop: Shop) -> None:
    a = _agent("ra")
    _route(shop, a, kinds=["support"], languages=["fa"], cap=5)
    before = AgentProfile.objects.values().get(user=a)
    for kinds, languages, cap, field in [
        (["sales"], [], None, "kinds"),
        (["support"], ["klingon"], None, "languages"),
        (["support"], [], 0, "max_open_cases"),
        (["support"], [], "many", "max_open_cases"),
        ("support", [], 1001, "max_open_cases"),
    ]:
        with pytest.raises(InputError) as err:
            agent_profile_update(user_id=a.pk, kinds=kinds, languages=languages,
                                 max_open_cases=cap, actor=shop.manager)  # fmt: skip
        assert err.value.field == field
    with pytest.raises(PermissionDenied):
        agent_profile_update(user_id=a.pk, kinds=["care"], languages=[], max_open_cases=None,
                             actor=a)  # fmt: skip
    with pytest.raises(PermissionDenied):
        agent_availability_set(user_id=a.pk, available=False, actor=shop.agents["support"])
    with pytest.raises(InputError):
        agent_availability_set(user_id=a.pk, available="no", actor=a)
    assert AgentProfile.objects.values().get(user=a) == before


def test_the_agent_toggles_their_availability_on_the_inbox(shop: Shop) -> None:
    a = _agent("ra")
    client = Client()
    client.force_login(a)
    assert "You are available" in client.get("/cases/").content.decode()
    response = client.post("/me/availability/", {"available": "0", "next": "/cases/?tab=mine"})
    assert (response.status_code, response["Location"]) == (302, "/cases/?tab=mine")
    assert AgentProfile.objects.get(user=a).available is False
    page = client.get("/cases/").content.decode()
    assert "You are away" in page and "I am back" in page
    response = client.post("/me/availability/", {"available": "1", "next": "https://evil.example/"})
    assert (response.status_code, response["Location"]) == (302, "/cases/")
    assert AgentProfile.objects.get(user=a).available is True
    response = client.post("/me/availability/", {"available": "maybe"})  # refused, nothing changed
    assert response.status_code == 302 and AgentProfile.objects.get(user=a).available is True


def test_managers_set_routing_on_the_agents_page(shop: Shop) -> None:
    a = _agent("ra")
    client = Client()
    client.force_login(shop.manager)
    page = client.get("/agents/").content.decode()
    assert "ra" in page and "0 / 20" in page
    response = client.post(
        f"/agents/{a.pk}/",
        {
            "kinds": ["support", "care"],
            "languages": ["fa"],
            "max_open_cases": "7",
            "available": "0",
        },
    )
    assert response.status_code == 302
    profile = AgentProfile.objects.get(user=a)
    assert (profile.kinds, profile.languages, profile.max_open_cases, profile.available) == (
        ["support", "care"], ["fa"], 7, False
    )  # fmt: skip
    bad = client.post(f"/agents/{a.pk}/", {"kinds": ["support"], "max_open_cases": "-3",
                                           "available": "1"})  # fmt: skip
    assert bad.status_code == 400 and "alert-error" in bad.content.decode()
    assert AgentProfile.objects.get(user=a).available is False  # nothing changed
    agent_client = Client()
    agent_client.force_login(a)
    assert agent_client.get("/agents/").status_code == 403


def test_the_api_sets_ones_own_availability(shop: Shop) -> None:
    a = _agent("ra")
    _token, secret = token_create(user=a, scopes=["read", "write"])
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = "/api/v1/agents/me/availability"
    response = client.post(url, {"available": False}, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "user_id": a.pk, "username": "ra", "available": False, "kinds": [], "languages": [],
        "max_open_cases": None,
    }  # fmt: skip
    audits = AuditLog.objects.filter(action="agent.availability_changed").count()
    for body in ({"available": "maybe"}, {"available": 1}, {}):
        bad = client.post(url, json.dumps(body), content_type="application/json")
        assert bad.status_code == 422, body
        assert set(bad.json()) >= {"detail", "errors"}
    assert AgentProfile.objects.get(user=a).available is False
    assert AuditLog.objects.filter(action="agent.availability_changed").count() == audits


def test_loads_counted_up_to_the_cap_match_the_exact_loads_below_it(shop: Shop) -> None:
    a, b, c = _agent("ra"), _agent("rb"), _agent("rc")
    _give(shop, a, 3)
    _give(shop, b, 1)
    closed = _open(shop)
    case_assign(case_id=closed.pk, assignee_id=b.pk, actor=shop.manager)
    case_status_set(case_id=closed.pk, status="closed", actor=shop.manager)  # not counted
    assert agent_loads(user_ids=[a.pk, b.pk, c.pk]) == {a.pk: 3, b.pk: 1, c.pk: 0}
    capped = agent_loads_up_to_cap(caps={a.pk: 2, b.pk: 5, c.pk: 1})
    assert capped == {a.pk: 2, b.pk: 1, c.pk: 0}
    assert agent_loads_up_to_cap(caps={}) == {}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two writers at once (SQLite serialises them)"
)
@pytest.mark.django_db(transaction=True)
def test_two_routers_at_once_do_not_pass_an_agents_cap(shop: Shop) -> None:
    """One place is left under a's cap. Router 1 gives it away and has not committed; router 2
    waits on the profile lock, then counts a at the cap and routes to b instead."""
    import threading
    import time

    from django.db import connections, transaction

    a, b = _agent("ra"), _agent("rb")
    _route(shop, a, kinds=["support"], cap=1)
    _route(shop, b, kinds=["support"], cap=1)
    routed = threading.Event()
    errors: list[BaseException] = []

    def router_1() -> None:
        try:
            with transaction.atomic():
                _open(shop)  # a (by id: a and b tie at 1.0)
                routed.set()
                time.sleep(0.5)  # router 2 is now waiting for the lock
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def router_2() -> None:
        routed.wait(10)
        try:
            _open(shop)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=router_1), threading.Thread(target=router_2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert agent_loads(user_ids=[a.pk, b.pk]) == {a.pk: 1, b.pk: 1}
