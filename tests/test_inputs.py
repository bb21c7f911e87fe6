"""The shared input rules: each refuses what one of the databases or Python cannot store."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from khoshnud.inputs import (
    BIGINT_MAX,
    InputError,
    clean_aware_datetime,
    clean_date,
    clean_int,
    clean_money,
    clean_query_text,
    clean_str,
    storable_text,
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b", "NUL"),
        ("\udcff", "invalid Unicode"),
        (["a"], "not a list"),
        ({"x": 1}, "not an object"),
        ("x" * 65, "longer than 64"),
        ("  ", "required"),
        (None, "required"),
    ],
)
def test_clean_str_refuses(value: object, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as info:
        clean_str(value, field="source", max_length=64)
    assert info.value.field == "source"


def test_clean_str_keeps_a_good_value_and_optional_empty() -> None:
    assert clean_str("  shop-web ", field="source", max_length=64) == "shop-web"
    assert clean_str(None, field="staff", max_length=150, required=False) == ""
    assert clean_str(42, field="external_id", max_length=8, allow_int=True) == "42"


def test_clean_int_bounds_at_64_bits() -> None:
    assert clean_int(BIGINT_MAX, field="id") == 9223372036854775807
    assert clean_int("۱۲", field="id") == 12
    for bad in (2**63, 10**30, 0, -1, True, 1.5, "1e3", "9" * 30):
        with pytest.raises(InputError):
            clean_int(bad, field="id")


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2026-11-20T09:30:00",  # no zone
        "not a time",
        "2026-11-20T09:30:00+03:30\x00",
    ],
)
def test_clean_aware_datetime_refuses_times_that_cannot_be_read_back(value: str) -> None:
    with pytest.raises(InputError):
        clean_aware_datetime(value, field="occurred_at")


def test_clean_aware_datetime_keeps_the_offset_and_reads_persian_digits() -> None:
    moment = clean_aware_datetime("۲۰۲۶-۱۱-۲۰T۰۹:۳۰:۰۰+۰۳:۳۰", field="occurred_at")
    assert moment.utcoffset() == dt.timedelta(hours=3, minutes=30)
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    assert clean_aware_datetime("2999-12-31T23:59:59Z", field="t").year == 2999


def test_clean_date_range() -> None:
    assert clean_date("1403-01-01".replace("1403", "2024"), field="to") == dt.date(2024, 1, 1)
    for bad in ("9999-12-31", "0001-01-01", "2026-02-30", ""):
        with pytest.raises(InputError):
            clean_date(bad, field="to")


def test_clean_money() -> None:
    assert clean_money("۴٬۰۰۵٫۵", field="price") == Decimal("4005.50")
    assert clean_money(12.5, field="price") == Decimal("12.50")
    assert clean_money("1,250,000", field="price") == Decimal("1250000.00")
    assert clean_money("999999999999.99", field="price") == Decimal("999999999999.99")
    for bad in ("NaN", "Infinity", "-1", "1e20", "1000000000000", "0.001", "abc", None, True):
        with pytest.raises(InputError):
            clean_money(bad, field="price")


def test_storable_text_and_query_text() -> None:
    assert storable_text("a\x00b\udcffc") == "ab\ufffdc"
    assert clean_query_text("a\x00b") == "ab"
    assert clean_query_text("x" * 500, max_length=200) == "x" * 200
    assert clean_query_text(None) == ""


def test_clean_choice() -> None:
    from khoshnud.inputs import clean_choice

    assert (
        clean_choice(None, field="direction", allowed={"inbound", "outbound"}, default="inbound")
        == "inbound"
    )
    for bad in (["email"], {"a": 1}, 5, "pigeon", "em\x00ail"):
        with pytest.raises(InputError, match="channel"):
            clean_choice(bad, field="channel", allowed={"email", "sms"})


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        {"k": "a\x00b"},
        {"a\x00": 1},
        {"k": ["\udcff"]},
        {"\udcff": 1},
        {"k": float("nan")},
        {"k": float("inf")},
        {"k": _nested(40)},
        {"k": {1, 2}},
    ],
)
def test_clean_json_and_its_text_refuse_what_a_database_cannot_keep(value: object) -> None:
    from khoshnud.inputs import clean_json, clean_json_text

    with pytest.raises(InputError):
        clean_json(value, field="metadata")
    with pytest.raises(InputError):
        clean_json_text(value, field="metadata")


def test_clean_json_text_keeps_good_values_exactly() -> None:
    from khoshnud.inputs import clean_json_text

    value = {
        "order": "A-1",
        "note": "سلام",
        "escaped": "\\u0000 is text",
        "n": 10**30,
        "deep": _nested(30),
    }
    text = clean_json_text(value, field="metadata")
    assert json.loads(text) == value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"\xff", "not UTF-8"),
        (b'{"a": NaN}', "NaN is not JSON"),
        (b'{"a": -Infinity}', "Infinity is not JSON"),
        (b"[" * 3000 + b"]" * 3000, "nests too deep"),
        (b'{"a": ', "malformed JSON"),
    ],
)
def test_read_json_refuses_unreadable_bodies(body: bytes, message: str) -> None:
    from khoshnud.inputs import read_json

    with pytest.raises(InputError, match=message):
        read_json(body)


def test_clean_page() -> None:
    from khoshnud.inputs import PAGE_MAX, clean_page

    assert [clean_page(v) for v in (None, "", "3", "۴", "0", "-2", "abc", "\x00")] == [
        1,
        1,
        3,
        4,
        1,
        1,
        1,
        1,
    ]
    assert clean_page("100000000000000000000") == PAGE_MAX
