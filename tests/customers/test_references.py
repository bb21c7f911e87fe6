"""customers.references: every customer reference is registered, merge and erasure use them."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import timezone

from khoshnud.accounts.models import AuditLog
from khoshnud.customers.models import Customer
from khoshnud.customers.references import customer_reference_register, customer_references
from khoshnud.customers.services import customer_create, customer_merge
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest, interaction_erase
from khoshnud.language.models import MessageAnalysis
from tests.conftest import event


def _customer_references() -> set[tuple[str, str]]:
    """(model label, attribute) of every field pointing at a customer, in every installed app."""
    found = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            points_at_customer = field.is_relation and field.related_model is Customer
            if points_at_customer or field.column == "customer_id":
                found.add((model._meta.label, field.attname))
    return found


def test_every_customer_reference_says_what_merge_and_erasure_do() -> None:
    registered = {reference.key for reference in customer_references()}
    missing = _customer_references() - registered
    assert missing == set(), f"register these in customers.references: {sorted(missing)}"
    # The known ones, so that this test cannot pass by finding nothing.
    assert {
        ("customers.Identity", "customer_id"),
        ("customers.Customer", "merged_into_id"),
        ("interactions.Interaction", "customer_id"),
        ("commerce.Order", "customer_id"),
        ("language.MessageAnalysis", "customer_id"),
        ("accounts.AuditLog", "customer_id"),
    } <= registered


def test_a_kept_reference_must_say_why() -> None:
    with pytest.raises(ValueError, match="say why"):
        customer_reference_register(name="x", model=AuditLog, merge=None)


def _analysis(interaction: Interaction) -> MessageAnalysis:
    return MessageAnalysis.objects.create(
        interaction_id=interaction.pk,
        customer_id=interaction.customer_id,
        language="fa",
        language_confidence=0.9,
        need="service",
        sentiment="negative",
        sentiment_score=-0.5,
        model_version="test",
        analysed_at=timezone.now(),
    )


@pytest.mark.django_db
def test_merge_moves_the_analyses_and_earlier_merges_to_the_survivor() -> None:
    a = customer_create(data={"first_name": "A", "identities": {"email": "a@x.org"}})
    b = customer_create(data={"first_name": "B", "identities": {"email": "b@x.org"}})
    c = customer_create(data={"first_name": "C", "identities": {"email": "c@x.org"}})
    [r] = events_ingest(events=[event(customer={"id": b.pk})])
    _analysis(Interaction.objects.get(pk=r.id))
    customer_merge(target=b, source=c)
    customer_merge(target=a, source=b)
    assert MessageAnalysis.objects.get().customer_id == a.pk
    assert Customer.objects.get(pk=c.pk).merged_into_id == a.pk  # not a chain through b
    moved = AuditLog.objects.filter(action="customer.merge").first().data["moved"]  # type: ignore[union-attr]
    assert moved["analyses"] == 1 and moved["interactions"] == 1 and moved["merged_customers"] == 1


@pytest.mark.django_db
def test_erasure_deletes_the_analyses_and_the_api_stops_serving_them(
    make_staff, api_client
) -> None:  # type: ignore[no-untyped-def]
    [mine, other] = events_ingest(
        events=[event(external_id="1"), event(external_id="2", customer={"email": "o@x.org"})]
    )
    for result in (mine, other):
        _analysis(Interaction.objects.get(pk=result.id))
    client = api_client()
    url = f"/api/v1/interactions/{mine.id}/analysis"
    assert client.get(url).status_code == 200
    timeline = f"/api/v1/customers/{mine.customer_id}/timeline"
    assert client.get(timeline).json()["items"][0]["analysis"]["need"] == "service"
    count = interaction_erase(customer_id=mine.customer_id, reason="request", actor=None)
    assert count == 1
    assert list(MessageAnalysis.objects.values_list("interaction_id", flat=True)) == [other.id]
    assert client.get(url).status_code == 404
    assert client.get(timeline).json()["items"][0]["analysis"] is None
    assert client.get(f"/api/v1/interactions/{other.id}/analysis").status_code == 200
    log = AuditLog.objects.get(action="interaction.erase")
    assert log.data["erased"] == {
        "interactions": 1, "analyses": 1, "cases": 0, "survey answers": 0, "care follow-ups": 0,
        "outreach_sends": 0,
    }  # fmt: skip
