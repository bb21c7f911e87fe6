"""In a real browser, in Persian: the manager's agent ratings (Jalali months, Persian digits,
right to left) and the feedback panel of a care case opened by a detractor — the outcome
recorded by its form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from khoshnud.accounts.services import staff_create
from khoshnud.customers.services import customer_create
from khoshnud.feedback.models import Recovery, SurveyResponse
from khoshnud.interactions.services import events_ingest
from khoshnud.ops.demo_data import demo_service_catalog
from tests.e2e.test_customer_360 import log_in

pytestmark = pytest.mark.e2e


def test_ratings_and_care_case_in_persian(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    demo_service_catalog()
    staff_create(username="nasrin", password="Tulip-garden-77", role="manager",
                 first_name="Nasrin", teams=["care"])  # fmt: skip
    wei = staff_create(username="wei", password="Tulip-garden-77", role="agent",
                       first_name="Wei Zhang")  # fmt: skip
    reza = staff_create(username="reza", password="Tulip-garden-77", role="agent",
                        first_name="رضا احمدی")  # fmt: skip
    sara = customer_create(data={"first_name": "سارا", "locale": "fa",
                                 "identities": {"email": "sara@example.com"}})  # fmt: skip
    yesterday = timezone.now() - dt.timedelta(days=1)
    rows = [
        SurveyResponse(
            kind="csat",
            score=s,
            customer=sara,
            agent=wei,
            channel="email",
            answered_at=yesterday,
            source="api",
        )
        for s in [5] * 9 + [4] * 3
    ]
    rows += [SurveyResponse(kind="csat", score=5, customer=sara, agent=reza, channel="email",
                            answered_at=yesterday, source="api")]  # fmt: skip
    SurveyResponse.objects.bulk_create(rows)
    events_ingest(events=[{
        "source": "kiosk", "external_id": "nps-1", "channel": "in_person",
        "type": "survey_answer", "occurred_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
        "customer": {"id": sara.pk},
        "survey": {"kind": "nps", "score": 3, "comment": "سفارشم دیر رسید و کسی جواب نداد"},
    }])  # fmt: skip
    recovery = Recovery.objects.get()

    log_in(page, live_server.url, "fa")
    page.goto(live_server.url + "/feedback/agents/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    # Wei: 12 ratings (9 fives, 3 fours): (5 × 3 + 57) / 17 = 4.235… → ۴.۲۴ (the app's digits filter), recognised;
    # Reza: one 5: (15 + 5) / 6 = 3.33, ranked below and not recognised (fewer than 10).
    expect(page.locator("ol.recognition li")).to_have_count(1)
    expect(page.locator("ol.recognition li")).to_contain_text("Wei Zhang")
    expect(page.locator("#rated-" + str(wei.pk))).to_contain_text("۴.۲۴")
    expect(page.locator("table.ratings tbody tr").first).to_have_id(f"rated-{wei.pk}")
    page.screenshot(path=str(screenshots / "feedback-ratings-fa.png"), full_page=True)

    page.goto(f"{live_server.url}/cases/{recovery.case_id}/")
    panel = page.locator("section.case-feedback")
    expect(panel).to_contain_text("پیگیری مراقبت")
    expect(panel).to_contain_text("۳")
    panel.locator('select[name="outcome"]').select_option("compensated")
    panel.locator('.outcome-form input[name="note"]').fill("هزینهٔ ارسال برگردانده شد")
    panel.locator(".outcome-form button").click()
    expect(page.locator("section.case-feedback")).to_contain_text("جبران شد")
    page.locator("section.case-feedback").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "feedback-care-case-fa.png"), full_page=True)
    recovery.refresh_from_db()
    assert recovery.outcome == "compensated"
