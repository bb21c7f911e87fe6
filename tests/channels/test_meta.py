"""WhatsApp Cloud API and Instagram messaging (Meta webhooks): the hub.challenge handshake,
X-Hub-Signature-256 over the raw body, messages, receipts, and replies against a local
server playing the Graph API (its success and error bodies)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from khoshnud.cases.models import Case
from khoshnud.channels.models import Delivery
from khoshnud.channels.webhooks import meta_signature
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop
from tests.channels.messaging_helpers import INSTAGRAM, WHATSAPP, add_account, hook_path
from tests.channels.providers import FakeProvider

pytestmark = pytest.mark.django_db
PHONE_ID = WHATSAPP["phone_number_id"]


def test_the_signature_matches_a_vector_computed_with_openssl() -> None:
    # printf '%s' '{"object":"whatsapp_business_account"}' | openssl dgst -sha256 -hmac meta-app-secret
    assert meta_signature(b'{"object":"whatsapp_business_account"}', "meta-app-secret") == (
        "sha256=81176fcf9ac718ce2812972d013a8e62f99e6d50aee56fd0e9d9d954c7c0c1b0"
    )


def wa_body(*, message_id: str = "wamid.HBgMOTg5MTIxMjM0NTY3FQIAEhggQ0E", ago: int = 3600,
            text: str = "سلام، سفارش من کجاست؟", phone_id: str = PHONE_ID,
            message: dict[str, Any] | None = None) -> bytes:  # fmt: skip
    msg = message or {"type": "text", "text": {"body": text}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_id},
        "contacts": [{"profile": {"name": "Sara"}, "wa_id": "989121234567"}],
        "messages": [{"from": "989121234567", "id": message_id,
                      "timestamp": str(int(time.time()) - ago)} | msg],
    }  # fmt: skip
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}  # fmt: skip
    return json.dumps(body, ensure_ascii=False).encode()


def statuses(wamid: str, *states: str) -> bytes:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID},
             "statuses": [{"id": wamid, "status": s, "timestamp": "1764750000",
                           "recipient_id": "989121234567"} for s in states]}  # fmt: skip
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}]}).encode()  # fmt: skip


def signed_post(path: str, raw: bytes, capture: Any, secret: str | None = "meta-app-secret",
                signature: str | None = None) -> Any:  # fmt: skip
    headers = {}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = meta_signature(raw, secret)
    with capture(execute=True):
        return Client(enforce_csrf_checks=True).post(
            path, raw, content_type="application/json", headers=headers
        )


def test_the_subscription_handshake_echoes_the_challenge_for_the_verify_token(shop: Shop) -> None:
    path = hook_path(add_account("whatsapp"))
    client = Client()
    ok = client.get(path, {"hub.mode": "subscribe", "hub.verify_token": "wa-verify-me",
                           "hub.challenge": "1158201444"})  # fmt: skip
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    wrong = client.get(path, {"hub.mode": "subscribe", "hub.verify_token": "nope",
                              "hub.challenge": "1158201444"})  # fmt: skip
    assert wrong.status_code == 403 and b"1158201444" not in wrong.content
    assert client.get(path, {"hub.mode": "subscribe", "hub.challenge": "1"}).status_code == 401
    assert (
        client.get(
            path, {"hub.mode": "unsubscribe", "hub.verify_token": "wa-verify-me"}
        ).status_code
        == 403
    )


def test_signed_whatsapp_messages_are_stored_once_and_unsigned_or_altered_ones_never(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    account = add_account("whatsapp")
    path = hook_path(account)
    raw = wa_body()
    cap = django_capture_on_commit_callbacks
    # Refused: no signature, a wrong secret, the body changed by one byte after signing.
    assert signed_post(path, raw, cap, secret=None).status_code == 401
    assert signed_post(path, raw, cap, secret="another-secret").status_code == 403
    altered = raw.replace(b"989121234567", b"989121234568", 1)
    assert len(altered) == len(raw)
    assert (
        signed_post(
            path, altered, cap, signature=meta_signature(raw, "meta-app-secret")
        ).status_code
        == 403
    )
    assert (
        signed_post(
            path, raw[:-1] + b" ", cap, signature=meta_signature(raw, "meta-app-secret")
        ).status_code
        == 403
    )
    assert Interaction.objects.count() == 0 and Case.objects.count() == 0

    first = signed_post(path, raw, cap)
    assert first.status_code == 200 and first.json()["created"] == 1, first.content
    again = signed_post(path, raw, cap)
    assert again.json()["duplicates"] == 1
    [message] = Interaction.objects.all()
    assert message.external_id == f"{account['id']}:wamid.HBgMOTg5MTIxMjM0NTY3FQIAEhggQ0E"
    assert message.text == "سلام، سفارش من کجاست؟"
    assert message.metadata["whatsapp"]["reply_to"] == "989121234567"
    assert list(message.customer.identities.values_list("kind", "value")) == [
        ("whatsapp", "+989121234567")]  # fmt: skip
    assert message.customer.first_name == "Sara"
    assert Case.objects.get().channel == "whatsapp"
    # Another number of the same app is not this account's: skipped, acknowledged.
    other = signed_post(path, wa_body(message_id="wamid.other", phone_id="999"), cap)
    assert other.status_code == 200 and other.json()["created"] == 0
    # Malformed JSON, even signed, is a 400.
    assert signed_post(path, b'{"entry": [', cap).status_code == 400
    assert Interaction.objects.count() == 1


def test_a_whatsapp_image_is_stored_with_its_media_id_and_caption(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    path = hook_path(add_account("whatsapp"))
    raw = wa_body(message={"type": "image", "image": {
        "caption": "این آسیاب است", "mime_type": "image/jpeg",
        "sha256": "abc=", "id": "1048183416012345"}})  # fmt: skip
    assert signed_post(path, raw, django_capture_on_commit_callbacks).status_code == 200
    message = Interaction.objects.get()
    assert message.text == "این آسیاب است"
    assert message.metadata["whatsapp"]["attachments"] == [
        {"kind": "image", "id": "1048183416012345", "mime_type": "image/jpeg", "sha256": "abc="}]  # fmt: skip


def _reply(shop: Shop, case: Case, text: str, capture: Any) -> Any:
    with capture(execute=True):
        return shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies", {"text": text}, content_type="application/json"
        )


def test_a_reply_inside_the_window_goes_to_the_cloud_api_and_receipts_move_it_to_read(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    account = add_account("whatsapp")
    path = hook_path(account)
    signed_post(path, wa_body(ago=3600), cap)
    case = Case.objects.get()
    provider.answer(f"/v21.0/{PHONE_ID}/messages", 200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "989121234567", "wa_id": "989121234567"}],
        "messages": [{"id": "wamid.OUT1"}]})  # fmt: skip
    resp = _reply(shop, case, "سفارش شما فردا می‌رسد.", cap)
    assert resp.status_code == 201, resp.content
    [sent] = provider.requests
    assert (sent.method, sent.path) == ("POST", f"/v21.0/{PHONE_ID}/messages")
    assert sent.headers["Authorization"] == "Bearer EAAG-wa-token"
    assert sent.body == {"messaging_product": "whatsapp", "recipient_type": "individual",
                         "to": "989121234567", "type": "text",
                         "text": {"preview_url": False, "body": "سفارش شما فردا می‌رسد."}}  # fmt: skip
    out = resp.json()
    delivery = Delivery.objects.get(interaction_id=out["id"])
    assert (delivery.status, delivery.provider_id) == ("sent", "wamid.OUT1")

    receipt = signed_post(path, statuses("wamid.OUT1", "delivered", "read"), cap)
    assert receipt.json()["receipts"] == 2
    assert Delivery.objects.get(pk=delivery.pk).status == "read"
    late = signed_post(path, statuses("wamid.OUT1", "delivered"), cap)  # never backwards
    assert late.json()["receipts"] == 0
    assert Delivery.objects.get(pk=delivery.pk).status == "read"
    # A receipt body changed by one byte is refused like any other.
    raw = statuses("wamid.OUT1", "failed")
    assert signed_post(path, raw.replace(b"failed", b"faile "), cap,
                       signature=meta_signature(raw, "meta-app-secret")).status_code == 403  # fmt: skip
    assert Delivery.objects.get(pk=delivery.pk).status == "read"


def test_outside_the_24_hour_window_a_free_text_reply_is_refused_and_the_page_says_so(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    path = hook_path(add_account("whatsapp"))
    signed_post(path, wa_body(ago=25 * 3600), cap)
    case = Case.objects.get()
    before = Interaction.objects.count()
    resp = _reply(shop, case, "hello", cap)
    assert resp.status_code == 422
    assert "only within 24 hours of the customer's last message" in resp.json()["detail"]
    assert "only an approved template may be sent" in resp.json()["detail"]
    assert Interaction.objects.count() == before and Delivery.objects.count() == 0
    assert provider.requests == []
    browser = Client()
    browser.force_login(shop.manager)
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="reply-window"' in page


@pytest.mark.parametrize(
    ("status", "error", "outcome", "attempts"),
    [
        (400, {"message": "(#131047) Re-engagement message", "type": "OAuthException",
               "code": 131047, "error_data": {"messaging_product": "whatsapp",
               "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
               "fbtrace_id": "AbCd"}, "failed", 1),
        (401, {"message": "Error validating access token: Session has expired", "type": "OAuthException",
               "code": 190, "error_subcode": 463, "fbtrace_id": "AbCd"}, "failed", 1),
        (400, {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
               "error_data": {"messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached."},
               "fbtrace_id": "AbCd"}, "sent", 2),
        (503, {"message": "Service temporarily unavailable", "code": 2}, "sent", 2),
    ],
)  # fmt: skip
def test_graph_errors_are_permanent_or_retried_by_their_code(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any,
    status: int, error: dict[str, Any], outcome: str, attempts: int,
) -> None:  # fmt: skip
    cap = django_capture_on_commit_callbacks
    path = hook_path(add_account("whatsapp"))
    signed_post(path, wa_body(), cap)
    provider.answer(f"/v21.0/{PHONE_ID}/messages", status, {"error": error})
    provider.answer(f"/v21.0/{PHONE_ID}/messages", 200, {"messages": [{"id": "wamid.LATER"}]})
    resp = _reply(shop, Case.objects.get(), "hello", cap)
    delivery = Delivery.objects.get(interaction_id=resp.json()["id"])
    assert (delivery.status, delivery.attempts) == (outcome, attempts)
    if outcome == "failed":
        assert f"WhatsApp {error['code']}:" in delivery.last_error
        assert len(provider.requests) == 1


# ---- Instagram --------------------------------------------------------------------------------


def ig_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"object": "instagram", "entry": [
        {"id": "17841400000000000", "time": 1764750000, "messaging": list(events)}]}).encode()  # fmt: skip


def ig_message(
    mid: str = "aWdfZAG1faWQ6MTc4", text: str = "Is the grinder in stock?", **extra: Any
) -> dict[str, Any]:
    return {"sender": {"id": "6735487123456789"}, "recipient": {"id": "17841400000000000"},
            "timestamp": int(time.time() * 1000), "message": {"mid": mid, "text": text} | extra}  # fmt: skip


def test_instagram_messages_replies_and_read_receipts(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    account = add_account("instagram")
    path = hook_path(account)
    raw = ig_body(ig_message(), ig_message(mid="echo-1", is_echo=True),
                  ig_message(mid="pic-1", text="", attachments=[
                      {"type": "image", "payload": {"url": "https://lookaside.fbsbx.com/ig/1"}}]))  # fmt: skip
    assert signed_post(path, raw, cap, secret="meta-app-secret").status_code == 403
    resp = signed_post(path, raw, cap, secret="ig-app-secret")
    assert resp.status_code == 200 and resp.json()["created"] == 2, resp.content
    assert signed_post(path, raw, cap, secret="ig-app-secret").json()["duplicates"] == 2
    texts = dict(Interaction.objects.values_list("external_id", "text"))
    assert texts == {f"{account['id']}:aWdfZAG1faWQ6MTc4": "Is the grinder in stock?",
                     f"{account['id']}:pic-1": ""}  # fmt: skip
    pic = Interaction.objects.get(external_id=f"{account['id']}:pic-1")
    assert pic.metadata["instagram"]["attachments"] == [
        {"kind": "image", "url": "https://lookaside.fbsbx.com/ig/1"}]  # fmt: skip
    assert list(pic.customer.identities.values_list("kind", "value")) == [
        ("instagram", "6735487123456789")]  # fmt: skip
    case = Case.objects.get()
    provider.answer("/v21.0/me/messages", 200,
                    {"recipient_id": "6735487123456789", "message_id": "aWdfZAG1faWQ6OUT"})  # fmt: skip
    reply = _reply(shop, case, "Yes, 3 left.", cap)
    assert reply.status_code == 201, reply.content
    [sent] = provider.requests
    assert (sent.path, sent.headers["Authorization"]) == (
        "/v21.0/me/messages",
        "Bearer IGQ-ig-token",
    )
    assert sent.body == {
        "recipient": {"id": "6735487123456789"},
        "message": {"text": "Yes, 3 left."},
    }
    delivery = Delivery.objects.get(interaction_id=reply.json()["id"])
    assert (delivery.status, delivery.provider_id) == ("sent", "aWdfZAG1faWQ6OUT")
    read = ig_body({"sender": {"id": "6735487123456789"}, "recipient": {"id": "1"},
                    "timestamp": 1764750000000, "read": {"mid": "aWdfZAG1faWQ6OUT"}})  # fmt: skip
    assert signed_post(path, read, cap, secret="ig-app-secret").json()["receipts"] == 1
    assert Delivery.objects.get(pk=delivery.pk).status == "read"
    # Instagram allows 1,000 characters.
    too_long = _reply(shop, case, "x" * 1001, cap)
    assert too_long.status_code == 422 and "1,000 characters" in too_long.json()["detail"]
    assert INSTAGRAM["access_token"] not in delivery.last_error


def test_a_number_the_phone_rules_refuse_is_kept_as_an_external_id_not_lost(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    path = hook_path(add_account("whatsapp"))
    raw = wa_body().replace(b"989121234567", b"1555000")  # not a valid phone number
    resp = signed_post(path, raw, django_capture_on_commit_callbacks)
    assert resp.status_code == 200 and resp.json()["created"] == 1, resp.content
    message = Interaction.objects.get()
    assert list(message.customer.identities.values_list("kind", "value")) == [
        ("external", "whatsapp:+1555000")]  # fmt: skip
    assert message.metadata["whatsapp"]["reply_to"] == "1555000"
