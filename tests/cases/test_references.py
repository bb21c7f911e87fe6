"""Cases follow a merge to the surviving customer, and an erasure blanks their subjects."""

from __future__ import annotations

from khoshnud.cases.models import Case
from khoshnud.cases.services import case_open
from khoshnud.customers.services import customer_create, customer_merge
from khoshnud.interactions.services.erase import interaction_erase
from tests.cases.conftest import Shop


def test_merge_moves_cases_and_erasure_blanks_their_subjects(shop: Shop) -> None:
    twin = customer_create(data={"first_name": "Sara", "identities": {"phone": "09121112233"}})
    kept = case_open(customer_id=shop.customer.pk, kind="support", channel="phone", subject="A")
    moved = case_open(customer_id=twin.pk, kind="care", channel="email", subject="My order broke")
    customer_merge(target=shop.customer, source=twin)
    assert sorted(Case.objects.filter(customer=shop.customer).values_list("pk", flat=True)) == (
        sorted([kept.pk, moved.pk])
    )
    assert not Case.objects.filter(customer=twin).exists()

    interaction_erase(customer_id=shop.customer.pk, reason="the customer asked", actor=None)
    assert list(Case.objects.order_by("pk").values_list("subject", "status")) == [
        ("", kept.status),
        ("", moved.status),
    ]
