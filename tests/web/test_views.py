"""Staff web UI: login, search, customer 360, timeline filters, corrections, languages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create, customer_merge
from khoshnud.language.models import MessageAnalysis
from tests.web.conftest import TEHRAN, analyse, in_language

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def item_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="interaction-(\d+)"', html)]


def text_of(response: Any) -> str:
    return response.content.decode()


# ---- access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/customers/1/",
        "/customers/1/timeline/",
    ],
)
def test_pages_require_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_correction_requires_login(client: Client) -> None:
    response = client.post("/customers/1/interactions/1/analysis/", {"need": "care"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_renders_and_logs_in(client: Client, agent: User) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'name="username"' in text_of(page)
    response = client.post(
        "/accounts/login/", {"username": "nasrin", "password": "Tulip-garden-77"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Nasrin" in text_of(client.get("/"))


def test_login_page_in_persian_is_rtl(client: Client) -> None:
    in_language(client, "fa")
    html = text_of(client.get("/accounts/login/"))
    assert '<html lang="fa" dir="rtl">' in html
    assert "ورود" in html


def test_logout_is_a_post(agent_client: Client) -> None:
    html = text_of(agent_client.get("/"))
    assert re.search(r'<form action="/accounts/logout/" method="post"', html)
    response = agent_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert agent_client.get("/").status_code == 302


# ---- customer list ------------------------------------------------------------------------


def test_search_by_persian_digit_phone_finds_the_customer(
    agent_client: Client, sara: Customer
) -> None:
    other = customer_create(data={"first_name": "Li", "identities": {"phone": "09351112233"}})
    html = text_of(agent_client.get("/", {"q": "۰۹۱۲ ۳۴۵ ۶۷۸۹"}))
    assert reverse("web:customer_detail", args=[sara.pk]) in html
    assert "سارا کریمی" in html
    assert reverse("web:customer_detail", args=[other.pk]) not in html


def test_live_search_returns_only_the_results_fragment(
    agent_client: Client, sara: Customer
) -> None:
    response = agent_client.get("/", {"q": "sara@example"}, HTTP_HX_TARGET="customer-results", **HX)
    html = text_of(response)
    assert "<html" not in html
    assert reverse("web:customer_detail", args=[sara.pk]) in html
    miss = text_of(agent_client.get("/", {"q": "nobody"}, HTTP_HX_TARGET="customer-results", **HX))
    assert "No customer matches" in miss


def test_list_shows_tier_locale_identities_and_jalali_created_date_under_fa(
    agent_client: Client, sara: Customer
) -> None:
    Customer.objects.filter(pk=sara.pk).update(
        created_at=dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    )
    in_language(agent_client, "fa")
    html = text_of(agent_client.get("/"))
    assert "وفادار" in html  # tier "Loyal"
    assert "+989123456789" in html and "sara@example.com" in html
    # 2026-11-20 is 29 Aban 1405 (1 Farvardin 1405 = 21 March 2026; +244 days = day 245)
    assert "۲۹ آبان ۱۴۰۵" in html


def test_list_is_paginated(agent_client: Client, db: Any) -> None:
    for n in range(30):
        customer_create(data={"first_name": f"Customer{n:02d}"})
    first = text_of(agent_client.get("/"))
    second = text_of(agent_client.get("/", {"page": 2}))
    assert first.count('class="customer-link"') == 25
    assert second.count('class="customer-link"') == 5
    assert "Page 2 of 2" in second


# ---- customer 360 ------------------------------------------------------------------------


def test_360_shows_profile_identities_consents_dates_and_purchases(
    agent_client: Client, sara: Customer, ingest: Callable[..., int]
) -> None:
    ingest(channel="telegram", at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=TEHRAN))
    html = text_of(agent_client.get(reverse("web:customer_detail", args=[sara.pk])))
    assert "سارا کریمی" in html
    assert "Loyal" in html and "Asia/Tehran" in html and "favourite roast" in html
    assert "sara@example.com" in html and "+989123456789" in html
    # Consents in force: SMS yes (shop counter form), email no (unsubscribe link)
    consents = html.split('class="table compact consents"')[1].split("</table>")[0]
    assert re.search(r"Email</td>\s*<td><span class=\"badge badge-no\">No", consents)
    assert re.search(r"SMS</td>\s*<td><span class=\"badge badge-yes\">Yes", consents)
    assert "unsubscribe link" in consents and "shop counter form" in consents
    # The Jalali birthday stays Jalali (in Latin digits under en); the anniversary is Gregorian.
    assert "15 Esfand 1370" in html  # a Jalali date keeps its calendar; month in Latin
    assert "21 Jun" in html
    assert "A-1042" in html and "9,000,000 IRR" in html and "Burr grinder" in html
    assert "Telegram" in html
    assert 'dir="auto"' in html


def test_360_under_fa_uses_jalali_and_persian_digits(
    agent_client: Client, sara: Customer, ingest: Callable[..., int]
) -> None:
    ingest(channel="email", at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=TEHRAN))
    in_language(agent_client, "fa")
    html = text_of(agent_client.get(reverse("web:customer_detail", args=[sara.pk])))
    assert '<html lang="fa" dir="rtl">' in html
    # 09:30 in Tehran on 2026-11-20 = 29 Aban 1405, 09:30, all in Persian digits
    assert "۲۹ آبان ۱۴۰۵، ۰۹:۳۰" in html
    assert "۱۵ اسفند ۱۳۷۰" in html  # the birthday in its own (Jalali) calendar
    assert "۹٬۰۰۰٬۰۰۰ ریال" in html  # the currency named in Persian
    assert "تاریخچهٔ تعاملات" in html  # "Timeline"
    assert "ایمیل" in html  # the channel label


def test_360_under_chinese(
    agent_client: Client, sara: Customer, ingest: Callable[..., int]
) -> None:
    ingest(channel="wechat", at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=TEHRAN))
    in_language(agent_client, "zh-hans")
    html = text_of(agent_client.get(reverse("web:customer_detail", args=[sara.pk])))
    assert '<html lang="zh-hans" dir="ltr">' in html
    assert "2026年11月20日 09:30" in html
    assert "微信" in html and "时间线" in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Order", "D-10001", "3 items", "4,005.50 USD"]),
        ("fa", ["سفارش", "D-10001", "۳ قلم", "۴٬۰۰۵٫۵۰ دلار آمریکا"]),
        ("zh-hans", ["订单", "D-10001", "3 件商品", "4,005.50 美元"]),
    ],
)
def test_a_purchase_on_the_timeline_is_worded_in_the_viewers_language(
    agent_client: Client, sara: Customer, language: str, expected: list[str]
) -> None:
    from decimal import Decimal

    from khoshnud.commerce.models import Product
    from khoshnud.commerce.services import order_create

    for sku, price in (("ESP-9", "1335.25"), ("GR-2", "1335.00")):
        Product.objects.create(sku=sku, name=sku, category="machines", price=Decimal(price),
                               currency="USD")  # fmt: skip
    order_create(
        customer={"id": sara.pk},
        number="D-10001",
        placed_at=dt.datetime(2026, 11, 1, 10, 0, tzinfo=TEHRAN),
        currency="USD",
        lines=[{"sku": "ESP-9", "quantity": 2}, {"sku": "GR-2"}],  # 2 × 1,335.25 + 1,335.00
    )
    in_language(agent_client, language)
    html = timeline(agent_client, sara)
    item = html.split('class="tl-text tl-order"')[1].split("</p>")[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item))
    for part in expected:
        assert part in text, (part, text)
    assert "USD</p>" not in html and '"D-10001:' not in html  # not the stored English text
    assert '<bdi dir="ltr" class="order-number">D-10001</bdi>' in item


@pytest.mark.parametrize(
    ("language", "own", "lunar_new_year_2027"),
    [
        ("en", "Lunar 1/5 (1976)", "10 Feb 2027"),
        ("fa", "۵ ماه اول قمری چینی (۱۵ بهمن ۱۳۵۴)", "۲۱ بهمن ۱۴۰۵"),
        ("zh-hans", "农历1976年正月初五", "2027年2月10日"),
    ],
)
def test_a_lunar_birthday_on_the_360_in_each_language(
    agent_client: Client, db: Any, language: str, own: str, lunar_new_year_2027: str
) -> None:
    """Lunar 1/5 recurs on 10 Feb 2027 (Chinese New Year 2027 is 6 Feb) = 21 Bahman 1405."""
    from khoshnud.calendars import CalendarDate, next_occurrence

    wang = customer_create(
        data={
            "first_name": "芳",
            "last_name": "王",
            "locale": "zh-hans",
            "personal_dates": [{"kind": "birthday", "calendar": "chinese", "date": "1976-01-05"}],
        }
    )
    assert next_occurrence(CalendarDate("chinese", 1976, 1, 5), dt.date(2026, 12, 1)) == dt.date(
        2027, 2, 10
    )
    in_language(agent_client, language)
    html = text_of(agent_client.get(reverse("web:customer_detail", args=[wang.pk])))
    assert own in html
    today = timezone.localdate()
    if dt.date(2026, 2, 21) < today <= dt.date(2027, 2, 10):  # the next one is in 2027
        assert lunar_new_year_2027 in html


def test_personal_date_shows_next_occurrence_in_viewer_calendar(
    agent_client: Client, sara: Customer
) -> None:
    from khoshnud.calendars import CalendarDate, format_date, next_occurrence

    in_language(agent_client, "fa")
    html = text_of(agent_client.get(reverse("web:customer_detail", args=[sara.pk])))
    next_birthday = next_occurrence(CalendarDate("jalali", 1370, 12, 15), timezone.localdate())
    assert format_date(next_birthday, "fa") in html


def test_merged_customer_redirects_to_survivor(agent_client: Client, sara: Customer) -> None:
    duplicate = customer_create(data={"first_name": "Sara", "identities": {"telegram": "sara_k"}})
    customer_merge(target=sara, source=duplicate)
    response = agent_client.get(reverse("web:customer_detail", args=[duplicate.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:customer_detail", args=[sara.pk])


def test_unknown_customer_is_404(agent_client: Client, db: Any) -> None:
    assert agent_client.get("/customers/999999/").status_code == 404


# ---- timeline ----------------------------------------------------------------------------


@pytest.fixture
def history(sara: Customer, ingest: Callable[..., int]) -> dict[str, int]:
    """Five interactions over November 2026 on three channels (times in Tehran)."""
    at = lambda day, hour=10: dt.datetime(2026, 11, day, hour, 0, tzinfo=TEHRAN)  # noqa: E731
    return {
        "tg_3": ingest(channel="telegram", at=at(3)),
        "mail_5": ingest(channel="email", at=at(5)),
        "tg_10": ingest(channel="telegram", at=at(10), direction="outbound", type="notification"),
        "tg_15_late": ingest(channel="telegram", at=at(15, 23)),  # 23:00 on the 15th: still "to"
        "sms_16": ingest(channel="sms", at=at(16, 0)),
    }


def timeline(client: Client, customer: Customer, **params: Any) -> str:
    url = reverse("web:customer_timeline", args=[customer.pk])
    response = client.get(url, params, **HX)
    assert response.status_code == 200
    return text_of(response)


def test_timeline_filter_by_channel_and_period(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    html = timeline(
        agent_client, sara, channel="telegram", **{"from": "2026-11-05", "to": "2026-11-15"}
    )
    assert item_ids(html) == [history["tg_15_late"], history["tg_10"]]  # newest first


def test_timeline_period_only_and_all(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    html = timeline(agent_client, sara, **{"from": "2026-11-05", "to": "2026-11-15"})
    assert item_ids(html) == [history["tg_15_late"], history["tg_10"], history["mail_5"]]
    everything = timeline(agent_client, sara)
    assert item_ids(everything) == [
        history[k] for k in ("sms_16", "tg_15_late", "tg_10", "mail_5", "tg_3")
    ]


def test_timeline_filter_by_type(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    html = timeline(agent_client, sara, type="notification")
    assert item_ids(html) == [history["tg_10"]]


def test_timeline_accepts_jalali_dates_in_persian_digits(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    # 1405-08-14 = 2026-11-05 and 1405-08-24 = 2026-11-15
    html = timeline(agent_client, sara, **{"from": "۱۴۰۵-۰۸-۱۴", "to": "۱۴۰۵-۰۸-۲۴"})
    assert item_ids(html) == [history["tg_15_late"], history["tg_10"], history["mail_5"]]


def test_timeline_dates_round_trip_in_jalali_under_fa(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    """A Jalali date in the URL comes back Jalali: in the pushed URL, the links and the field."""
    in_language(agent_client, "fa")
    url = reverse("web:customer_timeline", args=[sara.pk])
    # 1405-08-14 = 2026-11-05 and 1405-08-24 = 2026-11-15; Arabic-Indic digits work too.
    response = agent_client.get(url, {"from": "1405/8/14", "to": "١٤٠٥-٠٨-٢٤"}, **HX)
    html = text_of(response)
    assert item_ids(html) == [history["tg_15_late"], history["tg_10"], history["mail_5"]]
    assert response["HX-Push-Url"].endswith("?from=1405-08-14&to=1405-08-24")
    # A text field the Jalali picker works on, showing Persian digits; no browser date field.
    assert 'type="date"' not in html
    assert 'name="from" value="۱۴۰۵/۰۸/۱۴"' in html and 'name="to" value="۱۴۰۵/۰۸/۲۴"' in html
    assert 'data-calendar="jalali"' in html and 'data-digits="fa"' in html
    # A Gregorian link opened in Persian is written back in Jalali
    page = text_of(agent_client.get(reverse("web:customer_detail", args=[sara.pk]),
                                    {"from": "2026-11-05"}))  # fmt: skip
    assert 'name="from" value="۱۴۰۵/۰۸/۱۴"' in page


def test_timeline_dates_in_chinese_format_under_zh(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    in_language(agent_client, "zh-hans")
    url = reverse("web:customer_timeline", args=[sara.pk])
    response = agent_client.get(url, {"from": "2026年11月5日", "to": "2026-11-15"}, **HX)
    html = text_of(response)
    assert item_ids(html) == [history["tg_15_late"], history["tg_10"], history["mail_5"]]
    assert response["HX-Push-Url"].endswith("?from=2026-11-05&to=2026-11-15")
    assert 'type="date"' not in html
    assert 'name="from" value="2026-11-05"' in html and 'placeholder="2026-11-20"' in html
    assert 'data-calendar="gregorian"' in html and 'data-first-day="1"' in html
    # A Jalali link shared by a Persian colleague reads as the same days, written the Chinese way
    jalali = agent_client.get(url, {"from": "1405-08-14"}, **HX)
    assert 'name="from" value="2026-11-05"' in text_of(jalali)


def test_timeline_presets_last_n_days(
    agent_client: Client, sara: Customer, ingest: Callable[..., int]
) -> None:
    now = timezone.now()
    recent = ingest(channel="phone", type="call", at=now - dt.timedelta(days=2))
    older = ingest(channel="phone", type="call", at=now - dt.timedelta(days=20))
    oldest = ingest(channel="phone", type="call", at=now - dt.timedelta(days=200))
    assert item_ids(timeline(agent_client, sara, period="7")) == [recent]
    assert item_ids(timeline(agent_client, sara, period="30")) == [recent, older]
    assert item_ids(timeline(agent_client, sara, period="all")) == [recent, older, oldest]
    # The preset fills the date inputs so the person sees the period it means
    html = timeline(agent_client, sara, period="7")
    start = timezone.localdate() - dt.timedelta(days=6)
    assert f'name="from" value="{start.isoformat()}"' in html


def test_timeline_bad_input_is_explained_not_an_error(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    html = timeline(agent_client, sara, channel="pigeon", **{"from": "yesterday"})
    assert "is not a date" in html and "Unknown filter value" in html
    assert len(item_ids(html)) == 5


def test_timeline_pushes_the_page_url(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    url = reverse("web:customer_timeline", args=[sara.pk])
    response = agent_client.get(url, {"channel": "sms"}, **HX)
    assert (
        response["HX-Push-Url"] == reverse("web:customer_detail", args=[sara.pk]) + "?channel=sms"
    )


def test_timeline_load_more_pages(
    agent_client: Client, sara: Customer, ingest: Callable[..., int]
) -> None:
    base = dt.datetime(2026, 10, 1, 10, 0, tzinfo=TEHRAN)
    ids = [ingest(at=base + dt.timedelta(hours=n)) for n in range(25)]
    first = timeline(agent_client, sara)
    assert item_ids(first) == ids[::-1][:20]
    more = re.search(r'hx-get="([^"]+page=2[^"]*)"', first)
    assert more is not None
    second = agent_client.get(more.group(1).replace("&amp;", "&"), **HX)
    assert item_ids(text_of(second)) == ids[::-1][20:]
    assert "Load more" not in text_of(second)
    assert "<section" not in text_of(second)  # only the next items, appended in place


def test_timeline_of_merged_id_shows_survivor_history(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    duplicate = customer_create(data={"first_name": "Sara", "identities": {"telegram": "sara_k"}})
    customer_merge(target=sara, source=duplicate)
    html = timeline(agent_client, duplicate)
    assert len(item_ids(html)) == 5


# ---- analysis and corrections ------------------------------------------------------------


def test_analysis_is_shown_with_a_correction_form_and_hidden_when_missing(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    analyse(history["mail_5"], sara.pk)
    html = timeline(agent_client, sara)
    item = html.split(f'id="interaction-{history["mail_5"]}"')[1].split("</li>")[0]
    assert "Persian" in item and "Support" in item and "Negative" in item
    assert reverse("web:analysis_correct", args=[sara.pk, history["mail_5"]]) in item
    bare = html.split(f'id="interaction-{history["tg_3"]}"')[1].split("</li>")[0]
    assert "Analysis" not in bare and "analysis" not in bare


@pytest.mark.parametrize(
    "data",
    [{"need": "gossip"}, {"sentiment": "ecstatic"}, {"need": "care", "sentiment": "meh"}, {}],
)
def test_correction_with_bad_label_is_400_and_changes_nothing(
    agent_client: Client, sara: Customer, history: dict[str, int], data: dict[str, str]
) -> None:
    analyse(history["mail_5"], sara.pk)
    url = reverse("web:analysis_correct", args=[sara.pk, history["mail_5"]])
    response = agent_client.post(url, data, **HX)
    assert response.status_code == 400
    assert 'role="alert"' in text_of(response)
    assert f'id="interaction-{history["mail_5"]}"' in text_of(response)  # the item, re-rendered
    stored = MessageAnalysis.objects.get(pk=history["mail_5"])
    assert stored.corrected_need == stored.corrected_sentiment == ""
    assert stored.corrected_by is None
    plain = agent_client.post(url, data)  # without htmx: an error page, still 400
    assert plain.status_code == 400


def test_correction_without_analysis_is_400(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    url = reverse("web:analysis_correct", args=[sara.pk, history["tg_3"]])
    response = agent_client.post(url, {"need": "care"}, **HX)
    assert response.status_code == 400
    assert "has not been analysed" in text_of(response)
    assert not MessageAnalysis.objects.filter(pk=history["tg_3"]).exists()


def test_correction_of_another_customers_interaction_is_404(
    agent_client: Client, sara: Customer, history: dict[str, int]
) -> None:
    other = customer_create(data={"first_name": "Li"})
    url = reverse("web:analysis_correct", args=[other.pk, history["mail_5"]])
    assert agent_client.post(url, {"need": "care"}, **HX).status_code == 404


def test_correction_is_saved_and_the_item_swapped(
    agent_client: Client, agent: User, sara: Customer, history: dict[str, int]
) -> None:
    analyse(history["mail_5"], sara.pk)
    url = reverse("web:analysis_correct", args=[sara.pk, history["mail_5"]])
    response = agent_client.post(url, {"need": "care", "sentiment": "negative"}, **HX)
    assert response.status_code == 200
    html = text_of(response)
    assert html.strip().startswith(
        f'<li class="tl-item tl-inbound" id="interaction-{history["mail_5"]}"'
    )
    assert "Care" in html and "corrected by staff" in html
    stored = MessageAnalysis.objects.get(pk=history["mail_5"])
    assert stored.final_need == "care" and stored.corrected_by == agent
    plain = agent_client.post(url, {"sentiment": "neutral"})
    assert plain.status_code == 302
    assert plain["Location"].endswith(f"#interaction-{history['mail_5']}")


# ---- no N+1 ------------------------------------------------------------------------------


def test_360_page_and_timeline_queries_do_not_grow_with_items(
    agent_client: Client,
    sara: Customer,
    ingest: Callable[..., int],
    django_assert_max_num_queries: Any,
) -> None:
    from khoshnud.accounts.services import staff_create

    staff = [
        staff_create(username=f"agent{n}", password="Staff-pass-2026", role="agent")
        for n in range(3)
    ]
    base = dt.datetime(2026, 10, 1, 10, 0, tzinfo=TEHRAN)
    channels = ["email", "telegram", "sms", "phone", "instagram"]
    for n in range(30):
        iid = ingest(
            channel=channels[n % 5],
            at=base + dt.timedelta(hours=n),
            staff=staff[n % 3].username,
            direction="outbound",
        )
        analyse(iid, sara.pk)
    from khoshnud.commerce.services import order_create

    for n in range(3):  # purchases among the newest 20 items: their orders in one more query
        order_create(customer={"id": sara.pk}, number=f"P-{n}", currency="IRR",
                     placed_at=base + dt.timedelta(days=3, hours=n), lines=[{"sku": "GR-1"}])  # fmt: skip
    url = reverse("web:customer_detail", args=[sara.pk])
    # session + user + role (the access rule), customer, identities, consents, dates, orders
    # (+lines +products), channel counts, timeline rows, analyses, staff names, purchases + their
    # orders, open cases, survey scores (a timeline annotator), the outreach history; in the
    # header: unread notifications, the insights link's role check
    with django_assert_max_num_queries(22):
        response = agent_client.get(url)
    assert len(item_ids(text_of(response))) == 20
    assert text_of(response).count('class="tl-text tl-order"') == 3
    # +1: the user's role, read by the access rule; +1 each: deliveries, survey scores (timeline
    # annotators)
    with django_assert_max_num_queries(11):
        response = agent_client.get(reverse("web:customer_timeline", args=[sara.pk]), **HX)
    assert len(item_ids(text_of(response))) == 20
    with django_assert_max_num_queries(8):  # +1: the header's role check for the insights link
        response = agent_client.get("/")
