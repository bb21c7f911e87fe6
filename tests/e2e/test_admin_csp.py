"""The Django admin works under the Content-Security-Policy (the page fixture fails on any
blocked script, style or image)."""

from __future__ import annotations

from typing import Any

import pytest

from khoshnud.accounts.services import staff_create
from tests.web.conftest import make_sara

pytestmark = pytest.mark.e2e


def test_admin_pages_under_the_csp(live_server: Any, transactional_db: Any, page: Any) -> None:
    staff_create(username="boss", password="Quiet-harbour-2026", role="admin")
    sara = make_sara()
    page.goto(f"{live_server.url}/admin/")
    page.fill('input[name="username"]', "boss")
    page.fill('input[name="password"]', "Quiet-harbour-2026")
    page.click('input[type="submit"]')
    page.wait_for_selector("#content-main")
    page.goto(f"{live_server.url}/admin/customers/customer/{sara.pk}/change/")
    assert page.locator("#content h1, #content h2").first.is_visible()
    page.goto(f"{live_server.url}/admin/commerce/product/add/")
    page.fill('input[name="sku"]', "MUG-1")
    page.fill('input[name="name"]', "Mug")
    page.fill('input[name="category"]', "cups")
    page.fill('input[name="price"]', "350000")
    page.fill('input[name="currency"]', "IRR")
    page.click('input[name="_save"]')
    page.wait_for_selector(".messagelist .success")
    page.goto(f"{live_server.url}/admin/accounts/team/add/")
    page.wait_for_selector("#id_members_from")  # the filter_horizontal widget, built by JS
