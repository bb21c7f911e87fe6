"""One customer, many channels: the inbox shows each case's channel; an agent links two
customers (a Telegram sender and a known email customer) by hand from the case page, with a
confirmation and an audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from khoshnud.accounts.models import AuditLog as AuditEntry
from khoshnud.cases.models import Case
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop
from tests.channels.messaging_helpers import add_account, hook_path, post_json
from tests.channels.test_telegram import SECRET, update

pytestmark = pytest.mark.django_db
CSRF = "m" * 32


def _browser(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.cookies["csrftoken"] = CSRF
    client.force_login(user)
    return client


def test_an_agent_links_the_telegram_sender_to_the_known_customer_after_confirming(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    post_json(hook_path(add_account("telegram")), update(), django_capture_on_commit_callbacks,
              **SECRET)  # fmt: skip
    case = Case.objects.get()
    sender = case.customer
    assert sender.pk != shop.customer.pk  # a new customer for the Telegram id
    agent = shop.agents[case.team.name] if case.team else shop.manager
    browser = _browser(agent)
    # The inbox shows the case's channel.
    inbox = browser.get("/cases/?tab=team").content.decode()
    assert 'class="chip case-channel ch-telegram">Telegram<' in inbox
    # From the case page to the merge page; a search finds the email customer.
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/customers/{sender.pk}/merge/"' in page
    found = browser.get(f"/customers/{sender.pk}/merge/", {"q": "sara@example.com"})
    assert found.status_code == 200
    assert f"?source_id={shop.customer.pk}" in found.content.decode()
    both = browser.get(f"/customers/{sender.pk}/merge/", {"source_id": shop.customer.pk})
    text = both.content.decode()
    assert 'id="merge-form"' in text and "sara@example.com" in text and "5551234" in text
    # Without the tick nothing happens.
    resp = browser.post(f"/customers/{sender.pk}/merge/", {"source_id": shop.customer.pk})
    assert resp.status_code == 400
    assert Customer.objects.get(pk=shop.customer.pk).merged_into_id is None
    resp = browser.post(
        f"/customers/{sender.pk}/merge/", {"source_id": shop.customer.pk, "confirm": "1"}
    )
    assert resp.status_code == 302 and resp["Location"] == f"/customers/{sender.pk}/"
    assert Customer.objects.get(pk=shop.customer.pk).merged_into_id == sender.pk
    kinds = set(sender.identities.values_list("kind", "value"))
    assert kinds == {("telegram", "5551234"), ("email", "sara@example.com")}
    entry = AuditEntry.objects.get(action="customer.merge")
    assert (entry.object_id, entry.data["merged"]) == (str(sender.pk), shop.customer.pk)
    assert entry.actor_id == agent.pk
    # Her next email is the same customer's, beside her Telegram message.
    event = {"source": "mail", "external_id": "m-1", "channel": "email", "direction": "inbound",
             "type": "message", "occurred_at": "2026-12-03T09:00:00+03:30", "text": "سلام",
             "customer": {"email": "sara@example.com"}}  # fmt: skip
    resp = shop.client(shop.manager).post("/api/v1/events", {"events": [event]},
                                          content_type="application/json")  # fmt: skip
    assert resp.status_code == 200, resp.content
    channels = sorted(
        Interaction.objects.filter(customer_id=sender.pk).values_list("channel", flat=True)
    )
    assert channels == ["email", "telegram"]
    # Merging again (the other one is a tombstone now) is refused with a reason.
    resp = browser.post(
        f"/customers/{sender.pk}/merge/", {"source_id": shop.customer.pk, "confirm": "1"}
    )
    assert resp.status_code == 400 and 'id="merge-error"' in resp.content.decode()
    assert AuditEntry.objects.filter(action="customer.merge").count() == 1


def test_linking_needs_a_write_login_and_a_real_other_customer(shop: Shop) -> None:
    anonymous = Client()
    resp = anonymous.get(f"/customers/{shop.customer.pk}/merge/")
    assert resp.status_code == 302 and "/login" in resp["Location"]
    browser = _browser(shop.manager)
    resp = browser.post(
        f"/customers/{shop.customer.pk}/merge/", {"source_id": "abc", "confirm": "1"}
    )
    assert resp.status_code == 400
    resp = browser.post(
        f"/customers/{shop.customer.pk}/merge/", {"source_id": shop.customer.pk, "confirm": "1"}
    )
    assert resp.status_code == 400  # not into itself
    assert not AuditEntry.objects.filter(action="customer.merge").exists()
    # A customer with no match says so.
    page = browser.get(f"/customers/{shop.customer.pk}/merge/", {"q": "nobody-like-this"})
    assert "No other customer matches." in page.content.decode()
