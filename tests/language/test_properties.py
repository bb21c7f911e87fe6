"""Properties over arbitrary text: normalisation is stable, detection always answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from khoshnud.language.detect import LANGUAGES, detect_language
from khoshnud.language.normalize import normalize

# Persian, Arabic, Chinese, Latin letters, digits, ZWNJ, spaces, emoji and punctuation mixed.
_ALPHABET = st.sampled_from(
    [
        *"میخوامنیدکتابهاتررسیگزپچژيكة۱۲٣ 你好吗订单abcXYZ019!?،。\u200c\u200d\n😂👍🙏",
        "می ",
        "ها",
        " تر",
        "نمی",
    ]
)
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXT, st.text(max_size=60), st.binary(max_size=60)))
def test_detect_always_answers(value: str | bytes) -> None:
    guess = detect_language(value)
    assert guess.language in LANGUAGES
    assert 0.0 <= guess.confidence <= 1.0
