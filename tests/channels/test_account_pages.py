"""The admins' channel accounts page (add, webhook URL, test message) and the admin's view,
neither showing a credential in clear."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from khoshnud.accounts.services import staff_create
from khoshnud.channels.credentials import decrypt
from khoshnud.channels.messaging_services import TEST_TEXT
from khoshnud.channels.models import ChannelAccount
from tests.channels.messaging_helpers import TELEGRAM, WHATSAPP
from tests.channels.providers import FakeProvider

pytestmark = pytest.mark.django_db
CSRF = "k" * 32


def browser(role: str = "admin") -> Client:
    user = staff_create(username=f"page-{role}", password="Tulip-garden-77", role=role)
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.cookies["csrftoken"] = CSRF
    client.force_login(user)
    return client


def test_an_admin_adds_a_telegram_bot_and_sees_its_webhook_url_never_its_secrets() -> None:
    client = browser()
    form = {"provider": "telegram", "name": "ربات فروشگاه",
            "telegram-bot_token": TELEGRAM["bot_token"],
            "telegram-secret_token": TELEGRAM["secret_token"],
            "whatsapp-access_token": "ignored"}  # fmt: skip
    resp = client.post("/channels/accounts/add/", form)
    assert resp.status_code == 302 and resp["Location"] == "/channels/accounts/"
    account = ChannelAccount.objects.get()
    assert (account.provider, account.name) == ("telegram", "ربات فروشگاه")
    assert decrypt(account.credentials_encrypted) == TELEGRAM
    page = client.get("/channels/accounts/").content.decode()
    assert f"http://testserver/hooks/{account.slug}" in page
    assert "ربات فروشگاه" in page
    assert TELEGRAM["bot_token"] not in page and TELEGRAM["secret_token"] not in page
    # The admin site shows the credentials masked.
    admin_page = client.get(f"/admin/channels/channelaccount/{account.pk}/change/").content.decode()
    assert TELEGRAM["bot_token"] not in admin_page
    assert "bot_token: ••••••••ot" in admin_page


def test_missing_credentials_are_refused_in_the_page_and_nothing_stored() -> None:
    client = browser()
    form = {"provider": "whatsapp", "name": "WA", "whatsapp-access_token": WHATSAPP["access_token"]}
    resp = client.post("/channels/accounts/add/", form)
    assert resp.status_code == 400
    text = resp.content.decode()
    assert "whatsapp needs" in text and "phone_number_id" in text
    assert WHATSAPP["access_token"] not in text  # typed secrets are not echoed back
    assert ChannelAccount.objects.count() == 0


def test_a_manager_may_not_open_the_page() -> None:
    assert browser("manager").get("/channels/accounts/").status_code == 403


def test_the_test_button_queues_a_test_message_and_shows_its_result(
    provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    client = browser()
    client.post("/channels/accounts/add/", {
        "provider": "telegram", "name": "Bot", "telegram-bot_token": TELEGRAM["bot_token"],
        "telegram-secret_token": TELEGRAM["secret_token"]})  # fmt: skip
    account = ChannelAccount.objects.get()
    provider.answer("/bot", 200, {"ok": True, "result": {"message_id": 1}})
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/channels/accounts/{account.pk}/test/", {"recipient": "5551234"})
    assert resp.status_code == 302
    [sent] = provider.requests
    assert sent.body == {"chat_id": 5551234, "text": TEST_TEXT}
    account.refresh_from_db()
    assert (account.last_test_status, account.last_test_error) == ("sent", "")
    # The provider refuses the token: the page says so.
    provider.answer("/bot", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/channels/accounts/{account.pk}/test/", {"recipient": "5551234"})
    account.refresh_from_db()
    assert account.last_test_status == "failed"
    assert account.last_test_error.startswith("Telegram 401: Unauthorized (the provider refused")
    page = client.get("/channels/accounts/").content.decode()
    assert "Telegram 401: Unauthorized" in page
    assert (
        client.post(f"/channels/accounts/{account.pk}/test/", {"recipient": ""}).status_code == 400
    )


@pytest.mark.parametrize(
    ("language", "direction", "heading"),
    [
        ("fa", "rtl", "کانال‌های پیام‌رسان"),
        ("zh-hans", "ltr", "即时通讯渠道"),
        ("en", "ltr", "Messaging channels"),
    ],
)
def test_the_page_speaks_the_viewers_language(language: str, direction: str, heading: str) -> None:
    client = browser()
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    page = client.get("/channels/accounts/").content.decode()
    assert f'dir="{direction}"' in page
    assert heading in page
