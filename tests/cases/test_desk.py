"""The agents' desk services: take / assign, status, priority, hand-off, internal notes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection

from khoshnud.accounts.services import staff_create
from khoshnud.cases.models import Case, CaseEvent, CaseInteraction
from khoshnud.cases.selectors import case_handoffs, case_thread
from khoshnud.cases.services import (
    case_assign,
    case_kind_change,
    case_note_add,
    case_open,
    case_open_or_attach,
    case_priority_set,
    case_status_set,
    case_take,
)
from khoshnud.cases.signals import case_resolved
from khoshnud.inputs import InputError
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop, analysed

pytestmark = pytest.mark.django_db


def _service_case(shop: Shop) -> Case:
    return case_open(customer_id=shop.customer.pk, kind="service", channel="phone",
                     subject="Which grinder?", opened_at="2026-12-02T14:00:00+03:30")  # fmt: skip


def _snapshot(case: Case) -> tuple[object, ...]:
    case.refresh_from_db()
    return (case.status, case.priority, case.kind, case.team_id, case.assignee_id,
            case.resolved_at, case.events.count(), case.links.count())  # fmt: skip


def test_an_agent_takes_a_case_of_their_team(shop: Shop) -> None:
    case = _service_case(shop)
    agent = shop.agents["service"]
    case_assign(case_id=case.pk, assignee_id=agent.pk, actor=agent)
    case.refresh_from_db()
    assert case.assignee_id == agent.pk
    assert case.status == "open"  # someone is on it now
    event = case.events.get(action="case.assigned")
    assert event.actor_id == agent.pk and event.reason == "taken"
    assert event.changes == {
        "assignee": {"from": None, "to": "service-agent"},
        "status": {"from": "new", "to": "open"},
    }


def test_a_taken_case_cannot_be_taken_again(shop: Shop) -> None:
    case = _service_case(shop)
    first = shop.agents["service"]
    second = staff_create(username="mina", password="Case-desk-2026", role="agent",
                          teams=["service"])  # fmt: skip
    case_take(case_id=case.pk, actor=first)
    case_take(case_id=case.pk, actor=first)  # already mine: nothing changes
    before = _snapshot(case)
    with pytest.raises(InputError, match=f"case {case.pk} is already taken by service-agent"):
        case_take(case_id=case.pk, actor=second)
    assert _snapshot(case) == before
    case_assign(case_id=case.pk, assignee_id=second.pk, actor=second)  # a deliberate reassign
    case.refresh_from_db()
    assert case.assignee_id == second.pk


def test_a_manager_assigns_and_unassigns(shop: Shop) -> None:
    case = _service_case(shop)
    second = staff_create(username="mina", password="Case-desk-2026", role="agent",
                          teams=["service"])  # fmt: skip
    case_assign(case_id=case.pk, assignee_id=second.pk, actor=shop.manager)
    case_assign(case_id=str(case.pk), assignee_id=str(second.pk), actor=shop.manager)  # no-op
    case_assign(case_id=case.pk, assignee_id=None, actor=shop.manager)
    case.refresh_from_db()
    assert case.assignee_id is None and case.status == "open"
    changes = [e.changes["assignee"] for e in case.events.filter(action="case.assigned")]
    assert changes == [{"from": None, "to": "mina"}, {"from": "mina", "to": None}]


def test_assignment_to_an_agent_without_the_team_is_refused(shop: Shop) -> None:
    case = _service_case(shop)
    before = _snapshot(case)
    with pytest.raises(InputError, match=r"support-agent is not in the case's team \(service\)"):
        case_assign(case_id=case.pk, assignee_id=shop.agents["support"].pk, actor=shop.manager)
    norole = User.objects.create_user(username="nobody", password="Nobody-pass-2026")
    with pytest.raises(InputError, match="nobody has no staff role"):
        case_assign(case_id=case.pk, assignee_id=norole.pk, actor=shop.manager)
    with pytest.raises(InputError, match="no active staff member #999999"):
        case_assign(case_id=case.pk, assignee_id=999999, actor=shop.manager)
    assert _snapshot(case) == before


def test_an_agent_cannot_touch_another_teams_case(shop: Shop) -> None:
    case = _service_case(shop)
    before = _snapshot(case)
    support = shop.agents["support"]
    with pytest.raises(PermissionDenied):
        case_assign(case_id=case.pk, assignee_id=support.pk, actor=support)
    with pytest.raises(PermissionDenied):
        case_status_set(case_id=case.pk, status="resolved", actor=support)
    with pytest.raises(PermissionDenied):
        case_note_add(case_id=case.pk, text="sneaky", actor=support)
    with pytest.raises(PermissionDenied):
        case_kind_change(case_id=case.pk, kind="support", actor=support)
    with pytest.raises(PermissionDenied):
        case_priority_set(case_id=case.pk, priority="urgent", actor=None)
    with pytest.raises(Case.DoesNotExist):
        case_status_set(case_id=987654, status="resolved", actor=shop.manager)
    assert _snapshot(case) == before


def test_status_transitions_resolve_reopen_close(shop: Shop) -> None:
    case = _service_case(shop)
    agent = shop.agents["service"]
    case_status_set(case_id=case.pk, status="waiting", actor=agent)
    case_status_set(case_id=case.pk, status="resolved", actor=agent)
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at is not None
    case_status_set(case_id=case.pk, status="open", actor=agent)  # reopen
    case.refresh_from_db()
    assert case.status == "open" and case.resolved_at is None
    case_status_set(case_id=case.pk, status="resolved", actor=agent)
    case_status_set(case_id=case.pk, status="closed", actor=agent)
    moves = [
        (e.changes["status"]["from"], e.changes["status"]["to"], e.reason)
        for e in case.events.filter(action="case.status_changed")
    ]
    assert moves == [
        ("new", "waiting", ""),
        ("waiting", "resolved", ""),
        ("resolved", "open", "reopened"),
        ("open", "resolved", ""),
        ("resolved", "closed", ""),
    ]


def test_case_resolved_is_announced_after_commit_each_time(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    case = _service_case(shop)
    agent = shop.agents["service"]
    heard: list[tuple[int, int | None]] = []

    def receiver(sender: object, case_id: int, actor_id: int | None, **kwargs: object) -> None:
        heard.append((case_id, actor_id))

    case_resolved.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case_status_set(case_id=case.pk, status="waiting", actor=agent)
        assert heard == []  # only resolving is announced
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            case_status_set(case_id=case.pk, status="resolved", actor=agent)
            assert heard == []  # not before the commit
        assert len(callbacks) == 1
        case_status_set(case_id=case.pk, status="open", actor=agent)
        with django_capture_on_commit_callbacks(execute=True):
            case_status_set(case_id=case.pk, status="resolved", actor=agent)
    finally:
        case_resolved.disconnect(receiver)
    assert heard == [(case.pk, agent.pk), (case.pk, agent.pk)]


def test_bad_status_changes_are_refused_and_a_closed_case_is_final(shop: Shop) -> None:
    case = _service_case(shop)
    agent = shop.agents["service"]
    before = _snapshot(case)
    with pytest.raises(InputError, match="'done' is not one of new, open, waiting"):
        case_status_set(case_id=case.pk, status="done", actor=agent)
    case_status_set(case_id=case.pk, status="open", actor=agent)
    with pytest.raises(InputError, match="a open case cannot become new"):
        case_status_set(case_id=case.pk, status="new", actor=agent)
    case_status_set(case_id=case.pk, status="closed", actor=agent)
    before = _snapshot(case)
    for call in (
        lambda: case_status_set(case_id=case.pk, status="open", actor=agent),
        lambda: case_priority_set(case_id=case.pk, priority="urgent", actor=agent),
        lambda: case_assign(case_id=case.pk, assignee_id=agent.pk, actor=agent),
        lambda: case_kind_change(case_id=case.pk, kind="support", actor=agent),
        lambda: case_note_add(case_id=case.pk, text="after the end", actor=agent),
    ):
        with pytest.raises(InputError, match=f"case {case.pk} is closed"):
            call()
    assert _snapshot(case) == before
    assert not Interaction.objects.filter(text="after the end").exists()


def test_priority_set(shop: Shop) -> None:
    case = _service_case(shop)
    agent = shop.agents["service"]
    with pytest.raises(InputError, match="'asap' is not one of low, normal, high, urgent"):
        case_priority_set(case_id=case.pk, priority="asap", actor=agent)
    case_priority_set(case_id=case.pk, priority="urgent", actor=agent)
    case_priority_set(case_id=case.pk, priority="urgent", actor=agent)  # already: no event
    case.refresh_from_db()
    assert case.priority == "urgent"
    assert [e.changes for e in case.events.filter(action="case.priority_changed")] == [
        {"priority": {"from": "normal", "to": "urgent"}}
    ]


def test_hand_off_keeps_the_thread_and_moves_the_team(shop: Shop, ingest) -> None:  # type: ignore[no-untyped-def]
    sara = shop.customer
    first, reply, second = ingest(sara, [
        ("m1", "email", "inbound", "2026-11-25T14:00:00+03:30", "Which grinder is best?"),
        ("r1", "email", "outbound", "2026-11-25T14:30:00+03:30", "The GR-1."),
        ("m2", "email", "inbound", "2026-11-26T09:00:00+03:30", "Mine makes a noise now"),
    ])  # fmt: skip
    analysed(first, sara.pk, "service")
    analysed(second, sara.pk, "support")
    case_open_or_attach(interaction_ids=[first, reply, second])
    case = Case.objects.get(customer=sara)
    agent = shop.agents["service"]
    case_assign(case_id=case.pk, assignee_id=agent.pk, actor=agent)
    note = case_note_add(case_id=case.pk, text="Technical: passing to support", actor=agent)
    assert case.team is not None and case.team.name == "service"
    # service standard: 960 business minutes from Wednesday 14:00 = Wednesday 2 h + Thursday
    # 4 h + Saturday 8 h + Sunday 2 h → Sunday 2026-11-29 10:00 Tehran (06:30 UTC)
    assert case.resolution_due is not None
    assert case.resolution_due.isoformat() == "2026-11-29T06:30:00+00:00"

    case_kind_change(case_id=case.pk, kind="support", actor=agent, reason="grinder noise")
    case.refresh_from_db()
    assert case.kind == "support" and case.team.name == "support"
    assert case.assignee_id is None  # the service agent is not in support
    # support standard: 480 business minutes from Wednesday 14:00 → Saturday 10:00 Tehran
    assert case.resolution_due.isoformat() == "2026-11-28T06:30:00+00:00"
    assert [i.pk for i in case_thread(case=case)] == [first, reply, second, note.pk]
    event = case.events.get(action="case.handed_off")
    assert event.reason == "grinder noise" and event.actor_id == agent.pk
    assert event.changes == {
        "kind": {"from": "service", "to": "support"},
        "team": {"from": "service", "to": "support"},
        "assignee": {"from": "service-agent", "to": None},
    }
    assert case_handoffs(case_ids=[case.pk]) == {case.pk: 1}
    # Now support's: the service agent has let it go, the support agent can take it.
    with pytest.raises(PermissionDenied):
        case_status_set(case_id=case.pk, status="resolved", actor=agent)
    case_assign(case_id=case.pk, assignee_id=shop.agents["support"].pk,
                actor=shop.agents["support"])  # fmt: skip
    case_kind_change(case_id=case.pk, kind="care", actor=shop.manager)
    assert case_handoffs(case_ids=[case.pk]) == {case.pk: 2}


def test_hand_off_to_the_same_or_an_unknown_kind_is_refused(shop: Shop) -> None:
    case = _service_case(shop)
    before = _snapshot(case)
    with pytest.raises(InputError, match="already a service case"):
        case_kind_change(case_id=case.pk, kind="service", actor=shop.manager)
    with pytest.raises(InputError, match="'sales' is not one of service, support, care"):
        case_kind_change(case_id=case.pk, kind="sales", actor=shop.manager)
    assert _snapshot(case) == before


def test_notes_are_in_the_thread_and_never_leave(shop: Shop, ingest) -> None:  # type: ignore[no-untyped-def]
    sara = shop.customer
    (first,) = ingest(sara, [("m1", "email", "inbound", "2026-12-02T14:00:00+03:30", "Hello?")])
    analysed(first, sara.pk, "service")
    case_open_or_attach(interaction_ids=[first])
    case = Case.objects.get(customer=sara)
    agent = shop.agents["service"]
    note = case_note_add(case_id=case.pk, text="  مشتری قدیمی است؛ تماس بگیرید  ", actor=agent)
    assert note.type == "note" and note.direction == "outbound" and note.staff_id == agent.pk
    assert note.text == "مشتری قدیمی است؛ تماس بگیرید"
    assert note.metadata == {"case_id": case.pk, "internal": True}
    assert CaseInteraction.objects.get(interaction=note).role == "note"
    # A note is no reply: the first response stays unstamped, the pipeline leaves it alone.
    case_open_or_attach(interaction_ids=[note.pk])
    case.refresh_from_db()
    assert case.first_responded_at is None
    assert CaseEvent.objects.filter(case=case, action="case.note_added").count() == 1
    for bad, message in (("", "is required"), ("   ", "is required"), (None, "is required")):
        with pytest.raises(InputError, match=message):
            case_note_add(case_id=case.pk, text=bad, actor=agent)
    assert case.links.count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two writers at once (SQLite serialises them)"
)
@pytest.mark.django_db(transaction=True)
def test_two_agents_take_the_same_case_at_once(shop: Shop) -> None:
    """Agent 1 takes the case and has not committed yet; agent 2's take waits on the row lock,
    then sees agent 1's take and is refused. The case has one assignee and one take event."""
    import threading
    import time

    from django.db import connections, transaction

    case = _service_case(shop)
    first = shop.agents["service"]
    second = staff_create(username="mina", password="Case-desk-2026", role="agent",
                          teams=["service"])  # fmt: skip
    took = threading.Event()
    errors: dict[str, BaseException] = {}

    def agent_1() -> None:
        try:
            with transaction.atomic():
                case_take(case_id=case.pk, actor=first)
                took.set()
                time.sleep(0.5)  # agent 2 is now blocked on the row
        except BaseException as exc:
            errors["1"] = exc
        finally:
            connections.close_all()

    def agent_2() -> None:
        took.wait(10)
        try:
            case_take(case_id=case.pk, actor=second)
        except BaseException as exc:
            errors["2"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=agent_1), threading.Thread(target=agent_2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert list(errors) == ["2"] and "already taken by service-agent" in str(errors["2"])
    case.refresh_from_db()
    assert case.assignee_id == first.pk
    assert case.events.filter(action="case.assigned").count() == 1
