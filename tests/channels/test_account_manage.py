"""Managing channel accounts after adding them: rename, replace credentials (write-only),
switch off and on, delete (refused when messages name the account), the test message by the
API; and credentials the provider refuses shown on the account and on the case."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from khoshnud.cases.models import Case
from khoshnud.channels.credentials import decrypt
from khoshnud.channels.messaging_services import TEST_TEXT
from khoshnud.channels.models import ChannelAccount, Delivery
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
from tests.channels.test_account_pages import browser
from tests.channels.test_telegram import SECRET, update

pytestmark = pytest.mark.django_db


def test_the_api_renames_rotates_one_credential_and_keeps_the_other(shop: Shop) -> None:
    out = add_account("telegram", name="Shop bot")
    client = admin_client()
    resp = client.patch(
        f"/api/v1/channels/accounts/{out['id']}",
        {"name": "ربات فروشگاه", "credentials": {"bot_token": "654321:NEW-token"}},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["name"] == "ربات فروشگاه" and body["webhook_url"] == out["webhook_url"]
    assert "654321:NEW-token" not in resp.content.decode()  # write-only
    account = ChannelAccount.objects.get(pk=out["id"])
    assert decrypt(account.credentials_encrypted) == {
        "bot_token": "654321:NEW-token", "secret_token": TELEGRAM["secret_token"]
    }  # fmt: skip
    # A bad value changes nothing (the name given with it is not saved either).
    resp = client.patch(
        f"/api/v1/channels/accounts/{out['id']}",
        {"name": "other", "credentials": {"secret_token": "has spaces in it"}},
        content_type="application/json",
    )
    assert resp.status_code == 400
    assert "secret_token" in resp.json()["detail"]
    account.refresh_from_db()
    assert account.name == "ربات فروشگاه"
    assert decrypt(account.credentials_encrypted)["secret_token"] == TELEGRAM["secret_token"]
    resp = client.patch(
        f"/api/v1/channels/accounts/{out['id']}", {"credentials": {"nonsense": "x"}},
        content_type="application/json",
    )  # fmt: skip
    assert resp.status_code == 400 and "unknown keys ['nonsense']" in resp.json()["detail"]
    assert client.patch("/api/v1/channels/accounts/999999", {"name": "x"},
                        content_type="application/json").status_code == 404  # fmt: skip


def test_a_switched_off_account_takes_no_webhook_and_a_deletion_is_refused_once_used(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    out = add_account("telegram")
    path = hook_path(out)
    client = admin_client()
    resp = client.patch(f"/api/v1/channels/accounts/{out['id']}", {"is_active": False},
                        content_type="application/json")  # fmt: skip
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    assert post_json(path, update(), capture, **SECRET).status_code == 404
    assert Interaction.objects.count() == 0
    client.patch(f"/api/v1/channels/accounts/{out['id']}", {"is_active": True},
                 content_type="application/json")  # fmt: skip
    assert post_json(path, update(), capture, **SECRET).status_code == 200
    assert Interaction.objects.count() == 1
    # A message came in by it: not deleted (409), still there, its message still there.
    resp = client.delete(f"/api/v1/channels/accounts/{out['id']}")
    assert resp.status_code == 409 and "switch it off instead" in resp.json()["detail"]
    assert ChannelAccount.objects.filter(pk=out["id"]).exists()
    assert Interaction.objects.count() == 1
    # An account never used is deleted.
    unused = add_account("wechat", name="公众号")
    assert client.delete(f"/api/v1/channels/accounts/{unused['id']}").status_code == 204
    assert not ChannelAccount.objects.filter(pk=unused["id"]).exists()
    assert client.delete(f"/api/v1/channels/accounts/{unused['id']}").status_code == 404


def test_only_an_admin_with_a_write_token_changes_an_account(shop: Shop) -> None:
    out = add_account("telegram")
    reader = admin_client("chan-reader", scopes=("read",))
    assert reader.patch(f"/api/v1/channels/accounts/{out['id']}", {"name": "x"},
                        content_type="application/json").status_code == 403  # fmt: skip
    assert reader.delete(f"/api/v1/channels/accounts/{out['id']}").status_code == 403
    manager = shop.client(shop.manager)
    assert manager.post(f"/api/v1/channels/accounts/{out['id']}/test", {"recipient": "1"},
                        content_type="application/json").status_code == 403  # fmt: skip
    assert ChannelAccount.objects.get().name == "Shop"


def test_the_api_test_message_is_queued_and_its_refusal_marks_the_credentials(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    out = add_account("telegram")
    client = admin_client()
    provider.answer("/bot", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/api/v1/channels/accounts/{out['id']}/test",
                           {"recipient": "5551234"}, content_type="application/json")  # fmt: skip
    assert resp.status_code == 202 and resp.json() == {"status": "queued"}
    [seen] = provider.requests
    assert seen.path == f"/bot{TELEGRAM['bot_token']}/sendMessage"
    assert seen.body == {"chat_id": 5551234, "text": TEST_TEXT}
    detail = client.get(f"/api/v1/channels/accounts/{out['id']}").json()
    assert detail["last_test_status"] == "failed"
    assert detail["auth_error"].startswith("Telegram 401: Unauthorized (the provider")
    # New credentials drop the refusal; the next test goes through.
    client.patch(f"/api/v1/channels/accounts/{out['id']}",
                 {"credentials": {"bot_token": "123456:rotated"}}, content_type="application/json")  # fmt: skip
    assert client.get(f"/api/v1/channels/accounts/{out['id']}").json()["auth_error"] == ""
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 5}})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/channels/accounts/{out['id']}/test", {"recipient": "5551234"},
                    content_type="application/json")  # fmt: skip
    assert provider.requests[-1].path == "/bot123456:rotated/sendMessage"
    assert client.get(f"/api/v1/channels/accounts/{out['id']}").json()["last_test_status"] == "sent"
    resp = client.post(f"/api/v1/channels/accounts/{out['id']}/test", {"recipient": " "},
                       content_type="application/json")  # fmt: skip
    assert resp.status_code == 400


def test_a_revoked_token_fails_the_reply_and_shows_on_the_case_and_the_account(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    out = add_account("telegram")
    post_json(hook_path(out), update(), capture, **SECRET)
    case = Case.objects.get()
    provider.answer("/bot", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with capture(execute=True):
        resp = shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies", {"text": "سلام"}, content_type="application/json"
        )
    assert resp.status_code == 201
    delivery = Delivery.objects.get(interaction_id=resp.json()["id"])
    assert (delivery.status, delivery.attempts) == ("failed", 1)  # not retried: it cannot work
    assert delivery.last_error.startswith("CredentialsRefused: Telegram 401: Unauthorized")
    page_client = Client()
    page_client.force_login(shop.manager)
    case_page = page_client.get(f"/cases/{case.pk}/").content.decode()
    assert "the provider refused this account&#x27;s credentials" in case_page
    accounts_page = browser().get("/channels/accounts/").content.decode()
    assert 'class="alert alert-error credentials-error"' in accounts_page
    assert "Telegram 401: Unauthorized" in accounts_page


def test_the_page_edits_switches_and_deletes_with_a_confirmation(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    client = browser()
    client.post("/channels/accounts/add/", {
        "provider": "telegram", "name": "Bot", "telegram-bot_token": TELEGRAM["bot_token"],
        "telegram-secret_token": TELEGRAM["secret_token"]})  # fmt: skip
    account = ChannelAccount.objects.get()
    page = client.get("/channels/accounts/").content.decode()
    assert f'action="/channels/accounts/{account.pk}/edit/"' in page
    # Empty credential fields keep theirs; the one typed replaces its own.
    resp = client.post(f"/channels/accounts/{account.pk}/edit/", {
        "name": "ربات", f"edit-{account.pk}-bot_token": "",
        f"edit-{account.pk}-secret_token": "rotated-secret_2"})  # fmt: skip
    assert resp.status_code == 302
    account.refresh_from_db()
    assert account.name == "ربات"
    assert decrypt(account.credentials_encrypted) == {
        "bot_token": TELEGRAM["bot_token"], "secret_token": "rotated-secret_2"
    }  # fmt: skip
    page = client.get("/channels/accounts/").content.decode()
    assert "rotated-secret_2" not in page and TELEGRAM["bot_token"] not in page
    assert client.post(f"/channels/accounts/{account.pk}/edit/", {"name": ""}).status_code == 400
    # Switch off and on.
    client.post(f"/channels/accounts/{account.pk}/switch/", {"is_active": "0"})
    account.refresh_from_db()
    assert account.is_active is False
    client.post(f"/channels/accounts/{account.pk}/switch/", {"is_active": "1"})
    account.refresh_from_db()
    assert account.is_active is True
    # Delete: without the tick nothing happens; once a message came in, refused with 409.
    assert client.post(f"/channels/accounts/{account.pk}/delete/", {}).status_code == 400
    post_json(f"/hooks/{account.slug}", update(), django_capture_on_commit_callbacks,
              **{"X-Telegram-Bot-Api-Secret-Token": "rotated-secret_2"})  # fmt: skip
    assert Interaction.objects.count() == 1
    resp = client.post(f"/channels/accounts/{account.pk}/delete/", {"confirm": "1"})
    assert resp.status_code == 409 and "switch it off" in resp.content.decode()
    assert ChannelAccount.objects.count() == 1
    other = ChannelAccount.objects.create(
        provider="wechat", name="x", slug="unused-slug", credentials_encrypted="x"
    )
    resp = client.post(f"/channels/accounts/{other.pk}/delete/", {"confirm": "1"})
    assert resp.status_code == 302
    assert list(ChannelAccount.objects.values_list("pk", flat=True)) == [account.pk]


@pytest.mark.parametrize(
    ("provider_name", "path", "status", "body", "words"),
    [
        ("whatsapp", "/v21.0/", 401, {"error": {
            "message": "Error validating access token: Session has expired", "type": "OAuthException",
            "code": 190, "error_subcode": 463, "fbtrace_id": "AbCd"}},
         "WhatsApp 190: Error validating access token"),
        ("instagram", "/v21.0/me/messages", 400, {"error": {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException", "code": 190, "fbtrace_id": "AbCd"}},
         "Instagram 190: Invalid OAuth access token"),
        ("wechat", "/cgi-bin/token", 200, {"errcode": 40125, "errmsg": "invalid appsecret"},
         "WeChat token 40125: invalid appsecret"),
    ],
)  # fmt: skip
def test_each_providers_refusal_of_the_credentials_marks_the_account(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any,
    provider_name: str, path: str, status: int, body: dict[str, Any], words: str,
) -> None:  # fmt: skip
    out = add_account(provider_name)
    provider.answer(path, status, body)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client().post(f"/api/v1/channels/accounts/{out['id']}/test", {"recipient": "x1"},
                            content_type="application/json")  # fmt: skip
    assert len(provider.requests) == 1  # refused once, not retried
    account = ChannelAccount.objects.get(pk=out["id"])
    assert account.last_test_status == "failed"
    assert account.credentials_error.startswith(words)
    assert "refused this account's credentials" in account.credentials_error


def test_a_rotated_secret_takes_effect_at_once_although_webhooks_keep_the_account(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    out = add_account("telegram")
    path = hook_path(out)
    assert post_json(path, update(), cap, **SECRET).status_code == 200  # the account is kept
    admin_client().patch(f"/api/v1/channels/accounts/{out['id']}",
                         {"credentials": {"secret_token": "rotated_3"}},
                         content_type="application/json")  # fmt: skip
    old = post_json(path, update(update_id=900002, message_id=78), cap, **SECRET)
    assert old.status_code == 403
    new = post_json(path, update(update_id=900002, message_id=78), cap,
                    **{"X-Telegram-Bot-Api-Secret-Token": "rotated_3"})  # fmt: skip
    assert new.status_code == 200 and new.json()["created"] == 1
    assert Interaction.objects.count() == 2
