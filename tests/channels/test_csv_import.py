"""CSV import: all rows or none, line numbers in errors, duplicates left alone."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from khoshnud.channels.csv_import import ImportError_, import_csv
from khoshnud.commerce.models import Order, Product
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction

pytestmark = pytest.mark.django_db

CUSTOMERS = """first_name,last_name,email,phone,locale,birthday,birthday_calendar,tier
سارا,کریمی,sara@example.com,۰۹۱۲۳۴۵۶۷۸۹,fa,1403-12-30,jalali,loyal
伟,王,wei@example.com,+8613800138000,zh-hans,1990-05-01,chinese,standard
Emma,Smith,emma@example.com,,en,1991-02-03,gregorian,key
"""
PRODUCTS = """sku,name,category,price,currency,support_days,tags
GR-1,Hand grinder,grinders,120.50,usd,365,grinder|manual
BE-1,Beans 250 g,beans,16,USD,0,beans
"""


def run(kind: str, text: str) -> object:
    return import_csv(io.StringIO(text), kind)


def test_customers_products_orders_interactions() -> None:
    report = run("customers", CUSTOMERS)
    assert (report.rows, report.created, report.duplicates) == (3, 3, 0)  # type: ignore[attr-defined]
    sara = Customer.objects.get(identities__value="sara@example.com")
    assert sara.tier == "loyal" and sara.identities.get(kind="phone").value == "+989123456789"
    birthday = sara.personal_dates.get()
    assert (birthday.calendar, birthday.year, birthday.month, birthday.day) == (
        "jalali",
        1403,
        12,
        30,
    )

    run("products", PRODUCTS)
    grinder = Product.objects.get(sku="GR-1")
    assert grinder.price == Decimal("120.50") and grinder.currency == "USD"
    assert grinder.tags == ["grinder", "manual"]

    orders = (
        "number,email,placed_at,currency,sku,quantity,unit_price\n"
        "A-1,sara@example.com,2026-11-01T10:00:00+03:30,USD,GR-1,1,120.50\n"
        "A-1,sara@example.com,2026-11-01T10:00:00+03:30,USD,BE-1,3,16\n"
    )
    run("orders", orders)
    order = Order.objects.get(number="A-1")
    assert order.total == Decimal("168.50") and order.lines.count() == 2  # 120.50 + 3 × 16
    again = run("orders", orders)
    assert again.duplicates == 1 and Order.objects.get(number="A-1").lines.count() == 2  # type: ignore[attr-defined]

    interactions = (
        "source,external_id,channel,occurred_at,email,text\n"
        "pos,1,in_person,2026-11-01T10:00:00+03:30,sara@example.com,visited the shop\n"
        "pos,2,phone,2026-11-02T10:00:00+03:30,new@example.com,asked about grinders\n"
    )
    first = run("interactions", interactions)
    assert (first.created, first.duplicates) == (2, 0)  # type: ignore[attr-defined]
    second = run("interactions", interactions)
    assert (second.created, second.duplicates) == (0, 2)  # type: ignore[attr-defined]
    # the order is on Sara's timeline too, as a purchase: 1 + the 2 imported interactions
    assert Interaction.objects.count() == 3
    purchase = Interaction.objects.get(type="purchase")
    assert purchase.customer_id == sara.pk and purchase.metadata["total"] == "168.50"
    assert Customer.objects.count() == 4  # new@example.com was created by its interaction


def test_missing_column_is_reported() -> None:
    with pytest.raises(ImportError_) as err:
        run("products", "sku,name\nA,B\n")
    assert err.value.errors == [(1, "missing column(s): category, currency, price")]


def test_one_bad_row_stores_nothing_and_names_its_line() -> None:
    bad = CUSTOMERS + "Bad,Date,bad@example.com,,fa,1402-12-30,jalali,standard\n"
    bad += "No,Mail,not-an-email,,en,,,standard\n"
    with pytest.raises(ImportError_) as err:
        run("customers", bad)
    lines = [line for line, _msg in err.value.errors]
    assert lines == [5, 6]
    assert "does not exist in the Jalali" in err.value.errors[0][1]
    assert "invalid email" in err.value.errors[1][1]
    assert Customer.objects.count() == 0


def test_bad_interaction_row_rolls_back_the_whole_file() -> None:
    text = (
        "source,external_id,channel,occurred_at,email\n"
        "pos,1,in_person,2026-11-01T10:00:00+03:30,a@example.com\n"
        "pos,2,pigeon,2026-11-01T10:00:00+03:30,b@example.com\n"
        "pos,3,phone,2026-11-01T10:00:00,c@example.com\n"
    )
    with pytest.raises(ImportError_) as err:
        run("interactions", text)
    assert [line for line, _ in err.value.errors] == [3, 4]
    assert Interaction.objects.count() == 0 and Customer.objects.count() == 0


def test_command_exit_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "products.csv"
    good.write_text(PRODUCTS, encoding="utf-8")
    call_command("import_csv", "products", str(good), "--no-progress")
    assert "2 rows, 2 created" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,category,price,currency\nX,Y,Z,abc,USD\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_csv", "products", str(bad), "--no-progress")
    assert f"{bad}:2: price: 'abc' is not an amount" in capsys.readouterr().err
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_csv", "products", str(tmp_path / "missing.csv"))
    assert Product.objects.count() == 2


def test_poison_times_money_and_currencies_are_refused_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Times that cannot be read back, NaN/Infinity/overflowing prices and an order line priced
    in another currency: each reported as FILE:LINE, nothing stored."""
    run("products", PRODUCTS)
    run("products", "sku,name,category,price,currency\nIR-1,Tea,tea,450000,IRR\n")
    interactions = tmp_path / "interactions.csv"
    interactions.write_text(
        "source,external_id,channel,occurred_at,email\n"
        "pos,1,phone,2026-11-01T10:00:00+03:30,a@example.com\n"
        "pos,2,phone,9999-12-31T23:59:59-14:00,a@example.com\n"
        "pos,3,phone,0001-01-01T00:00:00+14:00,a@example.com\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="2 error"):
        call_command("import_csv", "interactions", str(interactions), "--no-progress")
    err = capsys.readouterr().err
    assert f"{interactions}:3: occurred_at: must be between 1900-01-01 and 2999-12-31" in err
    assert f"{interactions}:4: occurred_at: must be between" in err
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "number,email,placed_at,currency,sku,quantity,unit_price\n"
        "A-1,a@example.com,0001-01-01T00:00:00+00:00,USD,GR-1,1,120.50\n"
        "A-2,a@example.com,2026-11-01T10:00:00+03:30,USD,GR-1,1,NaN\n"
        "A-3,a@example.com,2026-11-01T10:00:00+03:30,USD,GR-1,1,Infinity\n"
        "A-4,a@example.com,2026-11-01T10:00:00+03:30,USD,GR-1,1,1e20\n"
        "A-5,a@example.com,2026-11-01T10:00:00+03:30,USD,GR-1,1,120.50\n"
        "A-5,a@example.com,2026-11-01T10:00:00+03:30,USD,IR-1,1,450000\n"
        "A-6,a@example.com,2026-11-01T10:00:00+03:30,USD,GR-1,1000000000000,1\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="6 error"):
        call_command("import_csv", "orders", str(orders), "--no-progress")
    err = capsys.readouterr().err
    assert f"{orders}:2: placed_at: must be between" in err
    assert f"{orders}:3: unit_price: 'NaN' is not an amount" in err
    assert f"{orders}:4: unit_price: 'Infinity' is not an amount" in err
    assert f"{orders}:5: unit_price: must be less than 10^12" in err
    assert f"{orders}:7: product IR-1 is priced in IRR, the order is in USD" in err
    assert f"{orders}:8: quantity: must be between 1 and 1000000" in err
    assert Interaction.objects.count() == 0 and Order.objects.count() == 0
