"""Changing a case through the API as the desk does (PATCH /api/v1/cases/{id}) and internal
notes (POST …/notes): each change under the caller's name, all or nothing, the desk's rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from khoshnud.cases.models import Case, CaseEvent
from khoshnud.commerce.models import Product
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop

pytestmark = pytest.mark.django_db


def _open(shop: Shop) -> int:
    body = {"customer_id": shop.customer.pk, "kind": "service", "channel": "phone",
            "subject": "Grinder is loud", "opened_at": "2026-12-02T14:00:00+03:30"}  # fmt: skip
    resp = shop.client(shop.manager).post("/api/v1/cases", body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    return int(resp.json()["id"])


def _patch(client: Client, pk: int, **fields: Any) -> Any:
    return client.patch(f"/api/v1/cases/{pk}", json.dumps(fields), content_type="application/json")


def test_hand_off_take_resolve_and_set_the_product_in_one_request_each(shop: Shop) -> None:
    Product.objects.create(sku="GRD-1", name="Burr grinder", price=120, currency="USD")
    pk = _open(shop)
    service = shop.client(shop.agents["service"])
    # Service hands the case to support: the support team gets it, unassigned.
    moved = _patch(service, pk, kind="support", reason="needs a technician")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["kind"], moved.json()["team"], moved.json()["assignee"]) == (
        "support", "support", None
    )  # fmt: skip
    # Now only support may change it: the service agent is refused, nothing changes.
    refused = _patch(service, pk, priority="high")
    assert refused.status_code == 403
    support = shop.client(shop.agents["support"])
    taken = _patch(support, pk, assignee_id=shop.agents["support"].pk, priority="high",
                   product="GRD-1")  # fmt: skip
    assert taken.status_code == 200, taken.content
    got = taken.json()
    assert (got["assignee"], got["status"], got["priority"], got["product"]) == (
        "support-agent", "open", "high", "GRD-1"
    )  # fmt: skip
    done = _patch(support, pk, status="resolved")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert done.json()["resolved_at"] is not None
    actions = list(CaseEvent.objects.filter(case_id=pk).order_by("id").values_list(
        "action", "actor__username"))  # fmt: skip
    assert actions == [
        ("case.opened", "boss"),
        ("case.handed_off", "service-agent"),
        ("case.assigned", "support-agent"),
        ("case.priority_changed", "support-agent"),
        ("case.product_changed", "support-agent"),
        ("case.status_changed", "support-agent"),
    ]
    # null unassigns (only when sent: a PATCH without assignee_id leaves it).
    unassigned = _patch(support, pk, assignee_id=None)
    assert unassigned.status_code == 200 and unassigned.json()["assignee"] is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": ""}, "status"),
        ({"status": "sleeping"}, "status"),
        ({"priority": "critical"}, "priority"),
        ({"kind": "sales"}, "kind"),
        ({"kind": "service"}, "kind"),  # already a service case
        ({"product": "NO-SUCH"}, "product: no product with SKU 'NO-SUCH'"),
        ({"assignee_id": 99_999_999}, "assignee_id"),
    ],
)
def test_a_bad_field_is_422_and_nothing_of_the_request_changes(
    shop: Shop, fields: dict[str, Any], message: str
) -> None:
    pk = _open(shop)
    before = Case.objects.values().get(pk=pk)
    events = CaseEvent.objects.count()
    # A valid priority sent with the bad field is not kept either: all or nothing.
    sent = {"priority": "urgent", **fields}
    resp = _patch(shop.client(shop.manager), pk, **sent)
    assert resp.status_code == 422, resp.content
    assert message in resp.json()["detail"]
    assert Case.objects.values().get(pk=pk) == before
    assert CaseEvent.objects.count() == events


def test_a_closed_case_cannot_change_and_unknown_cases_are_404(shop: Shop) -> None:
    pk = _open(shop)
    manager = shop.client(shop.manager)
    assert _patch(manager, pk, status="closed").status_code == 200
    again = _patch(manager, pk, status="open")
    assert again.status_code == 422 and "closed" in again.json()["detail"]
    assert _patch(manager, 999_999, status="open").status_code == 404
    assert _patch(manager, pk, reason="x" * 201).status_code == 422
    read_only = shop.client(shop.manager, scopes="read")
    assert _patch(read_only, pk, priority="low").status_code == 403


def test_an_internal_note_is_on_the_thread_and_never_sent(shop: Shop) -> None:
    pk = _open(shop)
    support = shop.client(shop.agents["service"])
    url = f"/api/v1/cases/{pk}/notes"
    resp = support.post(url, {"text": "Called the courier: it leaves tomorrow."},
                        content_type="application/json")  # fmt: skip
    assert resp.status_code == 201, resp.content
    note = Interaction.objects.get(pk=resp.json()["id"])
    assert (note.type, note.metadata.get("internal"), note.customer_id) == (
        "note", True, shop.customer.pk
    )  # fmt: skip
    thread = shop.client(shop.manager).get(f"/api/v1/cases/{pk}").json()["interaction_ids"]
    assert thread == [note.pk]
    empty = support.post(url, {"text": "  "}, content_type="application/json")
    assert empty.status_code == 422 and "text" in empty.json()["detail"]
    other_team = shop.client(shop.agents["care"]).post(
        url, {"text": "not mine"}, content_type="application/json"
    )
    assert other_team.status_code == 403
    assert Interaction.objects.filter(type="note").count() == 1
