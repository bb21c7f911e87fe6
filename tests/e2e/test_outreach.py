"""In a real browser, in Persian: create a birthday rule, preview it with a customer, switch
it on and see tomorrow's recipients (screenshots in var/screenshots/outreach-*.png)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jdatetime
import pytest
from django.utils import timezone

from khoshnud.accounts.services import staff_create
from khoshnud.calendars import from_gregorian, persian_digits
from khoshnud.customers.services import customer_create
from tests.e2e.test_customer_360 import log_in

pytestmark = pytest.mark.e2e


def build_data() -> dict[str, Any]:
    staff_create(username="nasrin", password="Tulip-garden-77", role="manager", first_name="Nasrin")
    # Birthdays the day after tomorrow: with one day's lead their greeting goes tomorrow.
    day = timezone.localdate() + dt.timedelta(days=2)
    j = jdatetime.date.fromgregorian(date=day)
    sara = customer_create(
        data={
            "first_name": "سارا",
            "last_name": "کریمی",
            "locale": "fa",
            "calendar": "jalali",
            "time_zone": "Asia/Tehran",
            "identities": {"email": "sara@example.com"},
            "personal_dates": [
                {
                    "kind": "birthday",
                    "calendar": "jalali",
                    "date": f"1370-{j.month:02d}-{j.day:02d}",
                }
            ],
            "consents": [{"channel": "email", "granted": True, "method": "فرم باشگاه مشتریان"}],
        }
    )
    lunar = from_gregorian(day, "chinese")
    wang = customer_create(
        data={
            "first_name": "芳",
            "last_name": "王",
            "locale": "zh-hans",
            "calendar": "chinese",
            "time_zone": "Asia/Shanghai",
            "identities": {"email": "wang@example.com"},
            "personal_dates": [
                {"kind": "birthday", "calendar": "chinese",
                 "date": f"{lunar.month:02d}-{lunar.day:02d}", "leap_month": lunar.leap_month}
            ],
            "consents": [{"channel": "email", "granted": True, "method": "会员表格"}],
        }
    )  # fmt: skip
    return {"sara": sara, "wang": wang, "jalali": j}


def test_create_preview_and_switch_on_a_birthday_rule_in_persian(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    data = build_data()
    base = live_server.url
    log_in(page, base, "fa")
    page.click("nav.mainnav >> text=ارتباط فعال")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.click("text=قاعدهٔ تازه")
    page.fill("#name", "تبریک تولد")
    page.select_option("#kind", "occasion")
    page.select_option("#occasion", "birthday")
    page.fill("#lead_days", "۱")  # Persian digits are read as numbers
    page.select_option("#channel1", "email")
    page.select_option("#channel2", "")
    page.fill("#window_start", "09:00")
    page.fill("#window_end", "20:00")
    page.fill("#offer_code", "BDAY-15")
    page.fill("#subject_fa", "تولدت مبارک {{ nickname }}")
    page.fill("#body_fa", "سلام {{ first_name }}، {{ occasion }} شما در {{ occasion_date }} مبارک!")
    page.click("#save")
    # An unknown field is refused when the rule is saved, naming it; nothing is stored.
    expect(page.locator("#rule-error")).to_contain_text("nickname")
    page.fill("#subject_fa", "تولدت مبارک {{ first_name }}")
    page.fill(
        "#body_fa",
        "سلام {{ first_name }}، {{ occasion }} شما در {{ occasion_date }} مبارک! "
        "کد تخفیف شما: {{ offer_code }}",
    )
    page.click("#save")
    expect(page.locator("[role=status]")).to_contain_text("قاعده ذخیره شد")
    # Preview with a real customer, in her language and calendar.
    page.select_option("#preview-customer", str(data["sara"].pk))
    page.click("#preview button[type=submit]")
    preview = page.locator("#preview-message")
    j = data["jalali"]
    months = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
              "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")  # fmt: skip
    expected_date = persian_digits(f"{j.day} {months[j.month - 1]}")
    expect(preview).to_contain_text("سلام سارا، تولد شما در " + expected_date + " مبارک!")
    expect(preview).to_contain_text("BDAY-15")
    expect(preview).to_have_attribute("dir", "rtl")
    expect(page.locator("#preview-channel")).to_contain_text("email")
    page.screenshot(path=str(screenshots / "outreach-preview-fa.png"), full_page=True)
    page.click("#activate")
    page.click("nav.mainnav >> text=ارتباط فعال")
    tomorrow = page.locator("#tomorrow")
    expect(tomorrow).to_contain_text("سارا کریمی")
    expect(tomorrow).to_contain_text("芳 王")
    expect(tomorrow).to_contain_text("تبریک تولد")
    page.screenshot(path=str(screenshots / "outreach-tomorrow-fa.png"), full_page=True)
