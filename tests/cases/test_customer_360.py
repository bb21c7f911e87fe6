"""The customer 360 lists the open cases the viewer may see."""

from __future__ import annotations

import pytest
from django.test import Client

from khoshnud.cases.models import Case
from khoshnud.cases.services import case_open
from tests.cases.conftest import Shop

pytestmark = pytest.mark.django_db


def test_open_cases_on_the_360_follow_the_access_rule(shop: Shop) -> None:
    support = case_open(customer_id=shop.customer.pk, kind="support", channel="phone",
                        subject="Grinder noise", opened_at="2026-12-02T14:00:00+03:30",
                        priority="high")  # fmt: skip
    case_open(customer_id=shop.customer.pk, kind="care", channel="email", subject="Refund please")
    done = case_open(customer_id=shop.customer.pk, kind="support", channel="web", subject="Old one")
    Case.objects.filter(pk=done.pk).update(status="resolved")

    agent = Client()
    agent.force_login(shop.agents["support"])
    page = agent.get(f"/customers/{shop.customer.pk}/").content.decode()
    assert "Open cases" in page and "Grinder noise" in page
    assert "High" in page and "Support" in page
    assert "Refund please" not in page  # the care team's case
    assert "Old one" not in page  # resolved
    assert f"#{support.pk}" in page

    manager = Client()
    manager.force_login(shop.manager)
    page = manager.get(f"/customers/{shop.customer.pk}/").content.decode()
    assert "Grinder noise" in page and "Refund please" in page and "Old one" not in page


def test_open_cases_in_persian(shop: Shop) -> None:
    from tests.web.conftest import in_language

    case_open(customer_id=shop.customer.pk, kind="support", channel="phone", subject="صدای آسیاب",
              opened_at="2026-12-02T14:00:00+03:30")  # fmt: skip
    agent = Client()
    agent.force_login(shop.agents["support"])
    page = in_language(agent, "fa").get(f"/customers/{shop.customer.pk}/").content.decode()
    assert "پرونده‌های باز" in page and "جدید" in page and "عادی" in page
    # Resolve by Saturday 14 Azar 1405 (2026-12-05), 10:00 Tehran time, in Persian digits.
    assert "مهلت حل ۱۴ آذر ۱۴۰۵، ۱۰:۰۰" in page
