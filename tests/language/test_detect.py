"""Language identification on short, mixed and odd texts."""

from __future__ import annotations

import pytest

from khoshnud.language.detect import detect_language, detect_languages


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("سلام وقت بخیر سفارشم هنوز نرسیده", "fa"),
        ("سلام وقت بخير سفارشم هنوز نرسيده", "fa"),  # typed on an Arabic keyboard
        ("باشه", "fa"),
        ("مرسی", "fa"),
        ("سلام، order #123 hasn't arrived", "fa"),
        ("我的快递还没到", "zh"),
        ("好的", "zh"),
        ("好吃の面包店推荐", "zh"),  # one stylistic kana is still Chinese
        ("我的iPhone坏了", "zh"),
        ("订单号 A12345 还没发货, please check", "zh"),
        ("hi", "en"),
        ("ok thanks", "en"),
        ("my order hasn't arrived yet", "en"),
        ("Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous vérifier ?", "other"),
        ("Здравствуйте, где мой заказ?", "other"),
        ("注文した商品がまだ届きません", "other"),  # Japanese: kana
        ("주문이 아직 안 왔어요", "other"),
        ("السلام عليكم، متى يصل طلبي؟", "other"),  # Arabic
        ("هل يمكنني تغيير موعد الرحلة؟", "other"),
    ],
)
def test_language(text: str, language: str) -> None:
    guess = detect_language(text)
    assert guess.language == language
    assert 0 < guess.confidence <= 1


@pytest.mark.parametrize("text", ["", "   ", "😂😂👍", "123 456", "?!...", None, b""])
def test_nothing_to_read_is_other_with_zero_confidence(text: str | bytes | None) -> None:
    guess = detect_language(text)
    assert (guess.language, guess.confidence) == ("other", 0.0)


def test_bytes_and_long_text() -> None:
    assert detect_language("سلام".encode() + b"\xff").language == "fa"
    assert detect_language("order " * 20_000).language == "en"


def test_batch_keeps_order() -> None:
    guesses = detect_languages(["hello there", "你好", "سلام"])
    assert [g.language for g in guesses] == ["en", "zh", "fa"]
