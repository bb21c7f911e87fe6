"""The labelled corpus, its deterministic held-out split, and the evaluation-file format.

Corpus files: ``data/language/corpus/*.csv`` with columns ``text,need,sentiment,lang,domain``.
Held-out split: a message is held out when the SHA-256 of its normalised, case-folded text falls
in the lowest ``HELDOUT_PERCENT`` of the hash space. The rule depends on the text alone, so it
is stable while the corpus grows, the same text is never on both sides, and training excludes
held-out texts even before ``data/language/heldout.csv`` is regenerated.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from khoshnud.language.normalize import normalize

HELDOUT_PERCENT = 20
# The same values as models.Need / models.Sentiment (a test keeps them equal); kept here so the
# pipeline runs without Django being set up.
NEEDS = ("service", "support", "care", "other")
SENTIMENTS = ("positive", "neutral", "negative")
TASKS = ("need", "sentiment")
CORPUS_COLUMNS = ("text", "need", "sentiment", "lang")
HELDOUT_COLUMNS = ("text", "label", "lang", "task")


def data_dir() -> Path:
    """``$KHOSHNUD_LANGUAGE_DATA`` or the checkout's ``data/language``."""
    default = Path(__file__).resolve().parents[3] / "data" / "language"
    return Path(os.environ.get("KHOSHNUD_LANGUAGE_DATA", default))


def corpus_files(folder: Path | None = None) -> list[Path]:
    return sorted(((folder or data_dir()) / "corpus").glob("*.csv"))


def heldout_path(folder: Path | None = None) -> Path:
    return (folder or data_dir()) / "heldout.csv"


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message. ``weight`` > 1 for agents' corrections."""

    text: str
    need: str
    sentiment: str
    lang: str
    weight: int = 1
    source: str = "corpus"


def text_key(text: str) -> str:
    """A stable identity for a message: SHA-256 of its normalised, case-folded text."""
    return hashlib.sha256(normalize(text).casefold().encode("utf-8")).hexdigest()


def is_heldout(text: str) -> bool:
    return int(text_key(text)[:8], 16) % 100 < HELDOUT_PERCENT


def read_corpus(paths: Iterable[Path]) -> tuple[list[Example], int]:
    """Valid examples from corpus CSVs, and how many rows were skipped (bad label, no text).

    Tolerates a file that is still being written (a torn last line is skipped).
    """
    examples: list[Example] = []
    skipped = 0
    for path in paths:
        for row in _rows(path):
            text = (row.get("text") or "").strip()
            need, sentiment = (row.get("need") or "").strip(), (row.get("sentiment") or "").strip()
            if not text or need not in NEEDS or sentiment not in SENTIMENTS:
                skipped += 1
                continue
            examples.append(Example(text, need, sentiment, (row.get("lang") or "").strip()))
    return examples, skipped


def split_corpus(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held-out) by the hash rule; duplicate held-out texts are kept once."""
    train: list[Example] = []
    heldout: dict[str, Example] = {}
    for example in examples:
        if is_heldout(example.text):
            heldout.setdefault(text_key(example.text), example)
        else:
            train.append(example)
    return train, list(heldout.values())


def write_heldout(examples: Iterable[Example], path: Path) -> int:
    """Writes the held-out file (two rows per message: need, sentiment); returns messages."""
    rows = sorted(examples, key=lambda e: (e.lang, text_key(e.text)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HELDOUT_COLUMNS)
        for example in rows:
            writer.writerow([example.text, example.need, example.lang, "need"])
            writer.writerow([example.text, example.sentiment, example.lang, "sentiment"])
    return len(rows)


def heldout_keys(path: Path) -> set[str]:
    """Keys of the texts in an existing held-out file (empty if there is none)."""
    if not path.is_file():
        return set()
    return {text_key(row.get("text") or "") for row in _rows(path)}


def training_examples(folder: Path | None = None) -> tuple[list[Example], int]:
    """Corpus examples that may be trained on: not held out by the rule nor in heldout.csv."""
    examples, skipped = read_corpus(corpus_files(folder))
    train, _ = split_corpus(examples)
    excluded = heldout_keys(heldout_path(folder))
    if excluded:
        train = [e for e in train if text_key(e.text) not in excluded]
    return train, skipped


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        try:
            yield from csv.DictReader(handle)
        except csv.Error:
            return  # a file being written may end mid-row
