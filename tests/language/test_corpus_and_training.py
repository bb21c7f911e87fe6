"""The held-out split, reproducible training and the artefact fallback."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command

from khoshnud.language.classifier import (
    ARTIFACT_NAME,
    data_version,
    forget_loaded_models,
    load_models,
    train_models,
)
from khoshnud.language.corpus import (
    HELDOUT_COLUMNS,
    NEEDS,
    SENTIMENTS,
    is_heldout,
    text_key,
    training_examples,
)
from khoshnud.language.models import Need, Sentiment
from tests.language.conftest import TINY_CORPUS, tiny_examples, write_corpus


def test_labels_match_the_model_choices() -> None:
    assert tuple(Need.values) == NEEDS
    assert tuple(Sentiment.values) == SENTIMENTS


def test_heldout_rule_depends_on_the_text_only() -> None:
    texts = [f"message number {i}" for i in range(2000)]
    held = [t for t in texts if is_heldout(t)]
    assert 0.15 < len(held) / len(texts) < 0.25
    assert all(is_heldout(t) for t in held)  # stable
    assert is_heldout("میخوام") == is_heldout("می خوام")  # by normalised text


def test_split_writes_two_rows_per_message_and_training_never_sees_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [(f"order {i} has not arrived", "support", "negative", "en") for i in range(60)]
    write_corpus(tmp_path, rows + TINY_CORPUS)
    monkeypatch.setenv("KHOSHNUD_LANGUAGE_DATA", str(tmp_path))
    call_command("language", "split")
    with (tmp_path / "heldout.csv").open(encoding="utf-8") as handle:
        held = list(csv.DictReader(handle))
    assert tuple(held[0]) == HELDOUT_COLUMNS
    assert held and len(held) % 2 == 0
    assert {r["task"] for r in held} == {"need", "sentiment"}
    held_keys = {text_key(r["text"]) for r in held}
    train, _ = training_examples()
    assert train and not held_keys & {text_key(e.text) for e in train}


def test_training_is_reproducible() -> None:
    first, second = train_models(tiny_examples(), seed=3), train_models(tiny_examples(), seed=3)
    assert first.version == second.version
    text = ["the app crashes when I log in"]
    assert first.predict_proba(text) == second.predict_proba(text)
    assert data_version(tiny_examples(), 3) != data_version(tiny_examples(), 4)
    assert data_version(tiny_examples()[1:], 3) != first.version


def test_training_refuses_an_empty_or_one_label_corpus() -> None:
    with pytest.raises(ValueError, match="empty"):
        train_models([])
    with pytest.raises(ValueError, match="two labels"):
        train_models(tiny_examples()[:2])


def test_missing_artefact_is_trained_from_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corpus(tmp_path)
    monkeypatch.setenv("KHOSHNUD_LANGUAGE_DATA", str(tmp_path))
    folder = tmp_path / "empty-artifacts"
    forget_loaded_models()
    try:
        models = load_models(folder)
        assert load_models(folder) is models  # once per process
    finally:
        forget_loaded_models()
    assert (folder / ARTIFACT_NAME).is_file()
    assert models.summary["examples"] == len(training_examples()[0])
