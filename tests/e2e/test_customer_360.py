"""In a real browser: log in, switch language, search (also by a Persian-digit phone), open the
customer 360 and filter the timeline by channel — in English, Persian (RTL) and Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from khoshnud.accounts.services import staff_create
from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from tests.web.conftest import TEHRAN, analyse, ingester, make_sara

pytestmark = pytest.mark.e2e

TEXTS = [
    ("telegram", "سلام، سفارش A-1042 هنوز نرسیده. کد رهگیری رو می‌فرستید؟"),
    ("email", "Hi, the grinder (model GR-1) makes a loud noise — ممنون که پیگیری می‌کنید"),
    ("phone", "تماس برای تنظیم آسیاب؛ مشکل حل شد"),
    ("telegram", "خیلی ممنون، قهوه عالی شد! 😊"),
    ("sms", "کد تخفیف تولدتون: BDAY-15"),
    ("telegram", "Order A-1042 shipped, tracking 99-123 — ارسال شد"),
]


def build_data() -> dict[str, Any]:
    staff_create(username="nasrin", password="Tulip-garden-77", role="agent", first_name="Nasrin")
    sara = make_sara()
    add = ingester(sara)
    ids: dict[str, list[int]] = {}
    for n, (channel, text) in enumerate(TEXTS):
        at = dt.datetime(2026, 11, 20 - n, 9, 30, tzinfo=TEHRAN)
        outbound = channel == "sms" or text.startswith("Order")
        iid = add(
            channel=channel,
            at=at,
            text=text,
            direction="outbound" if outbound else "inbound",
            type="notification" if outbound else ("call" if channel == "phone" else "message"),
            stage="service",
            staff="nasrin" if outbound or channel == "phone" else None,
        )
        ids.setdefault(channel, []).append(iid)
        if not outbound:
            analyse(
                iid,
                sara.pk,
                need="support" if n < 3 else "care",
                sentiment="negative" if n < 2 else "positive",
            )
    wang = customer_create(
        data={
            "first_name": "芳",
            "last_name": "王",
            "locale": "zh-hans",
            "tier": "key",
            "identities": {"wechat": "wangfang88", "phone": "+86 138 0013 8000"},
            "personal_dates": [{"kind": "birthday", "calendar": "chinese", "date": "08-15"}],
        }
    )
    ingester(wang)(
        channel="wechat",
        at=dt.datetime(2026, 11, 18, 15, 0, tzinfo=TEHRAN),
        text="咖啡机什么时候到货？",
    )
    customer_create(
        data={
            "first_name": "Emma",
            "last_name": "Stone",
            "identities": {"email": "emma@example.com"},
        }
    )
    return {"sara": sara, "wang": wang, "ids": ids}


LABELS = {
    "en": {
        "timeline": "Timeline",
        "telegram": "Telegram",
        "consents": "Consents in force",
        "date": "20 Nov 2026",
    },
    "fa": {
        "timeline": "تاریخچهٔ تعاملات",
        "telegram": "تلگرام",
        "consents": "رضایت‌های معتبر",
        "date": "۲۹ آبان ۱۴۰۵",
    },
    "zh-hans": {
        "timeline": "时间线",
        "telegram": "Telegram",
        "consents": "当前有效的同意",
        "date": "2026年11月20日",
    },
}
SHOT_NAMES = {"en": "en", "fa": "fa", "zh-hans": "zh"}


def log_in(page: Any, base: str, language: str, username: str = "nasrin") -> None:
    from playwright.sync_api import expect

    page.goto(base + "/")
    assert "/accounts/login/" in page.url  # login required
    if language != "en":
        page.click(f'.lang-switch button[value="{language}"]')  # the switcher, as a person would
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', "Tulip-garden-77")
    page.click('form .button-primary[type="submit"]')
    page.wait_for_url(base + "/")


@pytest.mark.parametrize("language", ["en", "fa", "zh-hans"])
def test_search_open_360_and_filter_timeline(
    language: str, live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    data = build_data()
    sara: Customer = data["sara"]
    base = live_server.url
    labels = LABELS[language]
    name = SHOT_NAMES[language]

    log_in(page, base, language)
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl" if language == "fa" else "ltr")

    # Live search by a phone typed in Persian digits, with spaces
    results = page.locator("#customer-results .customer-link")
    expect(results).to_have_count(3)
    page.fill("#q", "۰۹۱۲ ۳۴۵ ۶۷۸۹")
    expect(results).to_have_count(1)
    expect(results).to_have_text("سارا کریمی")
    assert "q=" in page.url  # the search is in the address bar (pushed by htmx)
    # ... and by a Chinese name
    page.fill("#q", "王芳")
    expect(results).to_have_count(1)
    expect(results).to_have_text("王芳")
    page.fill("#q", "")
    expect(results).to_have_count(3)
    page.screenshot(path=str(screenshots / f"{name}-list.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    expect(results).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshots / f"{name}-list-mobile.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.fill("#q", "۰۹۱۲۳۴۵۶۷۸۹")
    expect(results).to_have_count(1)
    results.first.click()
    page.wait_for_url(f"{base}/customers/{sara.pk}/")
    expect(page.locator("#timeline-h")).to_have_text(labels["timeline"])
    expect(page.locator("#consents-h")).to_have_text(labels["consents"])
    expect(page.locator(".identities")).to_contain_text("+989123456789")
    expect(page.locator("#timeline .tl-item")).to_have_count(len(TEXTS))
    expect(page.locator("#timeline .tl-time").first).to_contain_text(labels["date"])

    # Filter the timeline by channel: htmx swaps the panel and pushes the URL
    page.select_option('#timeline select[name="channel"]', "telegram")
    items = page.locator("#timeline .tl-item")
    expect(items).to_have_count(len(data["ids"]["telegram"]))
    for i in range(items.count()):
        expect(items.nth(i)).to_have_attribute("data-channel", "telegram")
    expect(items.first.locator(".tl-channel")).to_have_text(labels["telegram"])
    assert "channel=telegram" in page.url
    ids = [int(items.nth(i).get_attribute("id").split("-")[1]) for i in range(items.count())]
    assert ids == data["ids"]["telegram"]  # newest first
    # Mixed Persian/English text is laid out by its own direction
    expect(items.first.locator(".tl-text")).to_have_attribute("dir", "auto")

    if language == "fa":
        direction = page.evaluate("getComputedStyle(document.querySelector('.tl-item')).direction")
        assert direction == "rtl"
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith('"Vazirmatn"') or font.startswith("Vazirmatn")
        assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    if language == "zh-hans":
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "Noto Sans CJK SC" in font

    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

    # The same page at phone width
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    expect(items).to_have_count(len(data["ids"]["telegram"]))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"horizontal scroll at 375px: {width}px wide"
    page.screenshot(path=str(screenshots / f"{name}-mobile.png"), full_page=True)


def test_load_more_and_period_filter(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    staff_create(username="nasrin", password="Tulip-garden-77", role="agent")
    sara = make_sara()
    add = ingester(sara)
    start = dt.datetime(2026, 9, 1, 10, 0, tzinfo=TEHRAN)
    for n in range(45):
        add(channel="email", at=start + dt.timedelta(days=n), text=f"message {n}")
    log_in(page, live_server.url, "en")
    page.goto(f"{live_server.url}/customers/{sara.pk}/")
    items = page.locator("#timeline .tl-item")
    expect(items).to_have_count(20)
    page.click("#timeline .load-more a")
    expect(items).to_have_count(40)
    page.click("#timeline .load-more a")
    expect(items).to_have_count(45)
    expect(page.locator("#timeline .load-more")).to_have_count(0)
    # A period typed into the date inputs: 2026-09-01 .. 2026-09-10 is ten messages
    page.fill('#timeline input[name="from"]', "2026-09-01")
    page.fill('#timeline input[name="to"]', "2026-09-10")
    page.click("#timeline .filter-fields .button-primary")
    expect(items).to_have_count(10)
    expect(items.first.locator(".tl-text")).to_have_text("message 9")


def test_agent_corrects_need_and_sentiment(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    from khoshnud.language.models import MessageAnalysis

    data = build_data()
    sara: Customer = data["sara"]
    first = data["ids"]["telegram"][0]
    log_in(page, live_server.url, "fa")
    page.goto(f"{live_server.url}/customers/{sara.pk}/")
    item = page.locator(f"#interaction-{first}")
    item.locator("details.correct summary").click()
    item.locator('select[name="need"]').select_option("care")
    item.locator('select[name="sentiment"]').select_option("positive")
    item.locator('button[type="submit"]').click()
    item = page.locator(f"#interaction-{first}")
    expect(item.locator(".saved")).to_be_visible()
    expect(item.locator(".need-care")).to_have_text("مراقبت")
    expect(item.locator(".sent-positive")).to_have_text("مثبت")
    stored = MessageAnalysis.objects.get(pk=first)
    assert (stored.final_need, stored.final_sentiment) == ("care", "positive")
    page.screenshot(path=str(screenshots / "fa-corrected.png"), full_page=True)
