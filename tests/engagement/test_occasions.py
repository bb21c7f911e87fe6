"""The occasion index: next occurrences computed by hand, kept up to date, one indexed query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from khoshnud.customers.models import Customer, PersonalDate
from khoshnud.customers.services import customer_merge, customer_update
from khoshnud.engagement.models import Occasion
from khoshnud.engagement.occasions import occasions_sync

pytestmark = pytest.mark.django_db

Make = Callable[..., Customer]


def next_birthday(customer: Customer) -> dt.date:
    return Occasion.objects.get(customer=customer, kind="birthday").next_date


def test_30_esfand_falls_on_29_esfand_in_a_year_without_it(make_customer: Make) -> None:
    c = make_customer(birthday="1370-12-30", calendar="jalali")
    # 1403 is a leap year: 30 Esfand 1403 = 2025-03-20 (1 Farvardin 1404 = 2025-03-21).
    occasions_sync(today=dt.date(2025, 3, 1))
    assert next_birthday(c) == dt.date(2025, 3, 20)
    # 1404 has 365 days: 1 Farvardin 1405 = 2026-03-21, so 29 Esfand 1404 = 2026-03-20.
    occasions_sync(today=dt.date(2025, 3, 22))
    assert next_birthday(c) == dt.date(2026, 3, 20)


def test_29_february_falls_on_28_february(make_customer: Make) -> None:
    c = make_customer(birthday="2000-02-29")
    occasions_sync(today=dt.date(2026, 1, 10))
    assert next_birthday(c) == dt.date(2026, 2, 28)  # 2026 is not a leap year
    occasions_sync(today=dt.date(2027, 3, 5))
    assert next_birthday(c) == dt.date(2028, 2, 29)  # 2028 is


def test_lunar_leap_month_birthday_recurs_in_the_regular_month(make_customer: Make) -> None:
    # Born on the 15th of the leap 2nd month of 2023 (闰二月十五 = 2023-04-05). 2024 has no
    # leap 2nd month; the regular 二月十五 of 2024 is 2024-03-24 (lunar tables).
    c = make_customer(birthday="2023-02-15", calendar="chinese", leap_month=True)
    occasions_sync(today=dt.date(2023, 6, 1))
    assert next_birthday(c) == dt.date(2024, 3, 24)


def test_index_follows_changes_and_merges(
    make_customer: Make, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        a = make_customer(birthday="1990-06-01")
        b = make_customer()
    assert Occasion.objects.filter(customer=a, kind="birthday").count() == 1
    assert Occasion.objects.filter(customer=b, kind="customer_since").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(
            customer=b,
            data={"personal_dates": [{"kind": "wedding_anniversary", "date": "2015-09-09"}]},
        )
    assert Occasion.objects.filter(customer=b, kind="wedding_anniversary").count() == 1
    # An edit outside the services (the admin) is found by the periodic sync.
    PersonalDate.objects.filter(customer=a).update(month=7, day=2)
    occasions_sync(today=dt.date(2026, 1, 1))
    assert next_birthday(a) == dt.date(2026, 7, 2)
    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(target=b, source=a)
    assert Occasion.objects.filter(customer=b, kind="birthday").count() == 1
    assert not Occasion.objects.filter(customer=a).exists()
    # Idempotent: nothing more to do.
    assert occasions_sync(today=dt.date(2026, 1, 1)) == 0


def test_whose_occasion_is_on_day_d_is_one_indexed_query(
    make_customer: Make, django_assert_num_queries: Any
) -> None:
    for day in ("03-01", "03-02", "03-02"):
        make_customer(birthday=f"1990-{day}")
    occasions_sync(today=dt.date(2026, 1, 1))
    with django_assert_num_queries(1):
        found = list(
            Occasion.objects.filter(next_date=dt.date(2026, 3, 2), kind="birthday").values_list(
                "customer_id", flat=True
            )
        )
    assert len(found) == 2


def test_demo_outreach_has_birthdays_tomorrow_in_three_calendars() -> None:
    from django.utils import timezone

    from khoshnud.engagement.models import Rule
    from khoshnud.ops.demo_data import demo_outreach

    today = timezone.localdate()
    assert demo_outreach(today=today) == 5
    occasions_sync(today=today)
    tomorrow = Occasion.objects.filter(kind="birthday", next_date=today + dt.timedelta(days=1))
    assert sorted(tomorrow.values_list("calendar", flat=True)) == ["chinese", "gregorian", "jalali"]
    assert Rule.objects.get().lead_days == 1
