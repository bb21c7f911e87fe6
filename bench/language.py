"""Language pipeline throughput on one core: whole pipeline (detect + normalise + need +
sentiment, batched as the ingestion task runs it) on the default path and on the fast path,
and language detection alone.

The default path's cost depends on the text: it embeds only the messages its fast features are
unsure of, and those are far more often real customers' messages than the corpus messages it
was trained on. So ``msgs_per_s`` is measured on messages it never trained on, in the registers
real customers use: the held-out part of corpus parts 4–11 (reviews, app-store and bank-app
reviews, help-desk posts, shop chats), each message once. ``msgs_per_s_language_dev`` is the
same on the real messages of ``../shared/language-dev`` when that folder exists (texts only;
evaluation use), and ``msgs_per_s_corpus`` the earlier, optimistic figure on a sample of the
whole corpus (mostly training messages). The fast path is measured on that corpus sample.

Run through ``khoshnud bench language [--scale N]`` or standalone: ``python bench/language.py``.
"""

from __future__ import annotations

import csv
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BATCH = 500  # the ingestion task classifies up to one ingest batch at a time
SEED = 20261123


@contextmanager
def _one_core() -> Iterator[None]:
    """Pins the process to one CPU and BLAS/OpenMP pools to one thread, then restores both."""
    from threadpoolctl import threadpool_limits

    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity:
        os.sched_setaffinity(0, {min(affinity)})
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if affinity:
            os.sched_setaffinity(0, affinity)


REAL_REGISTER_PARTS = range(4, 12)  # corpus parts written in real customers' registers


def _sample(scale: int) -> list[str]:
    """``scale`` messages drawn (with replacement, fixed seed) from the corpus and held-out file."""
    from khoshnud.language.corpus import corpus_files, heldout_path, read_corpus

    examples, _ = read_corpus(corpus_files())
    pool = [e.text for e in examples]
    path = heldout_path()
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            pool.extend(row["text"] for row in csv.DictReader(handle))
    if not pool:
        raise SystemExit("bench language: no corpus under data/language/corpus")
    return random.Random(SEED).choices(sorted(set(pool)), k=scale)


def _real_register(limit: int) -> list[str]:
    """The held-out messages of corpus parts 4–11 (never trained on), each once, shuffled."""
    from khoshnud.language.corpus import corpus_files, read_corpus, split_corpus

    parts = [
        p
        for p in corpus_files()
        if (m := re.search(r"_(\d+)\.csv$", p.name)) and int(m.group(1)) in REAL_REGISTER_PARTS
    ]
    _train, heldout = split_corpus(read_corpus(parts)[0])
    texts = sorted({e.text for e in heldout})
    random.Random(SEED).shuffle(texts)
    return texts[:limit]


