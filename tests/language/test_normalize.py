"""Persian normalisation on hand-written examples."""

from __future__ import annotations

import pytest

from khoshnud.language.normalize import MAX_CHARS, ZWNJ, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علي كجاست", "علی کجاست"),  # Arabic yeh and kaf → Persian
        ("هديه", "هدیه"),
        ("سفارش ۱۲۳۴ و ٥٦٧", "سفارش 1234 و 567"),  # Persian and Arabic-Indic digits
        ("سَلامٌ عَلَيْكُمْ", "سلام علیکم"),  # diacritics removed
        ("خیـــلی", "خیلی"),  # tatweel removed
        ("می خوام", f"می{ZWNJ}خوام"),
        ("میخوام", f"می{ZWNJ}خوام"),
        (f"می{ZWNJ}خوام", f"می{ZWNJ}خوام"),
        ("نمی دونم", f"نمی{ZWNJ}دونم"),
        ("نمیدونم", f"نمی{ZWNJ}دونم"),
        ("میخواستم", f"می{ZWNJ}خواستم"),
        ("میشه؟", f"می{ZWNJ}شه؟"),
        ("کتاب ها", f"کتاب{ZWNJ}ها"),
        ("کتاب های من", f"کتاب{ZWNJ}های من"),
        ("بزرگ تر", f"بزرگ{ZWNJ}تر"),
        ("گران ترین", f"گران{ZWNJ}ترین"),
        (f"کتاب{ZWNJ}{ZWNJ}ها", f"کتاب{ZWNJ}ها"),  # doubled ZWNJ
        (f"کتاب {ZWNJ}ها", f"کتاب{ZWNJ}ها"),  # ZWNJ next to a space
        (f"{ZWNJ}سلام{ZWNJ} ", "سلام"),  # stray ZWNJ at word edges
        ("سلام   دنیا", "سلام دنیا"),
    ],
)
def test_persian_forms(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("word", ["میز", "میدان", "میلیون", "میگو", "امیدوارم", "تعمیرگاه"])
def test_words_that_only_look_like_verbs_stay(word: str) -> None:
    assert normalize(word) == word


def test_spaced_and_glued_forms_become_the_same() -> None:
    assert normalize("من یه کیف می خوام") == normalize("من یه کیف میخوام")


def test_other_scripts() -> None:
    assert normalize("你好？ＡＢＣ！") == "你好?ABC!"  # full-width forms → ASCII
    assert normalize("  hello\n\n\n world  ") == "hello\nworld"
    assert normalize("سلام، order #123 hasn't arrived") == "سلام، order #123 hasn't arrived"


def test_odd_input() -> None:
    assert normalize(None) == ""
    assert normalize("") == ""
    assert normalize(b"caf\xc3\xa9 \xff ok") == "café \ufffd ok"
    assert len(normalize("a" * 100_000)) == MAX_CHARS
