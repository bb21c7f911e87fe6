"""In a real browser, in Persian: an admin adds a Telegram bot on the Channels page and sees
its webhook URL; an update posted to that URL (as Telegram would) opens a case; an agent
answers in Persian from the case page, and the local server playing the Bot API receives
sendMessage with the customer's chat id and the text."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from khoshnud.accounts.services import staff_create
from khoshnud.cases.models import Case
from khoshnud.channels.models import ChannelAccount
from khoshnud.ops.demo_data import demo_service_catalog
from tests.channels.messaging_helpers import TELEGRAM
from tests.channels.providers import FakeProvider, serve
from tests.e2e.test_customer_360 import log_in

pytestmark = pytest.mark.e2e

REPLY = "سلام سارا، آسیاب جایگزین فردا ارسال می‌شود. ببخشید بابت تأخیر."
UPDATE = {
    "update_id": 700001,
    "message": {
        "message_id": 41,
        "from": {"id": 5551234, "is_bot": False, "first_name": "سارا", "language_code": "fa"},
        "chat": {"id": 5551234, "first_name": "سارا", "type": "private"},
        "date": int(time.time()),
        "text": "سلام، آسیابی که خریدم خراب شده و صدا می‌دهد. کی درست می‌شود؟",
    },
}


@pytest.fixture
def provider(settings: Any) -> Iterator[FakeProvider]:
    """The local server playing the Bot API (TELEGRAM_API_BASE points at it)."""
    fake = FakeProvider()
    server = serve(fake)
    settings.TELEGRAM_API_BASE = fake.base
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_add_a_bot_receive_an_update_reply_in_persian(
    live_server: Any, transactional_db: Any, browser: Any, provider: FakeProvider,
    screenshots: Path,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    demo_service_catalog()
    staff_create(username="nasrin", password="Tulip-garden-77", role="admin", first_name="Nasrin")
    staff_create(username="omid", password="Tulip-garden-77", role="agent",
                 teams=["service", "support", "care"])  # fmt: skip
    base = live_server.url

    # The admin adds the bot.
    admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fa-IR")
    page = admin.new_page()
    page.set_default_timeout(10_000)
    log_in(page, base, "fa", username="nasrin")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.click('.mainnav a[href="/channels/accounts/"]')
    expect(page.locator("h1")).to_have_text("کانال‌های پیام‌رسان")
    page.select_option("#provider", "telegram")
    page.fill("#name", "ربات فروشگاه قهوه")
    page.fill("#telegram-bot_token", TELEGRAM["bot_token"])
    page.fill("#telegram-secret_token", TELEGRAM["secret_token"])
    page.locator('form[action="/channels/accounts/add/"] button[type="submit"]').click()
    account = ChannelAccount.objects.get()
    url_box = page.locator(f"#account-{account.pk} .webhook-url")
    expect(url_box).to_have_value(f"{base}/hooks/{account.slug}")
    expect(url_box).to_have_attribute("dir", "ltr")  # a URL stays left to right in the rtl page
    expect(page.locator(f"#account-{account.pk}")).to_contain_text("ربات فروشگاه قهوه")
    assert TELEGRAM["bot_token"] not in page.content()
    page.screenshot(path=str(screenshots / "fa-channel-accounts.png"), full_page=True)
    webhook_url = url_box.input_value()
    admin.close()

    # Telegram posts an update to the URL the page showed.
    request = urllib.request.Request(  # noqa: S310 (the live test server)
        webhook_url, data=json.dumps(UPDATE).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 "X-Telegram-Bot-Api-Secret-Token": TELEGRAM["secret_token"]},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert json.loads(response.read())["created"] == 1
    case = Case.objects.get()  # the pipeline opened it (the test queue runs at once)
    assert case.channel == "telegram"

    # An agent answers from the case page.
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fa-IR")
    page = agent.new_page()
    page.set_default_timeout(10_000)
    log_in(page, base, "fa", username="omid")
    page.click('.mainnav a[href="/cases/"]')
    row = page.locator("#case-results tr", has=page.locator(f'a[href="/cases/{case.pk}/"]'))
    expect(row.locator(".case-channel")).to_have_text("تلگرام")  # the channel, in Persian
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator(".thread")).to_contain_text("آسیابی که خریدم خراب شده")
    expect(page.locator(".thread .tl-channel").first).to_have_text("تلگرام")
    provider.answer("/bot", 200, {"ok": True, "result": {
        "message_id": 42, "date": 1764750100, "chat": {"id": 5551234, "type": "private"},
        "text": REPLY}})  # fmt: skip
    page.fill("#reply-text", REPLY)
    page.locator("#reply-text ~ button").click()
    expect(page.locator(".alert").first).to_contain_text("5551234")
    expect(page.locator(".alert").first).not_to_contain_text(":5551234")  # the chat, not the key
    expect(page.locator(".thread")).to_contain_text(REPLY)
    [sent] = provider.requests
    assert sent.path == f"/bot{TELEGRAM['bot_token']}/sendMessage"
    assert sent.body == {"chat_id": 5551234, "text": REPLY}
    expect(page.locator(".thread .tl-outbound").last).to_contain_text(REPLY)
    page.screenshot(path=str(screenshots / "fa-telegram-case.png"), full_page=True)
    agent.close()
