"""Language pipeline throughput on one core: whole pipeline (detect + normalise + need +
sentiment, batched as the ingestion task runs it) on the default path and on the fast path,
and language detection alone.

Messages are sampled with replacement (fixed seed) from the held-out file and the corpus.
Run through ``khoshnud bench language [--scale N]`` or standalone: ``python bench/language.py``.
"""

from __future__ import annotations

import os
import random
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


def _sample(scale: int) -> list[str]:
    from khoshnud.language.corpus import corpus_files, heldout_path, read_corpus

    examples, _ = read_corpus(corpus_files())
    pool = [e.text for e in examples]
    path = heldout_path()
    if path.is_file():
        import csv

        with path.open(encoding="utf-8", newline="") as handle:
            pool.extend(row["text"] for row in csv.DictReader(handle))
    if not pool:
        raise SystemExit("bench language: no corpus under data/language/corpus")
    return random.Random(SEED).choices(sorted(set(pool)), k=scale)


def run(*, scale: int, db: str = "sqlite") -> dict[str, Any]:
    """Measures the pipeline on ``scale`` messages; ``db`` is ignored (no database involved)."""
    from khoshnud.language.detect import detect_languages
    from khoshnud.language.pipeline import analyse_batch, warm_up

    texts = _sample(scale)
    with _one_core():
        started = time.perf_counter()
        version = warm_up()
        load_s = time.perf_counter() - started

        started = time.perf_counter()
        results = []
        for start in range(0, len(texts), BATCH):
            results.extend(analyse_batch(texts[start : start + BATCH]))
        pipeline_s = time.perf_counter() - started

        started = time.perf_counter()
        fast_results = []
        for start in range(0, len(texts), BATCH):
            fast_results.extend(analyse_batch(texts[start : start + BATCH], fast=True))
        fast_s = time.perf_counter() - started

        started = time.perf_counter()
        detect_languages(texts)
        detect_s = time.perf_counter() - started

    languages: dict[str, int] = {}
    for result in results:
        languages[result.language] = languages.get(result.language, 0) + 1
    from khoshnud.language.classifier import CASCADE

    # Share of messages the default path embedded (fast answer not sure enough).
    embedded = sum(
        1
        for r in fast_results
        if r.language_confidence > 0
        and min(max(r.need_probabilities.values()), max(r.sentiment_probabilities.values()))
        < CASCADE
    )
    out = {
        "messages": len(texts),
        "msgs_per_s": round(len(texts) / pipeline_s, 1),
        "fast_msgs_per_s": round(len(texts) / fast_s, 1),
        "embedded_share": round(embedded / len(texts), 3),
        "detect_msgs_per_s": round(len(texts) / detect_s, 1),
        "load_s": round(load_s, 2),
        "model_version": version,
        "languages": dict(sorted(languages.items())),
    }
    print(f"language bench: {len(texts)} messages on one core, batches of {BATCH}")
    print(f"  load models + helpers: {load_s:.2f} s (once per process)")
    print(f"  whole pipeline, default path: {out['msgs_per_s']:.0f} messages/s")
    print(f"  whole pipeline, fast path: {out['fast_msgs_per_s']:.0f} messages/s")
    print(f"  default path embedded {out['embedded_share']:.1%} of the messages")
    print(f"  language detection alone: {out['detect_msgs_per_s']:.0f} messages/s")
    print(f"  model {version}; languages seen {out['languages']}")
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
