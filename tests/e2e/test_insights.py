"""In a real browser: a manager opens the dashboard in Persian (right to left, a Jalali range
typed in the date fields, charts drawn from the right) and in Chinese, and looks at it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jdatetime
import pytest
from django.utils import timezone

from khoshnud.accounts.services import staff_create
from khoshnud.calendars import persian_digits
from khoshnud.cases.models import Case
from khoshnud.commerce.models import Product
from khoshnud.feedback.models import SurveyResponse
from khoshnud.insights.rollups import business_zone, rollups_rebuild
from khoshnud.interactions.models import Interaction
from tests.e2e.test_customer_360 import log_in
from tests.web.conftest import make_sara

pytestmark = pytest.mark.e2e


def _month_of_cases() -> None:
    """Forty cases over the last 20 days, of every kind and four channels, most answered
    within the hour, an NPS or CSAT answer and two interactions a case."""
    agents = [
        staff_create(
            username=f"agent-{kind}", password="Tulip-garden-77", role="agent", teams=[kind]
        )
        for kind in ("service", "support", "care")
    ]
    sara = make_sara()
    now = timezone.now()
    grinder = Product.objects.create(sku="G-1", name="آسیاب برقی", price=120, currency="USD")
    for i in range(40):
        opened = now - dt.timedelta(days=i // 2, hours=3 + i % 5)
        agent = agents[i % 3]
        Case.objects.create(
            customer=sara, kind=("service", "support", "care")[i % 3],
            status="resolved" if i % 4 else "open",
            channel=("email", "telegram", "phone", "whatsapp")[i % 4],
            team=agent.teams.get(), assignee=agent, time_zone="Asia/Tehran",
            opened_at=opened, last_message_at=opened,
            first_response_due=opened + dt.timedelta(hours=1),
            first_responded_at=opened + dt.timedelta(minutes=20 + 9 * (i % 7)),
            resolution_due=opened + dt.timedelta(hours=8),
            resolved_at=opened + dt.timedelta(hours=2 + i % 9) if i % 4 else None,
            product=grinder if i % 2 else None, product_source="set" if i % 2 else "none",
        )  # fmt: skip
        SurveyResponse.objects.create(
            kind=("nps", "csat")[i % 2], score=(10, 9, 7, 4, 5, 8, 2)[i % 7], customer=sara,
            agent=agent, channel="email", answered_at=opened + dt.timedelta(hours=5),
            source="import",
        )  # fmt: skip
        for j in range(2):
            Interaction.objects.create(
                customer=sara, channel=("email", "telegram", "phone", "whatsapp")[(i + j) % 4],
                direction="inbound", type="message", occurred_at=opened, source="e2e",
                external_id=f"{i}-{j}", created_at=now,
            )  # fmt: skip
    rollups_rebuild()


def test_the_dashboard_in_persian_and_chinese(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    staff_create(username="boss", password="Tulip-garden-77", role="manager")
    _month_of_cases()
    base = live_server.url
    log_in(page, base, "fa", username="boss")
    page.click('.mainnav a[href="/insights/"]')
    expect(page.locator("h1")).to_have_text("بینش‌ها")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # A custom range typed in the Jalali calendar with Persian digits: the last 14 days.
    today = timezone.now().astimezone(business_zone()).date()
    start = jdatetime.date.fromgregorian(date=today - dt.timedelta(days=13))
    end = jdatetime.date.fromgregorian(date=today)
    page.fill('input[name="from"]', persian_digits(start.strftime("%Y/%m/%d")))
    page.fill('input[name="to"]', persian_digits(end.strftime("%Y/%m/%d")))
    page.click(".insights-filters button.button-primary")
    expect(page.locator(".insights-period")).to_contain_text(persian_digits(str(start.year)))
    # The cards: Persian digits; no care follow-up yet: the recovery rate is "—".
    expect(page.locator("#card-recovery_rate .insights-value")).to_have_text("—")
    expect(page.locator("#card-nps .insights-value")).to_contain_text("پاسخ")  # "N answers"
    opened = page.locator("#card-opened .insights-value").inner_text()
    assert all(c in "۰۱۲۳۴۵۶۷۸۹٬," for c in opened), opened
    # The charts are drawn, right to left: time from the right, values on the right.
    page.wait_for_function("window.Chart && Chart.getChart('chart-volume')")
    layout = page.evaluate(
        "(() => { const c = Chart.getChart('chart-volume'); return {"
        " reverse: c.options.scales.x.reverse, position: c.options.scales.y.position,"
        " legend: c.options.plugins.legend.rtl, points: c.data.datasets[0].data.length,"
        " tick: c.scales.y.getLabelForValue(c.scales.y.max) }; })()"
    )
    assert layout["reverse"] is True and layout["position"] == "right" and layout["legend"]
    assert layout["points"] == 14
    assert all(c in "۰۱۲۳۴۵۶۷۸۹٬٫" for c in layout["tick"]), layout["tick"]
    page.screenshot(path=str(screenshots / "fa-insights.png"), full_page=True)

    # The drill-down from a card lists the cases behind it.
    page.click("#card-opened .insights-value a")
    expect(page.locator("table.insights-table tbody tr").first).to_be_visible()
    page.screenshot(path=str(screenshots / "fa-insights-rows.png"), full_page=False)

    page.goto(base + "/insights/?preset=30d")
    page.click('.lang-switch button[value="zh-hans"]')
    expect(page.locator("h1")).to_have_text("洞察")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.wait_for_function("window.Chart && Chart.getChart('chart-channels')")
    assert page.evaluate("Chart.getChart('chart-volume').options.scales.x.reverse") is False
    expect(page.locator("#by-kind")).to_contain_text("按类别")
    # By product: the product's own name, and a row for the cases about none.
    expect(page.locator("#by-product")).to_contain_text("按产品")
    expect(page.locator("#by-product")).to_contain_text("آسیاب برقی")
    page.screenshot(path=str(screenshots / "zh-insights.png"), full_page=True)
