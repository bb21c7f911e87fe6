"""The dashboard page, the rows behind a figure and the CSV export, as a browser session."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client

from khoshnud.inputs import InputError
from khoshnud.insights.drill import drill_rows
from khoshnud.insights.rollups import rollups_build
from tests.cases.conftest import Shop
from tests.cases.test_metrics import NOW, SAT, SUN

PERIOD = {"from": "2026-12-05", "to": "2026-12-06"}


@pytest.fixture
def built(logged: Any) -> None:
    rollups_build(dt.date(2026, 12, 1), dt.date(2026, 12, 9), now=NOW)


@pytest.fixture
def manager(shop: Shop) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop.manager)
    return client


def test_the_page_shows_the_figures(built: None, manager: Client) -> None:
    response = manager.get("/insights/", PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    # By hand (tests/insights/test_rollups.py): 4 opened (1 before: +3), first response
    # 540 min = 9 h 0 min, first-response SLA 33.33 %; NPS not measured: "—".
    assert 'id="card-opened"' in page
    assert "+3" in page
    assert "9 h 0 min" in page
    assert "33.33%" in page
    card = page.split('id="card-nps"')[1].split("</div>")[0]
    assert "—" in card
    assert 'href="/insights/rows/?from=2026-12-05&amp;to=2026-12-06&amp;figure=opened"' in page
    assert 'id="insights-chart"' in page
    assert "vendor/chartjs/chart.umd.js" in page


def test_persian_reads_jalali_dates(built: None, manager: Client) -> None:
    # 1405/09/14 – 1405/09/15 are 5–6 December 2026.
    response = manager.get(
        "/insights/", {"from": "۱۴۰۵/۰۹/۱۴", "to": "۱۴۰۵/۰۹/۱۵"}, HTTP_ACCEPT_LANGUAGE="fa"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'dir="rtl"' in page
    assert "۳۳٫۳۳%" in page or "۳۳.۳۳%" in page  # Persian digits


def test_drill_down_lists_the_cases_behind_a_figure(
    built: None, manager: Client, weekend: dict[str, Any]
) -> None:
    response = manager.get("/insights/rows/", {**PERIOD, "figure": "opened", "dimension": "kind",
                                               "value": "service"})  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    # The service cases opened over the weekend: B and E.
    for name in "BE":
        assert f'href="/cases/{weekend[name].pk}/"' in page
    for name in "ACD":
        assert f'href="/cases/{weekend[name].pk}/"' not in page
    response = manager.get(
        "/insights/rows/", {**PERIOD, "figure": "interactions", "dimension": "channel",
                            "value": "telegram"},
    )  # fmt: skip
    assert response.content.decode().count("<tr>") == 2  # the header and the 00:10 message


def test_drill_down_of_attainment_counts_past_due_times(weekend: dict[str, Any]) -> None:
    """The three first-response due times of the weekend (A, B, C), once they have passed."""
    rows = drill_rows(start=SAT, end=SUN, figure="first_response_attainment", now=NOW)
    assert {c.pk for c in rows} == {weekend[n].pk for n in "ABC"}
    # At 09:30 on Saturday none had passed yet (C was due at 10:00, A at 11:00, B at 15:30).
    early = dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)  # 09:30 in Tehran
    assert list(drill_rows(start=SAT, end=SUN, figure="first_response_attainment", now=early)) == []
    with pytest.raises(InputError):
        drill_rows(start=SAT, end=SUN, figure="happiness")


def test_csv_export_day_by_day(built: None, manager: Client) -> None:
    response = manager.get("/insights/export.csv", {**PERIOD, "table": "kind"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    got = [(r["day"], r["value"], r["opened"], r["first_response_attainment"]) for r in rows]
    # Saturday: A (support) opened, its due met; B and E (service) opened, B's due breached;
    # C's (support, opened Friday) due breached → support 1 of 2 = 50 %. Sunday: D (care).
    assert got == [
        ("2026-12-05", "service", "2", "0.0"),
        ("2026-12-05", "support", "1", "50.0"),
        ("2026-12-06", "care", "1", ""),
        ("2026-12-06", "support", "0", ""),
    ]


def test_totals_export_has_every_day(built: None, manager: Client) -> None:
    response = manager.get("/insights/export.csv", {"from": "2026-12-05", "to": "2026-12-08",
                                                    "table": "totals"})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert [r["day"] for r in rows] == ["2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08"]
    assert [r["opened"] for r in rows] == ["3", "1", "0", "0"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-12-06", "to": "2026-12-05"}, 400),
        ({"from": "yesterday", "to": "2026-12-05"}, 400),
        ({"preset": "decade"}, 400),
        ({"by": "hour"}, 400),
    ],
)
def test_bad_query_strings_get_a_message(
    built: None, manager: Client, params: dict[str, str], status: int
) -> None:
    response = manager.get("/insights/", params)
    assert response.status_code == status
    assert 'class="alert alert-error"' in response.content.decode()


def test_export_refuses_an_unknown_table(built: None, manager: Client) -> None:
    response = manager.get("/insights/export.csv", {**PERIOD, "table": "planets"})
    assert response.status_code == 400
    assert "planets" in response.content.decode()


def test_agents_cannot_see_insights(built: None, shop: Shop) -> None:
    client = Client()
    client.force_login(shop.agents["support"])
    for url in ("/insights/", "/insights/rows/", "/insights/export.csv"):
        assert client.get(url).status_code == 403
    page = client.get("/cases/").content.decode()
    assert 'href="/insights/"' not in page
    anonymous = Client().get("/insights/")
    assert anonymous.status_code == 302


def test_managers_see_the_nav_link(built: None, manager: Client) -> None:
    assert 'href="/insights/"' in manager.get("/cases/").content.decode()


def test_numbers_as_each_language_writes_them() -> None:
    from django.utils import translation

    from khoshnud.insights.views import _number

    with translation.override("fa"):
        # A signed number stays left-to-right inside Persian text (isolated), its sign first.
        assert _number(-14.3) == "\u2066-۱۴٫۳\u2069"
        assert _number(-17, "min", signed=True) == "\u2066-۱۷\u2069 دقیقه"
        assert _number(1050.0, "min") == "۱۷ ساعت ۳۰ دقیقه"  # 1,050 minutes
        assert _number(33.33, "%") == "۳۳٫۳۳%"
        assert _number(None) == "—"
    with translation.override("zh-hans"):
        assert _number(330, "min") == "5小时30分钟"  # the main catalog's wording
        assert _number(3, signed=True) == "+3"
    with translation.override("en"):
        assert _number(12345) == "12,345"
        assert _number(-0.5, "%", signed=True) == "-0.5%"
