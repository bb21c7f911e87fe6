"""In a real browser: the Jalali date picker (fa), Chinese date fields (zh), the 404 page in
Persian, the admin in Persian, and the 360 page at phone width (390×844) in three languages.

Screenshots go to var/screenshots/ (see docs/ui.md) — look at them when changing the layout.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from khoshnud.accounts.services import staff_create
from khoshnud.customers.models import Customer
from tests.e2e.test_customer_360 import build_data, log_in
from tests.web.conftest import TEHRAN, ingester

pytestmark = pytest.mark.e2e


def open_picker_at(page: Any, field: str, title: str) -> Any:
    """Open the picker of ``field`` and page back to the month called ``title``."""
    from playwright.sync_api import expect

    root = page.locator(f'#timeline .datepicker:has(input[name="{field}"])')
    root.locator(".datepicker-toggle").click()
    panel = root.locator(".datepicker-panel")
    expect(panel).to_be_visible()
    for _ in range(36):
        if panel.locator(".datepicker-title").inner_text() == title:
            break
        panel.locator(".datepicker-prev").click()
    expect(panel.locator(".datepicker-title")).to_have_text(title)
    return panel


def test_jalali_date_picker_in_persian(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    data = build_data()  # Sara's messages: 15–20 Nov 2026 = 24–29 Aban 1405
    sara: Customer = data["sara"]
    log_in(page, live_server.url, "fa")
    page.goto(f"{live_server.url}/customers/{sara.pk}/")
    items = page.locator("#timeline .tl-item")
    expect(items).to_have_count(6)
    assert page.locator('#timeline input[type="date"]').count() == 0  # no mm/dd/yyyy field

    panel = open_picker_at(page, "from", "آبان ۱۴۰۵")
    # Weeks start on Saturday; days in Persian digits; 1 Aban 1405 (23 Oct 2026) is a Friday.
    expect(panel.locator("thead th").first).to_have_text("ش")
    first_row = panel.locator("tbody tr").first.locator("td")
    expect(first_row.nth(6).locator("button")).to_have_text("۱")
    assert panel.locator(".datepicker-day").count() == 30  # Aban has 30 days
    page.screenshot(path=str(screenshots / "fa-datepicker.png"))
    panel.locator(".datepicker-day", has_text="۲۶").click()
    expect(panel).to_be_hidden()
    expect(page.locator('#timeline input[name="from"]')).to_have_value("۱۴۰۵/۰۸/۲۶")

    panel = open_picker_at(page, "to", "آبان ۱۴۰۵")
    panel.locator(".datepicker-day", has_text="۲۸").click()
    expect(page.locator('#timeline input[name="to"]')).to_have_value("۱۴۰۵/۰۸/۲۸")
    page.click("#timeline .filter-fields .button-primary")
    # 26–28 Aban = 17–19 Nov: the messages of the 17th, 18th and 19th
    expect(items).to_have_count(3)
    assert "from=1405-08-26" in page.url and "to=1405-08-28" in page.url
    # The field keeps the Jalali date after the swap and after a reload of the pushed URL
    expect(page.locator('#timeline input[name="from"]')).to_have_value("۱۴۰۵/۰۸/۲۶")
    page.reload()
    expect(page.locator('#timeline input[name="from"]')).to_have_value("۱۴۰۵/۰۸/۲۶")
    expect(items).to_have_count(3)
    # Keyboard: the picker opens on the chosen day; arrows move (RTL: left is the next day)
    page.locator('#timeline .datepicker:has(input[name="from"]) .datepicker-toggle').click()
    focused = page.locator(".datepicker-day:focus")
    expect(focused).to_have_text("۲۶")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".datepicker-day:focus")).to_have_text("۲۷")
    page.keyboard.press("Enter")
    expect(page.locator('#timeline input[name="from"]')).to_have_value("۱۴۰۵/۰۸/۲۷")
    page.screenshot(path=str(screenshots / "fa-filtered-by-jalali-dates.png"), full_page=True)


def test_chinese_date_fields_write_year_month_day(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    data = build_data()
    sara: Customer = data["sara"]
    log_in(page, live_server.url, "zh-hans")
    page.goto(f"{live_server.url}/customers/{sara.pk}/")
    field = page.locator('#timeline input[name="from"]')
    expect(field).to_have_attribute("placeholder", "2026-11-20")
    assert page.locator('#timeline input[type="date"]').count() == 0
    panel = open_picker_at(page, "from", "2026年11月")
    expect(panel.locator("thead th").first).to_have_text("一")  # weeks start on Monday
    # 1 Nov 2026 is a Sunday: the last cell of the first row
    expect(panel.locator("tbody tr").first.locator("td").nth(6).locator("button")).to_have_text("1")
    page.screenshot(path=str(screenshots / "zh-datepicker.png"))
    panel.locator(".datepicker-day", has_text="18").first.click()
    expect(field).to_have_value("2026-11-18")
    # Typed the Chinese way works too
    page.fill('#timeline input[name="to"]', "2026年11月19日")
    page.click("#timeline .filter-fields .button-primary")
    expect(page.locator("#timeline .tl-item")).to_have_count(2)  # the 18th and the 19th
    expect(page.locator('#timeline input[name="to"]')).to_have_value("2026-11-19")
    assert "from=2026-11-18" in page.url and "to=2026-11-19" in page.url


def test_404_page_in_persian(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    staff_create(username="nasrin", password="Tulip-garden-77", role="agent")
    log_in(page, live_server.url, "fa")
    response = page.goto(f"{live_server.url}/customers/987654/")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("این صفحه وجود ندارد")
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).direction") == "rtl"
    page.screenshot(path=str(screenshots / "fa-404.png"))
    page.click("text=بازگشت به مشتریان")
    page.wait_for_url(live_server.url + "/")


@pytest.mark.parametrize("language", ["en", "fa", "zh-hans"])
def test_phone_width_profile_first_compact_header(
    language: str, live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    data = build_data()
    sara: Customer = data["sara"]
    add = ingester(sara)
    for n in range(40):  # a long timeline
        at = dt.datetime(2026, 10, 1, 9, 0, tzinfo=TEHRAN) + dt.timedelta(hours=n)
        add(channel="email", at=at, external_id=f"long-{n}", text=f"message {n}")
    from django.contrib.auth.models import User

    # A staff member: the menu also has "Administration", the longest header there is.
    User.objects.filter(username="nasrin").update(is_staff=True, first_name="Nasrin Karimi")
    log_in(page, live_server.url, language)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/customers/{sara.pk}/")
    expect(page.locator("#timeline .tl-item")).to_have_count(20)
    box = lambda selector: page.locator(selector).first.bounding_box()  # noqa: E731
    header = box(".topbar")
    # One row (47 px here; it was 158 px, three rows, in English before)
    assert header["height"] <= 64, f"header {header['height']}px high: more than one row"
    profile, timeline = box("#profile-h"), box("#timeline")
    assert profile["y"] < timeline["y"], "the profile must come before the timeline"
    assert profile["y"] < 844, "the profile must be on the first screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    name = {"en": "en", "fa": "fa", "zh-hans": "zh"}[language]
    page.screenshot(path=str(screenshots / f"{name}-phone-360.png"))
    page.screenshot(path=str(screenshots / f"{name}-phone-360-full.png"), full_page=True)
    # The customer list at phone width: the tier badge keeps its own width
    page.goto(f"{live_server.url}/")
    badge = box(".table.customers .badge")
    cell = box(".table.customers td:has(.badge)")
    assert badge["width"] < cell["width"] / 2, (badge, cell)
    page.screenshot(path=str(screenshots / f"{name}-phone-list.png"), full_page=True)
    # The favicon is linked and served
    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert href.endswith("favicon.svg")
    assert page.request.get(live_server.url + href).status == 200


def test_admin_in_persian_keeps_phone_numbers_in_order(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    data = build_data()
    sara: Customer = data["sara"]
    staff_create(username="boss", password="Tulip-garden-77", role="admin")  # the admin role
    log_in(page, live_server.url, "fa", username="boss")
    page.goto(f"{live_server.url}/admin/customers/customer/{sara.pk}/change/")
    expect(page.locator("#site-name")).to_have_text("مدیریت خشنود")
    # Customers are read-only in the admin (services own them): the phone is shown as text.
    phone = page.locator("td.field-value p", has_text="+989123456789")
    expect(phone).to_have_count(1)
    # Laid out left to right inside the right-to-left page: the "+" is at the left end.
    assert phone.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    page.screenshot(path=str(screenshots / "fa-admin-customer.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/")
    page.screenshot(path=str(screenshots / "fa-admin.png"), full_page=True)
