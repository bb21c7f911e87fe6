"""Evaluating the pipeline on a labelled CSV (``khoshnud language eval FILE.csv``).

File format: columns ``text,label,lang`` and optionally ``task`` (``need`` | ``sentiment``) and
``source`` (where the message comes from: a per-source breakdown is printed above the JSON).
Without a task, it is read from the label (service/support/care/other → need;
positive/neutral/negative → sentiment). Rows whose label fits no task are counted as unknown
labels and left out of the scores. Every distinct text is classified once.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from khoshnud.language.classifier import LanguageModels
from khoshnud.language.corpus import NEEDS, SENTIMENTS, TASKS
from khoshnud.language.detect import detect_languages
from khoshnud.language.metrics import Scores, format_scores, score
from khoshnud.language.pipeline import analyse_batch, warm_up

REQUIRED_COLUMNS = ("text", "label", "lang")
REPORTED_LANGUAGES = ("fa", "zh", "en")
LONG_TEXT = 20  # language-ID accuracy is also reported on texts of at least this many characters
_LABELS = {"need": frozenset(NEEDS), "sentiment": frozenset(SENTIMENTS)}


def dev_dir() -> Path:
    """The folder of real labelled messages used for measuring only (never for training):
    ``$KHOSHNUD_LANGUAGE_DEV_DIR`` or ``../shared/language-dev`` next to the checkout.
    """
    default = Path(__file__).resolve().parents[3].parent / "shared" / "language-dev"
    return Path(os.environ.get("KHOSHNUD_LANGUAGE_DEV_DIR", default))


class EvalFileError(ValueError):
    """The evaluation file cannot be read (missing file or column, not CSV)."""


@dataclass(frozen=True, slots=True)
class EvalRow:
    text: str
    label: str
    lang: str
    task: str
    source: str = ""


@dataclass
class EvalReport:
    scores: dict[str, dict[str, Scores]]  # task → language → scores
    lang_id: dict[str, Any]
    msgs_per_s: float
    model_version: str
    unknown_labels: dict[str, int] = field(default_factory=dict)
    lang_errors: dict[tuple[str, str], int] = field(default_factory=dict)
    # source → task → language → scores; empty when the file has no ``source`` column
    by_source: dict[str, dict[str, dict[str, Scores]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for task in TASKS:
            out[task] = {
                lang: {
                    "macro_f1": _round(s.macro_f1),
                    "accuracy": _round(s.accuracy),
                    "n": s.n,
                }
                for lang, s in self.scores[task].items()
            }
        out["lang_id"] = self.lang_id
        out["msgs_per_s"] = round(self.msgs_per_s, 1)
        out["model_version"] = self.model_version
        out["unknown_labels"] = self.unknown_labels
        return out

    def lines(self) -> list[str]:
        lines: list[str] = [f"model {self.model_version}"]
        for task in TASKS:
            for lang, s in self.scores[task].items():
                lines.extend(format_scores(f"{task} [{lang}]", s))
        lid = self.lang_id
        lines.append(
            f"language ID: accuracy={_fmt(lid['accuracy'])} on {lid['n']} texts, "
            f"{_fmt(lid['accuracy_20plus'])} on {lid['n_20plus']} texts of {LONG_TEXT}+ characters"
        )
        for (true, guessed), count in sorted(self.lang_errors.items()):
            lines.append(f"  {true} read as {guessed}: {count}")
        if self.unknown_labels:
            listed = ", ".join(f"{k!r}×{v}" for k, v in sorted(self.unknown_labels.items()))
            lines.append(f"unknown labels (left out): {listed}")
        if self.by_source:
            lines.append("by source (macro-F1 / accuracy / n):")
            for source, tasks in self.by_source.items():
                cells = [
                    f"{task} [{lang}] {_fmt(s.macro_f1)} / {_fmt(s.accuracy)} / {s.n}"
                    for task, languages in tasks.items()
                    for lang, s in languages.items()
                ]
                lines.append(f"  {source or '(none)'}: " + "; ".join(cells))
        lines.append(f"throughput: {self.msgs_per_s:.0f} messages/s (whole pipeline, batched)")
        return lines


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def read_eval_file(path: Path) -> tuple[list[EvalRow], dict[str, int]]:
    """Rows to score and unknown labels (label → count). Raises EvalFileError."""
    try:
        handle = path.open(encoding="utf-8", errors="replace", newline="")
    except OSError as exc:
        raise EvalFileError(f"cannot open {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise EvalFileError(
                f"{path}: missing column(s) {', '.join(missing)}; "
                f"expected {','.join(REQUIRED_COLUMNS)}[,task][,source], found {','.join(columns) or 'none'}"
            )
        reader.fieldnames = columns
        rows: list[EvalRow] = []
        unknown: Counter[str] = Counter()
        try:
            for raw in reader:
                label = (raw.get("label") or "").strip()
                task = _task_of(label, (raw.get("task") or "").strip())
                if task is None:
                    unknown[label] += 1
                    continue
                lang = (raw.get("lang") or "").strip()
                source = (raw.get("source") or "").strip()
                rows.append(EvalRow(raw.get("text") or "", label, lang, task, source))
        except csv.Error as exc:
            raise EvalFileError(f"{path}: not a readable CSV ({exc})") from exc
    return rows, dict(sorted(unknown.items()))


def _task_of(label: str, task: str) -> str | None:
    if task:
        return task if task in _LABELS and label in _LABELS[task] else None
    for name, labels in _LABELS.items():
        if label in labels:
            return name
    return None


def evaluate(
    rows: Sequence[EvalRow],
    models: LanguageModels,
    unknown_labels: dict[str, int] | None = None,
    *,
    fast: bool = False,
) -> EvalReport:
    """Scores per task and language, language-ID accuracy and throughput on ``rows``."""
    texts = list(dict.fromkeys(r.text for r in rows))
    warm_up(models=models)
    started = time.perf_counter()
    analyses = analyse_batch(texts, models=models, fast=fast)
    elapsed = time.perf_counter() - started
    by_text = dict(zip(texts, analyses, strict=True))
    scores: dict[str, dict[str, Scores]] = {}
    languages = sorted(set(REPORTED_LANGUAGES) | {r.lang for r in rows}, key=_language_order)
    for task in TASKS:
        scores[task] = {}
        for lang in languages:
            chosen = [r for r in rows if r.task == task and r.lang == lang]
            if not chosen and lang not in REPORTED_LANGUAGES:
                continue
            predicted = [getattr(by_text[r.text], task) for r in chosen]
            scores[task][lang] = score([r.label for r in chosen], predicted)
    by_source: dict[str, dict[str, dict[str, Scores]]] = {}
    if any(r.source for r in rows):
        for source in sorted({r.source for r in rows}):
            cells: dict[str, dict[str, Scores]] = {}
            for task in TASKS:
                for lang in languages:
                    chosen = [
                        r for r in rows if r.source == source and r.task == task and r.lang == lang
                    ]
                    if chosen:
                        predicted = [getattr(by_text[r.text], task) for r in chosen]
                        cells.setdefault(task, {})[lang] = score(
                            [r.label for r in chosen], predicted
                        )
            by_source[source] = cells
    lang_id, lang_errors = _language_id(rows)
    return EvalReport(
        by_source=by_source,
        scores=scores,
        lang_id=lang_id,
        lang_errors=lang_errors,
        msgs_per_s=len(texts) / elapsed if elapsed > 0 else 0.0,
        model_version=models.fast_version if fast else models.version,
        unknown_labels=dict(unknown_labels or {}),
    )


def _language_order(lang: str) -> tuple[int, str]:
    if lang in REPORTED_LANGUAGES:
        return (REPORTED_LANGUAGES.index(lang), lang)
    return (len(REPORTED_LANGUAGES), lang)


def _language_id(
    rows: Sequence[EvalRow],
) -> tuple[dict[str, Any], dict[tuple[str, str], int]]:
    """Detected vs. labelled language, once per distinct (text, lang); and the mistakes."""
    pairs = list(dict.fromkeys((r.text, r.lang) for r in rows))
    guesses = detect_languages([text for text, _ in pairs])
    correct = [g.language == lang for (_, lang), g in zip(pairs, guesses, strict=True)]
    long = [ok for (text, _), ok in zip(pairs, correct, strict=True) if len(text) >= LONG_TEXT]
    errors: Counter[tuple[str, str]] = Counter(
        (lang, g.language)
        for (_, lang), g, ok in zip(pairs, guesses, correct, strict=True)
        if not ok
    )
    summary = {
        "accuracy": round(sum(correct) / len(correct), 4) if correct else None,
        "n": len(correct),
        "accuracy_20plus": round(sum(long) / len(long), 4) if long else None,
        "n_20plus": len(long),
    }
    return summary, dict(errors)
