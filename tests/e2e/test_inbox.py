"""In a real browser, in Persian: an agent takes a case from the queue, writes an internal note,
hands the case to support and resolves it; the case page reads right to left, also on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from khoshnud.accounts.services import staff_create
from khoshnud.cases.models import Case, CaseInteraction
from khoshnud.cases.services import case_open
from khoshnud.interactions.models import Interaction
from khoshnud.ops.demo_data import demo_service_catalog
from tests.e2e.test_customer_360 import log_in
from tests.web.conftest import make_sara

pytestmark = pytest.mark.e2e

REPLY = "سلام سارا، مدل ۲۰۲ برای اسپرسو مناسب است."
NOTE = "مشتری قدیمی است؛ آسیاب را هفتهٔ پیش خریده. لطفاً با شمارهٔ ۰۹۱۲ تماس بگیرید."


def test_take_note_hand_off_resolve_in_persian(
    live_server: Any, transactional_db: Any, page: Any, browser: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    demo_service_catalog()
    # Nasrin works in service and in support: after the hand-off the case is still hers.
    staff_create(username="nasrin", password="Tulip-garden-77", role="agent",
                 first_name="Nasrin", teams=["service", "support"])  # fmt: skip
    staff_create(username="omid", password="Tulip-garden-77", role="agent", teams=["care"])
    sara = make_sara()
    case = case_open(customer_id=sara.pk, kind="service", channel="email",
                     subject="آسیاب صدا می‌دهد، کدام مدل را بخرم؟")  # fmt: skip
    case_open(customer_id=sara.pk, kind="care", channel="email", subject="بازپرداخت")
    base = live_server.url

    log_in(page, base, "fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.click('.mainnav a[href="/cases/"]')
    expect(page.locator("h1")).to_have_text("پرونده‌ها")
    # The unassigned tab, by keyboard: focus the tab link and press Enter.
    page.locator(".tabs a", has_text="بی‌مسئول").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/?tab=unassigned")
    rows = page.locator("#case-results .case-link")
    expect(rows).to_have_count(1)  # the care case is another team's
    expect(rows.first).to_contain_text("آسیاب صدا می‌دهد")
    expect(page.locator("#case-results")).to_contain_text("مانده")  # time left, in Persian
    page.screenshot(path=str(screenshots / "fa-inbox.png"), full_page=True)
    rows.first.click()
    page.wait_for_url(f"**/cases/{case.pk}/")

    page.click("text=برداشتن")  # Take
    expect(page.locator(".alert").first).to_have_text("این پرونده را برداشتید.")
    page.fill("#note-text", NOTE)
    page.click("text=افزودن یادداشت")
    expect(page.locator(".tl-note .tl-text")).to_have_text(NOTE)
    expect(page.locator(".tl-note .tl-text")).to_have_attribute("dir", "auto")

    # A reply in Persian: queued, sent by email (the test's outbox), shown in the thread.
    page.fill("#reply-text", REPLY)
    page.locator("#reply-text ~ button").click()
    expect(page.locator(".alert").first).to_contain_text("sara@example.com")
    expect(page.locator(".timeline")).to_contain_text(REPLY)
    [sent] = mail.outbox
    assert sent.to == ["sara@example.com"] and REPLY in sent.body
    html = sent.alternatives[0][0]  # type: ignore[attr-defined]
    assert 'dir="rtl"' in html and 'lang="fa"' in html and REPLY in html

    page.select_option('select[name="kind"]', "support")
    page.fill('input[name="reason"]', "مشکل فنی")
    page.click("text=واگذار کن >> nth=-1")
    expect(page.locator(".alert").first).to_have_text("پرونده واگذار شد.")
    expect(page.locator(".case-head .need-support")).to_be_visible()
    page.click(".case-actions button.status-resolved")
    expect(page.locator(".case-status")).to_have_text("حل‌شده")
    expect(page.locator(".history")).to_contain_text("پرونده را واگذار کرد")
    page.screenshot(path=str(screenshots / "fa-case.png"), full_page=True)

    case.refresh_from_db()
    assert (case.kind, case.team.name, case.status) == ("support", "support", "resolved")
    assert case.assignee is not None and case.assignee.username == "nasrin"
    note = Interaction.objects.get(text=NOTE)
    assert note.type == "note" and CaseInteraction.objects.get(interaction=note).role == "note"

    # The Persian case page reads right to left: the customer panel is left of the thread.
    main_box = page.locator(".c360-main").bounding_box()
    side_box = page.locator(".c360-side").bounding_box()
    assert side_box["x"] < main_box["x"]

    # On a phone (390 px): one column, nothing wider than the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fa-IR")
    mobile = phone.new_page()
    mobile.context.add_cookies(page.context.cookies())
    mobile.goto(f"{base}/cases/{case.pk}/")
    expect(mobile.locator("html")).to_have_attribute("dir", "rtl")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    mobile.screenshot(path=str(screenshots / "fa-case-phone.png"), full_page=True)
    mobile.goto(f"{base}/cases/?tab=team&status=resolved")
    expect(mobile.locator("#case-results .case-link")).to_have_count(1)
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    mobile.screenshot(path=str(screenshots / "fa-inbox-phone.png"), full_page=True)
    phone.close()
    assert Case.objects.filter(status="resolved").count() == 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_inbox_and_case_page_in_english_and_chinese(
    language: str, live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    demo_service_catalog()
    staff_create(username="nasrin", password="Tulip-garden-77", role="agent", teams=["support"])
    sara = make_sara()
    case = case_open(customer_id=sara.pk, kind="support", channel="email", priority="high",
                     subject="Grinder GR-1 makes a loud noise")  # fmt: skip
    log_in(page, live_server.url, language)
    page.click('.mainnav a[href="/cases/"]')
    expect(page.locator("h1")).to_have_text({"en": "Cases", "zh-hans": "工单"}[language])
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    # Filter by priority: htmx swaps the results and the address follows.
    page.select_option('select[name="priority"]', "low")
    expect(page.locator("#case-results .case-link")).to_have_count(0)
    page.wait_for_url("**priority=low**")
    page.select_option('select[name="priority"]', "high")
    expect(page.locator("#case-results .case-link")).to_have_count(1)
    left = {"en": " left", "zh-hans": "剩余"}[language]
    expect(page.locator("#case-results")).to_contain_text(left)
    name = "en" if language == "en" else "zh"
    page.screenshot(path=str(screenshots / f"{name}-inbox.png"), full_page=True)
    page.click("#case-results .case-link")
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.keyboard.press("Tab")  # the skip link first: the page is keyboard-reachable
    page.screenshot(path=str(screenshots / f"{name}-case.png"), full_page=True)
