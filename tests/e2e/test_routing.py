"""In a real browser, in Persian: an agent goes away from the inbox and no new case comes to
them; back again, the next new case is routed to them, and its history says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from khoshnud.accounts.services import staff_create
from khoshnud.cases.assignment import agent_profile_update
from khoshnud.cases.models import Case
from khoshnud.cases.services import case_open
from khoshnud.ops.demo_data import demo_service_catalog
from tests.e2e.test_customer_360 import log_in
from tests.web.conftest import make_sara

pytestmark = pytest.mark.e2e


def test_an_agent_goes_away_and_comes_back(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    demo_service_catalog()
    boss = staff_create(username="boss", password="Tulip-garden-77", role="manager")
    nasrin = staff_create(username="nasrin", password="Tulip-garden-77", role="agent",
                          teams=["support"])  # fmt: skip
    omid = staff_create(username="omid", password="Tulip-garden-77", role="agent",
                        teams=["support"])  # fmt: skip
    for agent in (nasrin, omid):
        agent_profile_update(user_id=agent.pk, kinds=["support"], languages=[],
                             max_open_cases=None, actor=boss)  # fmt: skip
    sara = make_sara()
    base = live_server.url

    log_in(page, base, "fa")
    page.click('.mainnav a[href="/cases/"]')
    expect(page.locator(".availability .badge")).to_have_text("شما در دسترس هستید")
    page.click("text=غایب می‌شوم")  # Go away
    expect(page.locator(".availability .badge")).to_have_text("شما غایب هستید")
    expect(page.locator(".alert").first).to_contain_text("غایب هستید")
    page.screenshot(path=str(screenshots / "fa-inbox-away.png"), full_page=True)

    first = case_open(customer_id=sara.pk, kind="support", channel="phone", subject="صدا")
    assert Case.objects.get(pk=first.pk).assignee_id == omid.pk  # nasrin is away

    page.click("text=برگشتم")  # I am back
    expect(page.locator(".availability .badge")).to_have_text("شما در دسترس هستید")
    second = case_open(customer_id=sara.pk, kind="support", channel="phone", subject="باز هم")
    # nasrin: 1 × (1 − 0/20) = 1.0 beats omid: 1 × (1 − 1/20) = 0.95
    assert Case.objects.get(pk=second.pk).assignee_id == nasrin.pk

    page.goto(f"{base}/cases/{second.pk}/")
    expect(page.locator(".history")).to_contain_text("پرونده را ارجاع داد")
    expect(page.locator(".history")).to_contain_text("امتیاز 1.0")


def test_a_manager_sets_an_agents_routing(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    staff_create(username="nasrin", password="Tulip-garden-77", role="manager")
    omid = staff_create(username="omid", password="Tulip-garden-77", role="agent",
                        teams=["support"])  # fmt: skip
    base = live_server.url
    log_in(page, base, "en")
    page.goto(base + "/cases/")
    page.click("text=Agents and routing")
    row = page.locator(f"#agent-{omid.pk}")
    expect(row).to_contain_text("0 / 20")
    row.locator('input[name="kinds"][value="support"]').check()
    row.locator('input[name="languages"][value="fa"]').check()
    row.locator('input[name="max_open_cases"]').fill("12")
    row.locator('button[type="submit"]').click()
    expect(page.locator(".alert").first).to_have_text("Routing saved.")
    expect(page.locator(f"#agent-{omid.pk}")).to_contain_text("0 / 12")
    page.screenshot(path=str(screenshots / "en-agents.png"), full_page=True)
    profile = omid.agent_profile
    profile.refresh_from_db()
    assert (profile.kinds, profile.languages, profile.max_open_cases) == (["support"], ["fa"], 12)
