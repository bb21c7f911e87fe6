"""The pipeline step: inbound messages open or join cases; replies stamp the first response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from khoshnud.cases.models import Case, CaseEvent, CaseInteraction
from khoshnud.cases.services import case_open_or_attach
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from khoshnud.language.selectors import analyses_for_interactions
from tests.cases.conftest import Shop, analysed

pytestmark = pytest.mark.django_db
Ingest = Callable[..., list[int]]


def snapshot() -> tuple[list[Any], list[Any], list[Any]]:
    return (
        list(Case.objects.order_by("id").values()),
        list(CaseInteraction.objects.order_by("interaction_id").values("case_id", "interaction_id", "role")),
        list(CaseEvent.objects.order_by("id").values("case_id", "action", "changes")),
    )  # fmt: skip


def test_a_support_message_opens_a_case_due_from_its_occurred_at(
    shop: Shop, ingest: Ingest
) -> None:
    [msg] = ingest(shop.customer, [("m1", "email", "inbound", "2026-12-02T14:00:00+03:30",
                                    "My grinder stopped working")])  # fmt: skip
    analysed(msg, shop.customer.pk, "support")
    assert case_open_or_attach(interaction_ids=[msg]) == 1
    case = Case.objects.get()
    assert (case.kind, case.priority, case.status, case.channel) == (
        "support",
        "normal",
        "new",
        "email",
    )
    assert case.team is not None and case.team.name == "support"
    assert case.subject == "My grinder stopped working"
    assert case.first_response_due.isoformat() == "2026-12-02T12:30:00+00:00"  # 16:00 Tehran
    assert case.resolution_due.isoformat() == "2026-12-05T06:30:00+00:00"  # Sat 10:00 Tehran
    assert list(case.links.values_list("interaction_id", "role")) == [(msg, "opening")]


def test_running_twice_attaches_once(shop: Shop, ingest: Ingest) -> None:
    ids = ingest(shop.customer, [
        ("a", "email", "inbound", "2026-12-02T09:00:00+03:30", "price of the grinder?"),
        ("b", "email", "outbound", "2026-12-02T09:30:00+03:30", "It is 120 USD."),
        ("c", "email", "inbound", "2026-12-02T10:00:00+03:30", "thanks, and delivery?"),
    ])  # fmt: skip
    for pk in (ids[0], ids[2]):
        analysed(pk, shop.customer.pk, "service")
    assert case_open_or_attach(interaction_ids=ids) == 3
    first = snapshot()
    assert case_open_or_attach(interaction_ids=ids) == 0
    assert case_open_or_attach(interaction_ids=list(reversed(ids)) + ids) == 0
    assert snapshot() == first
    case = Case.objects.get()
    assert list(case.links.order_by("interaction_id").values_list("role", flat=True)) == [
        "opening", "reply", "inbound"
    ]  # fmt: skip
    assert case.first_responded_at.isoformat() == "2026-12-02T06:00:00+00:00"  # 09:30 Tehran
    assert case.last_message_at.isoformat() == "2026-12-02T06:30:00+00:00"  # 10:00 Tehran


def test_window_and_channel_decide_attach_or_open(
    shop: Shop, ingest: Ingest, settings: Any
) -> None:
    settings.KHOSHNUD_CASE_ATTACH_WINDOW_HOURS = 72
    ids = ingest(shop.customer, [
        ("1", "email", "inbound", "2026-12-01T09:00:00+03:30", "q1"),
        ("2", "email", "inbound", "2026-12-04T08:59:00+03:30", "q2: 71 h 59 min later"),
        ("3", "telegram", "inbound", "2026-12-04T09:00:00+03:30", "q3 on another channel"),
        ("4", "email", "inbound", "2026-12-07T09:00:00+03:30", "q4: 72 h 1 min after q2"),
    ])  # fmt: skip
    case_open_or_attach(interaction_ids=ids)
    threads = [list(c.links.order_by("interaction_id").values_list("interaction_id", flat=True))
               for c in Case.objects.order_by("opened_at")]  # fmt: skip
    assert threads == [[ids[0], ids[1]], [ids[2]], [ids[3]]]
    # Without analyses the kind is service (a need of "other") and the priority normal.
    assert set(Case.objects.values_list("kind", "priority")) == {("service", "normal")}


def test_a_resolved_case_is_not_reopened_by_a_new_message(shop: Shop, ingest: Ingest) -> None:
    [a] = ingest(shop.customer, [("a", "email", "inbound", "2026-12-02T09:00:00+03:30", "hi")])
    case_open_or_attach(interaction_ids=[a])
    Case.objects.update(status="resolved")
    [b] = ingest(shop.customer, [("b", "email", "inbound", "2026-12-02T10:00:00+03:30", "again")])
    case_open_or_attach(interaction_ids=[b])
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("need", "sentiment", "kind", "priority", "team"),
    [
        ("service", "neutral", "service", "normal", "service"),
        ("support", "negative", "support", "high", "support"),
        ("care", "negative", "care", "high", "care"),
        ("care", "positive", "care", "normal", "care"),
        ("other", "neutral", "service", "normal", "service"),
    ],
)
def test_kind_and_priority_come_from_the_analysis(
    shop: Shop, ingest: Ingest, need: str, sentiment: str, kind: str, priority: str, team: str
) -> None:
    [msg] = ingest(shop.customer, [("m", "chat", "inbound", "2026-12-02T09:00:00+03:30", "text")])
    analysed(msg, shop.customer.pk, need, sentiment)
    case_open_or_attach(interaction_ids=[msg])
    case = Case.objects.select_related("team").get()
    assert (case.kind, case.priority, case.team.name if case.team else None) == (
        kind,
        priority,
        team,
    )


def test_a_negative_message_raises_an_open_cases_priority_once(shop: Shop, ingest: Ingest) -> None:
    ids = ingest(shop.customer, [
        ("a", "email", "inbound", "2026-12-02T09:00:00+03:30", "where is my order"),
        ("b", "email", "inbound", "2026-12-02T11:00:00+03:30", "still nothing, this is awful"),
        ("c", "email", "inbound", "2026-12-02T12:00:00+03:30", "awful, awful"),
    ])  # fmt: skip
    analysed(ids[0], shop.customer.pk, "service", "neutral")
    analysed(ids[1], shop.customer.pk, "care", "negative")
    analysed(ids[2], shop.customer.pk, "care", "negative")
    case_open_or_attach(interaction_ids=ids)
    case = Case.objects.get()
    # The kind stays what the opening message made it (a hand-off is a person's decision).
    assert (case.kind, case.priority) == ("service", "high")
    raised = CaseEvent.objects.filter(case=case, action="case.priority_raised")
    assert [(e.changes, e.reason) for e in raised] == [
        ({"priority": {"from": "normal", "to": "high"}}, f"negative message {ids[1]}")
    ]


def test_a_reply_before_the_case_or_on_another_channel_is_not_attached(
    shop: Shop, ingest: Ingest
) -> None:
    ids = ingest(shop.customer, [
        ("r0", "email", "outbound", "2026-12-02T08:00:00+03:30", "newsletter-like message"),
        ("a", "email", "inbound", "2026-12-02T09:00:00+03:30", "question"),
        ("r1", "sms", "outbound", "2026-12-02T09:10:00+03:30", "reply by sms"),
    ])  # fmt: skip
    case_open_or_attach(interaction_ids=ids)
    case = Case.objects.get()
    assert list(case.links.values_list("interaction_id", flat=True)) == [ids[1]]
    assert case.first_responded_at is None


def test_erased_and_non_message_interactions_open_nothing(shop: Shop, ingest: Ingest) -> None:
    [msg] = ingest(shop.customer, [("a", "email", "inbound", "2026-12-02T09:00:00+03:30", "x")])
    Interaction.objects.filter(pk=msg)._erase_update(erased_at="2026-12-03T00:00:00Z")
    results = events_ingest(events=[{
        "source": "test", "external_id": "p", "channel": "web", "direction": "inbound",
        "type": "survey_answer", "occurred_at": "2026-12-02T09:00:00+03:30", "text": "9/10",
        "customer": {"id": shop.customer.pk},
    }])  # fmt: skip
    assert case_open_or_attach(interaction_ids=[msg, results[0].id or 0]) == 0
    assert not Case.objects.exists()


def test_the_real_pipeline_classifies_then_opens_a_case(
    shop: Shop, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KHOSHNUD_INTERACTION_PIPELINE = [
        "khoshnud.language.services.interactions_classify",
        "khoshnud.cases.services.case_open_or_attach",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        [result] = events_ingest(events=[{
            "source": "test", "external_id": "x", "channel": "email", "direction": "inbound",
            "type": "message", "occurred_at": "2026-12-02T14:00:00+03:30",
            "text": "The espresso machine is leaking water, how do I fix it?",
            "customer": {"id": shop.customer.pk},
        }])  # fmt: skip
    assert result.id is not None
    analysis = analyses_for_interactions(interaction_ids=[result.id])[result.id]
    case = Case.objects.get()
    expected_kind = {"other": "service"}.get(analysis.final_need, analysis.final_need)
    assert case.kind == expected_kind
    assert case.links.get().interaction_id == result.id


def test_an_agents_correction_of_the_analysis_wins(shop: Shop, ingest: Ingest) -> None:
    from khoshnud.language.models import MessageAnalysis

    [msg] = ingest(shop.customer, [("m", "email", "inbound", "2026-12-02T09:00:00+03:30", "x")])
    analysed(msg, shop.customer.pk, "support", "neutral")
    MessageAnalysis.objects.filter(pk=msg).update(
        corrected_need="care", corrected_sentiment="negative"
    )
    case_open_or_attach(interaction_ids=[msg])
    assert Case.objects.values_list("kind", "priority").get() == ("care", "high")


def test_queries_do_not_grow_with_new_cases(shop: Shop, ingest: Ingest) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from khoshnud.customers.services import customer_create

    def run(n: int, tag: str) -> int:
        ids = []
        for k in range(n):
            customer = customer_create(data={"first_name": f"{tag}{k}",
                                             "identities": {"email": f"{tag}{k}@example.com"}})  # fmt: skip
            ids += ingest(customer, [(f"{tag}{k}", "email", "inbound",
                                      "2026-12-02T09:00:00+03:30", "hello")])  # fmt: skip
            analysed(ids[-1], customer.pk, "support", "negative")
        with CaptureQueriesContext(connection) as queries:
            assert case_open_or_attach(interaction_ids=ids) == n
        return len(queries)

    few, many = run(3, "a"), run(40, "b")
    # 14 before routing; +1: does any of these teams route? +1: the customers' support periods
    assert few == many <= 16


def test_backfill_opens_the_cases_a_lost_pipeline_task_never_opened(
    shop: Shop, ingest: Callable[..., list[int]]
) -> None:
    """The pipeline was off (as if its task was lost): backfill classifies, then opens cases."""
    from khoshnud.cases.selectors import interactions_without_case
    from khoshnud.interactions.pipeline import pipeline_backfill

    ids = ingest(
        shop.customer,
        [
            ("lost-1", "email", "inbound", "2026-12-02T14:00:00+03:30", "My grinder is broken"),
            ("lost-2", "email", "inbound", "2026-12-02T14:05:00+03:30", "Please help"),
            ("lost-3", "email", "outbound", "2026-12-02T14:10:00+03:30", "We are on it"),
        ],
    )
    assert interactions_without_case() == ids[:2]  # a reply with no case stays outside
    with override_settings(
        KHOSHNUD_INTERACTION_PIPELINE=[
            {
                "step": "khoshnud.cases.services.case_open_or_attach",
                "missing": "khoshnud.cases.selectors.interactions_without_case",
            }
        ]
    ):
        [count] = pipeline_backfill(now=True)
        assert (count.missing, count.remaining) == (2, 0)
        assert interactions_without_case() == []
        assert [c.missing for c in pipeline_backfill(now=True)] == [0]
    case = Case.objects.get(customer=shop.customer)
    linked = CaseInteraction.objects.filter(case=case).values_list("interaction_id", flat=True)
    assert sorted(linked) == ids[:2]


def test_blank_cases_are_the_same_unsaved_case_as_the_constructor() -> None:
    # The pipeline builds its cases from a copy of Case()'s defaults: every field must agree,
    # and the mutable default (tags) must not be shared between two cases.
    from khoshnud.cases.services import BlankCases

    blanks = BlankCases()
    made, again, built = blanks.make(), blanks.make(), Case()
    for field in Case._meta.concrete_fields:
        assert getattr(made, field.attname) == getattr(built, field.attname), field.attname
    assert made._state.adding and made.pk is None
    made.tags.append("vip")
    assert again.tags == [] and built.tags == []


def _a_case_and_a_second_message(shop: Shop, ingest: Ingest) -> tuple[int, Case, int]:
    """A service case opened by a message at 09:00 Tehran, and the customer's next message on
    the same channel at 10:00 (stored and classified, not yet in a case)."""
    [first] = ingest(shop.customer, [("q1", "email", "inbound", "2026-12-01T09:00:00+03:30",
                                      "price of the grinder?")])  # fmt: skip
    analysed(first, shop.customer.pk, "service")
    case_open_or_attach(interaction_ids=[first])
    [second] = ingest(shop.customer, [("q2", "email", "inbound", "2026-12-01T10:00:00+03:30",
                                       "and delivery?")])  # fmt: skip
    analysed(second, shop.customer.pk, "service")
    return first, Case.objects.get(), second


def test_a_case_resolved_between_the_steps_read_and_its_write_is_not_reopened(
    shop: Shop, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The step decides outside its write transaction; an agent resolves the case it read in
    # between. The update's check sees the case changed, the chunk is decided again, and the
    # message opens a new case instead of bumping the resolved one.
    import khoshnud.cases.services as services

    _first, old, second = _a_case_and_a_second_message(shop, ingest)
    real_attach, real_write, calls = services._attach_inbound, services._write, []

    def agent_resolves_meanwhile(batch: Any, case: Case, *args: Any) -> None:
        real_attach(batch, case, *args)
        if not calls:  # as every write to a case does (save(), or an update naming it)
            Case.objects.filter(pk=old.pk).update(status="resolved", updated_at=timezone.now())

    def write(batch: Any, **options: Any) -> None:
        calls.append(len(batch.new_cases))
        real_write(batch, **options)

    monkeypatch.setattr(services, "_attach_inbound", agent_resolves_meanwhile)
    monkeypatch.setattr(services, "_write", write)
    assert case_open_or_attach(interaction_ids=[second]) == 1
    assert calls == [0, 1]  # attached to the old case, then (decided again) a new one
    old.refresh_from_db()
    assert old.status == "resolved"
    assert old.last_message_at.isoformat() == "2026-12-01T05:30:00+00:00"  # q1, not q2
    new = Case.objects.exclude(pk=old.pk).get()
    assert list(new.links.values_list("interaction_id", "role")) == [(second, "opening")]


def test_the_worker_reuses_the_catalog_for_its_cache_seconds_then_reads_it_again(
    shop: Shop, ingest: Ingest, settings: Any
) -> None:
    # A worker keeps the catalog it loaded for KHOSHNUD_CASE_CATALOG_CACHE_SECONDS: a change
    # reaches the cases opened after that. Demo catalog: standard support, 120 business min.
    from khoshnud.cases import services
    from khoshnud.servicelevels.models import ServiceLevel

    services._CATALOG_CACHE.clear()
    settings.KHOSHNUD_CASE_CATALOG_CACHE_SECONDS = 3600
    ids = ingest(shop.customer, [
        ("w1", "email", "inbound", "2026-12-02T09:00:00+03:30", "grinder broken"),
        ("w2", "sms", "inbound", "2026-12-02T09:00:00+03:30", "grinder broken"),
        ("w3", "telegram", "inbound", "2026-12-02T09:00:00+03:30", "grinder broken"),
    ])  # fmt: skip
    for pk in ids:
        analysed(pk, shop.customer.pk, "support")
    case_open_or_attach(interaction_ids=[ids[0]])
    ServiceLevel.objects.filter(kind="support", tier="standard").update(first_response_minutes=30)
    case_open_or_attach(interaction_ids=[ids[1]])  # still the cached 120 minutes
    settings.KHOSHNUD_CASE_CATALOG_CACHE_SECONDS = 0
    case_open_or_attach(interaction_ids=[ids[2]])  # read again: 30 minutes
    dues = [c.first_response_due.isoformat() for c in Case.objects.order_by("id")]
    # 09:00 Tehran (05:30 UTC) + 120 min = 07:30 UTC; + 30 min = 06:00 UTC
    assert dues == ["2026-12-02T07:30:00+00:00", "2026-12-02T07:30:00+00:00",
                    "2026-12-02T06:00:00+00:00"]  # fmt: skip
    services._CATALOG_CACHE.clear()


def test_a_case_changing_on_every_try_is_joined_on_the_last_one_which_holds_the_locks(
    shop: Shop, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An agent keeps editing the open case while the step decides: the two optimistic tries
    # both fail their check; the third decides inside its transaction with the cases locked
    # and writes without the check. The message joins the case; nothing is lost or doubled.
    import khoshnud.cases.services as services

    first, old, second = _a_case_and_a_second_message(shop, ingest)
    real_attach, real_write, guards = services._attach_inbound, services._write, []

    def agent_edits_meanwhile(batch: Any, case: Case, *args: Any) -> None:
        real_attach(batch, case, *args)
        Case.objects.filter(pk=old.pk).update(tags=["vip"], updated_at=timezone.now())

    def write(batch: Any, *, guard: bool = True) -> None:
        guards.append(guard)
        real_write(batch, guard=guard)

    monkeypatch.setattr(services, "_attach_inbound", agent_edits_meanwhile)
    monkeypatch.setattr(services, "_write", write)
    assert case_open_or_attach(interaction_ids=[second]) == 1
    assert guards == [True, True, False]
    old.refresh_from_db()
    assert old.last_message_at.isoformat() == "2026-12-01T06:30:00+00:00"  # p2, 10:00 Tehran
    assert old.tags == ["vip"]  # the agent's edit stays
    assert Case.objects.count() == 1
    assert list(old.links.order_by("interaction_id").values_list("interaction_id", flat=True)) == [
        first, second
    ]  # fmt: skip
