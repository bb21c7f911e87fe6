"""The analyse / analyse_batch entry points, odd input, and the shipped artefact offline."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from khoshnud.language.classifier import (
    ARTIFACT_NAME,
    LanguageModels,
    artifact_dir,
    forget_loaded_models,
    load_models,
)
from khoshnud.language.corpus import NEEDS, SENTIMENTS
from khoshnud.language.pipeline import analyse, analyse_batch


def _valid(result: Any) -> None:
    assert result.need in NEEDS and result.sentiment in SENTIMENTS
    assert -1.0 <= result.sentiment_score <= 1.0
    assert sum(result.need_probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert result.model_version.startswith("lang2-")


def test_one_message(tiny_models: LanguageModels) -> None:
    result = analyse("服务太差了，我要退款", models=tiny_models)
    _valid(result)
    assert result.language == "zh"
    assert result.need == "care" and result.sentiment == "negative"
    assert result.sentiment_score < 0
    assert result.model_version == tiny_models.version


@pytest.mark.parametrize("text", ["", "   ", "😂😂😂", "123456", "?!...", None])
def test_nothing_to_read(tiny_models: LanguageModels, text: str | None) -> None:
    result = analyse(text, models=tiny_models)
    assert (result.language, result.language_confidence) == ("other", 0.0)
    assert result.need == "other" and result.need_probabilities["other"] == 1.0
    assert (result.sentiment, result.sentiment_score) == ("neutral", 0.0)


def test_long_text_and_bad_bytes(tiny_models: LanguageModels) -> None:
    _valid(analyse("the app crashes when I log in. " * 3500, models=tiny_models))  # ~100 KB
    result = analyse(b"\xff\xfe the app crashes \xc3", models=tiny_models)
    _valid(result)
    assert result.language == "en"


def test_batch_matches_one_by_one(tiny_models: LanguageModels) -> None:
    texts = ["do you deliver to tehran", "", "رمزم رو فراموش کردم", "新年快乐", b"ok"]
    batch = analyse_batch(texts, models=tiny_models)
    assert [r.as_dict() for r in batch] == [analyse(t, models=tiny_models).as_dict() for t in texts]
    assert analyse_batch([], models=tiny_models) == []


def test_shipped_artefact_loads_and_predicts_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.delenv("KHOSHNUD_LANGUAGE_ARTIFACTS", raising=False)
    assert (artifact_dir() / ARTIFACT_NAME).is_file(), "the trained artefact must be committed"
    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    forget_loaded_models()
    try:
        models = load_models()
        results = analyse_batch(
            ["سفارشم هنوز نرسیده، خیلی بد شد", "what time do you open?", "谢谢，服务非常好"],
            models=models,
        )
    finally:
        forget_loaded_models()
    assert [r.language for r in results] == ["fa", "en", "zh"]
    for result in results:
        _valid(result)
    assert results[2].sentiment == "positive"


ODD_INPUT = [
    "",
    "🙂🙂🙂👍",
    "0912 345 6789 / 1403-08-12",
    "x" * 10_000,
    ("the app crashes when I log in " * 400)[:10_000],
    "سلام order #CF-2291 هنوز نرسیده، 快递 tracking 在哪里?",
    "<html><body><p>The <b>app</b> crashes&nbsp;when I log in</p><script>x()</script></body></html>",
    "Thanks, it works now.\n\nOn Mon, 3 Nov 2026 at 10:02, Support <help@example.com> wrote:\n"
    "> Could you try logging out and in again?\n> Regards\n>> Original message: the app crashes",
    "\u200c\u200f\u202e\ufeff",
    "ok",
]


@pytest.mark.parametrize("fast", [False, True])
def test_odd_input_never_errors_on_either_path(tiny_models: LanguageModels, fast: bool) -> None:
    results = analyse_batch(ODD_INPUT, models=tiny_models, fast=fast)
    assert len(results) == len(ODD_INPUT)
    for text, result in zip(ODD_INPUT, results, strict=True):
        assert result.need in NEEDS and result.sentiment in SENTIMENTS, text[:40]
        assert result.model_version.endswith("-fast") == fast
    # No letter at all → the fixed "nothing to read" answer on both paths.
    assert (results[0].need, results[0].sentiment) == ("other", "neutral")
    assert (results[1].need, results[1].sentiment) == ("other", "neutral")
    assert (results[2].need, results[2].sentiment) == ("other", "neutral")
    assert results[5].language == "fa"  # Arabic script outweighs the Latin and Han letters
    assert results[6].language == "en" and results[7].language == "en"


def test_fast_path_answers_with_its_own_version(tiny_models: LanguageModels) -> None:
    text = "服务太差了，我要退款"
    default, fast = analyse(text, models=tiny_models), analyse(text, models=tiny_models, fast=True)
    assert default.model_version == tiny_models.version
    assert fast.model_version == tiny_models.version + "-fast"
    assert (fast.need, fast.sentiment) == ("care", "negative")
