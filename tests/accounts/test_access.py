"""One access rule: every role and token against every API operation, web page and admin list.

The tables below say what each door needs. The coverage tests enumerate the URL patterns and the
OpenAPI operations, so a new endpoint or page without a line here fails the suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from khoshnud.accounts.models import ROLE_RANK, Role
from khoshnud.accounts.services import staff_create, token_create
from khoshnud.api import api
from khoshnud.cases.services import case_open
from khoshnud.channels.messaging_services import account_create
from khoshnud.customers.services import customer_create
from khoshnud.engagement.services import rule_create
from khoshnud.ops.demo_data import demo_service_catalog
from tests.channels.messaging_helpers import TELEGRAM
from tests.conftest import event
from tests.engagement.conftest import rule_data
from tests.web.conftest import analyse, ingester, make_sara

pytestmark = pytest.mark.django_db

CSRF = "k" * 32  # a valid CSRF secret: every client sends it as cookie and header
READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None  # the user's role; None: a signed-in user without a role
    token_scopes: tuple[str, ...] | None = None  # None: a browser session
    anonymous: bool = False


CALLERS = [
    Caller("anonymous", None, anonymous=True),
    Caller("none", None),
    Caller("agent", Role.AGENT),
    Caller("manager", Role.MANAGER),
    Caller("admin", Role.ADMIN),
    Caller("read token", Role.AGENT, (READ,)),
    Caller("write token", Role.AGENT, (READ, WRITE)),
    Caller("no-role token", None, (READ, WRITE)),
]

# (method, OpenAPI path) → (role, scope, expected success status)
API_RULES: dict[tuple[str, str], tuple[Role, str, int]] = {
    ("post", "/api/v1/events"): (Role.AGENT, WRITE, 200),
    ("get", "/api/v1/customers"): (Role.AGENT, READ, 200),
    ("post", "/api/v1/customers"): (Role.AGENT, WRITE, 201),
    ("get", "/api/v1/customers/{customer_id}"): (Role.AGENT, READ, 200),
    ("patch", "/api/v1/customers/{customer_id}"): (Role.AGENT, WRITE, 200),
    ("post", "/api/v1/customers/{customer_id}/merge"): (Role.MANAGER, WRITE, 200),
    ("post", "/api/v1/customers/{customer_id}/erase"): (Role.ADMIN, WRITE, 200),
    ("get", "/api/v1/customers/{customer_id}/timeline"): (Role.AGENT, READ, 200),
    ("get", "/api/v1/products"): (Role.AGENT, READ, 200),
    ("post", "/api/v1/orders"): (Role.AGENT, WRITE, 201),
    ("get", "/api/v1/interactions/{interaction_id}/analysis"): (Role.AGENT, READ, 200),
    ("post", "/api/v1/interactions/{interaction_id}/analysis"): (Role.AGENT, WRITE, 200),
    # An agent works on the cases of their teams' kinds; these callers belong to no team, so
    # only a manager (who sees every case) succeeds. Team rules: tests/cases/test_api.py.
    ("post", "/api/v1/cases"): (Role.MANAGER, WRITE, 201),
    ("get", "/api/v1/cases"): (Role.AGENT, READ, 200),
    ("get", "/api/v1/cases/{case_id}"): (Role.MANAGER, READ, 200),
    ("post", "/api/v1/cases/{case_id}/replies"): (Role.MANAGER, WRITE, 201),
    ("patch", "/api/v1/cases/{case_id}"): (Role.MANAGER, WRITE, 200),
    ("post", "/api/v1/cases/{case_id}/notes"): (Role.MANAGER, WRITE, 201),
    ("post", "/api/v1/channels/email/inbound"): (Role.AGENT, WRITE, 201),
    # Channel accounts hold credentials: the admin role only.
    ("post", "/api/v1/channels/accounts"): (Role.ADMIN, WRITE, 201),
    ("get", "/api/v1/channels/accounts"): (Role.ADMIN, READ, 200),
    ("get", "/api/v1/channels/accounts/{account_id}"): (Role.ADMIN, READ, 200),
    ("get", "/api/v1/calendars"): (Role.AGENT, READ, 200),
    ("post", "/api/v1/calendars"): (Role.MANAGER, WRITE, 201),
    ("get", "/api/v1/service-levels"): (Role.AGENT, READ, 200),
    ("put", "/api/v1/service-levels"): (Role.MANAGER, WRITE, 200),
    ("post", "/api/v1/agents/me/availability"): (Role.AGENT, WRITE, 200),
    # The managers' case rules (docs/sla.md): everyone reads, managers write.
    ("get", "/api/v1/case-rules"): (Role.AGENT, READ, 200),
    ("put", "/api/v1/case-rules/{rule_kind}"): (Role.MANAGER, WRITE, 200),
    ("patch", "/api/v1/channels/accounts/{account_id}"): (Role.ADMIN, WRITE, 200),
    ("delete", "/api/v1/channels/accounts/{account_id}"): (Role.ADMIN, WRITE, 204),
    ("post", "/api/v1/channels/accounts/{account_id}/test"): (Role.ADMIN, WRITE, 400),  # no one
    # Feedback figures are every agent's; the managers' dashboards are the managers'.
    ("get", "/api/v1/metrics"): (Role.AGENT, READ, 200),
    ("get", "/api/v1/insights"): (Role.MANAGER, READ, 200),
    ("get", "/api/v1/insights/daily"): (Role.MANAGER, READ, 200),
    # Outreach: rules are the managers'; anyone reads them and fires an event.
    ("post", "/api/v1/engagement/rules"): (Role.MANAGER, WRITE, 201),
    ("get", "/api/v1/engagement/rules"): (Role.AGENT, READ, 200),
    ("get", "/api/v1/engagement/upcoming"): (Role.AGENT, READ, 200),
    ("post", "/api/v1/engagement/trigger"): (Role.AGENT, WRITE, 201),
    ("get", "/api/v1/engagement/rules/{rule_id}/preview/{customer_id}"): (Role.AGENT, READ, 200),
    # Feedback: invitations for every agent; surveys are created and ratings read by
    # managers; a delight action is on a case (the world's is the support team's).
    ("get", "/api/v1/surveys"): (Role.AGENT, READ, 200),
    ("post", "/api/v1/surveys"): (Role.MANAGER, WRITE, 201),
    ("post", "/api/v1/surveys/{survey_id}/invitations"): (Role.AGENT, WRITE, 201),
    ("get", "/api/v1/agent-ratings"): (Role.MANAGER, READ, 200),
    ("post", "/api/v1/recoveries/{recovery_id}/outcome"): (Role.AGENT, WRITE, 200),
    ("post", "/api/v1/cases/{case_id}/delight"): (Role.MANAGER, WRITE, 201),
}

# URL name → (method, role, scope, expected success status); the staff web UI.
WEB_RULES: dict[str, tuple[str, Role, str, int]] = {
    "web:customer_list": ("get", Role.AGENT, READ, 200),
    "web:customer_detail": ("get", Role.AGENT, READ, 200),
    "web:customer_timeline": ("get", Role.AGENT, READ, 200),
    "web:analysis_correct": ("post", Role.AGENT, WRITE, 302),
    # Linking two customers by hand: every agent, the form without a customer chosen (400).
    "web:customer_merge": ("post", Role.AGENT, WRITE, 400),
    # The inbox is every agent's; a case of a team the caller is not in is 403 even then
    # (the world's case has the support team; the callers here are in no team).
    "web:case_inbox": ("get", Role.AGENT, READ, 200),
    "web:case_detail": ("get", Role.MANAGER, READ, 200),
    "web:case_take": ("post", Role.MANAGER, WRITE, 400),  # a manager outside the team
    "web:case_assign": ("post", Role.MANAGER, WRITE, 302),
    "web:case_status": ("post", Role.MANAGER, WRITE, 302),
    "web:case_priority": ("post", Role.MANAGER, WRITE, 302),
    "web:case_kind": ("post", Role.MANAGER, WRITE, 302),
    "web:case_product": ("post", Role.MANAGER, WRITE, 302),
    "web:case_note": ("post", Role.MANAGER, WRITE, 302),
    "web:case_reply": ("post", Role.MANAGER, WRITE, 302),
    # Routing: one's own availability (every agent); the agents page is the managers'.
    "web:agent_availability": ("post", Role.AGENT, WRITE, 302),
    "web:agent_list": ("get", Role.MANAGER, READ, 200),
    "web:agent_update": ("post", Role.MANAGER, WRITE, 302),
    # The case rules page is the managers'.
    "web:case_rules": ("get", Role.MANAGER, READ, 200),
    "web:case_rule_save": ("post", Role.MANAGER, WRITE, 302),
    # The channel accounts page is the admins'; the forms below lack the fields (400).
    "channels:account_list": ("get", Role.ADMIN, READ, 200),
    "channels:account_add": ("post", Role.ADMIN, WRITE, 400),
    "channels:account_test": ("post", Role.ADMIN, WRITE, 400),
    "channels:account_edit": ("post", Role.ADMIN, WRITE, 400),  # the form lacks its fields
    "channels:account_switch": ("post", Role.ADMIN, WRITE, 302),
    "channels:account_delete": ("post", Role.ADMIN, WRITE, 400),  # the box is not ticked
    # The SLA's notifications: each staff member's own.
    "web:notification_list": ("get", Role.AGENT, READ, 200),
    "web:notification_read": ("post", Role.AGENT, WRITE, 302),
    # The managers' dashboards.
    "insights:dashboard": ("get", Role.MANAGER, READ, 200),
    "insights:rows": ("get", Role.MANAGER, READ, 200),
    "insights:export": ("get", Role.MANAGER, READ, 200),
    # Outreach: everyone sees; a manager saves (the empty form below: 400) and switches on.
    "engagement:home": ("get", Role.AGENT, READ, 200),
    "engagement:log": ("get", Role.AGENT, READ, 200),
    "engagement:rule_edit": ("get", Role.AGENT, READ, 200),
    "engagement:rule_new": ("post", Role.MANAGER, WRITE, 400),
    "engagement:rule_activate": ("post", Role.MANAGER, WRITE, 302),
    "feedback:agent_ratings": ("get", Role.MANAGER, READ, 200),
    # The case page's feedback panel: on the world's support case, managers only here.
    "feedback:case_delight": ("post", Role.MANAGER, WRITE, 302),
    "feedback:recovery_outcome": ("post", Role.MANAGER, WRITE, 302),
}

# URL name → (method, status for everyone): pages anyone may open.
PUBLIC: dict[str, tuple[str, int]] = {
    "login": ("get", 200),
    "logout": ("post", 302),
    "set_language": ("post", 302),
    "api:openapi-json": ("get", 200),
    "api:openapi-view": ("get", 200),
    "api:api-root": ("get", 404),
    # A provider's webhook: no session, no token, its signature authenticates (a Telegram
    # account's takes no GET: 403 for everyone).
    "channels:webhook": ("get", 403),
    # An outreach email's opt-out link: its signed token is the key (a forged one: 404).
    "engagement:unsubscribe": ("get", 404),
    # The survey page: its single-use link is the key, no login.
    "feedback:survey_page": ("get", 200),
}


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}{p.namespace}:" if p.namespace else ns
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), ns + (p.name or "")


def test_every_url_pattern_has_an_access_rule() -> None:
    """admin/ is the admin site (tested per registered model below); api/v1 by its OpenAPI."""
    unruled = []
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        if route.startswith("api/v1/"):
            continue  # every operation is in the OpenAPI document, checked next
        if name not in WEB_RULES and name not in PUBLIC:
            unruled.append((route, name))
    assert unruled == []


def test_every_api_operation_has_an_access_rule() -> None:
    paths = api.get_openapi_schema()["paths"]
    operations = {(method, path) for path, item in paths.items() for method in item}
    assert operations == set(API_RULES)


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    sara = make_sara()
    other = customer_create(
        data={"first_name": "Reza", "identities": {"email": "reza@example.com"}}
    )
    interaction_id = ingester(sara)(at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC))
    analyse(interaction_id, sara.pk)
    demo_service_catalog()  # the "Tehran shop" calendar and its catalog
    case = case_open(customer_id=sara.pk, kind="support", channel="email", subject="Grinder")
    routed = staff_create(
        username="routed", password="Caller-pass-2026", role="agent", teams=["support"]
    )
    account = account_create(provider="telegram", name="Shop bot", credentials=TELEGRAM)
    survey, invited, recovery = _feedback_world(sara.pk, other.pk, case.pk)
    return {
        "survey_id": survey,
        "survey_path": invited,
        "recovery_id": recovery,
        "agent_id": routed.pk,
        "account_id": account.pk,
        "account_slug": account.slug,
        "customer_id": sara.pk,
        "other_id": other.pk,
        "interaction_id": interaction_id,
        "case_id": case.pk,
        "rule_id": rule_create(data=rule_data()).pk,
        "rule_kind": "follow_up_complaint",
    }


def _feedback_world(customer_id: int, other_id: int, case_id: int) -> tuple[int, str, int]:
    """A survey, an invitation of the other customer (its link's path), a care follow-up."""
    from django.utils import timezone

    from khoshnud.feedback.invitations import invitation_create
    from khoshnud.feedback.models import Recovery, SurveyResponse
    from khoshnud.feedback.surveys import survey_create

    survey = survey_create(name="CSAT", questions=[{"kind": "csat", "texts": {"en": "Happy?"}}])
    invited = invitation_create(survey_id=survey.pk, customer_id=other_id, send=False)
    answer = SurveyResponse.objects.create(kind="csat", score=1, customer_id=customer_id,
                                           channel="email", answered_at=timezone.now(),
                                           source="api")  # fmt: skip
    recovery = Recovery.objects.create(response=answer, customer_id=customer_id,
                                       case_id=case_id, opened_at=timezone.now())  # fmt: skip
    return survey.pk, invited.url, recovery.pk


def _client(caller: Caller) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.cookies["csrftoken"] = CSRF
    if caller.anonymous:
        return client
    if caller.role is None:
        user = User.objects.create_user(username="norole", password="Norole-pass-2026")
    else:
        user = staff_create(
            username=f"u-{caller.role.value}", password="Caller-pass-2026", role=caller.role
        )
    if caller.token_scopes is None:
        client.force_login(user)
    else:
        _token, secret = token_create(user=user, scopes=caller.token_scopes)
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def _allowed(caller: Caller, role: Role, scope: str) -> bool:
    if caller.anonymous or caller.role is None:
        return False
    scopes = caller.token_scopes if caller.token_scopes is not None else (READ, WRITE)
    return scope in scopes and ROLE_RANK[caller.role] >= ROLE_RANK[role]


RAW_EMAIL = (
    b"From: Sara <sara@example.com>\r\nMessage-ID: <access-1@mail.example>\r\n"
    b"Subject: hello\r\n\r\nMy grinder is loud.\r\n"
)


def _api_body(path: str, method: str, w: dict[str, Any]) -> dict[str, Any] | bytes | None:
    if method == "get":
        return None
    return {
        "/api/v1/channels/email/inbound": RAW_EMAIL,
        "/api/v1/channels/accounts": {
            "provider": "telegram",
            "name": "Bot 2",
            "credentials": TELEGRAM,
        },
        "/api/v1/events": {"events": [event(external_id="access-1")]},
        "/api/v1/customers": {"first_name": "Mina", "identities": {"email": "mina@example.com"}},
        "/api/v1/customers/{customer_id}": {"first_name": "Sara"},
        "/api/v1/customers/{customer_id}/merge": {"source_id": w["other_id"]},
        "/api/v1/customers/{customer_id}/erase": {"reason": "the customer's own request"},
        "/api/v1/orders": {
            "number": "ACCESS-1",
            "customer": {"id": w["customer_id"]},
            "placed_at": "2026-11-20T09:30:00+03:30",
            "currency": "IRR",
            "lines": [{"sku": "GR-1", "quantity": 1}],
        },
        "/api/v1/interactions/{interaction_id}/analysis": {"need": "care"},
        "/api/v1/cases/{case_id}/replies": {"text": "Your grinder ships tomorrow."},
        "/api/v1/cases/{case_id}": {"priority": "high"},
        "/api/v1/cases/{case_id}/notes": {"text": "Called the courier."},
        "/api/v1/agents/me/availability": {"available": False},
        "/api/v1/case-rules/{rule_kind}": {"enabled": True},
        "/api/v1/channels/accounts/{account_id}": {"name": "Shop bot (old)"},
        "/api/v1/channels/accounts/{account_id}/test": {"recipient": ""},
        "/api/v1/engagement/rules": rule_data(),
        "/api/v1/engagement/trigger": {
            "event": "room_ready",
            "customer_id": w["customer_id"],
            "key": "access-1",
        },
        "/api/v1/cases": {
            "customer_id": w["customer_id"],
            "kind": "support",
            "channel": "phone",
            "subject": "The grinder is loud",
        },
        "/api/v1/calendars": {
            "name": "Shanghai office",
            "time_zone": "Asia/Shanghai",
            "hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)],
        },
        "/api/v1/surveys": {"name": "NPS", "questions": [{"kind": "nps", "texts": {"en": "?"}}]},
        "/api/v1/surveys/{survey_id}/invitations": {"customer_id": w["customer_id"]},
        "/api/v1/recoveries/{recovery_id}/outcome": {"outcome": "resolved"},
        "/api/v1/cases/{case_id}/delight": {"note": "a bag of beans"},
        "/api/v1/service-levels": {
            "kind": "care",
            "tier": "key",
            "calendar": "Tehran shop",
            "first_response_minutes": 30,
            "resolution_minutes": 240,
        },
    }[path]


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
@pytest.mark.parametrize(("method", "path"), sorted(API_RULES), ids=" ".join)
def test_api_operation_follows_the_rule(
    world: dict[str, Any], caller: Caller, method: str, path: str
) -> None:
    role, scope, success = API_RULES[(method, path)]
    url = path.format(**world)
    body = _api_body(path, method, world)
    client = _client(caller)
    if body is None:
        response = getattr(client, method)(url)
    elif isinstance(body, bytes):
        response = getattr(client, method)(url, body, content_type="message/rfc822")
    else:
        response = getattr(client, method)(url, body, content_type="application/json")
    expected = success if _allowed(caller, role, scope) else 403
    if caller.anonymous:
        expected = 401
    assert response.status_code == expected, response.content[:300]
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("name", sorted(WEB_RULES))
def test_web_page_follows_the_rule(world: dict[str, Any], caller: Caller, name: str) -> None:
    method, role, scope, success = WEB_RULES[name]
    url = {
        "web:customer_list": "/",
        "web:customer_detail": f"/customers/{world['customer_id']}/",
        "web:customer_timeline": f"/customers/{world['customer_id']}/timeline/",
        "web:analysis_correct": (
            f"/customers/{world['customer_id']}/interactions/{world['interaction_id']}/analysis/"
        ),
        "web:customer_merge": f"/customers/{world['customer_id']}/merge/",
        "web:case_inbox": "/cases/",
        "web:case_detail": f"/cases/{world['case_id']}/",
        "web:case_take": f"/cases/{world['case_id']}/take/",
        "web:case_assign": f"/cases/{world['case_id']}/assign/",
        "web:case_status": f"/cases/{world['case_id']}/status/",
        "web:case_priority": f"/cases/{world['case_id']}/priority/",
        "web:case_kind": f"/cases/{world['case_id']}/kind/",
        "web:case_product": f"/cases/{world['case_id']}/product/",
        "web:case_note": f"/cases/{world['case_id']}/notes/",
        "web:case_reply": f"/cases/{world['case_id']}/replies/",
        "web:agent_availability": "/me/availability/",
        "web:agent_list": "/agents/",
        "web:agent_update": f"/agents/{world['agent_id']}/",
        "web:case_rules": "/cases/rules/",
        "web:case_rule_save": "/cases/rules/follow_up_complaint/",
        "channels:account_list": "/channels/accounts/",
        "channels:account_add": "/channels/accounts/add/",
        "channels:account_test": f"/channels/accounts/{world['account_id']}/test/",
        "channels:account_edit": f"/channels/accounts/{world['account_id']}/edit/",
        "channels:account_switch": f"/channels/accounts/{world['account_id']}/switch/",
        "channels:account_delete": f"/channels/accounts/{world['account_id']}/delete/",
        "web:notification_list": "/notifications/",
        "web:notification_read": "/notifications/read/",
        "insights:dashboard": "/insights/",
        "insights:rows": "/insights/rows/",
        "insights:export": "/insights/export.csv",
        "engagement:home": "/outreach/",
        "engagement:log": "/outreach/log/",
        "engagement:rule_edit": f"/outreach/rules/{world['rule_id']}/",
        "engagement:rule_new": "/outreach/rules/new/",
        "engagement:rule_activate": f"/outreach/rules/{world['rule_id']}/active/",
        "feedback:agent_ratings": "/feedback/agents/",
        "feedback:case_delight": f"/feedback/cases/{world['case_id']}/delight/",
        "feedback:recovery_outcome": f"/feedback/recoveries/{world['recovery_id']}/outcome/",
    }[name]
    client = _client(caller)
    form = {"need": "care", "assignee": "", "status": "waiting", "priority": "high",
            "kind": "care", "text": "a note"}  # fmt: skip
    response = client.post(url, form) if method == "post" else client.get(url)
    if caller.anonymous or caller.token_scopes is not None:  # the web UI takes no tokens
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif _allowed(caller, role, scope):
        assert response.status_code == success
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
def test_admin_site_opens_for_the_admin_role_only(world: dict[str, Any], caller: Caller) -> None:
    urls = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]
    client = _client(caller)
    for url in urls:
        response = client.get(url)
        if caller.role is Role.ADMIN and caller.token_scopes is None:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/"), url


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_open_for_everyone(world: dict[str, Any], caller: Caller, name: str) -> None:
    method, status = PUBLIC[name]
    url = {
        "login": "/accounts/login/",
        "logout": "/accounts/logout/",
        "set_language": "/i18n/setlang/",
        "api:openapi-json": "/api/openapi.json",
        "api:openapi-view": "/api/docs",
        "api:api-root": "/api/",
        "channels:webhook": f"/hooks/{world['account_slug']}",
        "engagement:unsubscribe": "/outreach/u/forged/",
        "feedback:survey_page": world["survey_path"],
    }[name]
    client = _client(caller)
    response = client.post(url, {"language": "fa"}) if method == "post" else client.get(url)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "ask an administrator"), ("fa", "از یک مدیر"), ("zh-hans", "请让管理员")],
)
def test_a_user_without_a_role_is_told_why_in_their_language(
    world: dict[str, Any], language: str, text: str
) -> None:
    client = _client(Caller("none", None))
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get(f"/customers/{world['customer_id']}/")
    assert response.status_code == 403
    assert text in response.content.decode()
