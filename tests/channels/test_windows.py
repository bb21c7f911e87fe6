"""The providers' messaging windows: WhatsApp's 24 hours (outside them an approved template,
sent as the Cloud API's `type: template`), Instagram's 24 hours and 7 days with the
HUMAN_AGENT tag; in the API and on the case page."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from khoshnud.cases.models import Case
from khoshnud.channels.models import Delivery
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop
from tests.channels.messaging_helpers import add_account, hook_path
from tests.channels.providers import FakeProvider
from tests.channels.test_meta import ig_body, ig_message, signed_post, wa_body

pytestmark = pytest.mark.django_db
PHONE_ID = "106540352242922"


def _reply(shop: Shop, case: Case, body: dict[str, Any], capture: Any) -> Any:
    with capture(execute=True):
        return shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies", body, content_type="application/json"
        )


def test_outside_the_window_an_approved_template_goes_as_type_template(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    path = hook_path(add_account("whatsapp"))
    signed_post(path, wa_body(ago=30 * 3600), cap)  # 30 h ago: the window is closed
    case = Case.objects.get()
    provider.answer(f"/v21.0/{PHONE_ID}/messages", 200, {
        "messaging_product": "whatsapp", "contacts": [{"input": "989121234567",
        "wa_id": "989121234567"}], "messages": [{"id": "wamid.TPL1"}]})  # fmt: skip
    template = {"name": "order_update", "language": "fa", "params": ["سارا", "۱۲۳۴"]}
    resp = _reply(shop, case, {"template": template}, cap)
    assert resp.status_code == 201, resp.content
    [sent] = provider.requests
    assert sent.path == f"/v21.0/{PHONE_ID}/messages"
    assert sent.body == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "989121234567",
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "fa"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "سارا"},
                                            {"type": "text", "text": "۱۲۳۴"}]}]},
    }  # fmt: skip
    out = Interaction.objects.get(pk=resp.json()["id"])
    assert out.text == "[order_update (fa)] سارا · ۱۲۳۴"  # what the log keeps of it
    assert out.metadata["whatsapp"]["template"] == template
    delivery = Delivery.objects.get(interaction_id=out.pk)
    assert (delivery.status, delivery.provider_id) == ("sent", "wamid.TPL1")
    # Free text is still refused there; a template without parameters has no components.
    assert _reply(shop, case, {"text": "hello"}, cap).status_code == 422
    provider.answer(f"/v21.0/{PHONE_ID}/messages", 200, {"messages": [{"id": "wamid.TPL2"}]})
    resp = _reply(shop, case, {"template": {"name": "hello_world", "language": "en_US"}}, cap)
    assert resp.status_code == 201
    assert provider.requests[-1].body["template"] == {
        "name": "hello_world", "language": {"code": "en_US"}
    }  # fmt: skip


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ({"name": "Order Update", "language": "fa"}, "template.name"),
        ({"name": "order_update", "language": "farsi"}, "template.language"),
        ({"name": "order_update", "language": "fa", "params": ["x"] * 11}, "template.params"),
    ],
)
def test_a_template_that_cannot_be_right_is_refused_and_nothing_stored(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any,
    template: dict[str, Any], field: str,
) -> None:  # fmt: skip
    cap = django_capture_on_commit_callbacks
    signed_post(hook_path(add_account("whatsapp")), wa_body(ago=30 * 3600), cap)
    case = Case.objects.get()
    before = Interaction.objects.count()
    resp = _reply(shop, case, {"template": template}, cap)
    assert resp.status_code == 422 and field in resp.json()["detail"]
    assert Interaction.objects.count() == before and Delivery.objects.count() == 0
    assert provider.requests == []


def test_a_template_on_a_channel_without_templates_is_refused(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    signed_post(hook_path(add_account("instagram")), ig_body(ig_message()), cap,
                secret="ig-app-secret")  # fmt: skip
    case = Case.objects.get()
    resp = _reply(shop, case, {"template": {"name": "x", "language": "en"}}, cap)
    assert resp.status_code == 422 and "instagram has no message templates" in resp.json()["detail"]
    assert Delivery.objects.count() == 0
    # Nor does email (a phone case is answered by email): refused, not sent as text.
    from khoshnud.cases.services import case_open

    email_case = case_open(customer_id=shop.customer.pk, kind="support", channel="phone")
    resp = _reply(shop, email_case, {"template": {"name": "x", "language": "en"}}, cap)
    assert resp.status_code == 422 and "email has no message templates" in resp.json()["detail"]
    assert Delivery.objects.count() == 0


def test_the_case_page_offers_the_template_and_sends_it(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    signed_post(hook_path(add_account("whatsapp")), wa_body(ago=30 * 3600), cap)
    case = Case.objects.get()
    case.customer.locale = "fa"
    case.customer.save(update_fields=["locale"])
    browser = Client()
    browser.force_login(shop.manager)
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="template-form"' in page and 'name="template_language"' in page
    assert 'value="fa"' in page  # the customer's language, WhatsApp's code for it
    provider.answer(f"/v21.0/{PHONE_ID}/messages", 200, {"messages": [{"id": "wamid.TPL3"}]})
    with cap(execute=True):
        resp = browser.post(f"/cases/{case.pk}/replies/", {
            "template_name": "order_update", "template_language": "fa",
            "template_params": "سارا\n\n۱۲۳۴\n"})  # fmt: skip
    assert resp.status_code == 302, resp.content
    [sent] = provider.requests
    assert sent.body["type"] == "template"
    assert [p["text"] for p in sent.body["template"]["components"][0]["parameters"]] == [
        "سارا", "۱۲۳۴"
    ]  # fmt: skip
    # A wrong name comes back on the page with the reason; nothing more is sent.
    resp = browser.post(f"/cases/{case.pk}/replies/", {
        "template_name": "Bad Name", "template_language": "fa", "template_params": ""})  # fmt: skip
    assert resp.status_code == 400 and "lower-case letters, digits and _" in resp.content.decode()
    assert len(provider.requests) == 1


def _ig_case(hours_ago: float, capture: Any) -> Case:
    path = hook_path(add_account("instagram"))
    message = ig_message() | {"timestamp": int((time.time() - hours_ago * 3600) * 1000)}
    resp = signed_post(path, ig_body(message), capture, secret="ig-app-secret")
    assert resp.status_code == 200, resp.content
    return Case.objects.get()


def test_instagram_after_24_hours_the_reply_carries_the_human_agent_tag(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    case = _ig_case(3 * 24, cap)  # three days ago: within Instagram's 7 days
    browser = Client()
    browser.force_login(shop.manager)
    assert "human agent tag" in browser.get(f"/cases/{case.pk}/").content.decode()
    provider.answer("/v21.0/me/messages", 200, {"recipient_id": "1", "message_id": "m.1"})
    resp = _reply(shop, case, {"text": "Sorry for the wait: it ships today."}, cap)
    assert resp.status_code == 201, resp.content
    [sent] = provider.requests
    assert sent.body == {
        "recipient": {"id": "6735487123456789"},
        "message": {"text": "Sorry for the wait: it ships today."},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
    }


def test_instagram_after_7_days_a_reply_is_refused_and_nothing_stored(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    case = _ig_case(8 * 24, cap)
    before = Interaction.objects.count()
    resp = _reply(shop, case, {"text": "hello"}, cap)
    assert resp.status_code == 422
    assert "only within 7 days of the customer's last message" in resp.json()["detail"]
    assert Interaction.objects.count() == before and provider.requests == []
    browser = Client()
    browser.force_login(shop.manager)
    assert (
        "Instagram refuses replies until they write again"
        in browser.get(f"/cases/{case.pk}/").content.decode()
    )


def test_instagram_within_24_hours_sends_a_plain_reply(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    case = _ig_case(2, cap)
    provider.answer("/v21.0/me/messages", 200, {"recipient_id": "1", "message_id": "m.2"})
    assert _reply(shop, case, {"text": "hi"}, cap).status_code == 201
    assert "tag" not in provider.requests[0].body
