"""The admin in Persian and Chinese: names of apps, models and fields, the site header, dates in
the viewer's calendar, and left-to-right values isolated in right-to-left pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from tests.web.conftest import in_language

pytestmark = pytest.mark.django_db

# The apps whose models are translated; an app that adds models joins this list with their
# names translated (the test then keeps them so).
TRANSLATED_APPS = ["accounts", "customers", "commerce", "interactions", "language"]
NAMED_APPS = [
    *TRANSLATED_APPS,
    "channels",
    "ops",
    "web",
    "cases",
    "servicelevels",
    "axes",
    "django_tasks_database",
]


@pytest.fixture
def boss(make_staff: Any) -> Client:
    client = Client()
    client.force_login(make_staff("boss", "admin"))
    return client


def test_every_model_and_field_has_a_translated_name() -> None:
    """No English left in fa or zh-hans: app, model (singular and plural) and field names."""
    for language in ("fa", "zh-hans"):
        with translation.override(language):
            for label in NAMED_APPS:
                config = apps.get_app_config(label)
                assert not str(config.verbose_name).isascii(), (language, config.label)
            for label in TRANSLATED_APPS:
                for model in apps.get_app_config(label).get_models():
                    meta = model._meta
                    for text in (meta.verbose_name, meta.verbose_name_plural):
                        assert not str(text).isascii(), (language, meta.label, text)
                    for field in meta.get_fields():
                        if field.auto_created and not field.concrete:
                            continue  # reverse relations
                        if getattr(field, "primary_key", False) and field.name == "id":
                            continue
                        name = str(getattr(field, "verbose_name", ""))
                        # "SKU" and "API" stay Latin in Chinese; everything else is translated
                        assert not name.isascii() or name == "SKU", (language, meta.label, name)


def test_admin_index_in_persian(boss: Client) -> None:
    in_language(boss, "fa")
    html = boss.get("/admin/").content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "مدیریت خشنود" in html  # not "Django administration"
    assert "Django" not in html.split("<body")[1].split("</header>")[0]
    for text in ("مشتریان", "خریدها", "سفارش‌ها", "محصولات", "تعامل‌ها", "گزارش ممیزی",
                 "توکن‌های API", "کارکنان و دسترسی"):  # fmt: skip
        assert text in html, text
    assert "css/admin.css" in html and "img/favicon.svg" in html


def test_admin_index_in_chinese(boss: Client) -> None:
    in_language(boss, "zh-hans")
    html = boss.get("/admin/").content.decode()
    assert "满意管理后台" in html
    for text in ("客户", "购买记录", "订单", "商品", "互动", "审计日志", "API 令牌"):
        assert text in html, text


def test_admin_customer_list_and_form_in_persian(boss: Client) -> None:
    customer = customer_create(
        data={"first_name": "سارا", "identities": {"phone": "+98 912 345 6789"}}
    )
    # Customer since 2026-11-20 09:30 Tehran = 29 Aban 1405
    since = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    Customer.objects.filter(pk=customer.pk).update(created_at=since)
    in_language(boss, "fa")
    listing = boss.get("/admin/customers/customer/").content.decode()
    assert "۲۹ آبان ۱۴۰۵، ۰۹:۳۰" in listing  # the viewer's calendar and digits
    assert "مشتری از" in listing  # the column's translated name
    form = boss.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    # The inline's title: identities (not IDENTITYS), with translated column names
    assert "هویت‌ها" in form and "Identitys" not in form
    for label in ("نام", "مقدار", "اصلی", "تاریخ‌های شخصی", "رضایت‌ها"):
        assert label in form, label
    assert "+989123456789" in form
    assert "۲۹ آبان ۱۴۰۵، ۰۹:۳۰" in form  # "customer since", read-only, in the viewer's calendar
    assert "تلفن: +989123456789" in form  # the identity's name: its kind translated


def test_admin_isolates_left_to_right_values_in_rtl() -> None:
    """The stylesheet the admin loads lays a value without letters (a phone) out left to right."""
    from django.contrib.staticfiles import finders

    path = finders.find("css/admin.css")
    assert path is not None
    css = Path(path).read_text(encoding="utf-8")
    assert 'html[dir="rtl"] input[type="text"]' in css and "unicode-bidi: plaintext" in css
