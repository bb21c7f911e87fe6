"""Entitlements: a product grants support for N days after purchase; the case page says whether
the customer is still entitled; a catalog entry may give entitled customers tighter targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from khoshnud.commerce.models import Product
from khoshnud.commerce.services import order_create
from khoshnud.inputs import InputError
from khoshnud.servicelevels.models import ServiceLevel
from khoshnud.servicelevels.selectors import calendar_by_name
from khoshnud.servicelevels.services import service_level_set
from tests.cases.conftest import Shop

pytestmark = pytest.mark.django_db
TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))


def _buy(shop: Shop, when: str, days: int = 90) -> None:
    Product.objects.get_or_create(
        sku="GR-1", defaults={"name": "آسیاب قهوه", "category": "grinders",
                              "price": Decimal("100.00"), "currency": "IRR",
                              "support_days": days},
    )  # fmt: skip
    order_create(customer={"id": shop.customer.pk}, number=f"o-{when}", placed_at=when,
                 currency="IRR", lines=[{"sku": "GR-1", "quantity": 1}])  # fmt: skip


def _tighten() -> None:
    calendar = calendar_by_name(name="Tehran shop")
    assert calendar is not None
    service_level_set(kind="support", tier="standard", calendar=calendar,
                      first_response_minutes=120, resolution_minutes=480,
                      entitled_first_response_minutes=60,
                      entitled_resolution_minutes=240)  # fmt: skip


def _open(shop: Shop) -> dict[str, Any]:
    client = shop.client(shop.agents["support"])
    resp = client.post("/api/v1/cases", {"customer_id": shop.customer.pk, "kind": "support",
                                         "channel": "phone", "subject": "Noise",
                                         "opened_at": "2026-12-02T14:00:00+03:30"},
                       content_type="application/json")  # fmt: skip
    assert resp.status_code == 201, resp.content
    return resp.json()  # type: ignore[no-any-return]


def test_an_entitled_customer_gets_the_tighter_targets(shop: Shop) -> None:
    _tighten()
    _buy(shop, "2026-10-01T10:00:00+03:30")  # 90 days: until 2026-12-30 10:00
    body = _open(shop)
    # Entitled: 60 / 240 business minutes from Wednesday 14:00 → 15:00 the same day, and
    # Wednesday 2 h + Thursday 2 h (08:00–10:00) → Thursday 10:00.
    assert body["first_response_due"] == "2026-12-02T15:00:00+03:30"
    assert body["resolution_due"] == "2026-12-03T10:00:00+03:30"


def test_an_expired_entitlement_gives_the_ordinary_targets(shop: Shop) -> None:
    _tighten()
    # 60 days from 2026-10-01 10:00 ends 2026-11-30 10:00, before the case opened.
    _buy(shop, "2026-10-01T10:00:00+03:30", days=60)
    body = _open(shop)
    assert body["first_response_due"] == "2026-12-02T16:00:00+03:30"
    assert body["resolution_due"] == "2026-12-05T10:00:00+03:30"


def test_an_entry_without_entitled_targets_treats_everyone_alike(shop: Shop) -> None:
    _buy(shop, "2026-10-01T10:00:00+03:30")
    body = _open(shop)
    assert body["resolution_due"] == "2026-12-05T10:00:00+03:30"


def test_case_page_says_until_when_in_the_viewers_calendar(shop: Shop) -> None:
    _buy(shop, "2026-11-01T10:00:00+03:30", days=90)  # until 2027-01-30 (Tehran)
    case_id = _open(shop)["id"]
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(shop.agents["support"])
    page = client.get(f"/cases/{case_id}/").content.decode()
    entitlement = page[page.index('id="entitlement"') :][:600]
    # 2027-01-30 is 10 Bahman 1405 in the Jalali calendar.
    assert "۱۰ بهمن ۱۴۰۵" in entitlement and "آسیاب قهوه" in entitlement
    en = Client(HTTP_ACCEPT_LANGUAGE="en")
    en.force_login(shop.agents["support"])
    page = en.get(f"/cases/{case_id}/").content.decode()
    assert "entitled" in page[page.index('id="entitlement"') :][:600]


@pytest.mark.parametrize(
    ("first", "resolution", "field"),
    [
        (0, 240, "entitled_first_response_minutes"),
        (-5, 240, "entitled_first_response_minutes"),
        (60, None, "entitled_resolution_minutes"),
        (180, 240, "entitled_first_response_minutes"),  # looser than the ordinary 120
        (60, 600, "entitled_resolution_minutes"),  # looser than the ordinary 480
        (100, 90, "entitled_first_response_minutes"),  # first after resolution
    ],
)
def test_bad_entitled_targets_are_refused_and_nothing_changes(
    shop: Shop, first: int, resolution: int | None, field: str
) -> None:
    before = list(ServiceLevel.objects.order_by("pk").values())
    calendar = calendar_by_name(name="Tehran shop")
    assert calendar is not None
    with pytest.raises(InputError) as exc:
        service_level_set(kind="support", tier="standard", calendar=calendar,
                          first_response_minutes=120, resolution_minutes=480,
                          entitled_first_response_minutes=first,
                          entitled_resolution_minutes=resolution)  # fmt: skip
    assert exc.value.field == field
    assert list(ServiceLevel.objects.order_by("pk").values()) == before


def test_api_sets_entitled_targets_and_refuses_a_zero(shop: Shop) -> None:
    client = shop.client(shop.manager)
    entry = {"kind": "support", "tier": "standard", "channel": "", "calendar": "Tehran shop",
             "first_response_minutes": 120, "resolution_minutes": 480}  # fmt: skip
    bad = client.put("/api/v1/service-levels", {**entry, "entitled_first_response_minutes": 0,
                                                "entitled_resolution_minutes": 240},
                     content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "entitled_first_response_minutes" in bad.json()["detail"]
    good = client.put("/api/v1/service-levels", {**entry, "entitled_first_response_minutes": 60,
                                                 "entitled_resolution_minutes": 240},
                      content_type="application/json")  # fmt: skip
    assert good.status_code == 200
    assert (good.json()["entitled_first_response_minutes"],
            good.json()["entitled_resolution_minutes"]) == (60, 240)  # fmt: skip