def _language_dev(limit: int) -> list[str]:
    """The distinct texts of the real messages in ../shared/language-dev (none if absent)."""
    from khoshnud.language.evaluation import dev_dir

    texts: dict[str, None] = {}
    for path in sorted(dev_dir().glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts.update(dict.fromkeys(row.get("text") or "" for row in csv.DictReader(handle)))
    ordered = sorted(texts)
    random.Random(SEED).shuffle(ordered)
    return ordered[:limit]


def _timed(texts: list[str], fast: bool = False) -> tuple[float, float, list[Any]]:
    """(messages per wall-clock second, share of that time the process had the CPU, results).

    The share is CPU time / wall time of this one-threaded process: 1.0 when it had its core
    to itself, 0.5 when another process took half of it (the 2 cores are shared)."""
    from khoshnud.language.pipeline import analyse_batch

    started, cpu_started = time.perf_counter(), time.process_time()
    results = []
    for start in range(0, len(texts), BATCH):
        results.extend(analyse_batch(texts[start : start + BATCH], fast=fast))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if elapsed <= 0:
        return 0.0, 1.0, results
    return len(texts) / elapsed, min(cpu / elapsed, 1.0), results


def _embedded_share(texts: list[str]) -> float:
    """Share of ``texts`` the default path sends to the sentence encoder."""
    from khoshnud.language.classifier import load_models
    from khoshnud.language.detect import detect_language
    from khoshnud.language.normalize import normalize, to_text

    raw = [to_text(t) for t in texts]
    readable = [normalize(t) for t in raw if detect_language(t).confidence > 0]
    if not texts or not readable:
        return 0.0
    return float(load_models().unsure(readable).sum()) / len(texts)


def run(*, scale: int, db: str = "sqlite") -> dict[str, Any]:
    """Measures the pipeline; ``db`` is ignored (no database involved). ``scale`` messages
    for the corpus sample, at most ``scale`` for the real-like sets."""
    from khoshnud.language.detect import detect_languages
    from khoshnud.language.pipeline import warm_up

    corpus = _sample(scale)
    real = _real_register(scale)
    dev = _language_dev(scale)
    with _one_core():
        started = time.perf_counter()
        version = warm_up()
        load_s = time.perf_counter() - started
        real_rate, real_cpu, results = _timed(real)
        dev_rate, dev_cpu, _ = _timed(dev) if dev else (None, None, [])
        corpus_rate = _timed(corpus)[0]
        fast_rate = _timed(corpus, fast=True)[0]
        fast_real_rate = _timed(real, fast=True)[0]
        started = time.perf_counter()
        detect_languages(corpus)
        detect_s = time.perf_counter() - started

    languages: dict[str, int] = {}
    for result in results:
        languages[result.language] = languages.get(result.language, 0) + 1
    out: dict[str, Any] = {
        "messages": len(real),
        "msgs_per_s": round(real_rate, 1),
        "embedded_share": round(_embedded_share(real), 3),
        "cpu_share": round(real_cpu, 2),
        "msgs_per_cpu_s": round(real_rate / real_cpu, 1) if real_cpu else None,
        "msgs_per_s_language_dev": round(dev_rate, 1) if dev_rate is not None else None,
        "language_dev_messages": len(dev),
        "embedded_share_language_dev": round(_embedded_share(dev), 3) if dev else None,
        "cpu_share_language_dev": round(dev_cpu, 2) if dev_cpu is not None else None,
        "msgs_per_cpu_s_language_dev": round(dev_rate / dev_cpu, 1)
        if dev_rate and dev_cpu
        else None,
        "msgs_per_s_corpus": round(corpus_rate, 1),
        "embedded_share_corpus": round(_embedded_share(corpus), 3),
        "corpus_messages": len(corpus),
        "fast_msgs_per_s": round(fast_rate, 1),
        "fast_msgs_per_s_real": round(fast_real_rate, 1),
        "detect_msgs_per_s": round(len(corpus) / detect_s, 1),
        "load_s": round(load_s, 2),
        "model_version": version,
        "languages": dict(sorted(languages.items())),
    }
    print(f"language bench on one core, batches of {BATCH}; model {version}")
    print(f"  load models + helpers: {load_s:.2f} s (once per process)")
    print(
        f"  default path, {len(real)} held-out real-register corpus messages: "
        f"{out['msgs_per_s']:.0f} messages/s ({out['embedded_share']:.1%} embedded; "
        f"had {real_cpu:.0%} of its core)"
    )
    if dev_rate is not None:
        print(
            f"  default path, {len(dev)} real messages (language-dev): {dev_rate:.0f} "
            f"messages/s ({out['embedded_share_language_dev']:.1%} embedded; had "
            f"{dev_cpu or 0:.0%} of its core)"
        )
    else:
        print("  default path on language-dev: skipped (no ../shared/language-dev)")
    print(
        f"  default path, {len(corpus)} corpus-sample messages: {corpus_rate:.0f} messages/s "
        f"({out['embedded_share_corpus']:.1%} embedded; mostly training messages: optimistic)"
    )
    print(
        f"  fast path: {fast_rate:.0f} messages/s (corpus sample), "
        f"{fast_real_rate:.0f} messages/s (real-register)"
    )
    print(f"  language detection alone: {out['detect_msgs_per_s']:.0f} messages/s")
    print(f"  languages seen (real-register): {out['languages']}")
    return out


if __name__ == "__main__":
    import argparse
    import json

    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root / "src"), str(root)]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=5000)
    args = parser.parse_args()
    print(json.dumps(run(scale=args.scale), ensure_ascii=False))
