"""The agents' inbox and the case page through the Django test client."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from khoshnud.cases.models import Case, CaseInteraction
from khoshnud.cases.services import case_assign, case_note_add, case_open, case_open_or_attach
from khoshnud.customers.services import customer_create
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop, analysed
from tests.web.conftest import in_language

pytestmark = pytest.mark.django_db


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open(shop: Shop, kind: str, subject: str, **kw: Any) -> Case:
    return case_open(customer_id=kw.pop("customer_id", shop.customer.pk), kind=kind,
                     channel=kw.pop("channel", "phone"), subject=subject, **kw)  # fmt: skip


def _subjects(page: str, candidates: list[str]) -> list[str]:
    return [s for s in candidates if s in page]


ALL = ["Noise A", "Noise B", "Which beans", "Refund please", "Late one"]


@pytest.fixture
def desk(shop: Shop) -> Shop:
    reza = customer_create(data={"first_name": "Reza", "locale": "fa",
                                 "identities": {"email": "reza@example.com"}})  # fmt: skip
    a = _open(shop, "support", "Noise A", priority="high", channel="email")
    _open(shop, "support", "Noise B", customer_id=reza.pk)
    _open(shop, "service", "Which beans")
    _open(shop, "care", "Refund please")
    # Opened a week ago: its 480 business minutes are long past.
    late = _open(shop, "support", "Late one", opened_at=timezone.now() - dt.timedelta(days=7))
    case_assign(case_id=a.pk, assignee_id=shop.agents["support"].pk, actor=shop.agents["support"])
    assert late.resolution_due is not None and late.resolution_due < timezone.now()
    return shop


def test_tabs_show_only_the_agents_teams_cases(desk: Shop) -> None:
    agent = _login(desk.agents["support"])
    page = agent.get("/cases/").content.decode()  # default: my team's queue
    assert _subjects(page, ALL) == ["Noise A", "Noise B", "Late one"]
    assert "3 cases" in page
    page = agent.get("/cases/?tab=mine").content.decode()
    assert _subjects(page, ALL) == ["Noise A"]
    page = agent.get("/cases/?tab=unassigned").content.decode()
    assert _subjects(page, ALL) == ["Noise B", "Late one"]
    page = agent.get("/cases/?tab=breaching").content.decode()
    assert _subjects(page, ALL) == ["Late one"]
    assert " late" in page  # "… late" instead of "… left"
    manager = _login(desk.manager)
    page = manager.get("/cases/?tab=unassigned").content.decode()
    assert _subjects(page, ALL) == ["Noise B", "Which beans", "Refund please", "Late one"]


def test_filters_and_search(desk: Shop) -> None:
    manager = _login(desk.manager)
    get = lambda q: _subjects(manager.get(f"/cases/?{q}").content.decode(), ALL)  # noqa: E731
    assert get("kind=care") == ["Refund please"]
    assert get("priority=high") == ["Noise A"]
    assert get("channel=email") == ["Noise A"]
    assert get("language=fa") == ["Noise B"]  # Reza writes Persian
    support = Case.objects.filter(kind="support").first()
    assert support is not None and support.team is not None
    assert get(f"team={support.team.pk}&priority=normal") == ["Noise B", "Late one"]
    assert get("q=refund") == ["Refund please"]
    assert get("q=reza") == ["Noise B"]  # the customer's name
    assert get("status=open") == ["Noise A"]  # taken → open
    # Unknown values are "any", not an error page.
    assert get("kind=sales&priority=asap&team=abc&tab=nope") == sorted(
        ALL,
        key=lambda s: ["Noise A", "Noise B", "Which beans", "Refund please", "Late one"].index(s),
    )


def test_htmx_filter_answers_the_fragment(desk: Shop) -> None:
    agent = _login(desk.agents["care"])
    response = agent.get("/cases/?kind=care", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="case-results")
    page = response.content.decode()
    assert "<html" not in page and "Refund please" in page and "1 case" in page


def test_inbox_query_count_does_not_grow_with_rows(
    desk: Shop, django_assert_max_num_queries: Any
) -> None:
    manager = _login(desk.manager)
    for i in range(30):
        _open(desk, "service", f"Bulk {i}")
    # 10 today: one is the viewer's availability, one the header's role check (insights link)
    with django_assert_max_num_queries(11):
        response = manager.get("/cases/?tab=unassigned")
    assert response.status_code == 200 and "Page 1 of 2" in response.content.decode()


def test_case_page_shows_thread_notes_and_the_360(shop: Shop, ingest: Any) -> None:
    sara = shop.customer
    first, second = ingest(sara, [
        ("m1", "email", "inbound", "2026-11-25T14:00:00+03:30", "My grinder is loud"),
        ("m2", "email", "inbound", "2026-11-25T15:00:00+03:30", "Still loud!"),
    ])  # fmt: skip
    analysed(first, sara.pk, "support")
    analysed(second, sara.pk, "support", "negative")
    case_open_or_attach(interaction_ids=[first, second])
    case = Case.objects.get(customer=sara)
    other = _open(shop, "support", "Older question")
    agent = shop.agents["support"]
    case_note_add(case_id=case.pk, text="Customer since 2019", actor=agent)
    client = _login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    for text in (
        "My grinder is loud",
        "Still loud!",
        "Customer since 2019",
        "Internal note",
        "Negative",
        "Support",
        "Other open cases",
        "Older question",
        "sara@example.com",
        "Recent interactions",
        "reply_box" if False else "Thread",
    ):
        assert text in page, text  # fmt: skip
    assert f"/cases/{other.pk}/" in page


def test_case_page_query_count_is_bounded(
    shop: Shop, ingest: Any, django_assert_max_num_queries: Any
) -> None:
    rows = [(f"m{i}", "email", "inbound", f"2026-11-25T1{i}:00:00+03:30", f"message {i}")
            for i in range(6)]  # fmt: skip
    ids = ingest(shop.customer, rows)
    for i in ids:
        analysed(i, shop.customer.pk, "support")
    case_open_or_attach(interaction_ids=ids)
    case = Case.objects.get(customer=shop.customer)
    agent = shop.agents["support"]
    for n in range(5):
        case_note_add(case_id=case.pk, text=f"note {n}", actor=agent)
    client = _login(agent)
    # 24 today for 6 messages and 5 notes (+1: the deliveries of outbound messages; +1 the
    # missed targets; +1 the header's unread notifications; +1 the customer's entitlement; +1
    # the header's role check for the insights link; +2 the survey answers' timeline annotator,
    # once for the thread and once for the recent interactions)
    with django_assert_max_num_queries(31):
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200


def test_another_teams_case_is_403_and_unknown_is_404(desk: Shop) -> None:
    care = Case.objects.get(subject="Refund please")
    agent = _login(desk.agents["support"])
    assert agent.get(f"/cases/{care.pk}/").status_code == 403
    response = agent.post(f"/cases/{care.pk}/status/", {"status": "resolved"})
    assert response.status_code == 403
    assert agent.post(f"/cases/{care.pk}/notes/", {"text": "x"}).status_code == 403
    care.refresh_from_db()
    assert care.status == "new" and care.links.count() == 0
    assert agent.get("/cases/999999/").status_code == 404


def test_take_note_handoff_resolve_through_the_forms(shop: Shop) -> None:
    case = _open(shop, "service", "Which grinder")
    service = shop.agents["service"]
    client = _login(service)
    response = client.post(f"/cases/{case.pk}/take/")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert "You took this case." in client.get(response["Location"]).content.decode()
    response = client.post(f"/cases/{case.pk}/notes/", {"text": "یادداشت داخلی"})
    assert response.status_code == 302
    response = client.post(f"/cases/{case.pk}/kind/", {"kind": "support", "reason": "technical"})
    assert response.status_code == 302 and response["Location"] == "/cases/"  # no longer ours
    assert "Case handed off." in client.get("/cases/").content.decode()
    case.refresh_from_db()
    assert case.kind == "support" and case.team.name == "support" and case.assignee is None
    support = _login(shop.agents["support"])
    assert support.post(f"/cases/{case.pk}/status/", {"status": "resolved"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "resolved"
    note = Interaction.objects.get(text="یادداشت داخلی")
    assert CaseInteraction.objects.get(interaction=note).case_id == case.pk
    page = support.get(f"/cases/{case.pk}/").content.decode()
    assert "Reopen" in page and "handed the case off" in page and "technical" in page


def test_take_is_offered_only_to_members_of_the_team_while_nobody_has_it(shop: Shop) -> None:
    case = _open(shop, "service", "Which grinder")
    take = f'action="/cases/{case.pk}/take/"'
    assert take in _login(shop.agents["service"]).get(f"/cases/{case.pk}/").content.decode()
    assert take not in _login(shop.manager).get(f"/cases/{case.pk}/").content.decode()
    case_assign(case_id=case.pk, assignee_id=shop.agents["service"].pk, actor=shop.manager)
    assert take not in _login(shop.agents["service"]).get(f"/cases/{case.pk}/").content.decode()


def test_bad_input_is_400_with_the_reason_and_nothing_changes(shop: Shop) -> None:
    case = _open(shop, "service", "Which grinder")
    client = _login(shop.agents["service"])
    response = client.post(f"/cases/{case.pk}/status/", {"status": "done"})
    assert response.status_code == 400
    assert "is not one of new, open, waiting" in response.content.decode()
    response = client.post(f"/cases/{case.pk}/assign/", {"assignee": shop.agents["care"].pk})
    assert response.status_code == 400 and "not in the case" in response.content.decode()
    response = client.post(f"/cases/{case.pk}/notes/", {"text": "   "})
    assert response.status_code == 400
    response = client.post(f"/cases/{case.pk}/kind/", {"kind": "service"})
    assert response.status_code == 400 and "already a service case" in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.assignee_id, case.kind, case.links.count()) == (
        "new",
        None,
        "service",
        0,
    )
    assert case.events.count() == 1  # only "opened"


def test_case_page_in_persian(shop: Shop) -> None:
    case = _open(shop, "support", "صدای آسیاب", opened_at="2026-12-02T14:00:00+03:30")
    client = in_language(_login(shop.agents["support"]), "fa")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'dir="rtl"' in page and 'lang="fa"' in page
    # Resolve by Saturday 14 Azar 1405 (2026-12-05) 10:00 Tehran, in Persian digits.
    assert "۱۴ آذر ۱۴۰۵، ۱۰:۰۰" in page
    assert "یادداشت داخلی" in page  # "Internal note"
    inbox = client.get("/cases/").content.decode()
    assert "صدای آسیاب" in inbox and "پرونده‌ها" in inbox


def test_reply_from_the_case_page_is_queued_and_a_closed_case_refuses_it(shop: Shop) -> None:
    from khoshnud.channels.models import Delivery

    case = _open(shop, "support", "Grinder noise", channel="email")
    agent = _login(shop.agents["support"])
    page = agent.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/replies/"' in page
    response = agent.post(f"/cases/{case.pk}/replies/", {"text": "We will call you today."})
    assert response.status_code == 302
    reply = Interaction.objects.get(direction="outbound", text="We will call you today.")
    assert CaseInteraction.objects.filter(case=case, interaction=reply).exists()
    assert Delivery.objects.get(interaction_id=reply.pk).status in {"queued", "sent"}
    case.refresh_from_db()
    assert case.first_responded_at is not None

    Case.objects.filter(pk=case.pk).update(status="closed")
    before = Interaction.objects.count()
    response = agent.post(f"/cases/{case.pk}/replies/", {"text": "One more thing"})
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert Interaction.objects.count() == before


def test_every_case_history_action_has_a_name_in_the_three_languages() -> None:
    from django.utils import translation

    from khoshnud import events
    from khoshnud.web.cases import _action_names

    actions = {v for k, v in vars(events).items() if k.startswith("CASE_")}
    names = _action_names()
    assert actions <= set(names), sorted(actions - set(names))
    for language in ("fa", "zh-hans"):
        with translation.override(language):
            translated = _action_names()
        untranslated = [a for a in actions if translated[a] == names[a]]
        assert not untranslated, (language, untranslated)
