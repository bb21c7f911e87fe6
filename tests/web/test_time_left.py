"""The inbox's "time left" in each language, hand-computed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from khoshnud.web.templatetags.khoshnud_cases import is_late, time_left

NOW = dt.datetime(2026, 12, 2, 10, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "delta", "text"),
    [
        ("en", dt.timedelta(hours=3, minutes=20), "3 h 20 min left"),
        ("en", dt.timedelta(days=2, hours=17, minutes=59), "2 d 17 h left"),
        ("en", dt.timedelta(seconds=20), "1 min left"),
        ("en", -dt.timedelta(hours=2, minutes=5), "2 h 5 min late"),
        ("fa", dt.timedelta(hours=3, minutes=20), "۳ ساعت ۲۰ دقیقه مانده"),
        ("fa", -dt.timedelta(days=1, hours=4), "۱ روز ۴ ساعت دیرکرد"),
        ("zh-hans", dt.timedelta(minutes=45), "剩余45分钟"),
        ("zh-hans", -dt.timedelta(hours=1), "逾期1小时0分钟"),
    ],
)
def test_time_left_in_words(language: str, delta: dt.timedelta, text: str) -> None:
    with translation.override(language):
        assert time_left(NOW + delta, NOW) == text
    assert is_late(NOW + delta, NOW) is (delta < dt.timedelta(0))


def test_no_due_time_says_nothing() -> None:
    assert time_left(None, NOW) == ""
    assert is_late(None, NOW) is False
