"""The product a case is about: set by hand or by the API, else inferred afterwards (set-based)
from the customer's latest order placed before the case opened (docs/metrics.md, "Product").

Orders of the shop's customer (Tehran times): #1 on 1 December (a grinder line, then beans),
#2 on 5 December at 12:00 (a kettle), #3 on 7 December (beans). A case opened Saturday 5 at
09:00 is about the grinder (#1's first line: #2 came later that day); one opened Sunday 6 is
about the kettle (#2; #3 is after it); one opened 30 November has no earlier order.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from khoshnud.cases import products as case_products
from khoshnud.cases.models import Case, CaseEvent, ProductSource
from khoshnud.cases.products import case_product_set, cases_products_infer
from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.models import Customer
from khoshnud.inputs import InputError
from tests.cases.conftest import Shop
from tests.cases.test_api import body
from tests.cases.test_metrics import _case, at

pytestmark = pytest.mark.django_db


def product(sku: str, name: str) -> Product:
    return Product.objects.create(
        sku=sku, name=name, category="coffee", price=Decimal("10.00"), currency="USD"
    )


def order(customer: Customer, number: str, placed_at: dt.datetime, *items: Product) -> Order:
    made = Order.objects.create(
        customer=customer, number=number, placed_at=placed_at, currency="USD",
        total=Decimal("10.00") * len(items),
    )  # fmt: skip
    for item in items:
        OrderLine.objects.create(order=made, product=item, quantity=1, unit_price=item.price)
    return made


@pytest.fixture
def catalogue(shop: Shop) -> dict[str, Product]:
    p = {
        "grinder": product("GRD-1", "Burr grinder"),
        "beans": product("BNS-1", "Espresso beans"),
        "kettle": product("KTL-1", "Gooseneck kettle"),
    }
    order(shop.customer, "1", at(1, 10), p["grinder"], p["beans"])
    order(shop.customer, "2", at(5, 12), p["kettle"])
    order(shop.customer, "3", at(7, 10), p["beans"])
    return p


def test_inference_takes_the_latest_order_placed_before_the_case_opened(
    shop: Shop, catalogue: dict[str, Product]
) -> None:
    saturday = _case(shop, "support", "open", opened_at=at(5, 9))
    sunday = _case(shop, "service", "open", opened_at=at(6, 9))
    early = _case(
        shop, "care", "open", opened_at=dt.datetime(2026, 11, 30, 9, tzinfo=at(1, 0).tzinfo)
    )
    stranger = Customer.objects.create(first_name="No orders")
    other = Case.objects.create(
        customer=stranger, kind="support", channel="email", opened_at=at(6, 9),
        last_message_at=at(6, 9), time_zone="Asia/Tehran",
    )  # fmt: skip
    assert saturday.product_source is None  # not looked at yet
    done = cases_products_infer()
    assert done.looked == 4
    assert sorted(done.found) == sorted([saturday.pk, sunday.pk])
    found = {c.pk: (c.product_id, c.product_source) for c in Case.objects.all()}
    assert found[saturday.pk] == (catalogue["grinder"].pk, ProductSource.ORDER)  # not #2
    assert found[sunday.pk] == (catalogue["kettle"].pk, ProductSource.ORDER)  # not #3
    assert found[early.pk] == (None, ProductSource.NONE)
    assert found[other.pk] == (None, ProductSource.NONE)
    again = cases_products_infer()  # each case is looked at once
    assert (again.looked, again.found) == (0, [])


def test_a_product_set_by_hand_wins_and_is_never_inferred(
    shop: Shop, catalogue: dict[str, Product]
) -> None:
    case = _case(shop, "support", "open", opened_at=at(6, 9))
    case_product_set(case_id=case.pk, sku="BNS-1", actor=shop.manager)
    cases_products_infer()
    case.refresh_from_db()
    assert (case.product_id, case.product_source) == (catalogue["beans"].pk, ProductSource.SET)
    event = CaseEvent.objects.get(case=case, action="case.product_changed")
    assert event.changes == {"product": {"from": None, "to": "Espresso beans"}}
    assert event.actor_id == shop.manager.pk
    case_product_set(case_id=case.pk, sku="", actor=shop.manager)  # cleared by hand: stays so
    cases_products_infer()
    case.refresh_from_db()
    assert (case.product_id, case.product_source) == (None, ProductSource.SET)


def test_an_unknown_sku_changes_nothing(shop: Shop, catalogue: dict[str, Product]) -> None:
    case = _case(shop, "support", "open", opened_at=at(6, 9))
    with pytest.raises(InputError) as caught:
        case_product_set(case_id=case.pk, sku="NOPE", actor=shop.manager)
    assert caught.value.field == "product"
    case.refresh_from_db()
    assert (case.product_id, case.product_source) == (None, None)
    assert not CaseEvent.objects.filter(case=case).exists()


def test_inference_goes_by_chunks_and_stops_at_its_bound(
    shop: Shop, catalogue: dict[str, Product], monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    monkeypatch.setattr(case_products, "INFER_CHUNK", 3)
    cases = [_case(shop, "support", "open", opened_at=at(6, 9)) for _ in range(7)]
    first = cases_products_infer(max_cases=3)  # one chunk: 3 cases
    assert (first.looked, first.last_id) == (3, cases[2].pk)
    # The rest in three more chunks (3, 1 and the empty look): a few queries per chunk, none
    # per case.
    with django_assert_max_num_queries(1 + 3 * 6):
        rest = cases_products_infer(after_id=first.last_id)
    assert rest.looked == 4 and rest.last_id == cases[-1].pk
    assert set(Case.objects.values_list("product_id", flat=True)) == {catalogue["kettle"].pk}


def test_the_api_opens_a_case_about_a_product(shop: Shop, catalogue: dict[str, Product]) -> None:
    agent = shop.client(shop.agents["support"])
    resp = agent.post("/api/v1/cases", body(shop, product="KTL-1"), content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert (resp.json()["product"], resp.json()["product_source"]) == ("KTL-1", "set")
    case = Case.objects.get(pk=resp.json()["id"])
    assert case.product_id == catalogue["kettle"].pk
    opened = CaseEvent.objects.get(case=case, action="case.opened")
    assert opened.changes["product"] == "Gooseneck kettle"
    read = agent.get(f"/api/v1/cases/{case.pk}").json()
    assert read["product"] == "KTL-1"
    # Without one: not looked at yet, then inferred (opened 2 December: order #1's grinder).
    plain = agent.post("/api/v1/cases", body(shop), content_type="application/json").json()
    assert (plain["product"], plain["product_source"]) == (None, None)
    cases_products_infer()
    assert agent.get(f"/api/v1/cases/{plain['id']}").json()["product"] == "GRD-1"


def test_the_api_refuses_an_unknown_sku_and_stores_nothing(
    shop: Shop, catalogue: dict[str, Product]
) -> None:
    agent = shop.client(shop.agents["support"])
    resp = agent.post("/api/v1/cases", body(shop, product="NOPE"), content_type="application/json")
    assert resp.status_code == 422
    assert "product" in resp.json()["detail"] and "NOPE" in resp.json()["detail"]
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_an_agent_sets_the_product_on_the_case_page(
    shop: Shop, catalogue: dict[str, Product]
) -> None:
    case = _case(shop, "support", "open", opened_at=at(6, 9))
    client = Client()
    client.force_login(shop.agents["support"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "not inferred yet" in page and 'value="KTL-1"' in page  # the SKUs offered
    resp = client.post(f"/cases/{case.pk}/product/", {"product": "GRD-1"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert (case.product_id, case.product_source) == (catalogue["grinder"].pk, "set")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Burr grinder" in page and "changed the product" in page
    bad = client.post(f"/cases/{case.pk}/product/", {"product": "NOPE"})
    assert bad.status_code == 400 and "no product with SKU" in bad.content.decode()
    case.refresh_from_db()
    assert case.product_id == catalogue["grinder"].pk


def test_the_rollup_refresh_infers_the_new_cases(shop: Shop, catalogue: dict[str, Product]) -> None:
    from khoshnud.insights.models import RollupState
    from khoshnud.insights.rollups import rollups_refresh

    before = _case(shop, "support", "open", opened_at=at(5, 9))
    rollups_refresh()  # the first one rebuilds everything: every case looked at
    assert Case.objects.get(pk=before.pk).product_id == catalogue["grinder"].pk
    later = _case(shop, "support", "open", opened_at=at(8, 9))
    assert rollups_refresh()["products_inferred"] == 1
    assert Case.objects.get(pk=later.pk).product_id == catalogue["beans"].pk  # order #3
    assert RollupState.objects.get().case_id == later.pk
