"""The demo business: built through the real services, deterministic, never duplicated."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from khoshnud.commerce.models import Order, Product
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from khoshnud.ops.demo_data import PRODUCTS, build_demo
from khoshnud.ops.management.commands.demo import ensure_demo_staff

pytestmark = pytest.mark.django_db


def test_demo_builds_once_with_every_language_and_channel(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    password = ensure_demo_staff()
    assert User.objects.get(username="admin").check_password(password)
    assert ensure_demo_staff() == password  # a second run prints the same password

    counts = build_demo(customers=60)
    assert counts["customers"] == 60
    assert Customer.objects.count() == 60
    assert Product.objects.count() == len(PRODUCTS)
    assert Order.objects.count() == counts["orders"] > 0
    assert Interaction.objects.count() == counts["interactions"] > 60 * 3
    assert set(Customer.objects.values_list("locale", flat=True)) == {"fa", "zh-hans", "en"}
    assert Interaction.objects.values("channel").distinct().count() >= 8
    persian = Customer.objects.filter(locale="fa").first()
    assert persian is not None and persian.calendar == "jalali"
    assert persian.personal_dates.filter(kind="birthday", calendar="jalali").exists()

    again = build_demo(customers=60)
    assert again == {"customers": 0, "orders": 0, "interactions": 0}
    assert Customer.objects.count() == 60


def test_demo_is_deterministic() -> None:
    from django.db import transaction

    def build_and_describe() -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
        build_demo(customers=20)
        people = list(Customer.objects.order_by("id").values_list("first_name", "locale", "tier"))
        texts = list(Interaction.objects.order_by("occurred_at", "external_id")
                     .values_list("channel", "text")[:80])  # fmt: skip
        return people, texts

    class Rollback(Exception):
        pass

    described = []
    for _ in range(2):
        try:
            with transaction.atomic():
                described.append(build_and_describe())
                raise Rollback
        except Rollback:
            pass
    assert described[0] == described[1]
    assert len(described[0][0]) == 20


def test_demo_dates_are_plausible_and_consents_in_the_customers_language() -> None:
    """Customer since before their first order/message/consent; nothing dated after now."""
    import re

    from django.db.models import Max, Min
    from django.utils import timezone

    from khoshnud.customers.models import Consent

    build_demo(customers=60)
    now = timezone.now()
    assert Interaction.objects.aggregate(last=Max("occurred_at"))["last"] <= now
    assert Order.objects.aggregate(last=Max("placed_at"))["last"] <= now
    firsts: dict[int, list] = {}
    for model, field in (
        (Order, "placed_at"),
        (Interaction, "occurred_at"),
        (Consent, "recorded_at"),
    ):
        for row in model.objects.values("customer_id").annotate(first=Min(field)):
            firsts.setdefault(row["customer_id"], []).append(row["first"])
    customers = {c.pk: c for c in Customer.objects.all()}
    assert len({c.created_at.date() for c in customers.values()}) > 10  # not all "today"
    for customer_id, times in firsts.items():
        assert customers[customer_id].created_at < min(times), customer_id
    latin = re.compile(r"[A-Za-z]")
    methods = Consent.objects.values_list("customer__locale", "method")
    assert {locale for locale, _m in methods} == {"fa", "zh-hans", "en"}
    for locale, method in methods:
        if locale == "en":
            assert latin.search(method), method
        else:
            assert not latin.search(method), (locale, method)
