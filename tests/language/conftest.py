"""Language fixtures: a tiny corpus and models trained on it in a temporary folder."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from khoshnud.language.classifier import (
    LanguageModels,
    forget_loaded_models,
    save_models,
    train_models,
)
from khoshnud.language.corpus import Example

# Trainings in tests cache their sentence embeddings outside the checkout.
os.environ.setdefault(
    "KHOSHNUD_LANGUAGE_CACHE", os.path.join(tempfile.gettempdir(), "khoshnud-test-embeddings.pkl")
)

# (text, need, sentiment, lang) — a few unambiguous messages per class and language.
TINY_CORPUS = [
    ("what time do you open on sunday", "service", "neutral", "en"),
    ("how much is the large coffee grinder", "service", "neutral", "en"),
    ("do you deliver to tehran", "service", "neutral", "en"),
    ("can I book a table for two tonight", "service", "neutral", "en"),
    ("the app crashes when I log in", "support", "neutral", "en"),
    ("my password reset link does not work", "support", "negative", "en"),
    ("the machine is leaking water, how do I fix it", "support", "neutral", "en"),
    ("terrible service, I want a refund now", "care", "negative", "en"),
    ("you broke my phone and nobody apologised, awful", "care", "negative", "en"),
    ("thank you so much, the staff were wonderful", "care", "positive", "en"),
    ("happy new year to the whole team", "other", "positive", "en"),
    ("we sell cheap followers, message us", "other", "neutral", "en"),
    ("ساعت کاری شما چنده؟", "service", "neutral", "fa"),
    ("قیمت آسیاب دستی چنده؟", "service", "neutral", "fa"),
    ("اپلیکیشن موقع ورود بسته میشه", "support", "neutral", "fa"),
    ("رمزم رو فراموش کردم چطور عوضش کنم", "support", "neutral", "fa"),
    ("خیلی بد بود، پولم رو پس بدید", "care", "negative", "fa"),
    ("ممنون از برخورد عالی همکارتون", "care", "positive", "fa"),
    ("عید شما مبارک", "other", "positive", "fa"),
    ("请问你们几点开门", "service", "neutral", "zh"),
    ("这款咖啡机多少钱", "service", "neutral", "zh"),
    ("应用一登录就闪退", "support", "neutral", "zh"),
    ("密码重置链接打不开", "support", "negative", "zh"),
    ("服务太差了，我要退款", "care", "negative", "zh"),
    ("谢谢你们，服务非常好", "care", "positive", "zh"),
    ("新年快乐", "other", "positive", "zh"),
]


def tiny_examples() -> list[Example]:
    return [Example(text, need, sentiment, lang) for text, need, sentiment, lang in TINY_CORPUS]


def write_corpus(folder: Path, rows: list[tuple[str, str, str, str]] = TINY_CORPUS) -> Path:
    path = folder / "corpus" / "tiny.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "need", "sentiment", "lang", "domain"])
        for text, need, sentiment, lang in rows:
            writer.writerow([text, need, sentiment, lang, "test"])
    return path


@pytest.fixture(scope="session")
def tiny_models() -> LanguageModels:
    return train_models(tiny_examples(), seed=0)


@pytest.fixture
def tiny_artifacts(tmp_path: Path, tiny_models: LanguageModels) -> Path:
    folder = tmp_path / "artifacts"
    save_models(tiny_models, folder)
    return folder


@pytest.fixture
def use_tiny_models(
    tiny_artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LanguageModels]:
    """Everything that loads the default models gets the tiny ones for this test."""
    from khoshnud.language.classifier import load_models

    monkeypatch.setenv("KHOSHNUD_LANGUAGE_ARTIFACTS", str(tiny_artifacts))
    forget_loaded_models()
    yield load_models()
    forget_loaded_models()
