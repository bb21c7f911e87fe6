"""Telegram end to end: the account by the API, the verified webhook, a case, a reply by
sendMessage to a local server playing the Bot API (its real formats, errors and 429)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from khoshnud.cases.models import Case
from khoshnud.channels.models import ChannelAccount, Delivery
from khoshnud.customers.models import Identity
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop
from tests.channels.messaging_helpers import (
    TELEGRAM,
    add_account,
    admin_client,
    hook_path,
    post_json,
)
from tests.channels.providers import FakeProvider

pytestmark = pytest.mark.django_db
SECRET = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM["secret_token"]}


def update(update_id: int = 900001, text: str = "آسیاب من خراب شده و صدا می‌دهد",
           message_id: int = 77, **message: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": 5551234, "is_bot": False, "first_name": "Sara",
                     "last_name": "Karimi", "username": "sara_k", "language_code": "fa"},
            "chat": {"id": 5551234, "first_name": "Sara", "type": "private"},
            "date": 1764750000,  # 2025-12-03T08:20:00Z
            "text": text,
        } | message,
    }  # fmt: skip


def counts() -> tuple[int, int, int]:
    return Interaction.objects.count(), Case.objects.count(), Identity.objects.count()


def test_the_account_is_created_with_its_webhook_url_and_credentials_never_shown(
    shop: Shop,
) -> None:
    out = add_account("telegram", name="Shop bot")
    assert set(out) == {"id", "webhook_url"}
    account = ChannelAccount.objects.get(pk=out["id"])
    assert out["webhook_url"] == f"http://testserver/hooks/{account.slug}"
    assert len(account.slug) == 32
    # Encrypted at rest: neither secret appears in the stored column.
    assert TELEGRAM["bot_token"] not in account.credentials_encrypted
    assert TELEGRAM["secret_token"] not in account.credentials_encrypted
    client = admin_client()
    listed = client.get("/api/v1/channels/accounts").json()
    detail = client.get(f"/api/v1/channels/accounts/{out['id']}").json()
    assert listed == [detail]
    assert (detail["provider"], detail["name"], detail["webhook_url"]) == (
        "telegram", "Shop bot", out["webhook_url"]
    )  # fmt: skip
    for text in (str(listed), str(detail)):
        assert TELEGRAM["bot_token"] not in text and "credentials" not in text
    assert client.get("/api/v1/channels/accounts/999999").status_code == 404


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"provider": "telegram", "name": "x", "credentials": {"bot_token": "1:A"}},
         "telegram needs ['secret_token']"),
        ({"provider": "signal", "name": "x", "credentials": {}}, "unknown provider 'signal'"),
        ({"provider": "telegram", "name": "x",
          "credentials": TELEGRAM | {"secret_token": "has space"}}, "without spaces"),
        ({"provider": "telegram", "name": "x",
          "credentials": TELEGRAM | {"secret_token": "bad!chars"}}, "A-Z, a-z, 0-9, _ and -"),
        ({"provider": "whatsapp", "name": "x",
          "credentials": {"access_token": "t", "phone_number_id": "1", "app_secret": "s"}},
         "whatsapp needs ['verify_token']"),
        ({"provider": "telegram", "name": "x", "credentials": TELEGRAM | {"extra": "1"}},
         "unknown keys ['extra']"),
        ({"provider": "telegram", "name": "", "credentials": TELEGRAM}, "name"),
    ],
)  # fmt: skip
def test_credentials_that_do_not_fit_the_provider_are_refused_with_400(
    shop: Shop, body: dict[str, Any], detail: str
) -> None:
    resp = admin_client().post("/api/v1/channels/accounts", body, content_type="application/json")
    assert resp.status_code == 400, resp.content
    assert detail in resp.json()["detail"]
    assert ChannelAccount.objects.count() == 0


def test_only_an_admin_with_a_write_token_adds_an_account(shop: Shop) -> None:
    body = {"provider": "telegram", "name": "x", "credentials": TELEGRAM}
    read_only = admin_client("ro-admin", scopes=("read",))
    assert read_only.post("/api/v1/channels/accounts", body,
                          content_type="application/json").status_code == 403  # fmt: skip
    manager = shop.client(shop.manager)
    assert manager.post("/api/v1/channels/accounts", body,
                        content_type="application/json").status_code == 403  # fmt: skip
    assert manager.get("/api/v1/channels/accounts").status_code == 403
    assert ChannelAccount.objects.count() == 0


def test_an_update_is_stored_once_and_opens_a_case_then_the_reply_goes_by_send_message(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    account = add_account("telegram")
    path = hook_path(account)
    first = post_json(path, update(), django_capture_on_commit_callbacks, **SECRET)
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 1
    again = post_json(path, update(), django_capture_on_commit_callbacks, **SECRET)
    assert (again.status_code, again.json()["created"], again.json()["duplicates"]) == (200, 0, 1)

    [message] = Interaction.objects.all()
    assert (message.channel, message.source, message.direction) == (
        "telegram",
        "telegram",
        "inbound",
    )
    assert message.external_id == f"{account['id']}:5551234:77"
    assert message.text == "آسیاب من خراب شده و صدا می‌دهد"
    assert message.occurred_at == dt.datetime(2025, 12, 3, 8, 20, tzinfo=dt.UTC)
    meta = message.metadata["telegram"]
    assert (meta["account_id"], meta["reply_to"], meta["update_id"], meta["username"]) == (
        account["id"], "5551234", 900001, "sara_k"
    )  # fmt: skip
    customer = message.customer
    assert (customer.first_name, customer.locale) == ("Sara Karimi", "fa")
    assert list(customer.identities.values_list("kind", "value")) == [("telegram", "5551234")]
    [case] = Case.objects.all()
    assert (case.customer_id, case.channel) == (customer.pk, "telegram")

    provider.answer("/bot", 200, {"ok": True, "result": {
        "message_id": 78, "from": {"id": 123456, "is_bot": True, "first_name": "Shop"},
        "chat": {"id": 5551234, "type": "private"}, "date": 1764750100,
        "text": "سلام سارا، فردا آسیاب جدید می‌فرستیم."}})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        resp = shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies",
            {"text": "سلام سارا، فردا آسیاب جدید می‌فرستیم."},
            content_type="application/json",
        )
    assert resp.status_code == 201, resp.content
    out = resp.json()
    assert (out["channel"], out["to"], out["status"]) == (
        "telegram",
        f"{account['id']}:5551234",
        "queued",
    )
    [sent] = provider.requests
    assert (sent.method, sent.path) == ("POST", f"/bot{TELEGRAM['bot_token']}/sendMessage")
    assert sent.body == {"chat_id": 5551234, "text": "سلام سارا، فردا آسیاب جدید می‌فرستیم."}
    delivery = Delivery.objects.get(interaction_id=out["id"])
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 1, "78")
    reply = Interaction.objects.get(pk=out["id"])
    assert (reply.channel, reply.source, reply.direction) == ("telegram", "telegram", "outbound")


def test_an_edit_a_photo_a_location_and_a_channel_post_are_stored_as_what_they_are(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    path = hook_path(add_account("telegram"))
    photo = update(900002, message_id=80, text=None, caption="این عکس آسیاب است", photo=[
        {"file_id": "small-id", "file_unique_id": "s", "file_size": 1200, "width": 90, "height": 90},
        {"file_id": "big-id", "file_unique_id": "b", "file_size": 54000, "width": 800, "height": 800},
    ])  # fmt: skip
    del photo["message"]["text"]
    where = update(900003, message_id=81, location={"latitude": 35.7, "longitude": 51.4})
    del where["message"]["text"]
    edited = {"update_id": 900004, "edited_message": update(message_id=77, text="ویرایش شد")["message"]
              | {"edit_date": 1764750300}}  # fmt: skip
    post = {"update_id": 900005, "channel_post": {"message_id": 5, "date": 1764750000,
            "chat": {"id": -1001234567890, "title": "Shop news", "type": "channel"}, "text": "news"}}  # fmt: skip
    for body in (photo, where, edited, post):
        resp = post_json(path, body, django_capture_on_commit_callbacks, **SECRET)
        assert resp.status_code == 200 and resp.json()["created"] == 1, resp.content
    rows = {i.external_id.split(":", 1)[1]: i for i in Interaction.objects.all()}
    assert rows["5551234:80"].text == "این عکس آسیاب است"
    assert rows["5551234:80"].metadata["telegram"]["attachments"] == [
        {"kind": "photo", "file_id": "big-id", "file_unique_id": "b", "file_size": 54000,
         "width": 800, "height": 800}]  # fmt: skip
    assert rows["5551234:81"].metadata["telegram"]["attachments"] == [
        {"kind": "location", "latitude": 35.7, "longitude": 51.4}]  # fmt: skip
    assert rows["5551234:77:edit:1764750300"].text == "ویرایش شد"
    channel_post = rows["-1001234567890:5"]
    assert list(channel_post.customer.identities.values_list("kind", "value")) == [
        ("external", "telegram-chat:-1001234567890")]  # fmt: skip


def test_unverified_or_malformed_updates_are_refused_and_nothing_is_stored(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    path = hook_path(add_account("telegram"))
    before = counts()
    cases = [
        ({}, update(), 401, "missing"),
        ({"X-Telegram-Bot-Api-Secret-Token": "tg-secret_43"}, update(), 403, "does not match"),
        ({"X-Telegram-Bot-Api-Secret-Token": ""}, update(), 401, "missing"),
        (SECRET, b'{"update_id": 1, "message": ', 400, "JSON"),
        (SECRET, {"message": {"text": "no id"}}, 400, "update_id"),
        (SECRET, {"update_id": 3, "message": {"message_id": 1, "text": "no chat"}}, 400, "chat"),
    ]
    for headers, body, status, detail in cases:
        resp = post_json(path, body, django_capture_on_commit_callbacks, **headers)
        assert resp.status_code == status, (body, resp.content)
        assert detail in resp.json()["detail"]
    assert counts() == before
    unknown = post_json(
        "/hooks/no-such-slug", update(), django_capture_on_commit_callbacks, **SECRET
    )
    assert unknown.status_code == 404
    # What Telegram sends that is not a message is acknowledged and skipped.
    member = {"update_id": 7, "my_chat_member": {"chat": {"id": 1}}}
    resp = post_json(path, member, django_capture_on_commit_callbacks, **SECRET)
    assert resp.status_code == 200 and resp.json()["created"] == 0
    assert counts() == before


def test_a_body_over_the_limit_is_refused_with_413(
    shop: Shop, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KHOSHNUD_WEBHOOK_MAX_BYTES = 2048
    path = hook_path(add_account("telegram"))
    resp = post_json(path, update(text="x" * 3000), django_capture_on_commit_callbacks, **SECRET)
    assert resp.status_code == 413
    assert Interaction.objects.count() == 0


def _case_with_reply(shop: Shop, capture: Any, settings: Any = None) -> tuple[Case, Any]:
    path = hook_path(add_account("telegram"))
    post_json(path, update(), capture, **SECRET)
    case = Case.objects.get()
    if settings is not None:  # the reply's delivery waits in the queue: the test attempts it
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with capture(execute=True):
        resp = shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies", {"text": "hello"}, content_type="application/json"
        )
    assert resp.status_code == 201, resp.content
    return case, resp.json()


def test_a_429_is_retried_after_the_retry_after_telegram_asks_for(
    shop: Shop, provider: FakeProvider, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KHOSHNUD_DELIVERY_RETRY_SECONDS = 1
    settings.KHOSHNUD_DELIVERY_MAX_ATTEMPTS = 2
    from khoshnud.channels.services import delivery_attempt

    provider.answer("/bot", 429, {"ok": False, "error_code": 429,
                    "description": "Too Many Requests: retry after 35",
                    "parameters": {"retry_after": 35}})  # fmt: skip
    _case, out = _case_with_reply(shop, django_capture_on_commit_callbacks, settings)
    assert provider.requests == []
    before = timezone.now()
    assert delivery_attempt(interaction_id=out["id"]) == "queued"
    delivery = Delivery.objects.get(interaction_id=out["id"])
    assert delivery.attempts == 1
    assert "Telegram 429: Too Many Requests: retry after 35" in delivery.last_error
    assert delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 34 <= wait <= 36  # Telegram's 35 s, not our 1 s back-off
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 99}})
    assert delivery_attempt(interaction_id=out["id"]) == "sent"
    assert Delivery.objects.get(interaction_id=out["id"]).provider_id == "99"


def test_a_blocked_bot_fails_at_once_and_the_case_page_shows_it(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.answer("/bot", 403, {"ok": False, "error_code": 403,
                                  "description": "Forbidden: bot was blocked by the user"})  # fmt: skip
    case, out = _case_with_reply(shop, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(interaction_id=out["id"])
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == (
        "PermanentSendError: Telegram 403: Forbidden: bot was blocked by the user"
    )
    assert len(provider.requests) == 1  # not retried
    shop.manager.refresh_from_db()
    from django.test import Client

    browser = Client()
    browser.force_login(shop.manager)
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert "bot was blocked by the user" in page
    assert "Sent to the customer in the chat their last message came from." in page
    assert 'class="tl-channel">Telegram<' in page  # every message says its channel


def test_a_5xx_then_success_sends_once_more(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.answer("/bot", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 100}})
    _case, out = _case_with_reply(shop, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(interaction_id=out["id"])
    # The in-process backend of the tests retries at once.
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 2, "100")


def test_split_text_cuts_at_paragraphs_then_lines_then_spaces_then_anywhere() -> None:
    from khoshnud.channels.messaging import split_text

    assert split_text("short", 10) == ["short"]
    # 14 units, limit 10: the paragraph break at 4 is not in the second half (≥ 5) of the
    # first 10, its second newline at 5 is: cut after it.
    assert split_text("aaaa\n\nbb cc dd", 10) == ["aaaa", "bb cc dd"]
    # Limit 8: the break at 4 is in the second half (≥ 4): cut there.
    assert split_text("aaaa\n\nbbbbbbb", 8) == ["aaaa", "bbbbbbb"]
    # A space in the second half when there is no line break.
    assert split_text("aaaaaa bbbbbb", 10) == ["aaaaaa", "bbbbbb"]
    # No break at all: cut at the limit.
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    # Telegram counts UTF-16 units: an emoji is 2, so five fit in 10.
    assert split_text("😀" * 6, 10) == ["😀" * 5, "😀"]


def test_a_reply_longer_than_telegram_allows_goes_in_parts_and_a_retry_sends_only_the_rest(
    shop: Shop, provider: FakeProvider, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from khoshnud.channels.services import delivery_attempt

    settings.KHOSHNUD_DELIVERY_MAX_ATTEMPTS = 3
    path = hook_path(add_account("telegram"))
    post_json(path, update(), django_capture_on_commit_callbacks, **SECRET)
    case = Case.objects.get()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    # Three paragraphs of 3,000 characters: 3,000 + 2 + 3,000 > 4,096, and each break is in
    # the second half (≥ 2,048) of the 4,096 that fit: one paragraph a message.
    paragraphs = ["ا" * 3000, "ب" * 3000, "پ" * 3000]
    with django_capture_on_commit_callbacks(execute=True):
        resp = shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies", {"text": "\n\n".join(paragraphs)},
            content_type="application/json",
        )  # fmt: skip
    assert resp.status_code == 201, resp.content
    out = resp.json()
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 501}})
    provider.answer("/bot", 429, {"ok": False, "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3}})  # fmt: skip
    assert delivery_attempt(interaction_id=out["id"]) == "queued"
    delivery = Delivery.objects.get(interaction_id=out["id"])
    assert (delivery.provider_id, delivery.attempts) == ("501", 1)
    assert [r.body["text"] for r in provider.requests] == paragraphs[:2]
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 502}})
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 503}})
    assert delivery_attempt(interaction_id=out["id"]) == "sent"
    # The first part was not sent twice: 501 once, then the second again, then the third.
    assert [r.body["text"] for r in provider.requests] == [
        paragraphs[0],
        *paragraphs[1:],
        paragraphs[2],
    ][:1] + paragraphs[1:2] * 2 + paragraphs[2:]
    assert Delivery.objects.get(interaction_id=out["id"]).provider_id == "501,502,503"
    assert Interaction.objects.filter(direction="outbound").count() == 1  # one reply


def test_a_reply_that_would_need_more_than_five_messages_is_refused_and_nothing_stored(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    path = hook_path(add_account("telegram"))
    post_json(path, update(), django_capture_on_commit_callbacks, **SECRET)
    case = Case.objects.get()
    before = Interaction.objects.count()
    # 12,000 emoji are 24,000 UTF-16 units: 6 messages of at most 4,096.
    resp = shop.client(shop.manager).post(
        f"/api/v1/cases/{case.pk}/replies", {"text": "😀" * 12000}, content_type="application/json"
    )
    assert resp.status_code == 422
    assert "at most 5 messages for one reply; this reply needs 6" in resp.json()["detail"]
    assert Interaction.objects.count() == before and Delivery.objects.count() == 0
    assert provider.requests == []


def test_a_telegram_identity_added_to_a_known_customer_brings_their_messages_to_them(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    """One customer, many channels: Sara (known by email) gets her Telegram id; her Telegram
    message is hers, on its own Telegram case, beside her email history."""
    resp = shop.client(shop.manager).patch(
        f"/api/v1/customers/{shop.customer.pk}", {"identities": {"telegram": "5551234"}},
        content_type="application/json",
    )  # fmt: skip
    assert resp.status_code == 200, resp.content
    post_json(
        hook_path(add_account("telegram")), update(), django_capture_on_commit_callbacks, **SECRET
    )
    message = Interaction.objects.get()
    assert message.customer_id == shop.customer.pk
    assert sorted(shop.customer.identities.values_list("kind", "value")) == [
        ("email", "sara@example.com"), ("telegram", "5551234")]  # fmt: skip
    assert Case.objects.get().customer_id == shop.customer.pk
