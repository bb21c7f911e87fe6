"""The dashboard by product, on the weekend and answers of test_feedback_rollups.py.

Products: A and D are about the espresso machine (P1), B about the grinder (P2); C and E have
none. One more answer, NPS 0 on case A at Saturday 20:00, names the grinder itself (an
imported answer's own product wins over its case's). In the period (Saturday–Sunday):

- P1: NPS 9, 10 (A) and 10 (D): 3 promoters of 3 → 100.0; CSAT 5 → 100.0; CES 2 → 2.0;
  verdicts A exceeded, D met → delight 50.0; cases opened A (Sat), D (Sun) → 2.
- P2: NPS 3 (B) and the 0 → 2 detractors of 2 → −100.0; CSAT 2 → 0.0; CES 5 → 5.0; B's care
  follow-up won back → recovery 100.0; opened B → 1.
- none ("" — shown as "(none)"): opened E → 1 (C opened on Friday); no answers.
- Whole: NPS 9, 10, 3, 10, 0 → (3 − 2) / 5 × 100 = 20.0. Without P2's answers: 3 of 3 →
  100.0, so the grinder pulls NPS down by 80.0 points — the worst driver (the service kind
  and the telegram channel, B's 3 alone, by 30.0: without it 3 − 1 of 4 = 50.0).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from khoshnud.cases.models import Case
from khoshnud.cases.products import case_product_set
from khoshnud.commerce.models import Product
from khoshnud.feedback.models import SurveyResponse
from khoshnud.insights.drill import drill_rows
from khoshnud.insights.models import RollupState
from khoshnud.insights.rollups import rollups_build, rollups_rebuild, rollups_refresh
from khoshnud.insights.selectors import dashboard, dashboard_numbers, dashboard_raw
from tests.cases.conftest import Shop
from tests.cases.test_metrics import NOW, SAT, SUN
from tests.insights.test_feedback_rollups import answered, at  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def by_product(weekend: dict[str, Case], answered: None) -> dict[str, Product]:  # noqa: F811
    made = {
        "P1": Product.objects.create(sku="ESP-1", name="Espresso machine", category="machines",
                                     price=Decimal("300.00"), currency="USD"),
        "P2": Product.objects.create(sku="GRD-1", name="Burr grinder", category="grinders",
                                     price=Decimal("90.00"), currency="USD"),
    }  # fmt: skip
    a, b, d = weekend["A"], weekend["B"], weekend["D"]
    Case.objects.filter(pk__in=[a.pk, d.pk]).update(product=made["P1"], product_source="set")
    Case.objects.filter(pk=b.pk).update(product=made["P2"], product_source="set")
    Case.objects.exclude(pk__in=[a.pk, b.pk, d.pk]).update(product_source="none")
    SurveyResponse.objects.create(
        kind="nps", score=0, customer_id=a.customer_id, case=a, channel="email",
        answered_at=at(5, 20), source="api", product=made["P2"],
    )  # fmt: skip
    rollups_build(dt.date(2026, 12, 1), dt.date(2026, 12, 9), now=NOW)
    return made


def _rows(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["value"]: row for row in board["breakdowns"]["product"]}


def test_the_figures_by_product_by_hand(by_product: dict[str, Product]) -> None:
    board = dashboard(start=SAT, end=SUN)
    assert board["totals"]["nps"] == 20.0
    rows = _rows(board)
    p1, p2 = rows[str(by_product["P1"].pk)], rows[str(by_product["P2"].pk)]
    assert (p1["label"], p1["nps"], p1["nps_n"], p1["csat"], p1["ces"]) == (
        "Espresso machine", 100.0, 3, 100.0, 2.0,
    )  # fmt: skip
    assert (p1["delight_rate"], p1["opened"]) == (50.0, 2)
    assert (p2["label"], p2["nps"], p2["nps_n"], p2["csat"], p2["ces"]) == (
        "Burr grinder", -100.0, 2, 0.0, 5.0,
    )  # fmt: skip
    assert (p2["recovery_rate"], p2["opened"]) == (100.0, 1)
    none = rows[""]
    assert (none["opened"], none["nps"], none["nps_n"]) == (1, None, 0)  # E


def test_the_product_is_a_driver(by_product: dict[str, Product]) -> None:
    worst = dashboard(start=SAT, end=SUN)["drivers"]["nps"][0]
    assert (worst["dimension"], worst["value"], worst["label"]) == (
        "product", str(by_product["P2"].pk), "Burr grinder",
    )  # fmt: skip
    assert (worst["impact"], worst["without"], worst["segment"], worst["n"]) == (
        -80.0, 100.0, -100.0, 2,
    )  # fmt: skip


@pytest.mark.parametrize("by", ["day", "week"])
def test_rollups_by_product_equal_the_raw_aggregate(by_product: Any, by: str) -> None:
    for start, end in ((SAT, SUN), (dt.date(2026, 12, 3), SUN)):
        rolled = dashboard_numbers(dashboard(start=start, end=end, by=by))
        raw = dashboard_numbers(dashboard_raw(start=start, end=end, by=by, now=NOW))
        assert rolled["product"] == raw["product"] and rolled["product"]
        assert rolled == raw


def test_the_rows_behind_a_product(by_product: dict[str, Product], weekend: Any) -> None:
    grinder = str(by_product["P2"].pk)
    answers = drill_rows(start=SAT, end=SUN, figure="nps", dimension="product", value=grinder)
    assert [(r.case_id, r.score) for r in answers] == [(weekend["B"].pk, 3), (weekend["A"].pk, 0)]
    machine = str(by_product["P1"].pk)
    opened = drill_rows(start=SAT, end=SUN, figure="opened", dimension="product", value=machine)
    assert [c.pk for c in opened] == [weekend["A"].pk, weekend["D"].pk]
    unknown = drill_rows(start=SAT, end=SUN, figure="opened", dimension="product", value="")
    assert [c.pk for c in unknown] == [weekend["E"].pk]
    judged = drill_rows(start=SAT, end=SUN, figure="recovery_rate", dimension="product",
                        value=grinder)  # fmt: skip
    assert [r.case_id for r in judged] == [weekend["B"].pk]


def test_the_page_the_export_and_the_api(by_product: dict[str, Product], shop: Shop,
                                         api_client: Any) -> None:  # fmt: skip
    client = Client()
    client.force_login(shop.manager)
    period = {"from": "2026-12-05", "to": "2026-12-06"}
    page = client.get("/insights/", period).content.decode()
    table = page.split('id="by-product"')[1].split("</section>")[0]
    assert "By product" in table and "Burr grinder" in table and "(none)" in table
    grinder = by_product["P2"].pk
    assert f"figure=nps&amp;dimension=product&amp;value={grinder}" in table
    assert "figure=interactions" not in table  # interactions are not grouped by product
    rows = client.get("/insights/rows/", {**period, "figure": "nps", "dimension": "product",
                                          "value": grinder}).content.decode()  # fmt: skip
    assert "By product: Burr grinder" in rows
    assert client.get("/insights/rows/", {**period, "figure": "nps", "dimension": "product",
                                          "value": "x"}).status_code == 400  # fmt: skip
    export = client.get("/insights/export.csv", {**period, "table": "product"})
    lines = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {(r["day"], r["label"], r["nps"]) for r in lines if r["label"] == "Burr grinder"} == {
        ("2026-12-05", "Burr grinder", "-100.0")
    }
    board = api_client("manager", "read").get("/api/v1/insights", period).json()
    api_rows = {row["label"]: row for row in board["breakdowns"]["product"]}
    assert api_rows["Burr grinder"]["nps"] == -100.0
    assert api_rows["Espresso machine"]["nps"] == 100.0


def test_refresh_infers_and_follows_a_change_by_hand(
    by_product: dict[str, Product], weekend: dict[str, Case], shop: Shop
) -> None:
    rollups_rebuild()
    # The grinder's case B moves to the espresso machine by hand: its days (and its answers'
    # days) are counted again — P1 now has B's 3 as well: 3 promoters, 1 detractor of 4 = 50.0.
    case_product_set(case_id=weekend["B"].pk, sku="ESP-1", actor=shop.manager)
    done = rollups_refresh(now=timezone.now())
    assert done["days"] >= 1
    rows = _rows(dashboard(start=SAT, end=SUN))
    assert rows[str(by_product["P1"].pk)]["nps"] == 50.0
    assert rows[str(by_product["P2"].pk)]["nps_n"] == 1  # the answer that names it itself
    assert RollupState.objects.get().case_id == Case.objects.order_by("-pk").first().pk
